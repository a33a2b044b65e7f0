/**
 * `proxyFix`: trust the `X-Forwarded-*` headers that a known number of reverse proxies add,
 * after werkzeug's `ProxyFix`.
 *
 * @module
 */
import { isIP, isIPv4, isIPv6 } from "node:net";
import { defaultPort } from "../http/host.ts";
import type { WSGIApplication, WSGIEnvironment } from "../types.ts";

/**
 * How many proxies in front of the application set each `X-Forwarded-*` header. `0` means
 * the header is not trusted at all and is left alone.
 *
 * Security: each number must equal the number of proxies that really set (append to or
 * overwrite) that header. The right-most N values were added by your proxies; anything to
 * their left came from the client, who can write whatever they like. A number that is too
 * high trusts values the client made up; one that is too low yields a proxy's address.
 */
export interface ProxyFixOptions {
  /** Hops of `X-Forwarded-For` to trust, setting `REMOTE_ADDR`. Default 1. */
  for?: number;
  /** Hops of `X-Forwarded-Proto` to trust, setting `wsgi.url_scheme` and `HTTPS`. Default 1. */
  proto?: number;
  /** Hops of `X-Forwarded-Host` to trust, setting `HTTP_HOST`, `SERVER_NAME`, `SERVER_PORT`. Default 0. */
  host?: number;
  /** Hops of `X-Forwarded-Port` to trust, setting `SERVER_PORT` and the port in `HTTP_HOST`. Default 0. */
  port?: number;
  /** Hops of `X-Forwarded-Prefix` to trust, setting `SCRIPT_NAME`. Default 0. */
  prefix?: number;
}

/** The environ key under which `proxyFix` keeps the values it may have replaced. */
export const PROXY_FIX_ORIGINAL = "wsgiref.proxy_fix.orig";

/**
 * The environ values as the server set them, before `proxyFix` looked at the forwarded
 * headers; `undefined` where the key was absent. Stored under `wsgiref.proxy_fix.orig`.
 */
export interface ProxyFixOriginal {
  /** The address of the peer that connected: the closest proxy. */
  readonly REMOTE_ADDR: string | undefined;
  /** The scheme of the connection to this server. */
  readonly "wsgi.url_scheme": string;
  /** The CGI `HTTPS` flag. */
  readonly HTTPS: string | undefined;
  /** The `Host` header the closest proxy sent. */
  readonly HTTP_HOST: string | undefined;
  /** The server's own name. */
  readonly SERVER_NAME: string;
  /** The server's own port. */
  readonly SERVER_PORT: string;
  /** The mount point as the server saw it. */
  readonly SCRIPT_NAME: string;
}

/** Optional whitespace around list elements (RFC 9110 §5.6.3). */
const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * The value `hops` places from the right of a comma-separated header, or `undefined` when
 * the header is absent or has fewer values than trusted hops (then part of the chain is
 * missing and nothing in it can be trusted). Empty list elements are ignored (RFC 9110 §5.6.1).
 */
function trustedValue(hops: number, header: unknown): string | undefined {
  if (hops === 0 || typeof header !== "string" || header === "") return undefined;
  const values = header
    .split(",")
    .map((v) => v.replace(OWS, ""))
    .filter((v) => v !== "");
  return values.length >= hops ? values[values.length - hops] : undefined;
}

/** A port number 1-65535 without sign or spaces, normalised (`"0443"` is `"443"`). */
function parsePort(value: string): string | undefined {
  if (!/^[0-9]{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? String(port) : undefined;
}

/**
 * A forwarded client address as `REMOTE_ADDR` should hold it: an IPv4 or IPv6 address,
 * accepted bare, in brackets, or with a port (which is dropped). Anything else (`unknown`,
 * a name, text meant for a log) is not an address and is ignored.
 */
function parseForwardedFor(value: string): string | undefined {
  if (isIP(value)) return value;
  const bracketed = /^\[([^\]]*)\](?::([0-9]+))?$/.exec(value);
  if (bracketed) {
    const address = bracketed[1] as string;
    const port = bracketed[2];
    if (!isIPv6(address) || (port !== undefined && !parsePort(port))) return undefined;
    return address;
  }
  const withPort = /^([0-9.]+):([0-9]+)$/.exec(value);
  if (withPort && isIPv4(withPort[1] as string) && parsePort(withPort[2] as string)) {
    return withPort[1];
  }
  return undefined;
}

/**
 * A forwarded host, `name[:port]` or `[IPv6][:port]`, split into its parts. The name may
 * hold letters, digits and `-._~` only: spaces, CR, LF, `/`, `@` and the like are refused,
 * so a header cannot smuggle a path or a second header into URLs built from `HTTP_HOST`.
 */
function parseHost(value: string): { name: string; port: string | undefined } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~]+)(?::([0-9]+))?$/.exec(value);
  if (!match) return undefined;
  const name = match[1] as string;
  if (name.startsWith("[") && !isIPv6(name.slice(1, -1))) return undefined;
  const rawPort = match[2];
  if (rawPort === undefined) return { name, port: undefined };
  const port = parsePort(rawPort);
  return port === undefined ? undefined : { name, port };
}

/** The characters a path may hold before percent-decoding (RFC 3986 `pchar` and `/`). */
const RAW_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

/**
 * A forwarded prefix as `SCRIPT_NAME` should hold it: percent-decoded into a native
 * (latin-1) string like `PATH_INFO`, without trailing slashes (`"/"` becomes `""`).
 * Refused: no leading `/`, a bad `%` escape, control characters, empty, `.` or `..`
 * segments (`//evil.example` would turn a path-only link into one to another site).
 */
function parsePrefix(value: string): string | undefined {
  if (!RAW_PATH.test(value)) return undefined;
  let decoded = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch !== "%") {
      decoded += ch;
      continue;
    }
    const hex = value.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    decoded += String.fromCharCode(Number.parseInt(hex, 16));
    i += 2;
  }
  if (/[\u0000-\u001f\u007f]/.test(decoded)) return undefined;
  const prefix = decoded.replace(/\/+$/, "");
  const segments = prefix.split("/").slice(1);
  if (segments.some((s) => s === "" || s === "." || s === "..")) return undefined;
  return prefix;
}

/** Checks one hop count: a non-negative integer. */
function hopCount(options: ProxyFixOptions, name: keyof ProxyFixOptions, fallback: number): number {
  const value = options[name] ?? fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`proxyFix: ${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}

/**
 * Wraps `app` so that it sees the client's address, scheme, host, port and mount prefix
 * as reported by the reverse proxies in front of it, as werkzeug's `ProxyFix` does:
 *
 * - `X-Forwarded-For` sets `REMOTE_ADDR` (an IP address; a port or brackets are dropped);
 * - `X-Forwarded-Proto` sets `wsgi.url_scheme` and `HTTPS` (`on`, or removed for http);
 *   only `http` and `https` are accepted;
 * - `X-Forwarded-Host` sets `HTTP_HOST`, `SERVER_NAME` and `SERVER_PORT` (the host's port,
 *   or the scheme's default);
 * - `X-Forwarded-Port` sets `SERVER_PORT` and the port in `HTTP_HOST` (left out when it is
 *   the scheme's default);
 * - `X-Forwarded-Prefix` sets `SCRIPT_NAME` (percent-decoded, trailing `/` removed).
 *
 * For each header the value `N` places from the right is used, `N` being the option for
 * it. A header with fewer values than that, or whose value does not parse, is ignored, as
 * if `proxyFix` were not there for that header. The replaced values are kept in
 * `environ["wsgiref.proxy_fix.orig"]` (a `ProxyFixOriginal`). The environ is changed in
 * place, as werkzeug does, so code around this middleware sees the same values.
 *
 * Security: only use this behind proxies that set or overwrite these headers on every
 * request; directly exposed, any client can claim any address, scheme or host. The hop
 * counts must match the proxy chain (see `ProxyFixOptions`); a header that your proxies do
 * not set must stay at `0`. Values are checked, so a trusted-but-wrong value cannot put
 * spaces, CR/LF or a path into the host, or an unknown scheme into `wsgi.url_scheme`.
 *
 * @throws RangeError when a hop count is not a non-negative integer.
 * @example
 * // Behind one nginx that sets X-Forwarded-For, -Proto and -Host:
 * const app = proxyFix(myApp, { for: 1, proto: 1, host: 1 });
 */
export function proxyFix(app: WSGIApplication, options: ProxyFixOptions = {}): WSGIApplication {
  const hops = {
    for: hopCount(options, "for", 1),
    proto: hopCount(options, "proto", 1),
    host: hopCount(options, "host", 0),
    port: hopCount(options, "port", 0),
    prefix: hopCount(options, "prefix", 0),
  };
  return (environ, startResponse) => {
    applyForwarded(environ, hops);
    return app(environ, startResponse);
  };
}

/** Rewrites `environ` from the trusted forwarded headers. */
function applyForwarded(environ: WSGIEnvironment, hops: Required<ProxyFixOptions>): void {
  const original: ProxyFixOriginal = {
    REMOTE_ADDR: stringOrUndefined(environ.REMOTE_ADDR),
    "wsgi.url_scheme": environ["wsgi.url_scheme"],
    HTTPS: stringOrUndefined(environ.HTTPS),
    HTTP_HOST: environ.HTTP_HOST,
    SERVER_NAME: environ.SERVER_NAME,
    SERVER_PORT: environ.SERVER_PORT,
    SCRIPT_NAME: environ.SCRIPT_NAME,
  };
  environ[PROXY_FIX_ORIGINAL] = original;

  const forValue = trustedValue(hops.for, environ.HTTP_X_FORWARDED_FOR);
  const address = forValue === undefined ? undefined : parseForwardedFor(forValue);
  if (address !== undefined) environ.REMOTE_ADDR = address;

  const proto = trustedValue(hops.proto, environ.HTTP_X_FORWARDED_PROTO)?.toLowerCase();
  if (proto === "https") {
    environ["wsgi.url_scheme"] = "https";
    environ.HTTPS = "on";
  } else if (proto === "http") {
    environ["wsgi.url_scheme"] = "http";
    delete environ.HTTPS;
  }

  const hostValue = trustedValue(hops.host, environ.HTTP_X_FORWARDED_HOST);
  const host = hostValue === undefined ? undefined : parseHost(hostValue);
  if (host !== undefined && hostValue !== undefined) {
    environ.HTTP_HOST = hostValue;
    environ.SERVER_NAME = host.name;
    environ.SERVER_PORT = host.port ?? defaultPort(environ["wsgi.url_scheme"]);
  }

  const portValue = trustedValue(hops.port, environ.HTTP_X_FORWARDED_PORT);
  const port = portValue === undefined ? undefined : parsePort(portValue);
  if (port !== undefined) {
    environ.SERVER_PORT = port;
    // A Host that does not parse is left as it is: there is no port in it to replace.
    const current = environ.HTTP_HOST ? parseHost(environ.HTTP_HOST) : undefined;
    if (current !== undefined) {
      const isDefault = port === defaultPort(environ["wsgi.url_scheme"]);
      environ.HTTP_HOST = isDefault ? current.name : `${current.name}:${port}`;
    }
  }

  const prefixValue = trustedValue(hops.prefix, environ.HTTP_X_FORWARDED_PREFIX);
  const prefix = prefixValue === undefined ? undefined : parsePrefix(prefixValue);
  if (prefix !== undefined) environ.SCRIPT_NAME = prefix;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
