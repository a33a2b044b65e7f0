/**
 * Test helpers for running `wsgiref` as a child process (as a user or a process manager
 * would) and talking to it over fresh connections.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { fileURLToPath } from "node:url";

/** The CLI's entry point, run through tsx. */
export const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
/** tsx's loader as an absolute URL, so the CLI can run with any working directory. */
export const TSX = import.meta.resolve("tsx");
/** The fixture apps of the operations tests. */
export const FIXTURES = fileURLToPath(new URL("../fixtures/ops/", import.meta.url));

const running = new Set<CliProcess>();

/** Kills every CLI process a test left behind (call from `after`). */
export function killAll(): void {
  for (const p of running) p.kill("SIGKILL", p.detached);
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of `startCli`. */
export interface StartOptions {
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables (the WSGIREF_* ones of the test process are removed). */
  env?: Record<string, string>;
  /** Run in its own process group, so a signal can go to the whole group. */
  detached?: boolean;
}

/** A running `wsgiref` process whose output is collected. */
export class CliProcess {
  stdout = "";
  stderr = "";
  /** Settles when the process exited. */
  readonly exited: Promise<Exit>;
  private waiters: Array<() => void> = [];

  constructor(
    readonly child: ChildProcess,
    /** Whether it leads its own process group. */
    readonly detached = false,
  ) {
    child.stdout?.on("data", (d: Buffer) => {
      this.stdout += d.toString("utf8");
      this.wake();
    });
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString("utf8");
      this.wake();
    });
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        running.delete(this);
        this.wake();
        resolve({ code, signal });
      }),
    );
    running.add(this);
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid as number;
  }

  /** True once the process exited. */
  get done(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `test` holds (polled on output, exit, and every 50 ms); throws after `ms`. */
  async until(test: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!test()) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for `pattern` on stdout or stderr and returns the match. */
  async waitFor(
    pattern: RegExp,
    stream: "stdout" | "stderr" = "stdout",
    ms = 10_000,
  ): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await this.until(
      () => {
        match = this[stream].match(pattern);
        return match !== null || this.done;
      },
      `${pattern} on ${stream}`,
      ms,
    );
    if (match === null) {
      throw new Error(
        `exited before ${pattern} on ${stream}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`,
      );
    }
    return match;
  }

  /** Waits for the `Serving HTTP on HOST port N ...` banner and returns N. */
  async port(ms = 15_000): Promise<number> {
    const m = await this.waitFor(/^Serving HTTPS? on \S+ port (\d+) \.\.\.$/m, "stdout", ms);
    return Number(m[1]);
  }

  /** Sends a signal to the process (or, with `group`, to its whole process group). */
  kill(signal: NodeJS.Signals, group = false): void {
    if (this.done) return;
    try {
      process.kill(group ? -this.pid : this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Waits for the exit; SIGKILLs the process (group) and throws if it takes over `ms`. */
  async exit(ms = 10_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), ms);
    });
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (result === "late") {
      this.kill("SIGKILL", this.detached);
      throw new Error(
        `did not exit within ${ms} ms\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`,
      );
    }
    return result;
  }

  /** SIGTERMs the process and waits for it to exit. */
  async stop(ms = 10_000): Promise<Exit> {
    this.kill("SIGTERM");
    return this.exit(ms);
  }
}

/** Starts `node --import tsx src/cli/main.ts ...args`. */
export function startCli(args: string[], options: StartOptions = {}): CliProcess {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const key of Object.keys(process.env)) {
    if (key.startsWith("WSGIREF_") && !(options.env && key in options.env)) delete env[key];
  }
  const child = spawn(process.execPath, ["--import", TSX, CLI, ...args], {
    cwd: options.cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  return new CliProcess(child, options.detached ?? false);
}

/** A response read in full. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Where a request goes: a TCP port on 127.0.0.1, or a Unix socket path. */
export type Target = number | { socketPath: string };

/** Makes one request on a fresh connection (no agent, no keep-alive pool). */
export function get(
  target: Target,
  path = "/",
  headers: Record<string, string> = {},
  ms = 10_000,
): Promise<Reply> {
  const where = typeof target === "number" ? { host: "127.0.0.1", port: target } : { ...target };
  return new Promise((resolve, reject) => {
    const req = request({ ...where, path, headers, agent: false, timeout: ms }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no response to ${path} within ${ms} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** The worker pids that answer `n` requests (the fixture app answers its pid), each on a fresh connection. */
export async function pidsOf(port: number, n: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < n; i++) {
    const res = await get(port, "/");
    assert.equal(res.status, 200);
    pids.add(Number(res.body));
  }
  return pids;
}
