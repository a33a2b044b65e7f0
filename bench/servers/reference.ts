/** Benchmark server: the reference `makeServer` (CPython's simple_server, one connection at a time). */
import { makeServer, WSGIRequestHandler } from "../../src/simple-server.ts";
import { listening, PORT } from "./common.ts";
import { app } from "./wsgi-app.ts";

/** No request log, as in the other servers (CPython's is silenced too). */
class QuietHandler extends WSGIRequestHandler {
  override logMessage(): void {}
}

await using httpd = await makeServer("127.0.0.1", PORT, app, { handlerClass: QuietHandler });
listening(httpd.serverPort);
process.once("SIGTERM", () => void httpd.shutdown());
await httpd.serveForever();
