/**
 * The handler's I/O on the production server: the `Exchange` an `ExchangeHandler` writes
 * its response to. The head and body go to the HTTP core, which frames them, and the bytes
 * it returns go to the connection's `Output`; a malformed request body is answered with
 * its own coded status. When the exchange is over, the session's request loop goes on.
 *
 * @module
 */
import { clientGone } from "../handlers/client-gone.ts";
import { httpDate } from "../handlers/date.ts";
import type { ServerConnection } from "../http/connection.ts";
import type { ProtocolError } from "../http/errors.ts";
import type { ResponseHeader } from "../http/response.ts";
import { BodyInputStream } from "../streams.ts";
import type { ErrorStream } from "../types.ts";
import type { BodyFeed } from "./body-feed.ts";
import type { InFlightRequest, ServerContext } from "./context.ts";
import type { Exchange } from "./handler.ts";
import { requestId } from "./log.ts";
import type { Output } from "./output.ts";

/** The `wsgi.input` of every request without a body: always at its end, so one can be shared. */
const NO_BODY = new BodyInputStream(() => null, 0);

/** What the exchange needs from its session. */
export interface ExchangeHost {
  /** True once the connection closed: writes fail with the client-gone error. */
  readonly closed: boolean;
  /** The time in ms, read once per data event. */
  now(): number;
  /** The exchange is over: log it and go on to the next request (or close). */
  exchangeDone(status: string | undefined, bytesSent: number): void;
}

/**
 * One connection's exchanges, one at a time: what `ExchangeHandler` reads and writes, and
 * the bookkeeping of the request in flight (what the logs and the watchdog say about it).
 */
export class ConnectionExchange implements Exchange, InFlightRequest {
  cgiVars: Record<string, string> = {};
  /** When the app was called (ms since the epoch), once the request was admitted. */
  startedAt = 0;
  /** True while the request counts as in flight (admitted, not yet finished). */
  counted = false;
  input: BodyInputStream = NO_BODY;
  readonly scheme: string;
  readonly multiprocess: boolean;
  /** The request's answer was a protocol error's (400, 413, ...): close after it. */
  rejected = false;
  /** The response headers that went out, for the `postRequest` hook. */
  responseHeaders: Iterable<ResponseHeader> | undefined = undefined;
  private readonly conn: ServerConnection;
  private readonly output: Output;
  private readonly feed: BodyFeed;
  private readonly ctx: ServerContext;
  private readonly host: ExchangeHost;
  private assignedId: string | undefined = undefined;

  constructor(
    conn: ServerConnection,
    output: Output,
    feed: BodyFeed,
    ctx: ServerContext,
    host: ExchangeHost,
  ) {
    this.conn = conn;
    this.output = output;
    this.feed = feed;
    this.ctx = ctx;
    this.host = host;
    this.scheme = ctx.scheme;
    this.multiprocess = ctx.multiprocess;
  }

  /** Readies the exchange for a new request with these variables and, maybe, a body. */
  begin(cgiVars: Record<string, string>, hasBody: boolean): void {
    this.cgiVars = cgiVars;
    this.assignedId = undefined;
    this.rejected = false;
    this.feed.reset();
    this.input = hasBody
      ? new BodyInputStream(this.feed.source, Number.POSITIVE_INFINITY)
      : NO_BODY;
  }

  /** The request method, for the logs. */
  get method(): string {
    return this.cgiVars.REQUEST_METHOD ?? "-";
  }

  /** The request target as received, for the logs. */
  get path(): string {
    return this.cgiVars.RAW_URI ?? this.cgiVars.PATH_INFO ?? "-";
  }

  /** The request id of the logs, made on first use: its `X-Request-ID`, else `<pid>-<n>`. */
  get id(): string {
    this.assignedId ??= requestId(this.cgiVars.HTTP_X_REQUEST_ID);
    return this.assignedId;
  }

  /** The error log, as this request's `wsgi.errors` (its lines name the request). */
  get errors(): ErrorStream {
    return this.ctx.requestErrors(this);
  }

  get requestError(): ProtocolError | null {
    return this.feed.requestError;
  }

  writeHead(
    status: string,
    headers: Iterable<ResponseHeader>,
    more: boolean,
  ): void | Promise<void> {
    this.responseHeaders = headers;
    const head = this.conn.sendResponseHead(status, headers, {
      date: httpDate(this.host.now()),
      close: this.ctx.closing,
    });
    return this.write(head, more);
  }

  writeBody(data: Uint8Array, more: boolean): void | Promise<void> {
    const bytes = this.conn.sendData(data);
    if (bytes.length > 0) return this.write(bytes, more);
  }

  /**
   * Sends a whole response (head, body, end) in one write: Content-Length is the body's
   * unless `headers` give one, which must then match. Throws before any byte is sent if
   * the core refuses the head; once the client is gone, throws the client-gone error.
   */
  respond(status: string, headers: Iterable<ResponseHeader>, body: Uint8Array): void {
    if (this.host.closed) throw clientGone();
    const bytes = this.conn.respond(status, headers, body, {
      date: httpDate(this.host.now()),
      close: this.ctx.closing,
    });
    this.output.write(bytes, true);
    this.output.flush();
  }

  rejectRequest(): void {
    const error = this.feed.requestError;
    if (error === null || this.host.closed) return;
    const bytes = this.conn.sendErrorResponse(error, { date: httpDate() });
    if (bytes === null) return;
    this.rejected = true;
    this.write(bytes, true);
  }

  end(): void {
    const bytes = this.conn.sendEnd();
    if (bytes.length > 0) this.write(bytes, true);
    this.output.flush();
  }

  done(status: string | undefined, bytesSent: number): void {
    const error = this.feed.requestError;
    if (this.rejected && error !== null) status = String(error.status);
    this.host.exchangeDone(status, bytesSent);
  }

  /** Queues bytes for the socket (see `Output.write`); throws once the client is gone. */
  write(bytes: Uint8Array | string, more: boolean, flushNow = false): void | Promise<void> {
    if (this.host.closed) throw clientGone();
    return this.output.write(bytes, more, flushNow);
  }
}
