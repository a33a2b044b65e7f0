/**
 * `npm run bench`: our server and its anchors side by side, in one run, on one load
 * generator, each measurement repeated with medians taken. Writes bench/RESULTS.md and
 * bench/results.svg; raw outputs go to bench/out/ (gitignored).
 *
 * Usage: node --import tsx bench/run.ts [--quick] [--only=ID,ID] [--skip=WORKLOAD,...] [--render]
 *   --quick     tiny durations and sizes, one repetition (a smoke test, under a minute)
 *   --only      servers to run, by id (ours, ours-async, ours-read1, ours-read, reference, node-http, hono,
 *               hono-ours, hono-srvx, cpython, gunicorn-sync, gunicorn-gthread); node:http
 *               always runs (the ratios need it)
 *   --skip      workloads to leave out: hello, transfer, memory, idle
 *   --render    only re-render RESULTS.md and results.svg from bench/out/results.json
 * Read bench/README.md for what each workload does and how to read the table.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  CLIENT_CPU,
  compileServers,
  cpuSeconds,
  download,
  firstLine,
  have,
  PINNING,
  pinned,
  pinSelf,
  type Running,
  rss,
  SERVER_CPU,
  sampleRss,
  sleep,
  startServer,
  type Transfer,
  upload,
  type WrkResult,
  wrk,
} from "./harness.ts";
import { type MemoryResult, type Results, render, type ServerInfo } from "./report.ts";
import { sseDrop } from "./sse-drop.ts";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const OUT = join(BENCH, "out");
const MiB = 1024 * 1024;

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const list = (name: string) =>
  argv
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3)
    .split(",")
    .filter(Boolean);

const quick = flag("quick");
const config = quick
  ? {
      warmup: 0,
      duration: 1,
      reps: 1,
      transferReps: 1,
      transferRepeat: 1,
      transfer: 8 * MiB,
      memory: 64 * MiB,
      idle: 200,
      sse: 100,
    }
  : {
      warmup: 2,
      duration: 5,
      // Five runs: the median then shrugs off two disturbed ones (the machine is shared).
      reps: 5,
      // A 100 MiB transfer takes well under a second: too short to be steady alone, so one
      // sample is transferRepeat of them in a row, and there are transferReps samples.
      transferReps: 7,
      transferRepeat: 10,
      transfer: 100 * MiB,
      memory: 1024 * MiB,
      idle: 5000,
      sse: 1000,
    };
/**
 * The hello-world workloads: keep-alive at 50 and at 1 connection, and a new connection
 * for every request (`Connection: close`), 10 at a time, where accepting and closing
 * connections is most of the work.
 */
const HELLO = [
  { key: "c50", connections: 50, headers: [], title: "50 connection(s)" },
  { key: "c1", connections: 1, headers: [], title: "1 connection(s)" },
  {
    key: "close",
    connections: 10,
    headers: ["Connection: close"],
    title: "a new connection per request, 10 at a time",
  },
] as const;
/** The keep-alive timeout for the idle-connections run (ms). */
const IDLE_KEEP_ALIVE = 120_000;

interface ServerDef extends ServerInfo {
  command(keepAliveMs: number): string[];
  /** The only workloads it runs, when not all. */
  only?: ReadonlyArray<"hello" | "transfer">;
  /** Why it cannot run here, if it cannot. */
  missing?: string | undefined;
}

/** Where bench/tsconfig.servers.json compiles the Node servers (plain JS, as deployed: no tsx). */
const BUILD = join(OUT, "build", "bench");
const compiled = (file: string) => (keepAlive: number) => [
  "node",
  join(BUILD, "servers", file),
  "{port}",
  String(keepAlive),
];
const gunicorn = (worker: string[]) => (keepAlive: number) => [
  "gunicorn",
  "-w",
  "1",
  ...worker,
  "-b",
  "127.0.0.1:{port}",
  "--keep-alive",
  String(Math.ceil(keepAlive / 1000)),
  "--chdir",
  "bench/servers",
  "--log-level",
  "warning",
  "app:app",
];
const noPython = have("python3") ? undefined : "python3 is not installed";
const noGunicorn = have("gunicorn")
  ? undefined
  : "gunicorn is not installed (apt-get install gunicorn)";

const SERVERS: ServerDef[] = [
  {
    id: "ours",
    label: "wsgiref serve (ours)",
    short: "wsgiref serve (ours)",
    command: compiled("ours.js"),
  },
  {
    id: "ours-read1",
    label: "wsgiref serve (ours), upload read with read1(65536)",
    short: "ours, read1(65536)",
    command: (keepAlive) => [...compiled("ours.js")(keepAlive), "read1"],
    only: ["transfer"],
  },
  {
    id: "ours-read",
    label: "wsgiref serve (ours), upload read with read(65536)",
    short: "ours, read(65536)",
    command: (keepAlive) => [...compiled("ours.js")(keepAlive), "read"],
    only: ["transfer"],
  },
  {
    id: "ours-async",
    label: "wsgiref serve (ours), the same app as an async function",
    short: "ours, async app",
    command: (keepAlive) => [...compiled("ours.js")(keepAlive), "async"],
    only: ["hello"],
  },
  {
    id: "reference",
    label: "wsgiref makeServer (reference, for information)",
    short: "wsgiref makeServer (reference)",
    command: compiled("reference.js"),
  },
  { id: "node-http", label: "node:http (baseline)", command: compiled("node-http.js") },
  { id: "hono", label: "Hono on @hono/node-server", short: "Hono", command: compiled("hono.js") },
  {
    id: "hono-ours",
    label: "Hono on wsgiref serve (ours, Fetch fast path)",
    short: "Hono on ours",
    command: compiled("hono-ours.js"),
  },
  {
    id: "hono-srvx",
    label: "Hono on srvx",
    short: "Hono on srvx",
    command: compiled("hono-srvx.js"),
  },
  {
    id: "cpython",
    label: "CPython wsgiref.simple_server",
    short: "CPython simple_server",
    command: () => ["python3", "bench/servers/app.py", "{port}"],
    missing: noPython,
  },
  {
    id: "gunicorn-sync",
    label: "gunicorn -w 1 -k sync",
    short: "gunicorn sync",
    command: gunicorn(["-k", "sync"]),
    missing: noGunicorn,
  },
  {
    id: "gunicorn-gthread",
    label: "gunicorn -w 1 -k gthread --threads 4",
    short: "gunicorn gthread (4 threads)",
    command: gunicorn(["-k", "gthread", "--threads", "4"]),
    missing: noGunicorn,
  },
];

/** `record[key]`, created by `make` if absent. */
function entry<T>(record: Record<string, T>, key: string, make: () => T): T {
  let value = record[key];
  if (value === undefined) {
    value = make();
    record[key] = value;
  }
  return value;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function machine(): Results["machine"] {
  const python = firstLine("python3", ["--version"]);
  const gunicornVersion = have("gunicorn") ? firstLine("gunicorn", ["--version"]) : undefined;
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memory: totalmem(),
    kernel: release(),
    node: process.version,
    python: python ?? "not installed",
    gunicorn: gunicornVersion ?? "not installed",
    wrk: firstLine("wrk", ["-v"])?.split(" [")[0] ?? "not installed",
    pinning: PINNING
      ? `load generator on CPU ${CLIENT_CPU}, server on CPU ${SERVER_CPU} (taskset)`
      : "none (needs 2 cores and taskset)",
    loadBefore: loadavg()[0] ?? 0,
    loadAfter: 0,
  };
}

async function start(server: ServerDef, keepAlive = 5000, tag = ""): Promise<Running> {
  return startServer(server.command(keepAlive), {
    cwd: ROOT,
    log: join(OUT, "logs", `${server.id}${tag}.log`),
  });
}

/** Runs `measure` for each rep, round-robin over the servers, so drift hits all alike. */
async function rounds<T>(
  name: string,
  workload: "hello" | "transfer",
  running: Map<string, Running>,
  results: Results,
  reps: number,
  measure: (server: ServerDef, r: Running, rep: number) => Promise<T>,
  store: (id: string, value: T) => void,
): Promise<void> {
  for (let rep = 0; rep < reps; rep++) {
    for (const server of SERVERS) {
      const r = running.get(server.id);
      if (!r || !runs(server, workload)) continue;
      try {
        store(server.id, await measure(server, r, rep));
      } catch (error) {
        const message = `${name}, ${server.id}: ${(error as Error).message}`;
        log(`  FAILED ${message}`);
        results.failures.push(message);
      }
    }
  }
}

/** Whether `server` takes part in `workload`. */
function runs(server: ServerDef, workload: "hello" | "transfer"): boolean {
  return server.only === undefined || server.only.includes(workload);
}

async function helloAndTransfers(results: Results, skip: Set<string>): Promise<void> {
  const running = new Map<string, Running>();
  for (const server of SERVERS) {
    if (server.missing) continue;
    try {
      running.set(server.id, await start(server));
    } catch (error) {
      const message = `${server.id} did not start: ${(error as Error).message}`;
      log(`  ${message}`);
      results.failures.push(message);
    }
  }
  const url = (r: Running, path: string) => `http://127.0.0.1:${r.port}${path}`;
  try {
    if (!skip.has("hello")) {
      for (const { key, connections: c, headers, title } of HELLO) {
        if (skip.has(key)) continue;
        log(`hello world, ${title}, ${config.reps} × ${config.duration}s`);
        if (config.warmup > 0 && key === HELLO[0].key) {
          for (const [id, r] of running) {
            if (!runs(SERVERS.find((server) => server.id === id)!, "hello")) continue;
            log(`  warm-up ${id}`);
            await wrk(url(r, "/"), c, config.warmup).catch(() => undefined);
          }
        }
        await rounds<WrkResult & { cpu: number; peakRss: number }>(
          `hello ${key}`,
          "hello",
          running,
          results,
          config.reps,
          async (server, r, rep) => {
            const cpuBefore = cpuSeconds(r.pid);
            const sampler = sampleRss(r.pid);
            const result = await wrk(url(r, "/"), c, config.duration, headers);
            const peakRss = sampler.stop();
            const cpu = cpuSeconds(r.pid) - cpuBefore;
            writeFileSync(join(OUT, "raw", `hello-${key}-${server.id}-${rep + 1}.txt`), result.raw);
            log(
              `  ${server.id.padEnd(16)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50.toFixed(3)} ms  p99 ${result.p99.toFixed(3)} ms  server CPU ${((cpu / config.duration) * 100).toFixed(0)}%${result.errors ? `  errors ${result.errors}` : ""}`,
            );
            return { ...result, cpu, peakRss };
          },
          (id, result) => {
            const runs = entry(results.hello, id, () => ({ c50: [], c1: [], close: [] }));
            const list = runs[key] ?? [];
            runs[key] = list;
            list.push({
              rps: result.rps,
              p50: result.p50,
              p99: result.p99,
              errors: result.errors,
              requests: result.requests,
              seconds: config.duration,
              cpuSeconds: result.cpu,
              peakRss: result.peakRss,
            });
          },
        );
      }
    }
    if (!skip.has("transfer")) {
      const size = config.transfer;
      const repeat = config.transferRepeat;
      for (const kind of ["download", "upload"] as const) {
        log(
          `${kind} ${size / MiB} MiB, ${config.transferReps} × (${repeat} in a row) after one warm-up`,
        );
        const transfers = (r: Running, n: number): Promise<Transfer> =>
          (kind === "download" ? download : upload)(url(r, ""), size, n);
        for (const r of running.values()) await transfers(r, 1).catch(() => undefined);
        await rounds<Transfer & { cpu: number }>(
          kind,
          "transfer",
          running,
          results,
          config.transferReps,
          async (server, r) => {
            const cpuBefore = cpuSeconds(r.pid);
            const t = await transfers(r, repeat);
            const cpu = cpuSeconds(r.pid) - cpuBefore;
            log(
              `  ${server.id.padEnd(16)} ${t.mbps.toFixed(0).padStart(6)} MB/s  server CPU ${((cpu / t.seconds) * 100).toFixed(0)}%  ${(cpu / (t.bytes / 1e9)).toFixed(2)} CPU-s/GB`,
            );
            return { ...t, cpu };
          },
          (id, t) =>
            entry(results[kind], id, () => []).push({
              mbps: t.mbps,
              bytes: t.bytes,
              seconds: t.seconds,
              cpuSeconds: t.cpu,
            }),
        );
      }
    }
  } finally {
    for (const r of running.values()) await r.stop();
  }
}

/** Peak RSS of ours and node:http over a large upload and a large download, fresh processes. */
async function memory(results: Results, server: ServerDef): Promise<void> {
  const size = config.memory;
  const mem = entry<MemoryResult>(results.memory, server.id, () => ({}));
  for (const kind of ["upload", "download"] as const) {
    log(`memory: ${server.id}, ${size / MiB} MiB ${kind}`);
    let r: Running;
    try {
      r = await start(server, 5000, `-memory-${kind}`);
    } catch (error) {
      results.failures.push(`memory ${kind}, ${server.id}: ${(error as Error).message}`);
      continue;
    }
    try {
      await sleep(200);
      mem.startRss = Math.max(mem.startRss ?? 0, rss(r.pid));
      const sampler = sampleRss(r.pid);
      const origin = `http://127.0.0.1:${r.port}`;
      const t = await (kind === "upload" ? upload : download)(origin, size, 1);
      const peak = sampler.stop();
      mem[kind] = { peak, mbps: t.mbps };
      log(`  peak RSS ${(peak / MiB).toFixed(1)} MiB at ${t.mbps.toFixed(0)} MB/s`);
    } catch (error) {
      results.failures.push(`memory ${kind}, ${server.id}: ${(error as Error).message}`);
    } finally {
      await r.stop();
    }
  }
}

/** Server RSS with `config.idle` keep-alive connections open and idle. */
async function idle(results: Results, server: ServerDef): Promise<void> {
  const count = config.idle;
  log(`idle: ${server.id}, ${count} keep-alive connections`);
  const mem = entry<MemoryResult>(results.memory, server.id, () => ({}));
  let r: Running;
  try {
    r = await start(server, IDLE_KEEP_ALIVE, "-idle");
  } catch (error) {
    results.failures.push(`idle, ${server.id}: ${(error as Error).message}`);
    return;
  }
  await sleep(200);
  const before = rss(r.pid);
  const [program, args] = pinned(CLIENT_CPU, [
    "node",
    join(BUILD, "idle-client.js"),
    String(r.port),
    String(count),
  ]);
  const client = spawn(program, args, { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  // The iterator buffers lines, so none is lost between two reads.
  const lines = createInterface({ input: client.stdout })[Symbol.asyncIterator]();
  const nextLine = async (timeoutMs: number): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("idle client timed out")), timeoutMs);
    });
    try {
      const next = await Promise.race([lines.next(), timeout]);
      if (next.done) throw new Error("idle client exited");
      return next.value;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    const ready = (await nextLine(180_000)).split(" ");
    await sleep(1000);
    const sampler = sampleRss(r.pid);
    await sleep(1000);
    const held = sampler.stop();
    client.stdin.end();
    const closed = Number((await nextLine(30_000)).split(" ")[1]);
    mem.idle = {
      count,
      open: Number(ready[1]),
      failed: Number(ready[2]),
      closedByServer: closed,
      before,
      rss: held,
    };
    log(
      `  RSS ${(held / MiB).toFixed(1)} MiB with ${ready[1]} open (${ready[2]} failed, ${closed} closed by the server); ${(before / MiB).toFixed(1)} MiB before`,
    );
  } catch (error) {
    results.failures.push(`idle, ${server.id}: ${(error as Error).message}`);
    client.kill("SIGKILL");
  } finally {
    await r.stop();
  }
}

function writeReports(results: Results, dir: string): void {
  const { markdown, svg } = render(results);
  const report = join(dir, "RESULTS.md");
  writeFileSync(report, markdown);
  writeFileSync(join(dir, "results.svg"), svg);
  // Format the tables as the linter wants them (npm run lint checks Markdown too).
  spawnSync(join(ROOT, "node_modules", ".bin", "biome"), ["format", "--write", report], {
    stdio: "ignore",
  });
  log(`wrote ${join(dir, "RESULTS.md")} and ${join(dir, "results.svg")}`);
}

async function main(): Promise<void> {
  if (flag("render")) {
    const results = JSON.parse(readFileSync(join(OUT, "results.json"), "utf8")) as Results;
    writeReports(results, results.complete ? BENCH : OUT);
    return;
  }
  const only = list("only");
  const skip = new Set(list("skip") ?? []);
  // wrk for request rates; python3 runs bench/transfer-client.py for the transfers.
  const tools = ["wrk"];
  if (!skip.has("transfer") || !skip.has("memory")) tools.push("python3");
  for (const tool of tools) {
    if (!have(tool)) {
      log(`bench: ${tool} is required (apt-get install ${tool})`);
      process.exit(1);
    }
  }
  if (only) {
    const keep = new Set([...only, "node-http"]);
    for (let i = SERVERS.length - 1; i >= 0; i--) {
      if (!keep.has((SERVERS[i] as ServerDef).id)) SERVERS.splice(i, 1);
    }
  }
  mkdirSync(join(OUT, "raw"), { recursive: true });
  log("compiling the servers (bench/tsconfig.servers.json)");
  if (!compileServers()) {
    log("bench: compiling the servers failed");
    process.exit(1);
  }
  mkdirSync(join(OUT, "logs"), { recursive: true });
  pinSelf();
  const began = Date.now();
  const results: Results = {
    date: new Date().toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}`,
    quick,
    complete: false,
    seconds: 0,
    config: { ...config, concurrency: HELLO.map((h) => h.connections) },
    machine: machine(),
    servers: SERVERS.map(({ id, label, short, missing }) => ({ id, label, short, missing })),
    hello: {},
    download: {},
    upload: {},
    memory: {},
    failures: [],
  };
  await helloAndTransfers(results, skip);
  for (const id of ["ours", "node-http"]) {
    const server = SERVERS.find((s) => s.id === id);
    if (!server) continue;
    if (!skip.has("memory")) await memory(results, server);
    if (!skip.has("idle")) await idle(results, server);
  }
  if (!skip.has("sse") && (!only || only.includes("hono-ours"))) {
    log(`sse: ${config.sse} event streams on ours (Fetch fast path), dropped at once`);
    try {
      results.sse = await sseDrop(config.sse, quick ? 1 : 3, log);
      const { ms, before, after } = results.sse;
      log(
        `  all aborted in ${ms} ms; RSS ${(before / MiB).toFixed(1)} -> ${(after / MiB).toFixed(1)} MiB`,
      );
    } catch (error) {
      results.failures.push(`sse: ${(error as Error).message}`);
    }
  }
  results.machine.loadAfter = loadavg()[0] ?? 0;
  results.seconds = Math.round((Date.now() - began) / 1000);
  results.complete = !quick && !only && skip.size === 0 && results.failures.length === 0;
  writeFileSync(join(OUT, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  // Only a complete full run replaces the committed report; others go to bench/out/.
  writeReports(results, results.complete ? BENCH : OUT);
  log(
    `done in ${results.seconds}s${results.failures.length ? `, ${results.failures.length} failure(s)` : ""}`,
  );
}

await main();
