/**
 * Building a WSGI environ from a request that another world already parsed (a Fetch
 * `Request`, a `node:http` `IncomingMessage`, a test client's description): the same
 * rules as the production server (PEP 3333 "environ Variables", RFC 3875 §4.1): the same
 * `environKey`, `unquoteLatin1` and `hostVars`.
 *
 * - `PATH_INFO` and `SCRIPT_NAME` are percent-decoded with each byte becoming one char
 *   (PEP 3333 native strings), as `urllib.parse.unquote(path, "latin-1")` does.
 * - A header becomes `HTTP_` + its name upper-cased with `-` as `_`, except
 *   `Content-Type` and `Content-Length`, which become `CONTENT_TYPE` and
 *   `CONTENT_LENGTH`. Repeated headers are comma-joined, `Cookie` lines with `; `.
 * - A header name with `_` is dropped unless asked otherwise: `X_Forwarded_For` would map
 *   to the same key as `X-Forwarded-For`, so a client could smuggle a value past a proxy
 *   that only strips the dashed spelling (nginx, Apache and gunicorn drop them too).
 *
 * @module
 */
import { utf8Bytes } from "../bytes.ts";

import type { ErrorSink } from "../handlers/simple.ts";
import { environKey } from "../http/environ-key.ts";
import { joinFieldValues } from "../http/fields.ts";
import { TextErrorStream } from "../streams.ts";
import type { ErrorStream } from "../types.ts";

// The rules every gateway shares, from their one owner.
export { defaultPort, hostVars } from "../http/host.ts";
export { unquoteLatin1 } from "../util/native.ts";

/**
 * Percent-encodes the chars of a request target that may not appear on the wire: text
 * outside ASCII is encoded as UTF-8 first, as a browser does; `%` escapes are kept.
 */
export function encodeTarget(target: string): string {
  return target.replace(/[^\x21-\x7e]/gu, (ch) => {
    let out = "";
    for (const byte of utf8Bytes(ch)) {
      out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
    return out;
  });
}

/** How gateways turn request headers into environ keys. */
export interface HeaderPolicy {
  /**
   * Keep header names that contain `_` (default false: they are dropped, as the
   * production server, nginx and gunicorn do, so they cannot pose as dashed names).
   */
  keepUnderscoreHeaders?: boolean;
}

/**
 * Adds request headers to `vars` as `HTTP_*`, `CONTENT_TYPE` and `CONTENT_LENGTH`,
 * comma-joining repeats (`Cookie` with `; `) and dropping names with `_` unless the policy keeps them.
 */
export function addHeaders(
  vars: Record<string, string>,
  headers: Iterable<readonly [string, string]>,
  policy: HeaderPolicy = {},
): void {
  for (const [name, value] of headers) {
    if (!policy.keepUnderscoreHeaders && name.includes("_")) continue;
    const key = environKey(name);
    const previous = vars[key];
    vars[key] = previous === undefined ? value : joinFieldValues(name, previous, value);
  }
}

/** Splits a request target into its path and its query (without the `?`). */
export function splitTarget(target: string): { path: string; query: string } {
  const at = target.indexOf("?");
  return at === -1
    ? { path: target, query: "" }
    : { path: target.slice(0, at), query: target.slice(at + 1) };
}

/** A mount prefix without its trailing slashes (`"/app/"` → `"/app"`, `"/"` → `""`). */
export function normalizeMount(prefix: string | undefined): string {
  if (prefix === undefined) return "";
  const trimmed = prefix.replace(/\/+$/, "");
  if (trimmed !== "" && !trimmed.startsWith("/")) {
    throw new TypeError(`a mount prefix must start with "/", got ${JSON.stringify(prefix)}`);
  }
  return trimmed;
}

/**
 * Splits a decoded path at a mount prefix into `SCRIPT_NAME` and `PATH_INFO`, or returns
 * undefined when the path is not under the prefix. `/app` and `/app/x` are under `/app`;
 * `/apple` is not.
 */
export function mount(
  path: string,
  prefix: string,
): { SCRIPT_NAME: string; PATH_INFO: string } | undefined {
  if (prefix === "") return { SCRIPT_NAME: "", PATH_INFO: path };
  if (path !== prefix && !path.startsWith(`${prefix}/`)) return undefined;
  return { SCRIPT_NAME: prefix, PATH_INFO: path.slice(prefix.length) };
}

/** The `wsgi.errors` for a sink: an `ErrorStream` as it is, a text sink wrapped, stderr by default. */
export function toErrorStream(sink: ErrorSink | undefined): ErrorStream {
  if (sink === undefined) return new TextErrorStream();
  return typeof (sink as ErrorStream).writelines === "function"
    ? (sink as ErrorStream)
    : new TextErrorStream(sink);
}
