/**
 * WSGI environment utilities: Python's `wsgiref.util`.
 *
 * Functions that read the environ (`guessScheme`, `applicationUri`, `requestUri`),
 * change it (`shiftPathInfo`, `setupTestingDefaults`) and tell hop-by-hop headers apart
 * (`isHopByHop`), each with the same result as CPython's function for the same input.
 * The file wrapper (`FileWrapper`, util/file-wrapper.ts) and the PEP 3333 native-string
 * helpers (`decodeNative`, `encodeNative`, util/native.ts) are re-exported here, where
 * Python keeps them.
 *
 * @module
 */
import { BodyInputStream, TextErrorStream } from "./streams.ts";
import type { WSGIEnvironment } from "./types.ts";

export { FileHandleReader, FileWrapper, fileWrapper } from "./util/file-wrapper.ts";
export {
  decodeNative,
  type EncodingErrors,
  encodeNative,
  type NativeEncoding,
  unquoteLatin1,
} from "./util/native.ts";

/** Reads an optional environ key that must be a string when present (Python's `environ.get`). */
function optionalString(environ: object, key: string): string | undefined {
  const value: unknown = (environ as Record<string, unknown>)[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new TypeError(`environ["${key}"] must be a string, got ${typeof value}`);
  }
  return value;
}

/** Reads a required environ key (Python's `environ[key]`, which raises `KeyError`). */
function requiredString(environ: object, key: string, caller: string): string {
  const value = optionalString(environ, key);
  if (value === undefined) {
    throw new TypeError(`${caller}: environ["${key}"] is missing (a KeyError in CPython)`);
  }
  return value;
}

/** The `HTTPS` values that mean "https", exactly as CPython compares them (case matters). */
const HTTPS_ON: ReadonlySet<unknown> = new Set(["yes", "on", "1"]);

/**
 * Guesses whether `wsgi.url_scheme` should be `"http"` or `"https"` from the CGI `HTTPS`
 * variable: `"https"` when it is exactly `"1"`, `"yes"` or `"on"`, `"http"` otherwise.
 * Meant for gateways wrapping CGI or FastCGI, where the environ is still being built, so
 * any record of variables (even `process.env`) is accepted.
 *
 * @example guessScheme({ HTTPS: "on" }) // "https"
 */
export function guessScheme(environ: Readonly<Record<string, unknown>>): "http" | "https" {
  return HTTPS_ON.has(environ.HTTPS) ? "https" : "http";
}

/** Bytes `quote` never escapes: RFC 3986 unreserved characters. */
const ALWAYS_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~";

/**
 * Percent-encodes a native string the way Python's `urllib.parse.quote(s, safe,
 * encoding="latin1")` does: each char is one byte; bytes outside `ALWAYS_SAFE + safe`
 * become `%XX` (upper-case hex). A char above U+00FF cannot be a byte, so it throws.
 */
function quoteLatin1(value: string, safe: string, key: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const code = value.charCodeAt(i);
    if (code > 0xff) {
      throw new TypeError(
        `environ["${key}"] is not a latin-1 native string: ${JSON.stringify(ch)} at index ${i}`,
      );
    }
    if (ALWAYS_SAFE.includes(ch) || safe.includes(ch)) out += ch;
    else out += `%${code.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Returns the application's base URI: scheme, host (`HTTP_HOST`, or `SERVER_NAME` plus
 * `SERVER_PORT` unless it is the scheme's default) and the quoted `SCRIPT_NAME`, without
 * `PATH_INFO` or `QUERY_STRING` (PEP 3333 "URL Reconstruction").
 *
 * @throws TypeError when a key it needs is missing or is not a latin-1 string.
 * @example applicationUri(environ) // "http://example.org:8080/app"
 */
export function applicationUri(environ: WSGIEnvironment): string {
  const caller = "applicationUri()";
  const scheme = requiredString(environ, "wsgi.url_scheme", caller);
  let url = `${scheme}://`;
  const host = optionalString(environ, "HTTP_HOST");
  if (host) {
    url += host;
  } else {
    url += requiredString(environ, "SERVER_NAME", caller);
    const port = requiredString(environ, "SERVER_PORT", caller);
    if (port !== (scheme === "https" ? "443" : "80")) url += `:${port}`;
  }
  url += quoteLatin1(optionalString(environ, "SCRIPT_NAME") || "/", "/", "SCRIPT_NAME");
  return url;
}

/**
 * Returns the full request URI (PEP 3333 "URL Reconstruction"): `applicationUri` plus
 * the quoted `PATH_INFO` and, when `includeQuery` is true, `?QUERY_STRING` if non-empty.
 *
 * @throws TypeError when a key it needs is missing or is not a latin-1 string.
 * @example requestUri(environ) // "http://example.org/app/a%20b?x=1"
 */
export function requestUri(environ: WSGIEnvironment, includeQuery = true): string {
  let url = applicationUri(environ);
  const pathInfo = quoteLatin1(optionalString(environ, "PATH_INFO") ?? "", "/;=,", "PATH_INFO");
  // Without SCRIPT_NAME the base URI already ends in "/": drop PATH_INFO's first char.
  url += optionalString(environ, "SCRIPT_NAME") ? pathInfo : pathInfo.slice(1);
  const query = optionalString(environ, "QUERY_STRING");
  if (includeQuery && query) url += `?${query}`;
  return url;
}

/** Python's `posixpath.normpath`: collapses `//`, `.` and `..`, keeping a leading `//`. */
function normpath(path: string): string {
  if (path === "") return ".";
  let initialSlashes = path.startsWith("/") ? 1 : 0;
  // POSIX gives exactly two leading slashes a meaning of their own; three or more are one.
  if (initialSlashes && path.startsWith("//") && !path.startsWith("///")) initialSlashes = 2;
  const comps: string[] = [];
  for (const comp of path.split("/")) {
    if (comp === "" || comp === ".") continue;
    if (
      comp !== ".." ||
      (!initialSlashes && comps.length === 0) ||
      (comps.length > 0 && comps[comps.length - 1] === "..")
    ) {
      comps.push(comp);
    } else if (comps.length > 0) {
      comps.pop();
    }
  }
  const joined = "/".repeat(initialSlashes) + comps.join("/");
  return joined || ".";
}

/**
 * Shifts one path segment from `PATH_INFO` to `SCRIPT_NAME` and returns it, or returns
 * `undefined` (Python's `None`) when `PATH_INFO` has no segment left. The environ is
 * changed in place; copy it first to keep the original.
 *
 * Empty and `.` segments in the middle of `PATH_INFO` are skipped and `SCRIPT_NAME` is
 * normalised. When `PATH_INFO` is just `"/"`, it returns `""` and gives `SCRIPT_NAME` a
 * trailing slash, so that traversal can tell `/x` from `/x/`. A `PATH_INFO` of `"/."`
 * returns `undefined` but still empties `PATH_INFO`, as in CPython.
 *
 * @throws TypeError when `PATH_INFO` is not empty and has no `/` (an `IndexError` in CPython).
 * @example
 * const environ = { ...env, SCRIPT_NAME: "/foo", PATH_INFO: "/bar/baz" };
 * shiftPathInfo(environ); // "bar": SCRIPT_NAME is "/foo/bar", PATH_INFO is "/baz"
 */
export function shiftPathInfo(environ: WSGIEnvironment): string | undefined {
  const pathInfo = optionalString(environ, "PATH_INFO") ?? "";
  if (!pathInfo) return undefined;

  let parts = pathInfo.split("/");
  if (parts.length >= 2) {
    const middle = parts.slice(1, -1).filter((p) => p !== "" && p !== ".");
    parts = [parts[0] as string, ...middle, parts[parts.length - 1] as string];
  }
  const name = parts[1];
  if (name === undefined) {
    throw new TypeError(
      `shiftPathInfo(): environ["PATH_INFO"] has no "/" to shift at: ${JSON.stringify(pathInfo)}`,
    );
  }
  parts.splice(1, 1);

  let scriptName = normpath(`${optionalString(environ, "SCRIPT_NAME") ?? ""}/${name}`);
  if (scriptName.endsWith("/")) scriptName = scriptName.slice(0, -1);
  if (!name && !scriptName.endsWith("/")) scriptName += "/";

  environ.SCRIPT_NAME = scriptName;
  environ.PATH_INFO = parts.join("/");
  // "/." is not stripped above (the last part is never filtered), so it lands here.
  return name === "." ? undefined : name;
}

/** True when `key` holds a value (Python's `key in environ`; `undefined` counts as absent). */
function has(environ: object, key: string): boolean {
  return (environ as Record<string, unknown>)[key] !== undefined;
}

/** Python's `dict.setdefault` on an environ, with `undefined` counting as absent. */
function setDefault(environ: object, key: string, value: () => unknown): void {
  if (!has(environ, key)) (environ as Record<string, unknown>)[key] = value();
}

/**
 * Fills `environ` with trivial defaults for tests: `SERVER_NAME` (`127.0.0.1`),
 * `SERVER_PROTOCOL` (`HTTP/1.0`), `HTTP_HOST` (the server name), `REQUEST_METHOD`
 * (`GET`), `SCRIPT_NAME` and `PATH_INFO` (`""` and `"/"`, only when both are absent),
 * every `wsgi.*` key (an empty `wsgi.input`, a `wsgi.errors` writing to stderr, the
 * scheme from `guessScheme`) and `SERVER_PORT` (`80` or `443` for http or https). It only
 * adds keys, never replaces one that holds a value. Not for real servers: the data is fake.
 *
 * CPython's `wsgi.run_once`, `wsgi.multithread` and `wsgi.multiprocess` of `0` are `false`
 * here. As in CPython, giving only one of `SCRIPT_NAME`/`PATH_INFO` leaves the other
 * absent, and an unknown `wsgi.url_scheme` gets no `SERVER_PORT`.
 *
 * @example
 * const environ = { PATH_INFO: "/hello" };
 * setupTestingDefaults(environ);
 * environ.REQUEST_METHOD; // "GET", and environ is now typed as a WSGIEnvironment
 */
export function setupTestingDefaults(
  environ: Partial<WSGIEnvironment>,
): asserts environ is WSGIEnvironment {
  setDefault(environ, "SERVER_NAME", () => "127.0.0.1");
  setDefault(environ, "SERVER_PROTOCOL", () => "HTTP/1.0");
  setDefault(environ, "HTTP_HOST", () => environ.SERVER_NAME);
  setDefault(environ, "REQUEST_METHOD", () => "GET");
  if (!has(environ, "SCRIPT_NAME") && !has(environ, "PATH_INFO")) {
    environ.SCRIPT_NAME = "";
    environ.PATH_INFO = "/";
  }
  setDefault(environ, "wsgi.version", () => [1, 0] as const);
  setDefault(environ, "wsgi.run_once", () => false);
  setDefault(environ, "wsgi.multithread", () => false);
  setDefault(environ, "wsgi.multiprocess", () => false);
  setDefault(environ, "wsgi.input", () => BodyInputStream.of());
  setDefault(environ, "wsgi.errors", () => new TextErrorStream());
  setDefault(environ, "wsgi.url_scheme", () => guessScheme(environ));
  const scheme = environ["wsgi.url_scheme"];
  if (scheme === "http") setDefault(environ, "SERVER_PORT", () => "80");
  else if (scheme === "https") setDefault(environ, "SERVER_PORT", () => "443");
}

/** The hop-by-hop headers CPython knows (RFC 2616 §13.5.1; `trailers` spelled as CPython does). */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Tells whether a header is an HTTP/1.1 hop-by-hop header (RFC 2616 §13.5.1), which a
 * WSGI application must not send: `Connection`, `Keep-Alive`, `Proxy-Authenticate`,
 * `Proxy-Authorization`, `TE`, `Trailers`, `Transfer-Encoding`, `Upgrade`. Case-insensitive.
 *
 * @example isHopByHop("Keep-Alive") // true
 */
export function isHopByHop(headerName: string): boolean {
  if (typeof headerName !== "string") {
    throw new TypeError(`isHopByHop() takes a string, got ${typeof headerName}`);
  }
  // Most names are none of them: their length alone says so, with no lower-cased copy.
  switch (headerName.length) {
    case 2:
    case 7:
    case 8:
    case 10:
    case 17:
    case 18:
    case 19:
      return HOP_BY_HOP.has(headerName.toLowerCase());
    default:
      return false;
  }
}
