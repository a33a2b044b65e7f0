/** Benchmark server: a Hono app on `@hono/node-server`. */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { CHUNK, CHUNK_SIZE, downloadSize, KEEP_ALIVE, listening, PORT } from "./common.ts";

const app = new Hono();
app.get("/", (c) => c.text("Hello, World!"));
app.get("/download", (c) => {
  const size = downloadSize(new URL(c.req.url).search.slice(1));
  let left = size;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (left <= 0) {
          controller.close();
          return;
        }
        const chunk = left >= CHUNK_SIZE ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return c.body(body, 200, {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(size),
  });
});
app.post("/upload", async (c) => {
  let received = 0;
  const body = c.req.raw.body;
  if (body) for await (const chunk of body) received += chunk.length;
  return c.text(String(received));
});

const server = serve({ fetch: app.fetch, port: PORT, hostname: "127.0.0.1" }, (info) =>
  listening(info.port),
);
if ("keepAliveTimeout" in server) server.keepAliveTimeout = KEEP_ALIVE;
process.once("SIGTERM", () => server.close());
