/**
 * Starting another runtime from a Node test: Bun, Deno and workerd come from the npm
 * registry as devDependencies (`npm ci` installs them into node_modules/.bin). A test
 * whose runtime is missing is skipped with one line that says how to get it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { build } from "esbuild";

/** The repository root. */
export const ROOT = new URL("../..", import.meta.url).pathname;

/** A runtime this suite can start. */
export type RuntimeName = "bun" | "deno" | "workerd";

/** Where `npm ci` puts a runtime's binary. */
export function runtimeBinary(name: RuntimeName): string {
  return join(ROOT, "node_modules", ".bin", name);
}

/** Why a runtime's tests are skipped (one line), or undefined when it is installed. */
export function missing(name: RuntimeName): string | undefined {
  if (existsSync(runtimeBinary(name))) return undefined;
  return `${name} is not installed: run \`npm ci\` (it is a devDependency, from the npm registry)`;
}

/** A program running in another runtime, listening on a loopback port. */
export interface RuntimeProcess {
  /** Its port. */
  port: number;
  /** Everything it printed so far. */
  output(): string;
  /** Stops it (SIGKILL after 2 s) and removes its temporary files. */
  stop(): Promise<void>;
}

/** How each runtime runs a TypeScript file that serves on a port it prints. */
const COMMANDS: Record<"bun" | "deno", (file: string) => string[]> = {
  bun: (file) => ["run", file],
  // --allow-run: `workers` forks Deno itself through node:cluster.
  deno: (file) => [
    "run",
    "--quiet",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-run",
    file,
  ],
};

function watch(child: ChildProcess): () => string {
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  return () => out;
}

function stopper(child: ChildProcess, cleanup?: () => Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    }
    await cleanup?.();
  };
}

/** Runs `file` (repository-relative) in Bun or Deno and waits for its `port N` line. */
export async function startScript(
  name: "bun" | "deno",
  file: string,
  args: string[] = [],
  ms = 20_000,
): Promise<RuntimeProcess> {
  const child = spawn(runtimeBinary(name), [...COMMANDS[name](file), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const output = watch(child);
  for (let waited = 0; waited < ms; waited += 25) {
    const match = /port (\d+)/.exec(output());
    if (match) return { port: Number(match[1]), output, stop: stopper(child) };
    if (child.exitCode !== null) break;
    await sleep(25);
  }
  child.kill("SIGKILL");
  throw new Error(`${name} ${file} did not print its port:\n${output()}`);
}

/** A free loopback port, found by listening on port 0 and closing. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Options of `startWorker`. */
export interface WorkerOptions {
  /** workerd's compatibility flags, such as `nodejs_compat` (default none). */
  flags?: string[];
  /**
   * workerd's compatibility date (default 2026-11-01, where Node compatibility is on;
   * before 2026-08-04 it is off unless `flags` hold `nodejs_compat`).
   */
  date?: string;
  /**
   * A config file (repository-relative) to use instead of the one made from `flags` and
   * `date`: its `127.0.0.1:8000` becomes the chosen port, and it embeds `worker.js`.
   */
  config?: string;
}

/**
 * Bundles `entry` (a module worker, repository-relative) with esbuild for a neutral
 * platform and serves it with workerd on a free loopback port. `node:*` imports stay
 * external: without `nodejs_compat` workerd refuses a bundle that has any.
 */
export async function startWorker(
  entry: string,
  { flags = [], date = "2026-11-01", config: template }: WorkerOptions = {},
  ms = 20_000,
): Promise<RuntimeProcess> {
  const dir = await mkdtemp(join(tmpdir(), "wsgiref-workerd-"));
  await build({
    entryPoints: [isAbsolute(entry) ? entry : join(ROOT, entry)],
    bundle: true,
    platform: "neutral",
    format: "esm",
    external: ["node:*"],
    outfile: join(dir, "worker.js"),
    logLevel: "silent",
  });
  const port = await freePort();
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "${date}",
  compatibilityFlags = [${flags.map((flag) => JSON.stringify(flag)).join(", ")}],
);
`;
  await writeFile(
    join(dir, "config.capnp"),
    template === undefined
      ? config
      : (await readFile(join(ROOT, template), "utf8")).replace(
          "127.0.0.1:8000",
          `127.0.0.1:${port}`,
        ),
  );
  const child = spawn(runtimeBinary("workerd"), ["serve", join(dir, "config.capnp")], {
    cwd: dir,
  });
  const output = watch(child);
  const cleanup = () => rm(dir, { recursive: true, force: true });
  for (let waited = 0; waited < ms; waited += 50) {
    if (await accepts(port)) return { port, output, stop: stopper(child, cleanup) };
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill("SIGKILL");
  await cleanup();
  throw new Error(`workerd did not listen on ${port}:\n${output()}`);
}
