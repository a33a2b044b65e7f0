/**
 * The one error every gateway uses for a client that went away, and the test for it: a
 * read or write that needs the client fails with `code: "ECONNRESET"`, and `BaseHandler`
 * then abandons the response instead of reporting it (docs/disconnects.md).
 *
 * @module
 */

/** Error codes that mean the client went away: the response is abandoned, not reported. */
const CLIENT_GONE = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_DESTROYED"]);

/** The error a body read or a write gets once the client went away: `code` is `ECONNRESET`. */
export function clientGone(): Error & { code: "ECONNRESET" } {
  return Object.assign(new Error("the client closed the connection"), {
    code: "ECONNRESET" as const,
  });
}

/** True if `error` says the peer closed the connection (`ECONNRESET`, `EPIPE`, ...). */
export function isClientGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && CLIENT_GONE.has(code);
}
