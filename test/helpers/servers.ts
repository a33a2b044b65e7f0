/**
 * Test helpers for running the production server: in this process (with an error log in a
 * temp file the test can read) or as a child process (whose memory and file descriptors
 * the test can watch through /proc).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type FetchApplication,
  type RunningServer,
  type ServeOptions,
  serve,
} from "../../src/server.ts";
import type { WSGIApplication } from "../../src/types.ts";

/** The repository's root directory. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `test` every 10 ms until it is true or `ms` pass; returns its last result. */
export async function waitFor(test: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() >= deadline) return false;
    await sleep(10);
  }
  return true;
}

/** A temporary directory removed by `remove()`. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `wsgiref-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** An in-process server whose error log is a temp file. */
export interface TestServer {
  readonly server: RunningServer;
  readonly port: number;
  /** The error log so far. */
  errorLog(): string;
  /** Waits until the error log matches `pattern` (the log is written asynchronously). */
  logged(pattern: RegExp, ms?: number): Promise<string>;
}

/**
 * Serves `app` on a free loopback port with its error log in a temp file, runs `body`,
 * then closes the server and removes the file.
 */
export async function withServer(
  app: WSGIApplication | FetchApplication,
  options: ServeOptions,
  body: (t: TestServer) => Promise<void>,
): Promise<void> {
  const dir = tempDir("log");
  const logFile = join(dir.path, "error.log");
  const server = await serve(app, {
    host: "127.0.0.1",
    port: 0,
    errorLog: logFile,
    ...options,
  });
  const errorLog = () => {
    try {
      return readFileSync(logFile, "latin1");
    } catch {
      return "";
    }
  };
  const t: TestServer = {
    server,
    port: (server.address as { port: number }).port,
    errorLog,
    async logged(pattern, ms = 3000) {
      await waitFor(() => pattern.test(errorLog()), ms);
      return errorLog();
    },
  };
  try {
    await body(t);
  } finally {
    await server.close();
    dir.remove();
  }
}

/** Open file descriptors of a process (this one by default), from /proc. */
export function fdCount(pid: number | "self" = "self"): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident memory of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function residentBytes(pid: number | "self" = "self"): number {
  const status = readFileSync(`/proc/${pid}/status`, "latin1");
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return kb ? Number(kb[1]) * 1024 : 0;
}

/** A server (or any program) running as a child process. */
export interface ChildServer {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The port it printed (`... port N ...`). */
  readonly port: number;
  /** Its standard output and error so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once it exited. */
  readonly exited: Promise<number | string>;
  /** Sends SIGTERM (if still running) and waits for the exit; SIGKILL after `ms`. */
  stop(ms?: number): Promise<number | string>;
}

/**
 * Runs `node --import tsx <args>` (through `sh -c` when `shellPrefix` is given, e.g.
 * `ulimit -n 8192;`) and resolves once its output shows `port N`.
 */
export async function startChild(
  args: readonly string[],
  {
    shellPrefix,
    env,
    ms = 15_000,
  }: { shellPrefix?: string; env?: NodeJS.ProcessEnv; ms?: number } = {},
): Promise<ChildServer> {
  const node = [process.execPath, "--import", "tsx", ...args];
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const child =
    shellPrefix === undefined
      ? spawn(node[0] as string, node.slice(1), { cwd: ROOT, env: { ...process.env, ...env } })
      : spawn("sh", ["-c", `${shellPrefix} exec ${node.map(quote).join(" ")}`], {
          cwd: ROOT,
          env: { ...process.env, ...env },
        });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString("latin1");
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString("latin1");
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const ok = await waitFor(() => gone || /\bport (\d+)/.test(out), ms);
  const port = Number(/\bport (\d+)/.exec(out)?.[1]);
  if (!ok || gone || !port) {
    child.kill("SIGKILL");
    throw new Error(`the child did not start listening:\n${out}`);
  }
  return {
    child,
    pid: child.pid as number,
    port,
    output: () => out,
    exited,
    async stop(ms = 10_000) {
      if (!gone) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
