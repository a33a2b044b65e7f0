/**
 * `npm run soak`: a bounded mixed load against the production server in a child process,
 * then a check that it gave everything back.
 *
 *   SOAK_SECONDS=60 npm run soak      # how long the load runs (default 60)
 *   SOAK_CLIENTS=8 npm run soak       # concurrent client loops (default 8)
 *
 * Load: keep-alive GETs, uploads (checked by length and SHA-256), downloads (checked the
 * same way), and injected faults: clients that vanish mid-upload, mid-download and
 * mid-head. Then slow peers: `SOAK_SLOW` clients (default 200) that request a large
 * download and never read, and as many that trickle an upload at 1 byte a second, all at
 * once. Passes when
 *
 * - no request failed but the injected ones, and the error log holds nothing but the
 *   incomplete heads those faults cause and the slow peers' ERR_SEND_TIMEOUT and
 *   ERR_BODY_TOO_SLOW;
 * - every slow peer was cut by the server (`--send-timeout`, `--min-body-rate`);
 * - the server's resident memory at the end is at most 10% above its value at the start of
 *   the measured run (after warm-up: the first fifth of the run, at least 3 s);
 * - its file descriptors are back to the count before the load.
 *
 * Prints the figures; exits 1 on failure. Not part of `npm test`.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Agent, request } from "undici";
import { pattern } from "../fixtures/reliability-app.ts";
import { fdCount, residentBytes, sleep, startChild, tempDir, waitFor } from "../helpers/servers.ts";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 8);
const SLOW = Number(process.env.SOAK_SLOW ?? 200);
const SEND_TIMEOUT_MS = 3000;
const WARMUP_MS = Math.max(3000, (SECONDS * 1000) / 5);
const KEEP_ALIVE_MS = 1000;
const MiB = 1024 * 1024;

const dir = tempDir("soak");
const errorLog = join(dir.path, "error.log");
const server = await startChild([
  "src/cli/main.ts",
  "serve",
  "test/fixtures/reliability-app.ts",
  "--port",
  "0",
  "--keep-alive",
  `${KEEP_ALIVE_MS}ms`,
  "--header-timeout",
  "2s",
  "--send-timeout",
  `${SEND_TIMEOUT_MS}ms`,
  "--error-log",
  errorLog,
]);
const origin = `http://127.0.0.1:${server.port}`;
const agent = new Agent({ connections: CLIENTS, keepAliveTimeout: KEEP_ALIVE_MS / 2 });
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** Counts per scenario: done, failed (with the first few failures kept). */
const counts: Record<string, { ok: number; failed: number }> = {};
const failures: string[] = [];
function record(name: string, ok: boolean, why?: string): void {
  counts[name] ??= { ok: 0, failed: 0 };
  if (ok) counts[name].ok++;
  else {
    counts[name].failed++;
    if (failures.length < 10) failures.push(`${name}: ${why}`);
  }
}

const downloadHashes = new Map<number, string>();
function expectedDownload(bytes: number): string {
  let hash = downloadHashes.get(bytes);
  if (hash === undefined) {
    hash = sha256(pattern(bytes));
    downloadHashes.set(bytes, hash);
  }
  return hash;
}

const uploads = [64 * 1024, 512 * 1024, 2 * MiB].map((n) => {
  const body = pattern(n, 7);
  return { body, expected: `${n} ${sha256(body)}` };
});

/** One request of each kind; each resolves without throwing and records its outcome. */
const scenarios: Record<string, () => Promise<void>> = {
  async get() {
    const res = await request(`${origin}/`, { dispatcher: agent });
    const text = await res.body.text();
    record(
      "keep-alive GET",
      res.statusCode === 200 && /^ok \d+$/.test(text),
      `${res.statusCode} ${text}`,
    );
  },
  async upload() {
    const { body, expected } = uploads[
      Math.floor(Math.random() * uploads.length)
    ] as (typeof uploads)[0];
    const res = await request(`${origin}/upload`, { method: "POST", body, dispatcher: agent });
    const text = await res.body.text();
    record("upload", res.statusCode === 200 && text === expected, `${res.statusCode} ${text}`);
  },
  async download() {
    const bytes = [100 * 1024, MiB, 4 * MiB][Math.floor(Math.random() * 3)] as number;
    const res = await request(`${origin}/download?bytes=${bytes}`, { dispatcher: agent });
    const hash = createHash("sha256");
    let length = 0;
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    const ok =
      res.statusCode === 200 && length === bytes && hash.digest("hex") === expectedDownload(bytes);
    record("download", ok, `${res.statusCode} ${length}/${bytes}`);
  },
  // Injected faults: the client vanishes. Only the server's behaviour afterwards counts.
  async vanishMidUpload() {
    await rawClient(
      `POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: ${4 * MiB}\r\n\r\n${"x".repeat(64 * 1024)}`,
      (received) => received.length >= 0,
      20,
    );
    record("injected: vanish mid-upload", true);
  },
  async vanishMidDownload() {
    await rawClient(
      `GET /download?bytes=${16 * MiB} HTTP/1.1\r\nHost: soak\r\n\r\n`,
      (received) => received.length > 256 * 1024,
      2000,
    );
    record("injected: vanish mid-download", true);
  },
  async vanishMidHead() {
    await rawClient("GET /slowloris HTTP/1.1\r\nHo", () => false, 20);
    record("injected: vanish mid-head", true);
  },
};

/** Sends `data`, waits until `enough(received)` or `ms`, then destroys the socket. */
function rawClient(data: string, enough: (received: Buffer) => boolean, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(server.port, "127.0.0.1");
    let received = Buffer.alloc(0);
    const end = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(end, ms);
    socket.on("data", (d: Buffer) => {
      received = Buffer.concat([received, d]).subarray(-512 * 1024);
      if (enough(received)) end();
    });
    socket.on("error", end);
    socket.write(data, "latin1");
  });
}

/** The mix: mostly real traffic, one request in ten an injected fault. */
const MIX: Array<[keyof typeof scenarios, number]> = [
  ["get", 60],
  ["upload", 15],
  ["download", 15],
  ["vanishMidUpload", 4],
  ["vanishMidDownload", 3],
  ["vanishMidHead", 3],
];
function pick(): keyof typeof scenarios {
  let r = Math.random() * 100;
  for (const [name, weight] of MIX) {
    r -= weight;
    if (r < 0) return name;
  }
  return "get";
}

async function clientLoop(until: number): Promise<void> {
  while (Date.now() < until) {
    const name = pick();
    try {
      await (scenarios[name] as () => Promise<void>)();
    } catch (error) {
      record(name, false, String(error));
    }
  }
}

/**
 * Slow peers, all at once: half request a large download and never read, half trickle an
 * upload at a byte a second. Resolves when the server has cut them all (or after 30 s)
 * with how many it cut and the peak of its descriptors and memory meanwhile.
 */
async function slowPeers(
  count: number,
): Promise<{ cut: number; peakFds: number; peakRss: number }> {
  let cut = 0;
  let peakFds = 0;
  let peakRss = 0;
  const sample = () => {
    peakFds = Math.max(peakFds, fdCount(server.pid));
    peakRss = Math.max(peakRss, residentBytes(server.pid));
  };
  const sampler = setInterval(sample, 250);
  const peers = Array.from({ length: count }, (_, i) => {
    const stalled = i % 2 === 0;
    return new Promise<void>((resolve) => {
      const socket = connect(server.port, "127.0.0.1");
      let trickle: NodeJS.Timeout | undefined;
      let gaveUp = false;
      const giveUp = setTimeout(() => {
        gaveUp = true;
        socket.destroy();
      }, 30_000);
      // The server ends the connection (408, or a reset for a reader that took nothing).
      socket.on("error", () => socket.destroy());
      socket.on("end", () => socket.destroy());
      socket.on("close", () => {
        if (!gaveUp) cut++;
        clearInterval(trickle);
        clearTimeout(giveUp);
        resolve();
      });
      if (stalled) {
        socket.pause();
        socket.write(`GET /download?bytes=${64 * MiB} HTTP/1.1\r\nHost: soak\r\n\r\n`);
        // Reads nothing until the server gave up, then sees its close.
        setTimeout(() => socket.resume(), SEND_TIMEOUT_MS + 2000);
      } else {
        socket.write(`POST /upload HTTP/1.1\r\nHost: soak\r\nContent-Length: ${MiB}\r\n\r\n`);
        trickle = setInterval(() => socket.write("x"), 1000);
      }
    });
  });
  await Promise.all(peers);
  clearInterval(sampler);
  sample();
  return { cut, peakFds, peakRss };
}

const mb = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
let failed = false;
try {
  await sleep(500);
  const fdsBefore = fdCount(server.pid);
  const rssStart = residentBytes(server.pid);
  const started = Date.now();
  const until = started + SECONDS * 1000;
  let rssWarm = 0;
  const warm = (async () => {
    await sleep(Math.min(WARMUP_MS, SECONDS * 1000));
    rssWarm = residentBytes(server.pid);
  })();
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(residentBytes(server.pid)), 1000);
  await Promise.all([warm, ...Array.from({ length: CLIENTS }, () => clientLoop(until))]);
  clearInterval(sampler);
  await agent.close();
  const slow = await slowPeers(SLOW);

  // Idle: keep-alive connections time out, lingering ones are cut, memory settles.
  const released = await waitFor(() => fdCount(server.pid) <= fdsBefore, KEEP_ALIVE_MS + 8000);
  await sleep(1000);
  const rssEnd = residentBytes(server.pid);
  const fdsAfter = fdCount(server.pid);

  const log = readFileSync(errorLog, "latin1");
  const unexpected = log
    .split("\n")
    .filter(
      (line) =>
        line !== "" &&
        !/ERR_INCOMPLETE_MESSAGE 400 from |more rejected requests not logged|ERR_SEND_TIMEOUT|ERR_BODY_TOO_SLOW/.test(
          line,
        ),
    );

  const total = Object.values(counts).reduce((n, c) => n + c.ok + c.failed, 0);
  const errors = Object.values(counts).reduce((n, c) => n + c.failed, 0);
  const growth = rssWarm > 0 ? (rssEnd - rssWarm) / rssWarm : 0;
  const out = process.stdout;
  out.write(
    `soak: ${SECONDS} s, ${CLIENTS} clients, ${total} requests (${Math.round(total / SECONDS)}/s)\n`,
  );
  for (const [name, c] of Object.entries(counts)) {
    out.write(
      `  ${name.padEnd(30)} ${String(c.ok).padStart(7)} ok ${String(c.failed).padStart(5)} failed\n`,
    );
  }
  out.write(
    `  resident memory: ${mb(rssStart)} at start, ${mb(rssWarm)} after warm-up, peak ${mb(Math.max(...samples, 0))}, ${mb(rssEnd)} at the end (${(growth * 100).toFixed(1)}%)\n`,
  );
  out.write(
    `  slow peers: ${SLOW} (half stalled readers, half trickled uploads), ${slow.cut} cut by the server; peak ${slow.peakFds} descriptors, ${mb(slow.peakRss)}\n`,
  );
  out.write(`  file descriptors: ${fdsBefore} at the start, ${fdsAfter} at the end\n`);
  out.write(
    `  error log: ${log.split("\n").filter(Boolean).length} lines, ${unexpected.length} unexpected\n`,
  );

  const problems: string[] = [];
  if (errors > 0) problems.push(`${errors} requests failed: ${failures.join("; ")}`);
  if (unexpected.length > 0)
    problems.push(`unexpected error log lines: ${unexpected.slice(0, 5).join(" | ")}`);
  if (growth > 0.1)
    problems.push(`resident memory grew by ${(growth * 100).toFixed(1)}% after warm-up`);
  if (slow.cut < SLOW) problems.push(`only ${slow.cut} of ${SLOW} slow peers were cut`);
  if (!released) problems.push(`file descriptors: ${fdsBefore} before, ${fdsAfter} after`);
  if (server.child.exitCode !== null) problems.push(`the server exited (${server.child.exitCode})`);
  for (const p of problems) out.write(`FAIL: ${p}\n`);
  if (problems.length === 0) out.write("soak: passed\n");
  failed = problems.length > 0;
} finally {
  const code = await server.stop();
  if (code !== 0) {
    process.stdout.write(`FAIL: the server exited with ${code} on SIGTERM\n`);
    failed = true;
  }
  dir.remove();
}
process.exit(failed ? 1 : 0);
