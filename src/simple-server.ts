/**
 * A simple WSGI HTTP server (Python's `wsgiref.simple_server`), for trying an
 * application on a local machine: `makeServer`, `WSGIServer`, `WSGIRequestHandler`,
 * `ServerHandler` and `demoApp`. One request per connection, one connection at a time,
 * no security review: use `wsgiref/server` in production.
 *
 * On workerd it throws `UnsupportedRuntimeError` (`ERR_UNSUPPORTED_RUNTIME`) at import:
 * workerd cannot listen on sockets (use `wsgiref/fetch` there).
 *
 * @module
 */
import { requireListeningSockets } from "./runtime.ts";

export { demoApp } from "./simple-server/demo.ts";
export { type ClientAddress, WSGIRequestHandler } from "./simple-server/handler.ts";
export { HTTPMessage } from "./simple-server/request.ts";
export {
  getfqdn,
  type MakeServerOptions,
  makeServer,
  type RequestHandlerClass,
  type ServerAddress,
  type ServerClass,
  WSGIServer,
} from "./simple-server/server.ts";
export {
  SERVER_VERSION,
  ServerHandler,
  SOFTWARE_VERSION,
  SYS_VERSION,
  VERSION,
} from "./simple-server/server-handler.ts";

requireListeningSockets("wsgiref/simple-server");
