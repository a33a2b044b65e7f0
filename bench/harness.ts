/**
 * The benchmark's plumbing: pinned child processes, free ports, waiting for a server, the
 * load generators (wrk for request rates, bench/transfer-client.py for transfers), and RSS
 * and CPU sampling.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Compiles the Node servers with `tsc -p bench/tsconfig.servers.json` into bench/out/build
 * (plain JavaScript, as deployed); false if tsc failed (it printed why).
 */
export function compileServers(): boolean {
  const bench = dirname(fileURLToPath(import.meta.url));
  const tsc = spawnSync(
    process.execPath,
    [
      join(dirname(bench), "node_modules", "typescript", "bin", "tsc"),
      "-p",
      join(bench, "tsconfig.servers.json"),
    ],
    { stdio: "inherit" },
  );
  return tsc.status === 0;
}

/** The core the load generator (and the harness) runs on. */
export const CLIENT_CPU = 0;
/** The core the server under test runs on. */
export const SERVER_CPU = 1;
/** The open-files limit children get (5,000 idle connections need more than 1,024). */
const NOFILE = 20000;

/** True when `command` is on the PATH. */
export function have(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** True when the machine has two cores and taskset, so client and server get one each. */
export const PINNING = cpus().length >= 2 && have("taskset");

/** The first line a command prints (for versions), or undefined if it fails. */
export function firstLine(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0 && !result.stdout && !result.stderr) return undefined;
  const text = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  return text.split("\n")[0] || undefined;
}

/** Moves every thread of this process to the client core. */
export function pinSelf(): void {
  if (PINNING) spawnSync("taskset", ["-a", "-p", "-c", String(CLIENT_CPU), String(process.pid)]);
}

/**
 * `command` run on `cpu` with a raised open-files limit. `exec` keeps the process id,
 * so the child's pid is the program's own (for /proc/<pid>/status).
 */
export function pinned(cpu: number, command: string[]): [string, string[]] {
  const program = PINNING ? ["taskset", "-c", String(cpu), ...command] : command;
  return ["sh", ["-c", `ulimit -n ${NOFILE} 2>/dev/null; exec "$@"`, "sh", ...program]];
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One GET with a fresh connection: the status code, or 0 if it failed. */
function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/", agent: false, timeout: 1000 },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(0));
      },
    );
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server under test, running. */
export interface Running {
  readonly port: number;
  readonly child: ChildProcess;
  /** The server process's pid (for RSS). */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `command` (which gets the port through `{port}` in its arguments) on the server
 * core, logging to `log`, and resolves once `GET /` answers 200.
 */
export async function startServer(
  command: string[],
  options: { cwd: string; log: string; timeoutMs?: number },
): Promise<Running> {
  const port = await freePort();
  const [program, args] = pinned(
    SERVER_CPU,
    command.map((arg) => arg.replaceAll("{port}", String(port))),
  );
  const log = createWriteStream(options.log);
  const child = spawn(program, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exit;
      clearTimeout(timer);
    }
    log.end();
  };
  const deadline = Date.now() + (options.timeoutMs ?? 20000);
  while (Date.now() < deadline && !exited) {
    if ((await probe(port)) === 200) {
      return { port, child, pid: child.pid ?? 0, stop };
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`${command.join(" ")} did not answer on port ${port} (see ${options.log})`);
}

/** Runs a command to its end and returns its stdout (throws on failure). */
export function run(command: string, args: string[], timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const [program, argv] = pinned(CLIENT_CPU, [command, ...args]);
    const child = spawn(program, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${err.trim()}`));
    });
  });
}

/** What wrk measured. */
export interface WrkResult {
  rps: number;
  requests: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Socket errors (connect + read + write + timeout) and non-2xx/3xx answers. */
  errors: number;
  raw: string;
}

function millis(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : unit === "m" ? n * 60000 : n;
}

/** Parses wrk's `--latency` output. */
export function parseWrk(raw: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? Number.NaN);
  const requests = Number(/(\d+) requests in/.exec(raw)?.[1] ?? 0);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(raw);
    return m ? millis(m[1] as string, m[2] as string) : Number.NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(raw)?.[1] ?? 0);
  const errors = sock ? sock.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) + non2xx : non2xx;
  return { rps, requests, p50: pct("50"), p99: pct("99"), errors, raw };
}

/** Runs wrk (one thread) for `seconds` at `connections` against `url`. */
export async function wrk(
  url: string,
  connections: number,
  seconds: number,
  headers: readonly string[] = [],
): Promise<WrkResult> {
  const raw = await run("wrk", [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--timeout",
    "5s",
    "--latency",
    ...headers.flatMap((header) => ["-H", header]),
    url,
  ]);
  return parseWrk(raw);
}

/** The transfer client (bench/transfer-client.py): why it is not curl is in its docstring. */
const TRANSFER_CLIENT = join(dirname(fileURLToPath(import.meta.url)), "transfer-client.py");

/** Transfers timed by the transfer client. */
export interface Transfer {
  /** Megabytes (10^6 bytes) per second. */
  mbps: number;
  seconds: number;
  /** Body bytes moved, over all the repetitions. */
  bytes: number;
}

/**
 * Runs the transfer client on the client core: `repeat` transfers of `bytes` each, one
 * after the other, each on a fresh connection, timed together. The client checks every
 * status and byte count and exits 1 on a failure (`run` then throws).
 */
async function transfer(
  kind: "download" | "upload",
  origin: string,
  bytes: number,
  repeat: number,
): Promise<Transfer> {
  const { hostname, port } = new URL(origin);
  const out = await run("python3", [
    TRANSFER_CLIENT,
    kind,
    hostname,
    port,
    String(bytes),
    String(repeat),
  ]);
  const result = JSON.parse(out) as { bytes: number; seconds: number };
  if (result.bytes !== bytes * repeat) {
    throw new Error(`${kind} at ${origin}: ${result.bytes} of ${bytes * repeat} bytes`);
  }
  return {
    mbps: result.bytes / result.seconds / 1e6,
    seconds: result.seconds,
    bytes: result.bytes,
  };
}

/** `repeat` downloads of `bytes` (`GET /download?bytes=N`) from the server at `origin`. */
export function download(origin: string, bytes: number, repeat = 1): Promise<Transfer> {
  return transfer("download", origin, bytes, repeat);
}

/** `repeat` uploads of `bytes` (`POST /upload`, Content-Length) to the server at `origin`. */
export function upload(origin: string, bytes: number, repeat = 1): Promise<Transfer> {
  return transfer("upload", origin, bytes, repeat);
}

/** The resident set size of `pid` in bytes (VmRSS), or 0 once it is gone. */
export function rss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Clock ticks per second of /proc/<pid>/stat times. */
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;

/** [ppid, utime + stime in ticks] of one process, or undefined once it is gone. */
function stat(pid: string): [number, number] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return [Number(fields[1]), Number(fields[11]) + Number(fields[12])];
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds one process used: the sum over its threads of /proc/.../schedstat (in
 * nanoseconds), or, without schedstat, utime + stime (in 10 ms ticks: too coarse for runs
 * shorter than a second).
 */
function processSeconds(pid: string): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    if (ns > 0) return ns / 1e9;
  } catch {
    // gone, or no schedstat
  }
  return (stat(pid)?.[1] ?? 0) / CLK_TCK;
}

/**
 * CPU seconds (user + system) used so far by `pid` and its direct children (gunicorn's
 * workers are children of its master).
 */
export function cpuSeconds(pid: number): number {
  let seconds = processSeconds(String(pid));
  for (const entry of readdirSync("/proc")) {
    if (entry.charCodeAt(0) > 57 || entry === String(pid)) continue;
    if (stat(entry)?.[0] === pid) seconds += processSeconds(entry);
  }
  return seconds;
}

/** Samples the RSS of `pid` every `ms`; `stop()` returns the peak in bytes. */
export function sampleRss(pid: number, ms = 100): { stop(): number } {
  let peak = rss(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rss(pid));
  }, ms);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rss(pid));
    },
  };
}

export { sleep };
