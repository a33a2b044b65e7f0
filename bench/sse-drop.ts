/**
 * Issue 13's disconnect target, at scale (not a test): 1,000 Server-Sent Events streams on
 * our server's Fetch fast path, each idle after its first event, dropped by their clients
 * all at once. Every `request.signal` must abort and every stream be cancelled, and the
 * server's RSS must come back to within 10% of where it was before they opened.
 *
 * Run: node --import tsx bench/sse-drop.ts [connections] [warm-up rounds] (default 1000
 * and 3); the server runs compiled (`tsc -p bench/tsconfig.servers.json`, as `npm run
 * bench` does), pinned. Each round opens the streams, drops them, and waits 2 s; the RSS
 * grows over the first rounds as the heap reaches its working size, then stays flat (no
 * leak), so the measured round comes after the warm-up ones.
 */
import { spawnSync } from "node:child_process";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rss, sleep, startServer } from "./harness.ts";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const MiB = 1024 * 1024;
const count = Number(process.argv[2] ?? 1000);
/** Rounds before the measured one: the heap grows to its working size over the first few. */
const warmups = Number(process.argv[3] ?? 3);

const tsc = spawnSync(
  process.execPath,
  [
    join(ROOT, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    join(BENCH, "tsconfig.servers.json"),
  ],
  { stdio: "inherit" },
);
if (tsc.status !== 0) process.exit(1);

const server = await startServer(
  ["node", join(BENCH, "out", "build", "bench", "servers", "sse.js"), "{port}", "120000"],
  { cwd: ROOT, log: "/dev/null" },
);

async function stats(): Promise<{ open: number; aborted: number; cancelled: number }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/stats`);
  return (await response.json()) as { open: number; aborted: number; cancelled: number };
}

/** Opens one event stream and resolves once its first event arrived. */
function openStream(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1");
    let received = "";
    socket.on("error", reject);
    socket.on("data", (data: Buffer) => {
      received += data.toString("latin1");
      if (received.includes("data: hello")) resolve(socket);
    });
    socket.write("GET /events HTTP/1.1\r\nHost: bench\r\n\r\n");
  });
}

/** Opens and drops the streams once; returns the RSS before, with them open, and after. */
async function round(): Promise<{ before: number; open: number; after: number; ms: number }> {
  await sleep(500);
  const before = rss(server.pid);
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 100) {
    sockets.push(
      ...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, openStream))),
    );
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
  if (now.aborted - start < count || now.cancelled < now.aborted) {
    throw new Error(
      `only ${now.aborted - start} of ${count} signals aborted (${JSON.stringify(now)})`,
    );
  }
  await sleep(2000);
  return { before, open, after: rss(server.pid), ms };
}

try {
  for (let i = 0; i < warmups; i++) {
    const r = await round();
    console.log(
      `warm-up round: ${JSON.stringify({ ...r, before: r.before / MiB, open: r.open / MiB, after: r.after / MiB })}`,
    );
  }
  const { before, open, after, ms } = await round();
  const ratio = after / before;
  console.log(
    `${count} SSE streams dropped at once: every request.signal aborted and every stream was cancelled within ${ms} ms; RSS ${(before / MiB).toFixed(1)} MiB before, ${(open / MiB).toFixed(1)} MiB open, ${(after / MiB).toFixed(1)} MiB 2 s after (${((ratio - 1) * 100).toFixed(1)}%: ${ratio <= 1.1 ? "PASS" : "MISS"}, target within 10%)`,
  );
} finally {
  await server.stop();
}
