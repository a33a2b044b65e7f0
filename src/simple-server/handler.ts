/**
 * `WSGIRequestHandler`: one per connection, it reads the request head as `http.server`
 * does, answers malformed requests with `sendError`, builds the environ, and hands the
 * request to a `ServerHandler` (server-handler.ts), which runs the application.
 *
 * Theory of operation: `handle()` reads the request line (414 past 65,536 bytes), then
 * `parseRequest()` checks it and reads the headers (400, 505, 431 as CPython answers);
 * on success a `ServerHandler` runs the application over the socket, with `wsgi.input`
 * a `BodyInputStream` that starts with the bytes already read past the head and stops at
 * `CONTENT_LENGTH`. The server closes the connection afterwards: one request each, as
 * CPython's HTTP/1.0 server does. The WSGI algorithm itself is `BaseHandler`'s.
 *
 * @module
 */
import type { Socket } from "node:net";
import { httpDate } from "../handlers/date.ts";
import { inputLimit } from "../handlers/input-limit.ts";
import { BodyInputStream, TextErrorStream } from "../streams.ts";
import type { ErrorStream, WSGIApplication } from "../types.ts";
import { unquoteLatin1 } from "../util/native.ts";
import { pyFormat, pyRepr, pySplit, pyStrip } from "./python.ts";
import { SocketReader } from "./reader.ts";
import {
  collapseLeadingSlashes,
  DEFAULT_ERROR_MESSAGE,
  escapeHtml,
  formatErrorMessage,
  HTTPMessage,
  isHeaderBlockEnd,
  LineTooLong,
  MAX_HEADERS,
  MAX_LINE,
  parseHeaderLines,
  parseHttpVersion,
  TooManyHeaders,
} from "./request.ts";
import type { WSGIServer } from "./server.ts";
import { SERVER_VERSION, ServerHandler, SYS_VERSION } from "./server-handler.ts";
import { HTTP_STATUS } from "./status.ts";

/** A client's `[host, port]`, as Python's `client_address` tuple. */
export type ClientAddress = readonly [host: string, port: number];

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `http.server`'s log escaping: C0 and C1 controls as `\xNN`, and `\` doubled. */
function escapeLogMessage(message: string): string {
  return message.replace(/[\x00-\x1f\x7f-\x9f\\]/g, (ch) =>
    ch === "\\" ? "\\\\" : `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

const EMPTY = Buffer.alloc(0);
let stderrStream: ErrorStream | undefined;

/** The application used when `setApp()` was never called: every request gets the 500 page. */
const missingApp: WSGIApplication = () => {
  throw new TypeError("the server has no application: call server.setApp(app) first");
};

/**
 * Handles one connection of the simple server (CPython's `WSGIRequestHandler`, a
 * `BaseHTTPRequestHandler`): `handle()` reads and checks the request, then runs the
 * server's application through a `ServerHandler`. Subclass it and pass it to
 * `makeServer(..., { handlerClass })` to change the environ (`getEnviron`), the error
 * stream (`getStderr`, which also receives the access log) or the error pages.
 */
export class WSGIRequestHandler {
  /** The first word of the `Server` header, and the environ's `SERVER_SOFTWARE`. */
  serverVersion = SERVER_VERSION;
  /** The second word of the `Server` header of error responses. */
  sysVersion = SYS_VERSION;
  /** The version of the status line; `HTTP/1.0`, so every connection carries one request. */
  protocolVersion = "HTTP/1.0";
  /** The request version assumed until the request line says otherwise (HTTP/0.9: no status line). */
  defaultRequestVersion = "HTTP/0.9";
  /** The page `sendError` sends, with `%(code)d`, `%(message)s`, `%(explain)s` placeholders. */
  errorMessageFormat = DEFAULT_ERROR_MESSAGE;
  /** The `Content-Type` of that page. */
  errorContentType = "text/html;charset=utf-8";
  /** Milliseconds of socket inactivity after which the connection is dropped; `undefined` (CPython's `None`) waits forever. */
  timeout: number | undefined = undefined;

  /** The client's socket (Python's `self.request`/`self.connection`). */
  readonly request: Socket;
  /** The client's `[host, port]`. */
  readonly clientAddress: ClientAddress;
  /** The server this connection came to. */
  readonly server: WSGIServer;
  /** The buffered reader over the socket (Python's `rfile`). */
  readonly rfile: SocketReader;

  /** The request line as read, with its line ending. */
  rawRequestline: Uint8Array = EMPTY;
  /** The request line as latin-1 text, without its line ending (as logged). */
  requestline = "";
  /** The request method, or null before the request line was understood. */
  command: string | null = null;
  /** The request target, `//` prefix collapsed. */
  path = "";
  /** The request's HTTP version, such as `HTTP/1.1`. */
  requestVersion: string;
  /** The request headers. */
  headers: HTTPMessage = new HTTPMessage();
  /** Always true here: one request per connection. */
  closeConnection = true;
  private headersBuffer: Buffer[] = [];

  /**
   * @param request the client's socket
   * @param clientAddress the client's `[host, port]`
   * @param server the server that accepted the connection
   */
  constructor(request: Socket, clientAddress: ClientAddress, server: WSGIServer) {
    this.request = request;
    this.clientAddress = clientAddress;
    this.server = server;
    this.requestVersion = this.defaultRequestVersion;
    this.rfile = new SocketReader(request);
  }

  /** Prepares the connection before `handle()`: applies `timeout`. */
  setup(): void {
    if (this.timeout !== undefined) {
      const socket = this.request;
      socket.setTimeout(this.timeout, () => socket.destroy());
    }
  }

  /** Reads one request and answers it: an error page, or the application's response. */
  async handle(): Promise<void> {
    this.rawRequestline = await this.rfile.readline(MAX_LINE + 1);
    if (this.rawRequestline.length > MAX_LINE) {
      this.requestline = "";
      this.requestVersion = "";
      this.command = "";
      this.sendError(414);
      return;
    }
    if (!(await this.parseRequest())) return;
    const environ = this.getEnviron();
    const length = inputLimit(environ, 0);
    const stdin = new BodyInputStream(this.rfile.bodySource(), length);
    const handler = new ServerHandler(stdin, this.request, this.getStderr(), environ, {
      multithread: false,
    });
    handler.requestHandler = this;
    if (length === 0 && this.rfile.buffered === 0) this.watchHangUp(handler);
    await handler.run(this.server.getApp() ?? missingApp);
  }

  /**
   * Where the server can know (a request without a body, so nothing more is to be read):
   * a client that closes its side once the response started has hung up, and the
   * application's body is closed at once instead of at the next write (docs/disconnects.md).
   * CPython only notices at a failed write. A half-close before the response started is
   * still answered.
   */
  private watchHangUp(handler: ServerHandler): void {
    const socket = this.request;
    const onEnd = () => {
      if (handler.headersSent) handler.abort();
    };
    socket.on("end", onEnd);
    socket.on("close", () => handler.abort());
    // Read (and drop) whatever else comes, so the end of the stream is seen.
    socket.on("data", () => {});
  }

  /** Runs after `handle()`, also when it failed; the server then closes the connection. */
  finish(): void {}

  /**
   * Checks the request line and reads the headers, as `http.server`'s `parse_request`.
   * Returns false, after sending an error page when one is due, if the request cannot
   * be served: 400 `Bad request version`, 505 for HTTP/2 and later, 400 `Bad request
   * syntax`, 400 `Bad HTTP/0.9 request type`, 431 for a long header line or too many.
   */
  async parseRequest(): Promise<boolean> {
    this.command = null;
    this.requestVersion = this.defaultRequestVersion;
    this.closeConnection = true;
    const requestline = Buffer.from(this.rawRequestline)
      .toString("latin1")
      .replace(/[\r\n]+$/, "");
    this.requestline = requestline;
    const words = pySplit(requestline);
    if (words.length === 0) return false;

    if (words.length >= 3) {
      const version = words[words.length - 1] as string;
      const number = parseHttpVersion(version);
      if (number === undefined) {
        this.sendError(400, `Bad request version (${pyRepr(version)})`);
        return false;
      }
      if (number[0] >= 2) {
        this.sendError(505, `Invalid HTTP version (${version.slice(5)})`);
        return false;
      }
      this.requestVersion = version;
    }
    if (words.length < 2 || words.length > 3) {
      this.sendError(400, `Bad request syntax (${pyRepr(requestline)})`);
      return false;
    }
    const [command, path] = words as [string, string];
    if (words.length === 2 && command !== "GET") {
      this.sendError(400, `Bad HTTP/0.9 request type (${pyRepr(command)})`);
      return false;
    }
    this.command = command;
    this.path = collapseLeadingSlashes(path);

    try {
      this.headers = await this.readHeaders();
    } catch (error) {
      if (error instanceof LineTooLong) {
        this.sendError(431, "Line too long", error.message);
        return false;
      }
      if (error instanceof TooManyHeaders) {
        this.sendError(431, "Too many headers", error.message);
        return false;
      }
      throw error;
    }
    const expect = this.headers.get("Expect") ?? "";
    if (
      expect.toLowerCase() === "100-continue" &&
      this.protocolVersion >= "HTTP/1.1" &&
      this.requestVersion >= "HTTP/1.1"
    ) {
      return this.handleExpect100();
    }
    return true;
  }

  /** Reads the header lines as `http.client.parse_headers` does and parses them. */
  private async readHeaders(): Promise<HTTPMessage> {
    const lines: Uint8Array[] = [];
    for (;;) {
      const line = await this.rfile.readline(MAX_LINE + 1);
      if (line.length > MAX_LINE) throw new LineTooLong();
      lines.push(line);
      if (lines.length > MAX_HEADERS) throw new TooManyHeaders();
      if (isHeaderBlockEnd(line)) break;
    }
    return parseHeaderLines(lines);
  }

  /**
   * Answers `Expect: 100-continue` with `100 Continue`. CPython only asks when both the
   * request and `protocolVersion` are HTTP/1.1, and `protocolVersion` is HTTP/1.0 here,
   * so by default this is never called and the client sends its body after waiting.
   */
  handleExpect100(): boolean | Promise<boolean> {
    this.sendResponseOnly(100);
    this.endHeaders();
    return true;
  }

  /**
   * Sends and logs an error response (`http.server`'s `send_error`): the status line
   * (none for an HTTP/0.9 request), `Server`, `Date`, `Connection: close`, and unless the
   * status forbids one, an HTML page with its `Content-Type` and `Content-Length`.
   */
  sendError(code: number, message?: string, explain?: string): void {
    const [phrase, description] = HTTP_STATUS.get(code) ?? ["???", "???"];
    message ??= phrase;
    explain ??= description;
    this.logError("code %d, message %s", code, message);
    this.sendResponse(code, message);
    this.sendHeader("Connection", "close");
    let body: Buffer | undefined;
    if (code >= 200 && code !== 204 && code !== 205 && code !== 304) {
      const page = formatErrorMessage(this.errorMessageFormat, {
        code,
        message: escapeHtml(message),
        explain: escapeHtml(explain),
      });
      body = Buffer.from(page, "utf8");
      this.sendHeader("Content-Type", this.errorContentType);
      this.sendHeader("Content-Length", String(body.length));
    }
    this.endHeaders();
    if (this.command !== "HEAD" && body !== undefined && body.length > 0) this.request.write(body);
  }

  /** Logs the request and queues its status line, `Server` and `Date` headers. */
  sendResponse(code: number, message?: string): void {
    this.logRequest(code);
    this.sendResponseOnly(code, message);
    this.sendHeader("Server", this.versionString());
    this.sendHeader("Date", this.dateTimeString());
  }

  /** Queues the status line, unless the request is HTTP/0.9. */
  sendResponseOnly(code: number, message?: string): void {
    if (this.requestVersion === "HTTP/0.9") return;
    message ??= HTTP_STATUS.get(code)?.[0] ?? "";
    this.headersBuffer.push(latin1(`${this.protocolVersion} ${code} ${message}\r\n`));
  }

  /** Queues a header line, unless the request is HTTP/0.9. */
  sendHeader(keyword: string, value: string): void {
    if (this.requestVersion !== "HTTP/0.9") {
      this.headersBuffer.push(latin1(`${keyword}: ${value}\r\n`));
    }
    if (keyword.toLowerCase() === "connection") {
      if (value.toLowerCase() === "close") this.closeConnection = true;
      else if (value.toLowerCase() === "keep-alive") this.closeConnection = false;
    }
  }

  /** Queues the blank line that ends the head and sends the head. */
  endHeaders(): void {
    if (this.requestVersion !== "HTTP/0.9") {
      this.headersBuffer.push(Buffer.from("\r\n"));
      this.flushHeaders();
    }
  }

  /** Writes the queued head to the socket. */
  flushHeaders(): void {
    if (this.headersBuffer.length > 0) {
      this.request.write(Buffer.concat(this.headersBuffer));
      this.headersBuffer = [];
    }
  }

  /** Logs an answered request: `"GET / HTTP/1.1" 200 13`. */
  logRequest(code: number | string = "-", size: number | string = "-"): void {
    this.logMessage('"%s" %s %s', this.requestline, String(code), String(size));
  }

  /** Logs an error; by default the same as `logMessage`. */
  logError(format: string, ...args: unknown[]): void {
    this.logMessage(format, ...args);
  }

  /**
   * Writes `<client> - - [<local time>] <message>` to `getStderr()`, the message made
   * from a `%s`/`%d`/`%r` format and its arguments, control chars escaped as `\xNN`.
   */
  logMessage(format: string, ...args: unknown[]): void {
    const message = pyFormat(format, args);
    this.getStderr().write(
      `${this.addressString()} - - [${this.logDateTimeString()}] ${escapeLogMessage(message)}\n`,
    );
  }

  /** `WSGIServer/0.2 Node.js/<version>`: the `Server` header of error responses. */
  versionString(): string {
    return `${this.serverVersion} ${this.sysVersion}`;
  }

  /** An HTTP date for the `Date` header: now, or `timestamp` (seconds since the epoch). */
  dateTimeString(timestamp?: number): string {
    return httpDate(timestamp === undefined ? Date.now() : timestamp * 1000);
  }

  /** The local time for log lines: `24/Nov/2026 03:58:36`. */
  logDateTimeString(): string {
    const d = new Date();
    return `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${pad(d.getFullYear(), 4)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  /** The client's address as logged: its IP (no reverse lookup, as CPython since 3.x). */
  addressString(): string {
    return this.clientAddress[0];
  }

  /**
   * The CGI part of the environ (CPython's `get_environ`): the server's `baseEnviron`,
   * then `SERVER_PROTOCOL`, `SERVER_SOFTWARE`, `REQUEST_METHOD`, `PATH_INFO` (decoded as
   * latin-1), `QUERY_STRING`, `REMOTE_ADDR`, `CONTENT_TYPE` (`text/plain` when absent),
   * `CONTENT_LENGTH`, and an `HTTP_*` key per header, repeated headers comma-joined.
   * A header whose key is already there (`Content-Type`, or `Server-Name`) is skipped.
   */
  getEnviron(): Record<string, string> {
    const env: Record<string, string> = { ...this.server.baseEnviron };
    env.SERVER_PROTOCOL = this.requestVersion;
    env.SERVER_SOFTWARE = this.serverVersion;
    env.REQUEST_METHOD = this.command ?? "";
    const question = this.path.indexOf("?");
    const path = question === -1 ? this.path : this.path.slice(0, question);
    env.PATH_INFO = unquoteLatin1(path);
    env.QUERY_STRING = question === -1 ? "" : this.path.slice(question + 1);

    const host = this.addressString();
    if (host !== this.clientAddress[0]) env.REMOTE_HOST = host;
    env.REMOTE_ADDR = this.clientAddress[0];

    env.CONTENT_TYPE = this.headers.get("content-type") ?? this.headers.getContentType();
    const length = this.headers.get("content-length");
    if (length) env.CONTENT_LENGTH = length;

    for (const [name, value] of this.headers) {
      const key = name.replaceAll("-", "_").toUpperCase();
      const v = pyStrip(value);
      if (Object.hasOwn(env, key)) continue;
      const httpKey = `HTTP_${key}`;
      env[httpKey] = Object.hasOwn(env, httpKey) ? `${env[httpKey]},${v}` : v;
    }
    return env;
  }

  /** The `wsgi.errors` stream, which also receives the access log: `process.stderr`. */
  getStderr(): ErrorStream {
    stderrStream ??= new TextErrorStream(process.stderr);
    return stderrStream;
  }
}

/** Encodes a head line as latin-1, refusing chars it cannot hold (Python's `encode("latin-1", "strict")`). */
function latin1(line: string): Buffer {
  if (/[^\0-\xff]/.test(line)) {
    throw new TypeError(`response head must be latin-1 text: ${JSON.stringify(line)}`);
  }
  return Buffer.from(line, "latin1");
}
