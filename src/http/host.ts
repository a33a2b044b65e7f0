/**
 * What a request's `Host` says about the server it reached, in one sans-I/O module:
 *
 * - whether a URL can hold it at all (`isUsableHost`);
 * - the name and port that become `SERVER_NAME` and `SERVER_PORT` (PEP 3333's URL
 *   reconstruction, RFC 3875 §4.1.14/15), and the port a scheme implies when the Host
 *   names none (RFC 9110 §4.2): one owner for the server, the bridges, the test client and
 *   the proxy middleware.
 *
 * RFC 9110 §7.2 and RFC 9112 §3.2 give the grammar, `uri-host [ ":" port ]`, which
 * `isValidAuthority` checks. The grammar lets through values no URL can carry: an empty
 * host with a port (`:80`; RFC 9110 §4.2.1 says a recipient MUST reject an `http` URI with
 * an empty host), a port above 65535 (`x:99999`), an IPvFuture literal (`[v1.x]`), a
 * malformed IPv6 literal (`[1:2:3]`), a name that looks like an IPv4 address but is not one
 * (`1.2.3.999`). Every application reconstructs the request's URL from the Host (PEP 3333's
 * URL reconstruction, a Fetch `Request`), so such a Host would reach an app only to make it
 * fail; the server refuses it up front with 400 instead (`ERR_INVALID_HOST`).
 *
 * The test for "a URL can hold it" is the WHATWG URL parser's own, the one applications
 * use. Names made only of letters, digits, `-` and `.` that end in a letter, and dotted
 * IPv4 addresses, are settled here without it: that is nearly every Host a server sees.
 *
 * @module
 */
import { isValidAuthority } from "./grammar.ts";

/** The highest TCP port number. */
const MAX_PORT = 65535;

/**
 * Checks a `Host` field value or an absolute-form authority: valid by the grammar of
 * RFC 9110 §7.2, and, unless empty, a host and port a URL can hold. The empty string is
 * accepted (RFC 9110 §7.2: the target URI has no authority).
 *
 * @example
 * isUsableHost("example.com:8080"); // true
 * isUsableHost(":80");              // false: no host
 * isUsableHost("x:99999");          // false: no such port
 * isUsableHost("[v1.x]");           // false: an IPvFuture literal
 */
export function isUsableHost(value: string): boolean {
  if (value === "") return true;
  if (!isValidAuthority(value)) return false;
  const colon =
    value.charCodeAt(0) === 0x5b ? value.indexOf(":", value.indexOf("]")) : value.indexOf(":");
  const name = colon === -1 ? value : value.slice(0, colon);
  if (name === "") return false;
  if (colon !== -1 && !isPort(value, colon + 1)) return false;
  if (isPlainName(name) || isDottedQuad(name)) return true;
  return URL.canParse(`http://${name}/`);
}

/** `port = *DIGIT` (already checked) from `value[start]` to the end, at most 65535. */
function isPort(value: string, start: number): boolean {
  let port = 0;
  for (let i = start; i < value.length; i++) {
    port = port * 10 + value.charCodeAt(i) - 0x30;
    if (port > MAX_PORT) return false;
  }
  return true;
}

/**
 * A name of ASCII letters, digits, `-` and `.` that ends in a letter, whose last label
 * does not start with `0x` (a hex number to the URL parser) and that has no `xn--` label
 * (punycode, which the URL parser decodes and may refuse): the URL parser takes it as is,
 * lower-cased.
 */
function isPlainName(name: string): boolean {
  const last = name.charCodeAt(name.length - 1) | 0x20;
  if (last < 0x61 || last > 0x7a) return false;
  let labelStart = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      labelStart = i + 1;
      continue;
    }
    const lower = c | 0x20;
    if ((lower < 0x61 || lower > 0x7a) && (c < 0x30 || c > 0x39) && c !== 0x2d) return false;
  }
  const hex =
    name.charCodeAt(labelStart) === 0x30 && (name.charCodeAt(labelStart + 1) | 0x20) === 0x78;
  return !hex && (name.indexOf("--") === -1 || !/xn--/i.test(name));
}

/** Four decimal numbers of 0-255 without leading zeros, joined by dots (`127.0.0.1`). */
function isDottedQuad(name: string): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = i === name.length ? 0x2e : name.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || parts === 4) return false;
      parts++;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + c - 0x30;
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/** The port a scheme uses when a URL or Host names none: `443` for `https`, else `80`. */
export function defaultPort(scheme: unknown): string {
  return scheme === "https" ? "443" : "80";
}

/** Splits a Host value into name and port (`[::1]:8080` → `::1`, `8080`). */
export function splitHost(host: string): [name: string, port: string | undefined] {
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    const rest = host.slice(close + 1);
    return [host.slice(1, close), rest.startsWith(":") ? rest.slice(1) : undefined];
  }
  const colon = host.lastIndexOf(":");
  return colon === -1 ? [host, undefined] : [host.slice(0, colon), host.slice(colon + 1)];
}

/** `SERVER_NAME` and `SERVER_PORT` for a Host value: its name, and its port or the scheme's default. */
export function hostVars(host: string, scheme: unknown): [name: string, port: string] {
  const [name, port] = splitHost(host);
  return [name, port || defaultPort(scheme)];
}
