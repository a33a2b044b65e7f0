/**
 * The production HTTP/1.1 server for WSGI applications (what gunicorn is to Python):
 * keep-alive and pipelining, chunked bodies both ways, strict framing, limits and
 * timeouts, workers, graceful shutdown, TLS and Unix sockets.
 *
 * On workerd it throws `UnsupportedRuntimeError` (`ERR_UNSUPPORTED_RUNTIME`) at import:
 * workerd cannot listen on sockets (use `wsgiref/fetch` there).
 *
 * @module
 */
import { requireListeningSockets } from "./runtime.ts";

export type { FetchApplication } from "./bridges/fetch-application.ts";
export { type AccessRecord, formatAccess } from "./server/access-log.ts";
export { FastResponse } from "./server/fast-response.ts";
export {
  checkOptions,
  DEFAULTS,
  OPTIONS,
  OptionError,
  type OptionSpec,
  optionsMarkdown,
  resolveOptions,
  type ServerOptions,
} from "./server/options.ts";
export { type RunningServer, type ServeOptions, serve } from "./server/server.ts";
export { WorkerStartError } from "./server/workers.ts";

requireListeningSockets("wsgiref/server");
