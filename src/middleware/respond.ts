/**
 * The short plain-text responses the middleware answer with on their own (404, 405, 412,
 * 416, 301), so each is built the same way: `text/plain; charset=utf-8`, an exact
 * `Content-Length`, and no body bytes for `HEAD`.
 *
 * @module
 */
import type { HeaderTuple, ResponseBody, StartResponse, WSGIEnvironment } from "../types.ts";

/**
 * Starts a plain-text response and returns its body: `text` plus a newline, or nothing
 * for a `HEAD` request (which still gets the `Content-Length` a `GET` would get).
 *
 * @example return plainResponse(environ, startResponse, "404 Not Found", "Not Found");
 */
export function plainResponse(
  environ: WSGIEnvironment,
  startResponse: StartResponse,
  status: string,
  text: string,
  headers: HeaderTuple[] = [],
): ResponseBody {
  const body = Buffer.from(`${text}\n`, "utf8");
  startResponse(status, [
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Content-Length", String(body.length)],
    ...headers,
  ]);
  return environ.REQUEST_METHOD === "HEAD" ? [] : [body];
}
