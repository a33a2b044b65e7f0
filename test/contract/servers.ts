/**
 * The contract's surfaces for this package's two servers: the production server
 * (`wsgiref/server`) and the reference server (`wsgiref/simple-server`), each started on a
 * loopback port for one exchange and requested over a real socket.
 */
import { devNull } from "node:os";
import { toFetchHandler } from "../../src/fetch.ts";
import { serve } from "../../src/server.ts";
import { makeServer, WSGIRequestHandler } from "../../src/simple-server.ts";
import { BufferedErrorStream } from "../../src/streams.ts";
import type { ErrorStream } from "../../src/types.ts";
import { httpSurface } from "./surfaces.ts";

/** Why the servers miss a hang-up that comes as a FIN while the application computes. */
/** The production server; its error log discarded, shutdown kept short. */
export const productionSurface = httpSurface("production server", async (app) => {
  const server = await serve(app, {
    port: 0,
    host: "127.0.0.1",
    errorLog: devNull,
    gracefulTimeout: 200,
  });
  const { address } = server;
  if (typeof address === "string") throw new Error("expected a TCP address");
  return { port: address.port, close: () => server.close() };
});

/**
 * The production server's Fetch fast path: the WSGI app bridged by `toFetchHandler` and
 * served as a Fetch application object, so every case also runs through the lazy
 * `Request`, the `Response` writer and the fast path's close rule.
 */
export const fetchFastPathSurface = httpSurface(
  "production server, Fetch fast path (serve({ fetch: toFetchHandler(app) }))",
  async (app) => {
    const handler = toFetchHandler(app, { errors: new BufferedErrorStream() });
    const server = await serve(
      { fetch: (request) => handler(request) },
      { port: 0, host: "127.0.0.1", errorLog: devNull, gracefulTimeout: 200 },
    );
    const { address } = server;
    if (typeof address === "string") throw new Error("expected a TCP address");
    return { port: address.port, close: () => server.close() };
  },
);

/** A request handler whose error log (wsgi.errors, the access log) is kept, not printed. */
class QuietRequestHandler extends WSGIRequestHandler {
  override getStderr(): ErrorStream {
    return new BufferedErrorStream();
  }
}

/** The reference server, as CPython's `wsgiref.simple_server`. */
export const referenceSurface = httpSurface("reference server", async (app) => {
  const server = await makeServer("127.0.0.1", 0, app, { handlerClass: QuietRequestHandler });
  void server.serveForever();
  return { port: server.serverPort, close: () => server[Symbol.asyncDispose]() };
});
referenceSurface.skip = {
  "a request body of unknown length is read to its end":
    "HTTP/1.0, as CPython's: a request without Content-Length has no body",
  "an error after the headers cuts the body short and closes it":
    "HTTP/1.0, as CPython's: a body without Content-Length ends at the close, so a cut-short body looks complete",
  "after a hang-up, write() and wsgi.input reads reject with ECONNRESET":
    "CPython's buffered reader: with a request body to read, the server cannot watch for the client's close, so a read after the hang-up still returns the bytes the socket had buffered",
};
