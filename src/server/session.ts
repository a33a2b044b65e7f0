/**
 * One client connection of the production server: a thin I/O loop that feeds socket bytes
 * to the sans-I/O `ServerConnection`, runs an `ExchangeHandler` per request, and writes
 * what the core frames.
 *
 * Theory of operation: between requests the session pulls events from the core until a
 * request head arrives, then starts the application and stops pulling. The request body
 * is pulled lazily by `wsgi.input` (sending `100 Continue` on the first read), so an app
 * that never reads never buffers a body: the socket is paused once a little is buffered.
 * Response bytes go through `Output`, which sends a small response in one write and makes
 * a slow reader hold the application back, so memory per connection stays bounded
 * whatever the body size. When the exchange ends, the session pulls again: the next
 * pipelined request, a drain of the unread body, or the end of the connection.
 *
 * @module
 */
import type { Socket } from "node:net";
import { inspect } from "node:util";
import { httpDate } from "../handlers/date.ts";
import type { Headers } from "../headers.ts";
import { ServerConnection } from "../http/connection.ts";
import { LocalProtocolError, ProtocolError } from "../http/errors.ts";
import type { RequestHead } from "../http/parser.ts";
import { BodyInputStream, type ChunkSource } from "../streams.ts";
import type { ServerContext } from "./context.ts";
import { buildCgiVars, HeaderKeys, type Peer, peerOf } from "./environ.ts";
import { type Exchange, ExchangeHandler } from "./handler.ts";
import { Output } from "./output.ts";
import type { ReadBuffer } from "./read-buffer.ts";

/** Buffered request bytes past which the socket is paused until the app reads. */
const PAUSE_AT = 256 * 1024;
/**
 * Pipelined requests answered in one turn, at most: a client that sends thousands at once
 * waits a turn after each batch, so other connections are served meanwhile.
 */
const PIPELINE_BATCH = 64;
/**
 * Body bytes handed to the app that are copied out of the read buffer, at most, so that
 * the buffer serves the next read; a larger piece takes the buffer with it.
 */
const COPY_MAX = 16 * 1024;
/** On shutdown, how long a new connection may take to send its first request. */
const FIRST_REQUEST_GRACE = 1000;
/**
 * Longest time a peer gets to close its side once we closed ours (after an error answer, a
 * timeout, or the last response) before the socket is cut; at most the header timeout.
 * Without it, a client that never closes would hold the socket and its descriptor forever.
 * The period starts once the whole response was handed to the kernel, which delivers what
 * it still holds after the socket is closed.
 */
const LINGER_MAX = 5000;

const EMPTY = new Uint8Array(0);
/** The `wsgi.input` of every request without a body: always at its end, so one can be shared. */
const NO_BODY = new BodyInputStream(() => null, 0);

/** The error a body read or a write gets once the client went away. */
function clientGone(): Error {
  return Object.assign(new Error("the client closed the connection"), { code: "ECONNRESET" });
}

/** An app waiting for body bytes: as a chunk, or copied into `target` (then it gets a count). */
interface BodyWaiter {
  readonly target: Uint8Array | null;
  resolve(value: Uint8Array | number | null): void;
  reject(error: unknown): void;
}

/** Where the session is between requests, for the timeout sweep. */
type TimerKind = "header" | "keepAlive" | "body" | "response" | "graceful" | "linger";

/** One client connection. */
export class Session implements Exchange {
  /** When the current timer fires (ms since the epoch), or 0 for none. */
  deadline = 0;
  private timerKind: TimerKind = "header";
  private readonly conn: ServerConnection;
  private readonly socket: Socket;
  /** The memory the socket reads into, when the server owns it (plain TCP and Unix sockets). */
  private readonly reads: ReadBuffer | null;
  private readonly ctx: ServerContext;
  private readonly peer: Peer;
  private readonly headerKeys = new HeaderKeys();
  private head: RequestHead | null = null;
  private startedAt = new Date(0);
  private closed = false;
  private readonly output: Output;
  /** True while `pump` runs: an exchange that ends inside it leaves the next one to that loop. */
  private pumping = false;
  private pumpScheduled = false;
  private readonly scheduledPump = () => {
    this.pumpScheduled = false;
    this.pump();
  };
  private bodyWaiter: BodyWaiter | null = null;
  /** What every request's `wsgi.input` reads from. */
  private readonly bodySource: ChunkSource = Object.assign(
    () => this.pullBody(null) as Promise<Uint8Array | null>,
    { into: (target: Uint8Array) => this.pullBody(target) as Promise<number> },
  );
  private timedOut = false;
  /** When the data event being handled arrived (ms since the epoch), else 0. */
  private eventTime = 0;
  /** The request's answer was a protocol error's (400, 413, ...): close after it. */
  private rejected = false;

  /** What the handler could not report to the client (its error page failed): log and cut. */
  private readonly onHandlerFailure = (error: unknown): void => {
    this.ctx.logError(`error while sending the error page: ${inspect(error)}`);
    this.destroy();
  };

  /** The response headers that went out, for the postRequest hook. */
  private responseHeaders: Headers | undefined = undefined;

  /** A malformed request body found while the app read it, or null. */
  requestError: ProtocolError | null = null;

  // The Exchange interface, filled per request.
  cgiVars: Record<string, string> = {};
  input: BodyInputStream = NO_BODY;
  readonly scheme: string;
  readonly multiprocess: boolean;

  /**
   * @param reads the buffer `socket` reads into (see `acceptIntoReadBuffers`); without one, the
   *   session takes the socket's `data` events
   */
  constructor(socket: Socket, ctx: ServerContext, reads: ReadBuffer | null = null) {
    this.socket = socket;
    this.reads = reads;
    this.ctx = ctx;
    this.peer = peerOf(socket);
    this.output = new Output(socket);
    this.scheme = ctx.scheme;
    this.multiprocess = ctx.multiprocess;
    this.conn = new ServerConnection(
      ctx.serverSoftware === undefined
        ? { limits: ctx.limits }
        : { limits: ctx.limits, server: ctx.serverSoftware },
    );
    socket.setNoDelay(true);
    if (reads === null) socket.on("data", (data: Buffer) => this.onData(data));
    else reads.onRead = (bytes) => this.onRead(bytes, reads);
    socket.on("end", () => this.onData(EMPTY));
    socket.on("error", () => {});
    socket.on("close", () => this.onClose());
    ctx.sessions.add(this);
    this.arm("header", ctx.options.headerTimeout);
    // Flowing from the start, as a `data` listener would make it (a socket reading into a
    // ReadBuffer has none); the session pauses and resumes it from here on.
    socket.resume();
  }

  get errors() {
    return this.ctx.requestErrors(this.cgiVars);
  }

  /** True while a request is being answered. */
  get busy(): boolean {
    return this.head !== null;
  }

  private arm(kind: TimerKind, ms: number): void {
    this.timerKind = kind;
    this.deadline = ms > 0 ? this.now() + ms : 0;
  }

  /** The time, read once per data event: a synchronous exchange arms its timers with one reading. */
  private now(): number {
    return this.eventTime || Date.now();
  }

  /** A read into the `ReadBuffer`: the buffer is lent if the core kept bytes of it. */
  private onRead(bytes: Buffer, reads: ReadBuffer): void {
    this.onData(bytes);
    if (this.conn.bufferedBytes > 0) reads.lend();
  }

  private onData(data: Uint8Array): void {
    this.eventTime = Date.now();
    try {
      this.receive(data);
    } finally {
      this.eventTime = 0;
    }
  }

  private receive(data: Uint8Array): void {
    // After a protocol error was answered, nothing more is parsed (or logged again).
    if (this.closed || this.conn.phase === "error") return;
    try {
      this.conn.receive(data);
    } catch (error) {
      if (error instanceof LocalProtocolError) return;
      throw error;
    }
    if (this.bodyWaiter !== null) {
      this.pullBodyInto(this.bodyWaiter);
    } else if (data.length === 0 && this.head !== null && this.conn.responseState === "BODY") {
      // The client closed its side while the response streams: it hung up (as node:http
      // takes it). A half-close before the response started still gets the response.
      this.destroy();
    } else if (this.head === null) {
      if (this.timerKind === "keepAlive" && data.length > 0) {
        this.arm("header", this.ctx.options.headerTimeout);
      }
      this.pump();
    } else if (this.conn.bufferedBytes > PAUSE_AT) {
      this.socket.pause();
    }
  }

  /**
   * Pulls events between requests: a new head starts an exchange. An exchange that ends
   * synchronously (a synchronous app) ends inside `start`: its `done` leaves the next
   * request to this loop rather than calling `pump` again, so pipelined requests never nest
   * on the stack.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.pumpEvents();
    } finally {
      this.pumping = false;
    }
  }

  private pumpEvents(): void {
    let started = 0;
    while (this.head === null && !this.closed) {
      if (started === PIPELINE_BATCH) {
        if (this.conn.bufferedBytes > PAUSE_AT) this.socket.pause();
        if (!this.pumpScheduled) {
          this.pumpScheduled = true;
          setImmediate(this.scheduledPump);
        }
        return;
      }
      let event: ReturnType<ServerConnection["nextEvent"]>;
      try {
        event = this.conn.nextEvent();
      } catch (error) {
        this.reject(error);
        return;
      }
      switch (event.type) {
        case "request":
          started++;
          this.start(event);
          break;
        case "need-data":
          if (this.socket.isPaused()) this.socket.resume();
          if (this.conn.peerClosed) this.finish();
          else if (this.conn.phase === "idle" && this.conn.requestCount > 0) {
            if (this.ctx.closing) this.finish();
            else if (this.timerKind !== "keepAlive")
              this.arm("keepAlive", this.ctx.options.keepAliveTimeout);
          }
          return;
        case "closed":
          this.finish();
          return;
        default:
          // data and end events of a body being drained, or paused: keep pulling.
          if (event.type === "paused") return;
      }
    }
  }

  /** Answers a protocol error (400, 413, 414, 431, 501, 505, ...) and closes. */
  private reject(error: unknown): void {
    if (!(error instanceof ProtocolError)) {
      this.ctx.logError(`internal error while parsing: ${inspect(error)}`);
      this.destroy();
      return;
    }
    this.ctx.logRejection(error, this.peer.address || "-");
    const bytes = this.conn.sendErrorResponse(error, { date: httpDate() });
    if (bytes) this.socket.write(bytes);
    this.finish();
  }

  private start(head: RequestHead): void {
    this.head = head;
    if (this.ctx.accessLog !== null) this.startedAt = new Date();
    const opts = this.ctx.options;
    this.arm("response", opts.responseTimeout);
    this.requestError = null;
    this.cgiVars = buildCgiVars(head, this.peer, this.headerKeys, this.ctx);
    this.input = head.hasBody
      ? new BodyInputStream(this.bodySource, Number.POSITIVE_INFINITY)
      : NO_BODY;
    const admitted = this.ctx.requestStarted(this.cgiVars);
    if (!admitted) this.conn.closeAfterResponse();
    const handler = new ExchangeHandler(this, this.ctx.serverSoftware);
    try {
      handler
        .handle(admitted ? this.ctx.app : this.ctx.overloadedApp)
        ?.catch(this.onHandlerFailure);
    } catch (error) {
      this.onHandlerFailure(error);
    }
  }

  /**
   * The `wsgi.input` source: the next piece of the body, or null at its end; with a
   * `target`, the piece is copied into it and the count (0 at the end) is returned.
   */
  private pullBody(target: Uint8Array | null): Promise<Uint8Array | number | null> {
    if (this.closed) throw clientGone();
    const cont = this.conn.sendContinue();
    if (cont) this.writeRaw(cont, false, true);
    return new Promise((resolve, reject) => this.pullBodyInto({ target, resolve, reject }));
  }

  private pullBodyInto(waiter: BodyWaiter): void {
    const target = waiter.target;
    let event: ReturnType<ServerConnection["nextEvent"]>;
    try {
      event = this.conn.nextEvent(target === null ? undefined : target.length);
    } catch (error) {
      this.bodyWaiter = null;
      if (error instanceof ProtocolError) {
        this.requestError = error;
        this.ctx.logRejection(error, this.peer.address || "-");
      }
      waiter.reject(error);
      return;
    }
    switch (event.type) {
      case "data":
        this.bodyWaiter = null;
        if (this.timerKind === "body") this.arm("body", this.ctx.options.bodyTimeout);
        if (target === null) waiter.resolve(this.handOver(event.data));
        else {
          target.set(event.data);
          waiter.resolve(event.data.length);
        }
        return;
      case "end":
        this.bodyWaiter = null;
        this.arm("response", this.ctx.options.responseTimeout);
        waiter.resolve(target === null ? null : 0);
        return;
      case "need-data":
        if (this.conn.peerClosed) {
          this.bodyWaiter = null;
          waiter.reject(clientGone());
          return;
        }
        this.bodyWaiter = waiter;
        this.arm("body", this.ctx.options.bodyTimeout);
        if (this.socket.isPaused()) this.socket.resume();
        return;
      default:
        this.bodyWaiter = null;
        waiter.resolve(target === null ? null : 0);
    }
  }

  /**
   * Body bytes for the app, which may keep them: a small piece of the read buffer is
   * copied out, a large one takes the buffer with it (the next read goes into a new one).
   */
  private handOver(data: Uint8Array): Uint8Array {
    const reads = this.reads;
    if (reads === null || !reads.holds(data)) return data;
    if (data.length <= COPY_MAX) return Buffer.from(data);
    reads.lend();
    return data;
  }

  writeHead(status: string, headers: Headers, more: boolean): void | Promise<void> {
    this.responseHeaders = headers;
    const head = this.conn.sendResponseHead(status, headers, {
      date: httpDate(this.now()),
      close: this.ctx.closing,
    });
    return this.writeRaw(head, more);
  }

  writeBody(data: Uint8Array, more: boolean): void | Promise<void> {
    const bytes = this.conn.sendData(data);
    if (bytes.length > 0) return this.writeRaw(bytes, more);
  }

  rejectRequest(): void {
    const error = this.requestError;
    if (error === null || this.closed) return;
    const bytes = this.conn.sendErrorResponse(error, { date: httpDate() });
    if (bytes === null) return;
    this.rejected = true;
    this.writeRaw(bytes, true);
  }

  end(): void {
    const bytes = this.conn.sendEnd();
    if (bytes.length > 0) this.writeRaw(bytes, true);
    this.output.flush();
  }

  done(status: string | undefined, bytesSent: number): void {
    if (this.rejected && this.requestError !== null) status = String(this.requestError.status);
    const head = this.head;
    this.head = null;
    if (head !== null) this.ctx.requestFinished(this.cgiVars, status, this.responseHeaders);
    this.responseHeaders = undefined;
    if (head !== null && this.ctx.accessLog !== null) {
      this.ctx.accessLog({
        // After the app ran: a proxyFix in front of it put the client's address there.
        remoteAddr: this.cgiVars.REMOTE_ADDR || this.peer.address || "-",
        requestLine: `${head.method} ${head.target} ${head.version}`,
        status: status === undefined ? 0 : Number(status.slice(0, 3)),
        // A HEAD response carries no body, whatever the app returned.
        bytes: head.method === "HEAD" ? 0 : bytesSent,
        time: this.startedAt,
        referer: this.cgiVars.HTTP_REFERER,
        userAgent: this.cgiVars.HTTP_USER_AGENT,
      });
    }
    this.output.flush();
    if (this.closed) return;
    if (this.rejected) {
      this.finish();
      return;
    }
    const state = this.conn.responseState;
    if (state === "ERROR" || state === "BODY" || this.timedOut) {
      this.destroy();
      return;
    }
    if (this.ctx.closing) this.conn.closeAfterResponse();
    this.arm("keepAlive", this.ctx.options.keepAliveTimeout);
    this.pump();
  }

  /** Queues bytes for the socket (see `Output.write`); throws once the client is gone. */
  private writeRaw(
    bytes: Uint8Array | string,
    more: boolean,
    flushNow = false,
  ): void | Promise<void> {
    if (this.closed) throw clientGone();
    return this.output.write(bytes, more, flushNow);
  }

  /** Called by the server's sweep when `deadline` passed. */
  onTimeout(): void {
    this.deadline = 0;
    if (this.timerKind === "linger") {
      this.destroy();
      return;
    }
    if (this.closed) return;
    switch (this.timerKind) {
      case "header":
      case "body": {
        if (this.conn.phase === "idle" && this.timerKind === "header") {
          this.finish();
          return;
        }
        this.timedOut = true;
        const code = this.timerKind === "header" ? "ERR_HEADER_TIMEOUT" : "ERR_BODY_TIMEOUT";
        this.ctx.logError(
          `${code}: ${this.timerKind} not received in time from ${this.socket.remoteAddress}`,
        );
        if (this.head === null || this.conn.responseState === "IDLE") {
          this.output.flush();
          this.socket.end(timeoutResponse(this.ctx.serverSoftware));
          this.closed = true;
          this.linger();
          this.failPending();
        } else this.destroy();
        return;
      }
      case "keepAlive":
        if (this.head === null) this.finish();
        return;
      case "response":
        this.timedOut = true;
        this.ctx.logError(
          `ERR_RESPONSE_TIMEOUT: ${this.head?.method} ${this.head?.target} did not finish within ${this.ctx.options.responseTimeout} ms`,
        );
        if (this.conn.responseState === "IDLE") {
          this.socket.end(timeoutResponse(this.ctx.serverSoftware, "500 Internal Server Error"));
          this.closed = true;
          this.linger();
          this.failPending();
        } else this.destroy();
        return;
      case "graceful":
        this.destroy();
    }
  }

  /**
   * Graceful shutdown: idle keep-alive connections close now, busy ones after their
   * response. A connection that has not sent its first request yet was accepted just
   * before the shutdown and its request may be on the way: it gets `FIRST_REQUEST_GRACE`.
   */
  shutdown(): void {
    if (this.closed) return;
    // Read before closeAfterResponse(), which moves an idle connection to "closed".
    const idle = this.head === null && this.conn.phase === "idle";
    if (idle && this.conn.requestCount === 0) {
      // Its response will say Connection: close, as every response does once closing.
      const headerTimeout = this.ctx.options.headerTimeout;
      const grace =
        headerTimeout > 0 ? Math.min(headerTimeout, FIRST_REQUEST_GRACE) : FIRST_REQUEST_GRACE;
      this.arm("header", grace);
      return;
    }
    this.conn.closeAfterResponse();
    if (idle) this.finish();
  }

  /** Closes the connection once the bytes written so far are flushed. */
  private finish(): void {
    this.output.flush();
    // Once only: Node builds an error (with its stack) for an end() after the end.
    if (!this.closed && !this.socket.writableEnded) this.socket.end();
    this.linger();
  }

  /**
   * Once the response has left for the kernel, gives the peer a little time to close its
   * side after we closed ours, then cuts. Until then, no timer runs: a response still
   * being written is governed by `responseTimeout` and graceful shutdown, as before the
   * close. Reading goes on meanwhile: unread input would turn the final close into a
   * reset, which can destroy response bytes still in flight.
   */
  private linger(): void {
    if (this.timerKind === "linger") return;
    this.arm("linger", 0);
    if (this.socket.isPaused()) this.socket.resume();
    const ms = Math.min(LINGER_MAX, this.ctx.options.headerTimeout || LINGER_MAX);
    if (this.socket.writableFinished) this.arm("linger", ms);
    else this.socket.once("finish", () => this.arm("linger", ms));
  }

  /** Cuts the connection at once. */
  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.onClose();
  }

  private onClose(): void {
    if (this.closed && !this.ctx.sessions.has(this)) return;
    this.closed = true;
    this.deadline = 0;
    this.ctx.sessions.delete(this);
    this.failPending();
    this.ctx.onSessionClosed();
  }

  /** Rejects a body read and writes that wait, if any: the client is gone. */
  private failPending(): void {
    const waiter = this.bodyWaiter;
    // Most connections end with nothing waiting: no error (and no stack trace) to build.
    if (waiter === null && !this.output.waiting) return;
    const error = clientGone();
    this.bodyWaiter = null;
    waiter?.reject(error);
    this.output.fail(error);
  }

  [inspect.custom](): string {
    return `Session ${this.socket.remoteAddress}:${this.socket.remotePort} ${inspect(this.conn)}`;
  }
}

function timeoutResponse(server: string | undefined, status = "408 Request Timeout"): Buffer {
  const body = `${status}\n`;
  return Buffer.from(
    `HTTP/1.1 ${status}\r\nDate: ${httpDate()}\r\n${server ? `Server: ${server}\r\n` : ""}Content-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    "latin1",
  );
}
