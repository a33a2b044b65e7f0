/**
 * The Hono app of the Hono rows, the same routes as every benchmark server (common.ts):
 * served by @hono/node-server (hono.ts), by our server (hono-ours.ts) and by srvx
 * (hono-srvx.ts). Downloads are a pull `ReadableStream` over the shared chunk; uploads
 * are read through `request.body`.
 */
import { Hono } from "hono";
import { CHUNK, CHUNK_SIZE, downloadSize } from "./common.ts";

/** The app. */
export const app = new Hono();
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
