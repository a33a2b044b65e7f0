/** Benchmark server: the Hono app (hono-app.ts) on srvx's Node adapter, with its defaults. */
import { serve } from "srvx";
import { KEEP_ALIVE, listening, PORT } from "./common.ts";
import { app } from "./hono-app.ts";

const server = serve({ fetch: app.fetch, port: PORT, hostname: "127.0.0.1", silent: true });
await server.ready();
const node = server.node?.server;
if (node && "keepAliveTimeout" in node) node.keepAliveTimeout = KEEP_ALIVE;
const address = node?.address();
listening(typeof address === "object" && address !== null ? address.port : PORT);
process.once("SIGTERM", () => void server.close());
