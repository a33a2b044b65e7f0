/**
 * What every connection of one listening server shares: the app, the resolved options,
 * the logs, and the set of open sessions (for the timeout sweep and graceful shutdown).
 *
 * @module
 */

import { type FetchApplication, isFetchApplication } from "../bridges/fetch-application.ts";
import { Headers } from "../headers.ts";
import type { ProtocolError } from "../http/errors.ts";
import { type Limits, resolveLimits } from "../http/limits.ts";
import { TextErrorStream } from "../streams.ts";
import type { ErrorStream, WSGIApplication } from "../types.ts";
import { type AccessRecord, escapeControls, formatAccess } from "./access-log.ts";
import { callRequestHook, type ServerHooks } from "./hooks.ts";
import {
  formatLogLine,
  LogFile,
  type LogFormat,
  type LogLevel,
  type LogRequest,
  requestId,
} from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { ServerOptions } from "./options.ts";
import type { Session } from "./session.ts";

/** Rejected-request log lines allowed per second before the rest are counted, not printed. */
const REJECTIONS_PER_SECOND = 10;

/** A request the server is answering: what the logs and the watchdog say about it. */
export interface InFlight {
  /** The request method. */
  readonly method: string;
  /** The request target as received (path and query). */
  readonly path: string;
  /** When the app was called (ms since the epoch). */
  readonly startedAt: number;
  /** The request id of the logs: its `X-Request-ID` header, else `<pid>-<n>`. */
  readonly id: string;
}

/** A request as the server tracks it: its CGI variables and whether it counts as in flight. */
export interface InFlightRequest extends InFlight {
  /** The request's CGI variables (the environ's strings). */
  readonly cgiVars: Record<string, string>;
  /** When the app was called (ms since the epoch); set by `requestStarted`. */
  startedAt: number;
  /** True between an admitting `requestStarted` and its `requestFinished`. */
  counted: boolean;
}

const encoder = new TextEncoder();
/**
 * The answer to a request over `maxConcurrency`: the app is not called. (The session
 * closes the connection after it, which adds `Connection: close`: WSGI apps may not send
 * hop-by-hop headers themselves.)
 */
const OVERLOADED_BODY = encoder.encode("Service Unavailable: too many requests in flight\n");
const overloaded: WSGIApplication = (_environ, startResponse) => {
  startResponse("503 Service Unavailable", [
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Retry-After", "1"],
  ]);
  return [OVERLOADED_BODY];
};

/**
 * A request's `wsgi.errors`: each line written goes to the error log with the time, pid,
 * level, and the request's method, path and id, so an app's traceback names its request.
 * (In the text format a write that does not end a line leaves the next one unprefixed;
 * in JSON each write is a record.) Made per request for the price of one small object:
 * the request is described only when a line is written.
 */
class RequestErrorStream extends TextErrorStream {
  private atLineStart = true;
  private readonly writeLine: (line: string) => void;
  private readonly format: LogFormat;
  private readonly exchange: InFlightRequest;
  private readonly vars: Record<string, string>;

  constructor(writeLine: (line: string) => void, format: LogFormat, exchange: InFlightRequest) {
    super((text) => this.emit(text));
    this.writeLine = writeLine;
    this.format = format;
    this.exchange = exchange;
    this.vars = exchange.cgiVars;
  }

  private emit(text: string): void {
    if (text === "") return;
    const format = this.format;
    if (format === "json" || this.atLineStart) {
      const line = formatLogLine(format, "error", text, this.request());
      this.writeLine(format === "json" || text.endsWith("\n") ? line : line.slice(0, -1));
    } else this.writeLine(text);
    this.atLineStart = text.endsWith("\n");
  }

  /** The request this stream was made for, even if its connection went on to another. */
  private request(): LogRequest {
    const vars = this.vars;
    if (this.exchange.cgiVars === vars) return this.exchange;
    const path = vars.RAW_URI ?? vars.PATH_INFO ?? "-";
    return { method: vars.REQUEST_METHOD ?? "-", path, id: requestId(vars.HTTP_X_REQUEST_ID) };
  }
}

/** Stands in for the WSGI app of a server that serves a Fetch application: never called. */
const notWsgi: WSGIApplication = () => {
  throw new Error("this server serves a Fetch application");
};

/** The state shared by a server's sessions. */
export class ServerContext {
  /**
   * The WSGI application (a Fetch application's is never called); SIGHUP to a
   * single-process server swaps in a reloaded one (`setApp`).
   */
  app: WSGIApplication;
  /** The Fetch application, when the server serves one (on the fast path), else null. */
  fetchApp: FetchApplication | null;
  /** The app that answers a request over `maxConcurrency` (503, `Retry-After: 1`). */
  readonly overloadedApp: WSGIApplication = overloaded;
  /** How many requests are being answered (admitted, not yet finished). */
  inFlight = 0;
  /** Called when a request starts (the worker's heartbeat keeps the newest one for the watchdog). */
  onRequestStarted: ((request: InFlight) => void) | null = null;
  /** Called when the last request in flight finished. */
  onIdle: (() => void) | null = null;
  /** The metrics this process counts, or null when `metricsBind` is off. */
  metrics: Metrics | null = null;
  /** The hooks of the config file (`preRequest` and `postRequest` run here). */
  hooks: ServerHooks | undefined = undefined;
  /** The resolved options. */
  readonly options: ServerOptions;
  /** The protocol core's limits, from the options (resolved once, for every connection). */
  readonly limits: Limits;
  /** `http` or `https`. */
  readonly scheme: "http" | "https";
  /** `wsgi.multiprocess`: true with several workers. */
  readonly multiprocess: boolean;
  /** The Server header, or undefined for none. */
  readonly serverSoftware: string | undefined;
  /** SERVER_NAME when a request has no Host. */
  serverName = "localhost";
  /** SERVER_PORT when a request has no Host. */
  serverPort = "80";
  /** The open sessions. */
  readonly sessions = new Set<Session>();
  /** True once graceful shutdown began. */
  closing = false;
  /** `wsgi.errors` of every request: the error log, control characters escaped. */
  readonly errorStream: ErrorStream;
  /** Writes an access log line, or null when the access log is off. */
  readonly accessLog: ((record: AccessRecord) => void) | null;
  private readonly writeError: (line: string) => void;
  private readonly logFiles: LogFile[] = [];
  private rejectionWindow = 0;
  private rejectionsInWindow = 0;
  private suppressed = 0;
  private idleListeners: Array<() => void> = [];
  private overloadWindow = 0;
  private overloadCount = 0;

  constructor(
    app: WSGIApplication | FetchApplication,
    options: ServerOptions,
    multiprocess: boolean,
  ) {
    this.fetchApp = null;
    this.app = notWsgi;
    this.setApp(app);
    this.options = options;
    this.scheme = options.key ? "https" : "http";
    this.multiprocess = multiprocess;
    this.serverSoftware = options.serverHeader || undefined;
    this.limits = resolveLimits({
      maxRequestLineLength: options.maxRequestLine,
      maxHeaderCount: options.maxHeaders,
      maxHeaderBytes: options.maxHeaderBytes,
      maxBodySize: options.maxBodySize,
      maxDrainBytes: options.drainLimit,
    });
    const writeError = this.openLog(options.errorLog);
    this.writeError = (text) => writeError(escapeControls(text));
    this.errorStream = new TextErrorStream(this.writeError);
    if (options.accessLog === "off") this.accessLog = null;
    else {
      const write = this.openLog(options.accessLog);
      const format = options.accessLogFormat;
      this.accessLog = (record) => {
        const durationMs = Date.now() - record.time.getTime();
        write(formatAccess({ ...record, durationMs }, format));
      };
    }
  }

  /** Serves `app` from now on: a WSGI function, or a Fetch application on the fast path. */
  setApp(app: WSGIApplication | FetchApplication): void {
    if (isFetchApplication(app)) {
      this.fetchApp = app;
      this.app = notWsgi;
    } else {
      this.fetchApp = null;
      this.app = app;
    }
  }

  /** Writes a line to the error log at level `error` (with the time, pid and level). */
  logError(message: string): void {
    this.writeError(formatLogLine(this.options.logFormat, "error", message));
  }

  /** Writes a line to the error log at `level`. */
  log(level: LogLevel, message: string): void {
    this.writeError(formatLogLine(this.options.logFormat, level, message));
  }

  /** Logs a rejected request with its code and peer, at most 10 lines a second. */
  logRejection(error: ProtocolError, peer: string): void {
    this.metrics?.rejected(error.code);
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.rejectionWindow) {
      if (this.suppressed > 0)
        this.logError(`(${this.suppressed} more rejected requests not logged)`);
      this.rejectionWindow = second;
      this.rejectionsInWindow = 0;
      this.suppressed = 0;
    }
    if (++this.rejectionsInWindow > REJECTIONS_PER_SECOND) {
      this.suppressed++;
      return;
    }
    this.logError(`${error.code} ${error.status} from ${peer}: ${error.message}`);
  }

  /**
   * Called when a request's head arrived, before the app: false means the worker already
   * has `maxConcurrency` requests in flight, and the request gets `overloadedApp` (503).
   * Every request, admitted or not, is ended with `requestFinished`.
   */
  requestStarted(request: InFlightRequest): boolean {
    const max = this.options.maxConcurrency;
    if (max > 0 && this.inFlight >= max) {
      this.metrics?.rejected("ERR_OVERLOADED");
      this.logOverload();
      return false;
    }
    this.inFlight++;
    request.counted = true;
    request.startedAt = Date.now();
    this.onRequestStarted?.(request);
    const preRequest = this.hooks?.preRequest;
    if (preRequest) {
      callRequestHook(preRequest, "preRequest", this.logHookError, [request.cgiVars]);
    }
    return true;
  }

  /**
   * Called when a request's exchange is over (after the app and the response), with the
   * status and headers the app gave (undefined if it gave none).
   */
  requestFinished(
    request: InFlightRequest,
    status: string | undefined,
    headers: Iterable<readonly [string, string]> | undefined,
  ): void {
    if (!request.counted) return;
    request.counted = false;
    if (--this.inFlight === 0) this.onIdle?.();
    if (this.metrics === null && this.hooks?.postRequest === undefined) return;
    const elapsed = Date.now() - request.startedAt;
    this.metrics?.requestFinished(status, elapsed);
    const postRequest = this.hooks?.postRequest;
    if (postRequest) {
      const sent =
        headers === undefined || headers instanceof Headers
          ? headers
          : new Headers([...headers].map(([name, value]): [string, string] => [name, value]));
      const args = [request.cgiVars, status, sent, elapsed];
      callRequestHook(postRequest, "postRequest", this.logHookError, args);
    }
  }

  /** Logs a hook's failure to the error log. */
  readonly logHookError = (line: string): void => this.logError(line);

  /** The `wsgi.errors` of one request: error log lines that name the request. */
  requestErrors(request: InFlightRequest): ErrorStream {
    return new RequestErrorStream(this.writeError, this.options.logFormat, request);
  }

  /** Logs refused requests at most once a second, with how many there were. */
  private logOverload(): void {
    this.overloadCount++;
    const second = Math.floor(Date.now() / 1000);
    if (second === this.overloadWindow) return;
    this.overloadWindow = second;
    const count = this.overloadCount;
    this.overloadCount = 0;
    this.log(
      "warning",
      `ERR_OVERLOADED 503: ${count} request(s) refused since the last report: ${this.inFlight} in flight, --max-concurrency ${this.options.maxConcurrency}`,
    );
  }

  /** Reopens the log files at their paths, after logrotate (or someone) moved them away. */
  reopenLogs(): void {
    for (const log of this.logFiles) log.reopen();
    this.log("info", "reopened the log files");
  }

  /** Closes the log files once what was written to them is flushed. */
  async closeLogs(): Promise<void> {
    await Promise.all(this.logFiles.map((log) => log.close()));
  }

  private openLog(destination: string): (line: string) => void {
    const log = new LogFile(destination);
    this.logFiles.push(log);
    return log.write;
  }

  /** Resolves once no session is open. */
  whenIdle(): Promise<void> {
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleListeners.push(resolve));
  }

  /** Called by a session when it closed. */
  onSessionClosed(): void {
    if (this.sessions.size === 0 && this.idleListeners.length > 0) {
      const listeners = this.idleListeners;
      this.idleListeners = [];
      for (const listener of listeners) listener();
    }
  }
}
