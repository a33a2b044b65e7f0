/**
 * The `node:cluster` primary of a multi-worker server. Each worker re-runs the program
 * (the CLI or the user's script) and so calls `serve()` itself; the primary only keeps
 * `workers` of them alive:
 *
 * - a worker that dies after it listened is replaced;
 * - a worker that dies before it ever listened stops the whole server with its error,
 *   instead of a respawn loop;
 * - SIGTERM/SIGINT ask every worker to shut down gracefully (they exit 0), then the
 *   primary resolves `closed`;
 * - SIGHUP rolls the workers: a new one is started and listening before an old one is
 *   asked to stop, one at a time, so no request is refused;
 * - SIGUSR1 asks every worker to reopen its log files (after logrotate).
 *
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import type { AddressInfo } from "node:net";
import type { ServerOptions } from "./options.ts";
import { addProcessListeners } from "./process-listeners.ts";
import type { RunningServer } from "./server.ts";
import { clearStaleSocket } from "./unix-socket.ts";

/** The message a worker gets when it should stop gracefully. */
export const SHUTDOWN_MESSAGE = "wsgiref:shutdown";
/** The message a stopping worker sends once it stopped listening. */
export const STOPPED_LISTENING_MESSAGE = "wsgiref:stopped-listening";
/** The primary's answer: every connection handed to the worker has been sent before it. */
export const RELEASED_MESSAGE = "wsgiref:released";
/** The message a worker gets when it should reopen its log files (the primary got SIGUSR1). */
export const REOPEN_LOGS_MESSAGE = "wsgiref:reopen-logs";

/** A worker that exited before it listened: the server cannot start. */
export class WorkerStartError extends Error {
  override name = "WorkerStartError";
}

/** Runs the cluster primary; resolves once every worker listens. */
export async function runPrimary(
  options: ServerOptions,
  handleSignals: boolean,
): Promise<RunningServer> {
  if (options.path) await clearStaleSocket(options.path);
  const live = new Set<Worker>();
  const starting = new Set<Worker>();
  const retiring = new Set<Worker>();
  let stopping = false;
  let address: AddressInfo | string = options.path ?? {
    address: options.host,
    family: "",
    port: options.port,
  };
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let failStart: (error: Error) => void = () => {};

  const fork = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ WSGIREF_WORKER: "1" });
      starting.add(worker);
      let listening = false;
      worker.on("message", (message: unknown) => {
        if (message === STOPPED_LISTENING_MESSAGE && worker.isConnected()) {
          worker.send(RELEASED_MESSAGE);
        }
      });
      worker.once("listening", (where: AddressInfo) => {
        listening = true;
        address = options.path ?? {
          address: where.address ?? options.host,
          family: "",
          port: where.port,
        };
        starting.delete(worker);
        live.add(worker);
        // A worker that was still starting when the shutdown began stops now.
        if (stopping) void retire(worker);
        resolve(worker);
      });
      worker.once("exit", (code, signal) => {
        starting.delete(worker);
        live.delete(worker);
        const planned = stopping || retiring.delete(worker);
        if (!listening) {
          const error = new WorkerStartError(
            `worker ${worker.process.pid} exited (${signal ?? `code ${code}`}) before it listened; see its error above`,
          );
          reject(error);
          failStart(error);
          return;
        }
        if (!planned) {
          process.stderr.write(
            `wsgiref: worker ${worker.process.pid} died (${signal ?? `code ${code}`}); starting a new one\n`,
          );
          fork().catch(() => {});
        }
        if (stopping && live.size === 0) finish();
      });
    });

  const finish = () => {
    removeSignals();
    resolveClosed();
  };

  /** Asks a worker to stop gracefully; kills it if it takes longer than the grace period. */
  const retire = (worker: Worker): Promise<void> =>
    new Promise((resolve) => {
      if (worker.isDead()) return resolve();
      const kill = setTimeout(() => worker.process.kill("SIGKILL"), options.gracefulTimeout + 5000);
      worker.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      worker.send(SHUTDOWN_MESSAGE);
    });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stopping = true;
      // Workers still starting are retired once they listen (or fail to start).
      const exited = (worker: Worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) resolve();
          else worker.once("exit", () => resolve());
        });
      await Promise.all([...[...live].map(retire), ...[...starting].map(exited)]);
      finish();
    })();
    return closing;
  };

  const roll = async () => {
    const old = [...live];
    process.stderr.write(`wsgiref: SIGHUP: restarting ${old.length} workers one at a time\n`);
    for (const worker of old) {
      if (stopping) return;
      await fork();
      retiring.add(worker);
      live.delete(worker);
      await retire(worker);
    }
    const pids = [...live].map((w) => w.process.pid).join(", ");
    process.stderr.write(`wsgiref: rolling restart done; workers ${pids}\n`);
  };

  const onStop = () => void close();
  // A message, not the signal: a worker not yet listening would take SIGUSR1 as Node's
  // "start the inspector" (it opens its log files fresh anyway).
  const reopenLogs = () => {
    for (const worker of live) worker.send(REOPEN_LOGS_MESSAGE);
  };
  let rolling = false;
  const onHup = () => {
    // A SIGHUP during a roll is ignored: the roll already loads the newest code.
    if (rolling) return;
    rolling = true;
    roll()
      .catch((error: Error) => {
        process.stderr.write(`wsgiref: rolling restart failed: ${error.message}\n`);
      })
      .finally(() => {
        rolling = false;
      });
  };
  const removeSignals = addProcessListeners(
    handleSignals
      ? [
          ["SIGTERM", onStop],
          ["SIGINT", onStop],
          ["SIGHUP", onHup],
          ["SIGUSR1", reopenLogs],
        ]
      : [],
  );

  const started = Array.from({ length: options.workers }, () => fork());
  const startFailure = new Promise<never>((_resolve, reject) => {
    failStart = reject;
  });
  try {
    await Promise.race([Promise.all(started), startFailure]);
  } catch (error) {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    removeSignals();
    throw error;
  }
  failStart = (error) => process.stderr.write(`wsgiref: ${error.message}\n`);

  return {
    get address() {
      return address;
    },
    closed,
    options,
    close,
    reopenLogs,
    [Symbol.asyncDispose]: close,
  };
}
