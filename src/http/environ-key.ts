/**
 * Header names as CGI/WSGI environ keys (PEP 3333, RFC 3875 §4.1.18): `User-Agent` becomes
 * `HTTP_USER_AGENT`; `Content-Type` and `Content-Length` become `CONTENT_TYPE` and
 * `CONTENT_LENGTH`, without the prefix.
 *
 * A name with `_` maps to the same key as the name with `-` (`X-Forwarded_For` and
 * `X-Forwarded-For` both give `HTTP_X_FORWARDED_FOR`), so a client could smuggle a value
 * past a proxy that only sanitises the dashed spelling. Servers should drop such fields,
 * as nginx, Apache and gunicorn do by default: `hasUnderscore` tells them apart, and
 * `RequestHead.underscoreNames` says whether a request has any, so the common case costs
 * nothing.
 *
 * @module
 */

/** Computed keys; common names are there from the start, others are added up to a bound. */
const cache = new Map<string, string>();
/** Header names are chosen by the peer: never let them grow the cache without limit. */
const MAX_CACHED = 512;

function compute(name: string): string {
  const upper = name.toUpperCase().replaceAll("-", "_");
  return upper === "CONTENT_TYPE" || upper === "CONTENT_LENGTH" ? upper : `HTTP_${upper}`;
}

for (const name of [
  "Host",
  "Connection",
  "User-Agent",
  "Accept",
  "Accept-Encoding",
  "Accept-Language",
  "Cache-Control",
  "Content-Type",
  "Content-Length",
  "Cookie",
  "Referer",
  "Origin",
  "Authorization",
  "If-None-Match",
  "If-Modified-Since",
  "Upgrade-Insecure-Requests",
  "X-Forwarded-For",
  "X-Forwarded-Proto",
  "X-Forwarded-Host",
  "X-Real-IP",
]) {
  cache.set(name, compute(name));
  cache.set(name.toLowerCase(), compute(name));
}

/**
 * The environ key of a header name: `HTTP_` plus the name upper-cased with `-` as `_`,
 * except `CONTENT_TYPE` and `CONTENT_LENGTH` (RFC 3875 §4.1.18).
 *
 * @example
 * environKey("User-Agent"); // "HTTP_USER_AGENT"
 * environKey("content-type"); // "CONTENT_TYPE"
 */
export function environKey(name: string): string {
  let key = cache.get(name);
  if (key === undefined) {
    key = compute(name);
    if (cache.size < MAX_CACHED) cache.set(name, key);
  }
  return key;
}

/** Whether a header name contains `_`, which would collide with its dashed spelling in the environ. */
export function hasUnderscore(name: string): boolean {
  return name.includes("_");
}
