/**
 * Server hooks, gunicorn's server hooks in camelCase: functions a config file (or a
 * `serve()` caller) gives to run at points of the server's life. A hook that throws is
 * logged with its name and the server goes on, except `onStarting`, whose failure aborts
 * the start.
 *
 * @module
 */
import type { AddressInfo } from "node:net";
import type { Headers } from "../headers.ts";
import type { WSGIEnvironment } from "../types.ts";
import type { ServerOptions } from "./options.ts";

/** What `whenReady` learns about the server that now listens. */
export interface ReadyInfo {
  /** Where it listens: host and port, or the Unix socket path. */
  readonly address: AddressInfo | string;
  /** The pid of the process that runs the hook: the primary, or the single process. */
  readonly pid: number;
  /** How many worker processes serve (1: this process). */
  readonly workers: number;
}

/** What `postFork` and `workerExit` learn about a worker. */
export interface WorkerInfo {
  /** The worker's process id. */
  readonly pid: number;
  /** node:cluster's id of the worker (1, 2, ...). */
  readonly id: number;
}

/** What `workerExit` learns about a worker that exited. */
export interface WorkerExitInfo extends WorkerInfo {
  /** Its exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: string | null;
  /** Why: `stop` (shutdown, roll or SIGTTOU), `recycle`, `timeout` (the watchdog), `crash`, or `start` (it failed to start). */
  readonly cause: "stop" | "recycle" | "timeout" | "crash" | "start";
}

/**
 * The hooks. The life-cycle ones may return a promise (it is awaited); `preRequest` and
 * `postRequest` run on every request and are synchronous (a promise they return is not
 * awaited; its rejection is logged).
 */
export interface ServerHooks {
  /** Before the server starts listening, in the primary (or the single process). Throwing aborts the start. */
  onStarting?(options: ServerOptions): void | Promise<void>;
  /** Once the server listens (with workers: once every worker listens), in the primary. */
  whenReady?(info: ReadyInfo): void | Promise<void>;
  /** On SIGHUP, before the workers are rolled (or the app reloaded), in the primary. */
  onReload?(): void | Promise<void>;
  /** In a new worker process, before it listens. */
  postFork?(worker: WorkerInfo): void | Promise<void>;
  /** In the primary, once a worker exited. */
  workerExit?(worker: WorkerExitInfo): void | Promise<void>;
  /** Once the server stopped, just before `closed` settles, in the primary. */
  onExit?(): void | Promise<void>;
  /** Before the app is called for a request, in the worker. */
  preRequest?(environ: WSGIEnvironment): void;
  /** After a request's response ended, in the worker, with its status line, headers and duration. */
  postRequest?(
    environ: WSGIEnvironment,
    status: string | undefined,
    headers: Headers | undefined,
    durationMs: number,
  ): void;
}

/** The hooks' names, for checking a config file. */
export const HOOK_NAMES: readonly (keyof ServerHooks)[] = [
  "onStarting",
  "whenReady",
  "onReload",
  "postFork",
  "workerExit",
  "onExit",
  "preRequest",
  "postRequest",
];

/** `onStarting` threw: the server does not start. */
export class HookError extends Error {
  override name = "HookError";
}

/** The first line of an error's message. */
function reason(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Calls a hook if it is given; logs (with `log`) and swallows what it throws or rejects
 * with. Resolves once an async hook settled.
 */
export async function callHook<K extends keyof ServerHooks>(
  hooks: ServerHooks | undefined,
  name: K,
  log: (line: string) => void,
  ...args: Parameters<NonNullable<ServerHooks[K]>>
): Promise<void> {
  const hook = hooks?.[name] as ((...a: unknown[]) => unknown) | undefined;
  if (hook === undefined) return;
  try {
    await hook.apply(hooks, args);
  } catch (error) {
    log(`hook ${name} failed: ${reason(error)}`);
  }
}

/** Calls a per-request hook synchronously; logs what it throws (or a promise it returns rejects with). */
export function callRequestHook(
  hook: ((...args: never[]) => unknown) | undefined,
  name: "preRequest" | "postRequest",
  log: (line: string) => void,
  args: unknown[],
): void {
  if (hook === undefined) return;
  try {
    const result = (hook as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => log(`hook ${name} failed: ${reason(error)}`));
    }
  } catch (error) {
    log(`hook ${name} failed: ${reason(error)}`);
  }
}

/** Runs `onStarting`; a failure becomes a `HookError` that stops the start. */
export async function runOnStarting(
  hooks: ServerHooks | undefined,
  options: ServerOptions,
): Promise<void> {
  if (hooks?.onStarting === undefined) return;
  try {
    await hooks.onStarting(options);
  } catch (error) {
    throw new HookError(`hook onStarting failed, not starting: ${reason(error)}`);
  }
}
