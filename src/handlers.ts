/**
 * Base classes for WSGI servers and gateways (CPython's `wsgiref.handlers`).
 *
 * @module
 */
export { BaseHandler, type FileWrapperClass } from "./handlers/base.ts";
export { CGIHandler, IISCGIHandler } from "./handlers/cgi.ts";
export { formatDateTime } from "./handlers/date.ts";
export { readEnviron } from "./handlers/environ.ts";
export {
  BaseCGIHandler,
  type ErrorSink,
  type InputSource,
  type OutputSink,
  SimpleHandler,
  type SimpleHandlerOptions,
} from "./handlers/simple.ts";
