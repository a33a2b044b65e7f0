/**
 * Issue 13's disconnect target, at scale (not a test), and a step of `npm run bench`:
 * 1,000 Server-Sent Events streams on our server's Fetch fast path, each idle after its
 * first event, dropped by their clients all at once. Every `request.signal` must abort and every stream be cancelled, and the
 * server's RSS must come back to within 10% of where it was before they opened.
 *
 * Alone: node --import tsx bench/sse-drop.ts [connections] [warm-up rounds] (default 1000
 * and 3); the server runs compiled (`tsc -p bench/tsconfig.servers.json`, as `npm run
 * bench` does), pinned. Each round opens the streams, drops them, and waits 2 s; the RSS
 * grows over the first rounds as the heap reaches its working size, then stays flat (no
 * leak), so the measured round comes after the warm-up ones.
 */
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileServers, rss, sleep, startServer } from "./harness.ts";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const MiB = 1024 * 1024;

/** What one measured round saw (bytes and milliseconds). */
export interface SseDropResult {
  /** Streams opened and dropped. */
  count: number;
  /** Signals that aborted (all of them, or the run throws). */
  aborted: number;
  /** Milliseconds from the drop until the last signal aborted. */
  ms: number;
  /** Server RSS before the streams opened, with them open, and 2 s after the drop. */
  before: number;
  open: number;
  after: number;
}

/**
 * Runs the compiled SSE server (bench/out/build), opens and drops `count` streams
 * `warmups + 1` times, and returns the last round. Throws if a signal did not abort.
 */
export async function sseDrop(
  count: number,
  warmups: number,
  log: (line: string) => void = console.log,
): Promise<SseDropResult> {
  const server = await startServer(
    ["node", join(BENCH, "out", "build", "bench", "servers", "sse.js"), "{port}", "120000"],
    { cwd: ROOT, log: "/dev/null" },
  );
  const stats = async (): Promise<{ open: number; aborted: number; cancelled: number }> => {
    const response = await fetch(`http://127.0.0.1:${server.port}/stats`);
    return (await response.json()) as { open: number; aborted: number; cancelled: number };
  };
  /** Opens one event stream and resolves once its first event arrived. */
  const openStream = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1");
      let received = "";
      socket.on("error", reject);
      socket.on("data", (data: Buffer) => {
        received += data.toString("latin1");
        if (received.includes("data: hello")) resolve(socket);
      });
      socket.write("GET /events HTTP/1.1\r\nHost: bench\r\n\r\n");
    });
  /** Opens and drops the streams once. */
  const round = async (): Promise<SseDropResult> => {
    await sleep(500);
    const before = rss(server.pid);
    const sockets: Socket[] = [];
    for (let i = 0; i < count; i += 100) {
      const batch = Array.from({ length: Math.min(100, count - i) }, openStream);
      sockets.push(...(await Promise.all(batch)));
    }
    const open = rss(server.pid);
    const start = (await stats()).aborted;
    const dropped = Date.now();
    for (const socket of sockets) socket.resetAndDestroy();
    let now = await stats();
    while (now.aborted - start < count && Date.now() - dropped < 10_000) {
      await sleep(10);
      now = await stats();
    }
    const ms = Date.now() - dropped;
    const aborted = now.aborted - start;
    if (aborted < count || now.cancelled < now.aborted) {
      throw new Error(`only ${aborted} of ${count} signals aborted (${JSON.stringify(now)})`);
    }
    await sleep(2000);
    return { count, aborted, ms, before, open, after: rss(server.pid) };
  };
  try {
    for (let i = 0; i < warmups; i++) {
      const r = await round();
      log(
        `  warm-up round: ${r.ms} ms; RSS ${(r.before / MiB).toFixed(1)} / ${(r.open / MiB).toFixed(1)} / ${(r.after / MiB).toFixed(1)} MiB`,
      );
    }
    return await round();
  } finally {
    await server.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!compileServers()) process.exit(1);
  const count = Number(process.argv[2] ?? 1000);
  const { before, open, after, ms } = await sseDrop(count, Number(process.argv[3] ?? 3));
  const ratio = after / before;
  console.log(
    `${count} SSE streams dropped at once: every request.signal aborted and every stream was cancelled within ${ms} ms; RSS ${(before / MiB).toFixed(1)} MiB before, ${(open / MiB).toFixed(1)} MiB open, ${(after / MiB).toFixed(1)} MiB 2 s after (${((ratio - 1) * 100).toFixed(1)}%: ${ratio <= 1.1 ? "PASS" : "MISS"}, target within 10%)`,
  );
}
