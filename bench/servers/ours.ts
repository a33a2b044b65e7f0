/** Benchmark server: our production server (`wsgiref/server`) with a minimal WSGI app. */
import { serve } from "../../src/server.ts";
import { KEEP_ALIVE, listening, PORT } from "./common.ts";
import { app } from "./wsgi-app.ts";

const server = await serve(app, {
  port: PORT,
  host: "127.0.0.1",
  keepAliveTimeout: KEEP_ALIVE,
  maxBodySize: 64 * 1024 ** 3,
  handleSignals: true,
});
listening(typeof server.address === "string" ? 0 : server.address.port);
