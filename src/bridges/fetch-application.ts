/**
 * What a Fetch application is, for the servers that take one directly: an object with a
 * `fetch(request, env?, ctx?)` method, as a Hono instance or `export default { fetch }`
 * (Bun, Deno, srvx) is. A bare function is never taken for one: it is a WSGI
 * application, and a Fetch handler function is wrapped in `fromFetchHandler`.
 *
 * @module
 */
import type { WSGIEnvironment } from "../types.ts";

/** The third argument of `fetch`: what Cloudflare-style handlers call the execution context. */
export interface FetchExecutionContext {
  /** Keeps the process at work on `promise` after the response; its rejection is logged. */
  waitUntil(promise: Promise<unknown>): void;
  /** Accepted for compatibility; there is no origin to pass through to, so it does nothing. */
  passThroughOnException(): void;
}

/**
 * A Fetch application object: `fetch` gets the `Request`, the WSGI environ (or the
 * server's equivalent: `REMOTE_ADDR`, `wsgi.errors`, ...) as `env` (Hono's `c.env`), and an
 * execution context, and returns the `Response`.
 *
 * @example
 * export default { fetch: (request: Request) => new Response(`hi ${request.url}`) };
 */
export interface FetchApplication {
  /** Answers one request. */
  fetch(
    request: Request,
    env?: WSGIEnvironment,
    ctx?: FetchExecutionContext,
  ): Response | Promise<Response>;
}

/** True for an object (not a function) with a `fetch` method: a Fetch application. */
export function isFetchApplication(value: unknown): value is FetchApplication {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { fetch?: unknown }).fetch === "function"
  );
}
