/**
 * Micro-benchmark of the production server's per-request JavaScript (not a test): a
 * `Session` over a fake socket runs the benchmark's hello-world app for keep-alive GETs,
 * each request read into the session's `ReadBuffer` as from a plain socket,
 * so the number is the cost of our code (core, session, WSGI handler, environ, headers)
 * without the kernel, the event loop's I/O or a load generator. Steadier than `npm run
 * bench` on a busy machine, so it is the one to A/B a change to the hot path with.
 *
 * Run: taskset -c 1 node --import tsx bench/session.ts [requests] [app] (default 2e5 and
 * `wsgi`; `hono` serves the Hono app of the Hono rows on the Fetch fast path, with the
 * light Response installed as `serve()` does; `hono-bridge` runs it through
 * `fromFetchHandler`; `async` the same hello world as an `async` WSGI app). Under tsx,
 * esbuild's `keepNames` helper (`__name`) runs for every arrow function a class field
 * creates, which the compiled server never does: for numbers to compare with production
 * (and for --cpu-prof), run the compiled copy that `npm run bench` (or
 * `tsc -p bench/tsconfig.servers.json`) writes: `node bench/out/build/bench/session.js`.
 */
import type { Socket } from "node:net";
import { fromFetchHandler } from "../src/fetch.ts";
import { ServerContext } from "../src/server/context.ts";
import { installFastResponse } from "../src/server/fast-response.ts";
import { resolveOptions } from "../src/server/options.ts";
import { ReadBuffer } from "../src/server/read-buffer.ts";
import { Session } from "../src/server/session.ts";
import type { WSGIApplication } from "../src/types.ts";
import { FakeSocket } from "../test/helpers/fake-socket.ts";
import { HELLO } from "./servers/common.ts";
import { app as honoApp } from "./servers/hono-app.ts";
import { app } from "./servers/wsgi-app.ts";

const GET = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n";
/** Requests between two turns of the event loop (each in its own data event, as from wrk). */
const BATCH = 100;
const REQUEST = Buffer.from(GET, "latin1");

const which = process.argv[3] ?? "wsgi";
if (which === "hono") installFastResponse();
/** The hello world as an `async` WSGI app: the same answer, through a promise. */
const asyncApp: WSGIApplication = async (_environ, startResponse) => {
  startResponse("200 OK", [
    ["Content-Type", "text/plain"],
    ["Content-Length", String(HELLO.length)],
  ]);
  return [HELLO];
};
const served =
  which === "hono"
    ? honoApp
    : which === "hono-bridge"
      ? fromFetchHandler(honoApp.fetch)
      : which === "async"
        ? asyncApp
        : app;
const ctx = new ServerContext(served, resolveOptions({ port: 0 }), false);
ctx.serverPort = "8000";

/** Sends `n` requests (in batches) and waits until every response was written. */
async function run(n: number): Promise<number> {
  const socket = new FakeSocket(false);
  const reads = new ReadBuffer();
  new Session(socket as unknown as Socket, ctx, reads);
  for (let sent = 0; sent < n; sent += BATCH) {
    // One request per data event, as wrk sends them.
    // Each is answered before the next, and its promise callbacks run in between.
    for (let i = 0; i < BATCH; i++) {
      const buffer = reads.option.buffer();
      REQUEST.copy(buffer);
      reads.option.callback(REQUEST.length, buffer);
      // As wrk does on a keep-alive connection, the next request waits for this response:
      // an async app answers a few promise turns later, and a request arriving meanwhile
      // would be pipelined (kept in the core, the read buffer lent and replaced).
      for (let spins = 0; socket.writes < sent + i + 1; spins++) {
        if (spins < 100) await undefined;
        else await new Promise((r) => setImmediate(r));
      }
    }
    while (socket.writes < sent + BATCH) await new Promise((r) => setImmediate(r));
  }
  socket.destroy();
  return socket.bytesWritten;
}

const n = Number(process.argv[2] ?? 2e5);
await run(Math.min(n, 50_000)); // warm up
const results: number[] = [];
for (let i = 0; i < 9; i++) {
  // CPU time, not wall time: time the machine gave to other processes does not count.
  const start = process.cpuUsage();
  await run(n);
  const used = process.cpuUsage(start);
  results.push(((used.user + used.system) * 1000) / n);
}
results.sort((a, b) => a - b);
// The minimum is the run least disturbed by anything else on the machine.
console.log(
  `Session (${which}), hello-world GET, one per data event: ${results[0]?.toFixed(0)} ns of CPU per request (min of 9; median ${results[4]?.toFixed(0)})`,
);
