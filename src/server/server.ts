/**
 * `serve(app, options)`: the production HTTP/1.1 server. It listens on TCP (or a Unix
 * socket, or TLS), runs a `Session` per connection, sweeps timeouts, and shuts down
 * gracefully. With `workers > 1` the calling process becomes a `node:cluster` primary
 * (see workers.ts) and each worker runs this same function.
 *
 * @module
 */
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { FetchApplication } from "../bridges/fetch-application.ts";
import type { WSGIApplication } from "../types.ts";
import { ServerContext } from "./context.ts";
import { installFastResponse, uninstallFastResponse } from "./fast-response.ts";
import { resolveOptions, type ServerOptions } from "./options.ts";
import { addProcessListeners } from "./process-listeners.ts";
import { acceptIntoReadBuffers, type ReadBuffer } from "./read-buffer.ts";
import { Session } from "./session.ts";
import { sweepTimers } from "./timers.ts";
import { clearStaleSocket } from "./unix-socket.ts";
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
}

/** A running server. */
export interface RunningServer {
  /** Where it listens: host and port, or the Unix socket path. */
  readonly address: AddressInfo | string;
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
  const { handleSignals = false, ...rest } = given;
  const options = resolveOptions(rest);
  if (options.workers > 1 && cluster.isPrimary) return runPrimary(options, handleSignals);
  return listen(
    app,
    options,
    handleSignals && !cluster.isWorker,
    cluster.isWorker || options.workers > 1,
  );
}

/** How often the sweep looks for expired timers, at least. */
function sweepInterval(options: ServerOptions): number {
  const timeouts = [
    options.headerTimeout,
    options.keepAliveTimeout,
    options.bodyTimeout,
    options.responseTimeout,
  ].filter((t) => t > 0);
  return Math.max(25, Math.min(1000, Math.floor(Math.min(...timeouts) / 4)));
}

async function listen(
  app: WSGIApplication | FetchApplication,
  options: ServerOptions,
  handleSignals: boolean,
  multiprocess: boolean,
): Promise<RunningServer> {
  const ctx = new ServerContext(app, options, multiprocess);
  const fastResponse = ctx.fetchApp !== null && options.fastResponse;
  if (fastResponse) installFastResponse();
  const onSocket = (socket: Socket, reads: ReadBuffer | null = null) => {
    if (ctx.closing) {
      socket.destroy();
      return;
    }
    new Session(socket, ctx, reads);
  };
  const tls = Boolean(options.key && options.cert);
  let server: NetServer;
  if (tls) {
    server = createTlsServer(
      { key: readFileSync(options.key!), cert: readFileSync(options.cert!), allowHalfOpen: true },
      onSocket,
    );
    server.on("tlsClientError", () => {});
  } else {
    server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => onSocket(socket));
  }
  // In a worker the cluster primary listens (and cleared the path before forking).
  if (options.path && !cluster.isWorker) await clearStaleSocket(options.path);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (options.path) server.listen(options.path, done);
    else server.listen(options.port, options.host, done);
  });
  server.on("error", (error) => ctx.logError(`server error: ${error.message}`));
  // A plain connection reads into a buffer of its own (see read-buffer.ts).
  if (!tls) acceptIntoReadBuffers(server, onSocket);
  const address = server.address() as AddressInfo | string;
  if (typeof address !== "string") {
    ctx.serverName =
      options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;
    ctx.serverPort = String(address.port);
  }

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
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
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
      removeSignals();
      await ctx.closeLogs();
      if (fastResponse) uninstallFastResponse();
      resolveClosed();
    })();
    return closing;
  };

  const onSignal = () => void close();
  const stopWorker = () => void close().then(() => process.exit(0));
  const reopenLogs = () => ctx.reopenLogs();
  const onWorkerMessage = (message: unknown) => {
    if (message === SHUTDOWN_MESSAGE) stopWorker();
    else if (message === REOPEN_LOGS_MESSAGE) reopenLogs();
  };
  const ignore = () => {};
  const removeSignals = addProcessListeners([
    ...(handleSignals
      ? ([
          ["SIGTERM", onSignal],
          ["SIGINT", onSignal],
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
          // systemd's `kill` signals every process of the service, workers included.
          ["SIGUSR1", reopenLogs],
        ] as const)
      : []),
  ]);

  return {
    address,
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
