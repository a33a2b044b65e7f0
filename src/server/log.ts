/**
 * Error log lines (`--log-format text|json`). Every line carries the time, the pid and a
 * level; a line written about a request (an app's traceback, what it wrote to
 * `wsgi.errors`) also carries the method, the path and the request id.
 *
 * - text: `[2026-01-01T12:00:00.000Z] [1234] [ERROR] [GET /x] [1234-7] message`
 * - json: `{"time":"…","pid":1234,"level":"error","method":"GET","path":"/x","request_id":"1234-7","message":"…"}`
 *
 * @module
 */

import { createWriteStream, type WriteStream } from "node:fs";

/** How important a line is. */
export type LogLevel = "debug" | "info" | "warning" | "error" | "critical";

/** The request a line is about. */
export interface LogRequest {
  /** The request method. */
  readonly method: string;
  /** The request target as received. */
  readonly path: string;
  /** The request's id: its `X-Request-ID` header, else `<pid>-<n>`. */
  readonly id: string;
}

/** The error log's formats. */
export type LogFormat = "text" | "json";

/** Escapes control and non-ASCII characters of text-format fields as `\xNN` (no forged lines). */
function escapeText(value: string): string {
  return value.replace(
    /[\0-\x1f\x7f-\xff]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** One error log line (with its newline). `message` may span lines in text (a traceback). */
export function formatLogLine(
  format: LogFormat,
  level: LogLevel,
  message: string,
  request?: LogRequest,
  time = new Date(),
): string {
  const body = message.endsWith("\n") ? message.slice(0, -1) : message;
  if (format === "json") {
    const record: Record<string, string | number> = {
      time: time.toISOString(),
      pid: process.pid,
      level,
    };
    if (request) {
      record.method = request.method;
      record.path = request.path;
      record.request_id = request.id;
    }
    record.message = body;
    return `${JSON.stringify(record)}\n`;
  }
  const about = request
    ? ` [${escapeText(request.method)} ${escapeText(request.path)}] [${escapeText(request.id)}]`
    : "";
  return `[${time.toISOString()}] [${process.pid}] [${level.toUpperCase()}]${about} ${body}\n`;
}

/** A client-chosen request id is used if it is short and printable. */
const GOOD_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

let sequence = 0;

/** The id of a request: its `X-Request-ID` header if sane, else `<pid>-<n>`. */
export function requestId(header: string | undefined): string {
  if (header !== undefined && GOOD_REQUEST_ID.test(header)) return header;
  return `${process.pid}-${++sequence}`;
}

/**
 * A log destination: `-` is stderr, anything else a file appended to. `reopen` opens the
 * path anew (logrotate moved the file away); after `close`, lines are dropped.
 */
export class LogFile {
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
