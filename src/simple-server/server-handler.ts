/**
 * `ServerHandler`: the `SimpleHandler` the simple server runs each application with, and
 * the version strings of its `Server` header.
 *
 * @module
 */
import { SimpleHandler } from "../handlers/simple.ts";
import type { WSGIRequestHandler } from "./handler.ts";

/** The simple server's version, as in `Server` headers (CPython's `wsgiref.simple_server.__version__`). */
export const VERSION = "0.2";
/** `WSGIServer/0.2`: the request handler's `serverVersion` and the environ's `SERVER_SOFTWARE`. */
export const SERVER_VERSION = `WSGIServer/${VERSION}`;
/** The runtime, where CPython writes `CPython/3.x.y`: `Node.js/20.x.y`. */
export const SYS_VERSION = `Node.js/${process.versions.node}`;
/** `WSGIServer/0.2 Node.js/20.x.y`: the `Server` header of every response. */
export const SOFTWARE_VERSION = `${SERVER_VERSION} ${SYS_VERSION}`;

/**
 * The `SimpleHandler` the simple server runs each application with (CPython's
 * `ServerHandler`): it writes `Server: WSGIServer/0.2 Node.js/<version>`, adds
 * `wsgi.input_terminated`, and its `close()` writes the access log line. The request
 * handler creates it with `multithread: false`, as CPython does.
 */
export class ServerHandler extends SimpleHandler {
  override serverSoftware: string | undefined = SOFTWARE_VERSION;
  /** The request handler that created this handler, for logging (CPython's `request_handler` back-pointer). */
  requestHandler: WSGIRequestHandler | undefined = undefined;

  /** Adds `wsgi.input_terminated`: `wsgi.input` ends at `CONTENT_LENGTH`, so reading it all is safe. */
  override setupEnviron(): void {
    super.setupEnviron();
    this.environ["wsgi.input_terminated"] = true;
  }

  /** Logs the request (`"GET / HTTP/1.1" 200 13`), then closes the body and resets. */
  override async close(): Promise<void> {
    try {
      this.requestHandler?.logRequest(this.status?.split(" ", 1)[0] ?? "-", this.bytesSent);
    } finally {
      await super.close();
    }
  }
}
