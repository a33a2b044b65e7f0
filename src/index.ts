/**
 * `wsgiref`: the Web Server Gateway Interface (PEP 3333) for TypeScript. This entry
 * re-exports the public names of every module; each is also its own subpath
 * (`wsgiref/util`, `wsgiref/headers`, `wsgiref/handlers`, `wsgiref/validate`,
 * `wsgiref/simple-server`, `wsgiref/server`, `wsgiref/middleware`, `wsgiref/fetch`,
 * `wsgiref/node`, `wsgiref/testing`, ...).
 *
 * @module
 */

export { fromFetchHandler, toFetchHandler } from "./fetch.ts";
export {
  BaseCGIHandler,
  BaseHandler,
  CGIHandler,
  formatDateTime,
  IISCGIHandler,
  readEnviron,
  SimpleHandler,
} from "./handlers.ts";
export { Headers } from "./headers.ts";
export { mount, proxyFix, staticFiles } from "./middleware.ts";
export { toNodeListener } from "./node.ts";
export { type RunningServer, type ServeOptions, type ServerOptions, serve } from "./server.ts";
export {
  demoApp,
  makeServer,
  ServerHandler,
  WSGIRequestHandler,
  WSGIServer,
} from "./simple-server.ts";
export { Client, call, replay, TestResponse } from "./testing.ts";
export type {
  ErrorStream,
  FileLike,
  FileWrapperFactory,
  HeaderTuple,
  InputStream,
  ResponseBody,
  StartResponse,
  WriteCallable,
  WSGIApplication,
  WSGIEnvironment,
} from "./types.ts";
export { WRAPPED_CHUNKS } from "./types.ts";
export {
  applicationUri,
  decodeNative,
  encodeNative,
  FileWrapper,
  fileWrapper,
  guessScheme,
  isHopByHop,
  requestUri,
  setupTestingDefaults,
  shiftPathInfo,
} from "./util.ts";
export { validator, WSGIWarning } from "./validate.ts";
