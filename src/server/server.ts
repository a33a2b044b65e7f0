/**
 * `serve(app, options)`: the production HTTP/1.1 server. It listens on TCP (or a Unix
 * socket, or TLS), runs a `Session` per connection, sweeps timeouts, and shuts down
 * gracefully. With `workers > 1` the calling process becomes a `node:cluster` primary
 * (see workers.ts) and each worker runs this same function.
 *
 * @module
 */
import cluster from "node:cluster";
import type { AddressInfo, Socket } from "node:net";
import type { FetchApplication } from "../bridges/fetch-application.ts";
import type { WSGIApplication } from "../types.ts";
import { endpointsOf } from "./bind.ts";
import { ServerContext } from "./context.ts";
import { installFastResponse, uninstallFastResponse } from "./fast-response.ts";
import { beatInterval, Heartbeat, type ListeningReport } from "./heartbeat.ts";
import { callHook, runOnStarting, type ServerHooks } from "./hooks.ts";
import { addressesOf, closeListeners, openListeners } from "./listeners.ts";
import { Metrics, renderPrometheus, serveMetrics } from "./metrics.ts";
import { isMetricsQuery, type MetricsReply } from "./metrics-collector.ts";
import { resolveOptions, type ServerOptions } from "./options.ts";
import { addProcessListeners } from "./process-listeners.ts";
import type { ReadBuffer } from "./read-buffer.ts";
import { Recycler } from "./recycle.ts";
import { Session } from "./session.ts";
import { sweepTimers } from "./timers.ts";
import {
  RELEASED_MESSAGE,
  REOPEN_LOGS_MESSAGE,
  runPrimary,
  SHUTDOWN_MESSAGE,
  STOPPED_LISTENING_MESSAGE,
} from "./workers.ts";

/** Options of `serve`: any of the server's options, plus whether to handle signals. */
export interface ServeOptions extends Partial<ServerOptions> {
  /** Shut down gracefully on SIGTERM/SIGINT, roll workers on SIGHUP, reopen logs on SIGUSR1. Default false. */
  handleSignals?: boolean;
  /**
   * Loads the application anew: with `handleSignals`, SIGHUP to a single-process server
   * calls it and serves new requests with the result (requests in flight finish on the
   * old one); if it throws, the error is logged and the old app kept. Without it, SIGHUP
   * is logged and ignored.
   */
  loadApp?: (() => Promise<WSGIApplication | FetchApplication>) | undefined;
  /** Server hooks (see hooks.ts); `wsgiref serve --config FILE` passes the file's. */
  hooks?: ServerHooks | undefined;
}

/** A running server. */
export interface RunningServer {
  /** Where it listens: host and port, or the Unix socket path (the first, with several). */
  readonly address: AddressInfo | string;
  /** Every address it listens on (several with `bind` or socket activation). */
  readonly addresses: readonly (AddressInfo | string)[];
  /** Settles when the server has stopped. */
  readonly closed: Promise<void>;
  /** The resolved options. */
  readonly options: ServerOptions;
  /**
   * Stops gracefully: no new connections; idle ones close now; in-flight requests finish
   * (answered with `Connection: close`) within `gracefulTimeout`, then are cut.
   */
  close(): Promise<void>;
  /**
   * Reopens the access and error log files at their paths, as SIGUSR1 does with
   * `handleSignals` (in every worker): for logrotate without `copytruncate`.
   */
  reopenLogs(): void;
  /** `await using server = await serve(app)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves a WSGI application, or a Fetch application object (anything with a `fetch`
 * method: a Hono app, `{ fetch }`), over HTTP/1.1 until `close()` (or a signal, with
 * `handleSignals`). Resolves once it listens. A function is always taken for WSGI.
 *
 * @example
 * const server = await serve(app, { port: 8000, workers: 4, handleSignals: true });
 * await serve(honoApp, { port: 8000 }); // a Fetch app, on the fast path
 */
export async function serve(
  app: WSGIApplication | FetchApplication,
  given: ServeOptions = {},
): Promise<RunningServer> {
  const { handleSignals = false, loadApp, hooks, ...rest } = given;
  const options = resolveOptions(rest);
  if (!cluster.isWorker) await runOnStarting(hooks, options);
  if (options.workers > 1 && cluster.isPrimary) return runPrimary(options, handleSignals, hooks);
  return listen(app, options, {
    handleSignals: handleSignals && !cluster.isWorker,
    multiprocess: cluster.isWorker || options.workers > 1,
    loadApp,
    hooks,
  });
}

/** How often the sweep looks for expired timers, at least. */
function sweepInterval(options: ServerOptions): number {
  const timeouts = [
    options.headerTimeout,
    options.keepAliveTimeout,
    options.bodyTimeout,
    options.responseTimeout,
    options.sendTimeout,
  ].filter((t) => t > 0);
  return Math.max(25, Math.min(1000, Math.floor(Math.min(...timeouts) / 4)));
}

async function listen(
  app: WSGIApplication | FetchApplication,
  options: ServerOptions,
  how: {
    handleSignals: boolean;
    multiprocess: boolean;
    loadApp: (() => Promise<WSGIApplication | FetchApplication>) | undefined;
    hooks: ServerHooks | undefined;
  },
): Promise<RunningServer> {
  const { handleSignals, loadApp, hooks } = how;
  const ctx = new ServerContext(app, options, how.multiprocess);
  ctx.hooks = hooks;
  const single = !cluster.isWorker;
  const hookLog = ctx.logHookError;
  if (cluster.isWorker) {
    const id = cluster.worker?.id ?? 0;
    await callHook(hooks, "postFork", hookLog, { pid: process.pid, id });
  }
  const fastResponse = ctx.fetchApp !== null && options.fastResponse;
  if (fastResponse) installFastResponse();
  const onSocket = (socket: Socket, reads: ReadBuffer | null = null) => {
    if (ctx.closing) {
      socket.destroy();
      return;
    }
    ctx.metrics?.connectionOpened(socket);
    new Session(socket, ctx, reads);
  };
  const endpoints = endpointsOf(options);
  const servers = await openListeners(endpoints, options, onSocket, (m) => ctx.logError(m));
  const addresses = addressesOf(servers);
  if (cluster.isWorker) {
    const report: ListeningReport = { wsgiref: "listening", addresses };
    process.send?.(report);
  }
  const address = addresses[0] as AddressInfo | string;
  const tcp = addresses.find((a): a is AddressInfo => typeof a !== "string");
  if (tcp !== undefined) {
    // --host as given ("localhost" stays so); a --bind or inherited socket's own address.
    const host = endpoints[0]?.kind === "tcp" && !options.bind?.length ? options.host : tcp.address;
    ctx.serverName = host === "0.0.0.0" || host === "::" || host === undefined ? "localhost" : host;
    ctx.serverPort = String(tcp.port);
  }

  if (options.metricsBind !== undefined) ctx.metrics = new Metrics();
  // A single process serves its own metrics; a worker answers its primary's questions.
  const metricsServer =
    single && ctx.metrics !== null && options.metricsBind !== undefined
      ? await serveMetrics(options.metricsBind, async () =>
          renderPrometheus((ctx.metrics as Metrics).snapshot(ctx.inFlight)),
        )
      : null;
  const sendMetrics = (id: number) => {
    if (ctx.metrics === null || !process.connected) return;
    const reply: MetricsReply = {
      wsgiref: "metrics",
      id,
      snapshot: ctx.metrics.snapshot(ctx.inFlight),
    };
    process.send?.(reply);
  };

  // Only under our own primary (workers.ts), which watches the heartbeats and recycles.
  const ourWorker = cluster.isWorker && process.env.WSGIREF_WORKER === "1";
  const heartbeat =
    ourWorker && options.workerTimeout > 0
      ? new Heartbeat(
          beatInterval(options.workerTimeout),
          options.workerTimeout,
          options.errorLog,
          options.logFormat,
        )
      : null;
  const recycler = ourWorker && Recycler.wanted(options) ? new Recycler(options) : null;
  if (!cluster.isWorker && Recycler.wanted(options)) {
    ctx.log("warning", "--max-requests and --max-worker-memory need --workers 2 or more; ignored");
  }
  if (heartbeat || recycler) {
    ctx.onRequestStarted = (request) => {
      heartbeat?.requestStarted(request);
      recycler?.requestStarted();
    };
  }
  if (heartbeat) ctx.onIdle = () => heartbeat.idle();

  const sweep = setInterval(() => sweepTimers(ctx.sessions, Date.now()), sweepInterval(options));
  sweep.unref();

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ctx.closing = true;
      const stopped = closeListeners(servers);
      const released = cluster.isWorker ? releasedByPrimary() : undefined;
      for (const session of ctx.sessions) session.shutdown();
      const grace = setTimeout(() => {
        for (const session of ctx.sessions) session.destroy();
      }, options.gracefulTimeout);
      await ctx.whenIdle();
      clearTimeout(grace);
      await stopped;
      await released;
      clearInterval(sweep);
      heartbeat?.stop();
      metricsServer?.close();
      // A worker's final counts, so that the primary's sums keep them.
      if (cluster.isWorker) sendMetrics(0);
      recycler?.stop();
      removeSignals();
      await ctx.closeLogs();
      if (fastResponse) uninstallFastResponse();
      if (single) await callHook(hooks, "onExit", hookLog);
      resolveClosed();
    })();
    return closing;
  };

  const onSignal = () => void close();
  const stopWorker = () => void close().then(() => process.exit(0));
  const reopenLogs = () => ctx.reopenLogs();
  const onWorkerMessage = (message: unknown) => {
    if (isMetricsQuery(message)) sendMetrics(message.id);
    else if (message === SHUTDOWN_MESSAGE) stopWorker();
    else if (message === REOPEN_LOGS_MESSAGE) reopenLogs();
  };
  const ignore = () => {};
  let reloading = false;
  const onHup = () => {
    if (loadApp === undefined) {
      ctx.log("warning", "SIGHUP: this server was given no way to reload its app; ignored");
      return;
    }
    if (reloading) return;
    reloading = true;
    ctx.log("info", "SIGHUP: reloading the app");
    callHook(hooks, "onReload", hookLog)
      .then(loadApp)
      .then(
        (fresh) => {
          ctx.setApp(fresh);
          ctx.log("info", "SIGHUP: reloaded; new requests go to the new app");
        },
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          ctx.logError(`SIGHUP: reload failed, keeping the old app: ${reason}`);
        },
      )
      .finally(() => {
        reloading = false;
      });
  };
  const removeSignals = addProcessListeners([
    ...(handleSignals
      ? ([
          ["SIGTERM", onSignal],
          ["SIGINT", onSignal],
          ["SIGHUP", onHup],
          ["SIGUSR1", reopenLogs],
        ] as const)
      : []),
    // In a worker the primary coordinates shutdown: a terminal's Ctrl-C reaches the whole
    // group, and a SIGTERM of its own (systemd signals every process of the service)
    // drains this worker as the primary's message would, instead of cutting its requests.
    ...(cluster.isWorker
      ? ([
          ["message", onWorkerMessage],
          ["SIGINT", ignore],
          ["SIGTERM", stopWorker],
          // systemd's `kill` signals every process of the service, workers included: the
          // primary rolls the workers on SIGHUP; one of its own must not end this one.
          ["SIGHUP", ignore],
          ["SIGUSR1", reopenLogs],
        ] as const)
      : []),
  ]);

  if (single)
    await callHook(hooks, "whenReady", hookLog, { address, pid: process.pid, workers: 1 });

  return {
    address,
    addresses,
    closed,
    options,
    close,
    reopenLogs,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * In a cluster worker that just stopped listening: resolves once the primary answered a
 * message sent after the close (or after 2 s). The primary may have handed this worker a
 * connection before it heard of the close; the channel is ordered, so by the time the
 * answer arrives every such connection has arrived too (and, refused, gone back to another
 * worker) instead of being lost with this process.
 */
function releasedByPrimary(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, 2000);
    timer.unref();
    function done() {
      clearTimeout(timer);
      process.off("message", onMessage);
      resolve();
    }
    function onMessage(message: unknown) {
      if (message === RELEASED_MESSAGE) done();
    }
    process.on("message", onMessage);
    process.send?.(STOPPED_LISTENING_MESSAGE);
  });
}
