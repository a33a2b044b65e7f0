/**
 * The `node:cluster` primary of a multi-worker server. Each worker re-runs the program
 * (the CLI or the user's script) and so calls `serve()` itself; the primary only keeps
 * `workers` of them alive:
 *
 * - a worker that dies after it listened is replaced; a replacement that fails to start
 *   (the app's file is broken on disk) is retried after 1 s, then 2, 4... up to 30 s, so
 *   the configured count comes back once the file is fixed;
 * - a worker that dies before it ever listened, at start-up, stops the whole server with
 *   its error, instead of a respawn loop;
 * - a worker whose heartbeats stop for `workerTimeout` (an app stuck in a loop) is killed
 *   with SIGKILL, logged with the request it was serving, and replaced (see heartbeat.ts);
 * - a worker that asks to be recycled (`maxRequests`, `maxWorkerMemory`) is replaced
 *   gracefully: its successor listens before it is asked to stop;
 * - SIGTERM/SIGINT ask every worker to shut down gracefully (they exit 0), then the
 *   primary resolves `closed`;
 * - SIGHUP rolls the workers: a new one is started and listening before an old one is
 *   asked to stop, one at a time, so no request is refused; then missing workers are
 *   started, so SIGHUP always restores the configured count;
 * - SIGTTIN and SIGTTOU add and remove a worker (as in gunicorn);
 * - SIGUSR1 asks every worker to reopen its log files (after logrotate).
 *
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import type { AddressInfo } from "node:net";
import { endpointsOf, INHERITED_FDS_VAR, inheritedFds } from "./bind.ts";
import { beatInterval, isListeningReport, isWorkerReport } from "./heartbeat.ts";
import { callHook, type ServerHooks } from "./hooks.ts";
import { formatLogLine, type LogLevel } from "./log.ts";
import { serveMetrics } from "./metrics.ts";
import { MetricsCollector } from "./metrics-collector.ts";
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

/** The first wait before a failed replacement is retried; it doubles up to `MAX_BACKOFF`. */
const FIRST_BACKOFF = 1000;
/** The longest wait between retries of a replacement that fails to start. */
const MAX_BACKOFF = 30_000;

/** What the primary knows about one listening worker. */
interface WorkerState {
  /** When its last heartbeat arrived (or when it started listening). */
  lastBeat: number;
  /** Why it is being stopped, once it is: `timeout`, `recycle`, or undefined. */
  cause?: "timeout" | "recycle";
}

/** "1.5 s": a duration for the log. */
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Runs the cluster primary; resolves once every worker listens. */
export async function runPrimary(
  options: ServerOptions,
  handleSignals: boolean,
  hooks?: ServerHooks,
): Promise<RunningServer> {
  const inherited = inheritedFds();
  const endpoints = endpointsOf(options, inherited);
  for (const endpoint of endpoints) {
    if (endpoint.kind === "unix") await clearStaleSocket(endpoint.path);
  }
  // Workers serve the sockets systemd passed to this process (node:cluster's primary
  // holds them and hands out the connections).
  const workerEnv: Record<string, string> = { WSGIREF_WORKER: "1" };
  if (inherited > 0) workerEnv[INHERITED_FDS_VAR] = String(inherited);
  // The primary's lines: `wsgiref: ...` in the text format (its workers' error logs carry
  // time and pid; these go to the terminal or the journal, which add their own), records
  // with time, pid and level in json.
  const log = (line: string, level: LogLevel = "info") =>
    process.stderr.write(
      options.logFormat === "json" ? formatLogLine("json", level, line) : `wsgiref: ${line}\n`,
    );
  const logError = (line: string) => log(line, "error");
  /** Why a worker is being stopped, when it is not a plain stop. */
  const endings = new Map<Worker, "timeout" | "recycle">();
  const live = new Map<Worker, WorkerState>();
  const starting = new Set<Worker>();
  const retiring = new Set<Worker>();
  /** The worker count to keep: `workers`, changed by SIGTTIN and SIGTTOU. */
  let target = options.workers;
  let stopping = false;
  let backoff = 0;
  /** Replacements waiting to be retried. */
  const retries = new Set<NodeJS.Timeout>();
  /** Where the workers listen, as the first one to listen reported it. */
  let addresses: (AddressInfo | string)[] = endpoints.map((endpoint) =>
    endpoint.kind === "unix"
      ? endpoint.path
      : endpoint.kind === "tcp"
        ? { address: endpoint.host, family: "", port: endpoint.port }
        : `fd://${endpoint.fd}`,
  );
  const collector = options.metricsBind === undefined ? null : new MetricsCollector();
  const metricsServer =
    collector && options.metricsBind !== undefined
      ? await serveMetrics(options.metricsBind, () => collector.render([...live.keys()]))
      : null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let failStart: (error: Error) => void = () => {};

  const fork = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork(workerEnv);
      starting.add(worker);
      let listening = false;
      worker.on("message", (message: unknown) => {
        if (collector?.onMessage(worker, message)) return;
        if (message === STOPPED_LISTENING_MESSAGE && worker.isConnected()) {
          worker.send(RELEASED_MESSAGE);
        } else if (isWorkerReport(message)) {
          const state = live.get(worker);
          if (state === undefined) return;
          if (message.wsgiref === "beat") state.lastBeat = Date.now();
          else if (state.cause === undefined) {
            state.cause = "recycle";
            log(`worker ${worker.process.pid} is recycled (${message.reason})`);
            void recycle(worker);
          }
        }
      });
      // The worker says where it listens once it listens on every endpoint (an inherited
      // socket's address is known only there).
      worker.on("message", (message: unknown) => {
        if (listening || !isListeningReport(message)) return;
        addresses = message.addresses;
        listening = true;
        starting.delete(worker);
        live.set(worker, { lastBeat: Date.now() });
        // A worker that was still starting when the shutdown began stops now.
        if (stopping) void retire(worker);
        resolve(worker);
      });
      worker.once("exit", (code, signal) => {
        starting.delete(worker);
        live.delete(worker);
        const planned = stopping || retiring.delete(worker);
        const how = signal ?? `code ${code}`;
        const ending = endings.get(worker);
        endings.delete(worker);
        const cause = !listening ? "start" : (ending ?? (planned ? "stop" : "crash"));
        if (collector) {
          collector.workerExited(worker);
          if (cause in collector.restarts)
            collector.restarts[cause] = (collector.restarts[cause] ?? 0) + 1;
        }
        void callHook(hooks, "workerExit", logError, {
          pid: worker.process.pid ?? 0,
          id: worker.id,
          code,
          signal,
          cause,
        });
        if (!listening) {
          const error = new WorkerStartError(
            `worker ${worker.process.pid} exited (${how}) before it listened; see its error above`,
          );
          reject(error);
          failStart(error);
          return;
        }
        if (!planned) {
          if (ending === "timeout") log(`starting a new worker for ${worker.process.pid}`);
          else log(`worker ${worker.process.pid} died (${how}); starting a new one`, "error");
          replace();
        }
        if (stopping && live.size === 0) void finish();
      });
    });

  /** Starts a worker in place of a lost one; retries with backoff while it fails to start. */
  const replace = (): void => {
    if (stopping) return;
    fork().then(
      () => {
        backoff = 0;
      },
      (error: Error) => {
        if (stopping) return;
        backoff = backoff === 0 ? FIRST_BACKOFF : Math.min(backoff * 2, MAX_BACKOFF);
        log(
          `${error.message.replace(/; see its error above$/, "")}; retrying in ${backoff / 1000} s`,
          "error",
        );
        const timer = setTimeout(() => {
          retries.delete(timer);
          replace();
        }, backoff);
        retries.add(timer);
      },
    );
  };

  /** Starts workers (with retries) until `target` are running, starting or waiting to retry. */
  const fillUp = (): void => {
    for (let n = live.size + starting.size + retries.size; n < target; n++) replace();
  };

  let finished: Promise<void> | undefined;
  const finish = (): Promise<void> => {
    finished ??= finishOnce();
    return finished;
  };
  const finishOnce = async () => {
    clearInterval(watchdog);
    for (const timer of retries) clearTimeout(timer);
    retries.clear();
    removeSignals();
    metricsServer?.close();
    await callHook(hooks, "onExit", logError);
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
      if (worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
    });

  /** Replaces a worker gracefully: its successor listens before it is asked to stop. */
  const recycle = async (worker: Worker): Promise<void> => {
    try {
      await fork();
    } catch {
      // The successor failed (broken code on disk): keep the old worker serving.
      const state = live.get(worker);
      if (state) delete state.cause;
      endings.delete(worker);
      return;
    }
    if (!live.has(worker)) return;
    retiring.add(worker);
    live.delete(worker);
    await retire(worker);
  };

  /** Kills the workers whose heartbeats stopped for `workerTimeout`. */
  const checkHeartbeats = (): void => {
    const now = Date.now();
    for (const [worker, state] of live) {
      if (state.cause === "timeout" || now - state.lastBeat <= options.workerTimeout) continue;
      state.cause = "timeout";
      endings.set(worker, "timeout");
      // The worker's own watcher thread logged the request it is stuck in (heartbeat.ts).
      log(
        `worker ${worker.process.pid} timed out: no heartbeat for ${seconds(now - state.lastBeat)}; killing it (SIGKILL)`,
        "critical",
      );
      worker.process.kill("SIGKILL");
    }
  };
  const watchdog =
    options.workerTimeout > 0
      ? setInterval(checkHeartbeats, beatInterval(options.workerTimeout))
      : undefined;
  watchdog?.unref();

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
      await Promise.all([...[...live.keys()].map(retire), ...[...starting].map(exited)]);
      await finish();
    })();
    return closing;
  };

  const roll = async () => {
    // A SIGHUP retries at once what was waiting for its backoff.
    for (const timer of retries) clearTimeout(timer);
    retries.clear();
    backoff = 0;
    const old = [...live.keys()];
    const missing = Math.max(0, target - old.length - starting.size);
    log(
      `SIGHUP: restarting ${old.length} workers one at a time${missing > 0 ? `, then starting ${missing} missing` : ""}`,
    );
    for (const worker of old) {
      if (stopping) return;
      if (!live.has(worker)) continue;
      await fork();
      retiring.add(worker);
      live.delete(worker);
      await retire(worker);
    }
    while (!stopping && live.size + starting.size < target) await fork();
    const pids = [...live.keys()].map((w) => w.process.pid).join(", ");
    log(`rolling restart done; workers ${pids}`);
  };

  const onStop = () => void close();
  // A message, not the signal: a worker not yet listening would take SIGUSR1 as Node's
  // "start the inspector" (it opens its log files fresh anyway).
  const reopenLogs = () => {
    for (const worker of live.keys()) worker.send(REOPEN_LOGS_MESSAGE);
  };
  let rolling = false;
  const onHup = () => {
    // A SIGHUP during a roll is ignored: the roll already loads the newest code.
    if (rolling || stopping) return;
    rolling = true;
    callHook(hooks, "onReload", logError)
      .then(roll)
      .catch((error: Error) => {
        log(`rolling restart failed: ${error.message}`, "error");
        fillUp();
      })
      .finally(() => {
        rolling = false;
      });
  };
  const onTtin = () => {
    if (stopping) return;
    target++;
    log(`SIGTTIN: ${target} workers`);
    fillUp();
  };
  const onTtou = () => {
    if (stopping || target <= 1) return;
    target--;
    log(`SIGTTOU: ${target} workers`);
    const oldest = live.keys().next().value;
    if (oldest === undefined || live.size <= target) return;
    retiring.add(oldest);
    live.delete(oldest);
    void retire(oldest);
  };
  const removeSignals = addProcessListeners(
    handleSignals
      ? [
          ["SIGTERM", onStop],
          ["SIGINT", onStop],
          ["SIGHUP", onHup],
          ["SIGTTIN", onTtin],
          ["SIGTTOU", onTtou],
          ["SIGUSR1", reopenLogs],
        ]
      : [],
  );

  const first = Array.from({ length: options.workers }, () => fork());
  const startFailure = new Promise<never>((_resolve, reject) => {
    failStart = reject;
  });
  try {
    await Promise.race([Promise.all(first), startFailure]);
  } catch (error) {
    stopping = true;
    clearInterval(watchdog);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    removeSignals();
    metricsServer?.close();
    throw error;
  }
  failStart = () => {};
  await callHook(hooks, "whenReady", logError, {
    address: addresses[0] as AddressInfo | string,
    pid: process.pid,
    workers: target,
  });

  return {
    get address() {
      return addresses[0] as AddressInfo | string;
    },
    get addresses() {
      return addresses;
    },
    closed,
    options,
    close,
    reopenLogs,
    [Symbol.asyncDispose]: close,
  };
}
