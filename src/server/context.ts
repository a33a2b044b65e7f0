/**
 * What every connection of one listening server shares: the app, the resolved options,
 * the logs, and the set of open sessions (for the timeout sweep and graceful shutdown).
 *
 * @module
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { type FetchApplication, isFetchApplication } from "../bridges/fetch-application.ts";
import type { ProtocolError } from "../http/errors.ts";
import { type Limits, resolveLimits } from "../http/limits.ts";
import { TextErrorStream } from "../streams.ts";
import type { ErrorStream, WSGIApplication } from "../types.ts";
import { type AccessRecord, escapeControls, formatAccess } from "./access-log.ts";
import type { ServerOptions } from "./options.ts";
import type { Session } from "./session.ts";

/** Rejected-request log lines allowed per second before the rest are counted, not printed. */
const REJECTIONS_PER_SECOND = 10;

/**
 * A log destination: `-` is stderr, anything else a file appended to. `reopen` opens the
 * path anew (logrotate moved the file away); after `close`, lines are dropped.
 */
class LogFile {
  private readonly destination: string;
  private stream: WriteStream | null;
  private closed = false;

  constructor(destination: string) {
    this.destination = destination;
    this.stream = destination === "-" ? null : this.open();
  }

  /** Appends a line. */
  readonly write = (line: string): void => {
    if (this.stream === null) process.stderr.write(line);
    else if (!this.closed) this.stream.write(line);
  };

  /** Goes on in a new file at the same path; lines written before go to the old one. */
  reopen(): void {
    if (this.stream === null || this.closed) return;
    const old = this.stream;
    this.stream = this.open();
    old.end();
  }

  /** Resolves once what was written is flushed and the file closed. */
  close(): Promise<void> {
    this.closed = true;
    const stream = this.stream;
    if (stream === null) return Promise.resolve();
    return new Promise((resolve) => stream.end(resolve));
  }

  private open(): WriteStream {
    const stream = createWriteStream(this.destination, { flags: "a" });
    stream.on("error", (error) =>
      process.stderr.write(`wsgiref: cannot write log ${this.destination}: ${error.message}\n`),
    );
    return stream;
  }
}

/** Stands in for the WSGI app of a server that serves a Fetch application: never called. */
const notWsgi: WSGIApplication = () => {
  throw new Error("this server serves a Fetch application");
};

/** The state shared by a server's sessions. */
export class ServerContext {
  /** The WSGI application (a Fetch application's is never called). */
  readonly app: WSGIApplication;
  /** The Fetch application, when the server serves one (on the fast path), else null. */
  readonly fetchApp: FetchApplication | null;
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

  constructor(
    app: WSGIApplication | FetchApplication,
    options: ServerOptions,
    multiprocess: boolean,
  ) {
    if (isFetchApplication(app)) {
      this.fetchApp = app;
      this.app = notWsgi;
    } else {
      this.fetchApp = null;
      this.app = app;
    }
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
      this.accessLog = (record) => write(formatAccess(record, format));
    }
  }

  /** Writes a line to the error log, with a timestamp and the process id. */
  logError(message: string): void {
    this.writeError(`[${new Date().toISOString()}] [${process.pid}] ${message}\n`);
  }

  /** Logs a rejected request with its code and peer, at most 10 lines a second. */
  logRejection(error: ProtocolError, peer: string): void {
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

  /** Reopens the log files at their paths, after logrotate (or someone) moved them away. */
  reopenLogs(): void {
    for (const log of this.logFiles) log.reopen();
    this.logError("reopened the log files");
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
