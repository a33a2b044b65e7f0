/**
 * Benchmark server: the Hono app (hono-app.ts) on our production server, served as a
 * Fetch application (`serve(app)`, the fast path, with the default `fastResponse`).
 */
import { serve } from "../../src/server.ts";
import { KEEP_ALIVE, listening, PORT } from "./common.ts";
import { app } from "./hono-app.ts";

const server = await serve(app, {
  port: PORT,
  host: "127.0.0.1",
  keepAliveTimeout: KEEP_ALIVE,
  maxBodySize: 64 * 1024 ** 3,
  handleSignals: true,
});
listening(typeof server.address === "string" ? 0 : server.address.port);
