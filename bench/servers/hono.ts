/** Benchmark server: the Hono app (hono-app.ts) on `@hono/node-server`. */
import { serve } from "@hono/node-server";
import { KEEP_ALIVE, listening, PORT } from "./common.ts";
import { app } from "./hono-app.ts";

const server = serve({ fetch: app.fetch, port: PORT, hostname: "127.0.0.1" }, (info) =>
  listening(info.port),
);
if ("keepAliveTimeout" in server) server.keepAliveTimeout = KEEP_ALIVE;
process.once("SIGTERM", () => server.close());
