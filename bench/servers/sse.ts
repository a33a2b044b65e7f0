/**
 * Benchmark server for bench/sse-drop.ts: a Fetch app on our server (the fast path) whose
 * `/events` is a Server-Sent Events stream that sends one event and then waits; it counts
 * the streams opened, the `request.signal` aborts and the stream cancels. `/stats` tells.
 */
import { serve } from "../../src/server.ts";
import { KEEP_ALIVE, listening, PORT } from "./common.ts";

const stats = { open: 0, aborted: 0, cancelled: 0 };
const EVENT = new TextEncoder().encode("data: hello\n\n");

const server = await serve(
  {
    fetch(request: Request) {
      const path = new URL(request.url).pathname;
      if (path === "/stats") return Response.json(stats);
      if (path !== "/events") return new Response("ok");
      stats.open++;
      request.signal.addEventListener("abort", () => {
        stats.aborted++;
      });
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(EVENT);
        },
        cancel() {
          stats.cancelled++;
        },
      });
      return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
    },
  },
  { port: PORT, host: "127.0.0.1", keepAliveTimeout: KEEP_ALIVE, handleSignals: true },
);
listening(typeof server.address === "string" ? 0 : server.address.port);
