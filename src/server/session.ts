/**
 * One client connection of the production server: the request loop. A thin I/O loop that
 * feeds socket bytes to the sans-I/O `ServerConnection`, runs an `ExchangeHandler` per
 * request, and closes the connection when the core says so.
 *
 * Theory of operation: between requests the session pulls events from the core until a
 * request head arrives, then starts the application and stops pulling. The request body
 * is pulled lazily by `wsgi.input` (`BodyFeed`, body-feed.ts), so an app that never reads
 * never buffers a body: the socket is paused once a little is buffered. Response bytes go
 * from the handler through `ConnectionExchange` (exchange.ts) to the core and `Output`
 * (output.ts), which makes a slow reader hold the application back, so memory per
 * connection stays bounded whatever the body size. One timer at a time (timers.ts) bounds
 * each phase. When the exchange ends, the session pulls again: the next pipelined request,
 * a drain of the unread body, or the end of the connection. When the connection closes
 * while the application runs, the exchange is aborted at once (docs/disconnects.md).
 *
 * @module
 */
import type { Socket } from "node:net";
import { inspect } from "node:util";
import type { FetchApplication } from "../bridges/fetch-application.ts";
import { clientGone } from "../handlers/client-gone.ts";
import { httpDate } from "../handlers/date.ts";
import { ServerConnection, type TimeoutCode } from "../http/connection.ts";
import { LocalProtocolError, ProtocolError } from "../http/errors.ts";
import type { RequestHead } from "../http/parser.ts";
import type { WSGIApplication, WSGIEnvironment } from "../types.ts";
import { BodyFeed } from "./body-feed.ts";
import type { ServerContext } from "./context.ts";
import { buildCgiVars, HeaderKeys, type Peer, peerOf } from "./environ.ts";
import { ConnectionExchange } from "./exchange.ts";
import { lazyEnviron } from "./fetch-environ.ts";
import { FetchExchange } from "./fetch-exchange.ts";
import { ExchangeHandler } from "./handler.ts";
import { LazyRequest } from "./lazy-request.ts";
import { Output } from "./output.ts";
import type { ReadBuffer } from "./read-buffer.ts";
import { ConnectionTimer, Progress, type Timed } from "./timers.ts";

/** Buffered request bytes past which the socket is paused until the app reads. */
const PAUSE_AT = 256 * 1024;
/**
 * Pipelined requests answered in one turn, at most: a client that sends thousands at once
 * waits a turn after each batch, so other connections are served meanwhile.
 */
const PIPELINE_BATCH = 64;
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

/** How long a request body may arrive at any rate before `minBodyRate` applies (Kestrel's grace). */
const BODY_RATE_GRACE = 5000;

const EMPTY = new Uint8Array(0);

/** The WSGI environ a Fetch application gets as `env`: the CGI variables and `wsgi.*`. */
function fetchEnviron(
  vars: Record<string, string>,
  exchange: ConnectionExchange,
  ctx: ServerContext,
): WSGIEnvironment {
  const environ: Record<string, unknown> = { ...vars };
  if (ctx.serverSoftware !== undefined) environ.SERVER_SOFTWARE ??= ctx.serverSoftware;
  environ["wsgi.input"] = exchange.input;
  environ["wsgi.errors"] = exchange.errors;
  environ["wsgi.version"] = [1, 0];
  environ["wsgi.run_once"] = false;
  environ["wsgi.url_scheme"] = ctx.scheme;
  environ["wsgi.multithread"] = false;
  environ["wsgi.multiprocess"] = ctx.multiprocess;
  environ["wsgi.input_terminated"] = true;
  return environ as unknown as WSGIEnvironment;
}

/** One client connection. */
export class Session implements Timed {
  /** The connection's one timer. */
  readonly timer: ConnectionTimer;
  private readonly conn: ServerConnection;
  private readonly socket: Socket;
  private readonly ctx: ServerContext;
  private readonly peer: Peer;
  private readonly headerKeys = new HeaderKeys();
  private readonly output: Output;
  private readonly feed: BodyFeed;
  private readonly exchange: ConnectionExchange;
  private head: RequestHead | null = null;
  /** The running application's handler (WSGI or Fetch), while a request is answered. */
  private handler: ExchangeHandler | FetchExchange | null = null;
  private startedAt = new Date(0);
  private isClosed = false;
  /** True while `pump` runs: an exchange that ends inside it leaves the next one to that loop. */
  private pumping = false;
  private pumpScheduled = false;
  private readonly scheduledPump = () => {
    this.pumpScheduled = false;
    this.pump();
  };
  private timedOut = false;
  /** The response bytes the kernel took, watched for `sendTimeout`. */
  private readonly sendProgress = new Progress();

  /** What the handler could not report to the client (its error page failed): log and cut. */
  private readonly onHandlerFailure = (error: unknown): void => {
    this.ctx.logError(`error while sending the error page: ${inspect(error)}`);
    this.destroy();
  };

  /**
   * @param reads the buffer `socket` reads into (see `acceptIntoReadBuffers`); without one, the
   *   session takes the socket's `data` events
   * @param clock the time in ms, for the timers (a test may drive it)
   */
  constructor(
    socket: Socket,
    ctx: ServerContext,
    reads: ReadBuffer | null = null,
    clock: () => number = Date.now,
  ) {
    this.socket = socket;
    this.ctx = ctx;
    this.timer = new ConnectionTimer(clock);
    this.peer = peerOf(socket);
    this.output = new Output(socket);
    this.conn = new ServerConnection(
      ctx.serverSoftware === undefined
        ? { limits: ctx.limits }
        : { limits: ctx.limits, server: ctx.serverSoftware },
    );
    this.feed = new BodyFeed(this.conn, reads, {
      sendInterim: (bytes) => this.exchange.write(bytes, false, true),
      waitingForBody: () => {
        this.timer.arm("body", this.ctx.options.bodyTimeout);
        if (this.socket.isPaused()) this.socket.resume();
      },
      bodyProgress: () => {
        if (this.timer.kind === "body") this.timer.arm("body", this.ctx.options.bodyTimeout);
      },
      bodyEnded: () => this.timer.arm("response", this.ctx.options.responseTimeout),
      bodyRejected: (error) => this.ctx.logRejection(error, this.peer.address || "-"),
      get closed() {
        return session.isClosed;
      },
      now: () => this.timer.now(),
    });
    const session = this;
    this.exchange = new ConnectionExchange(this.conn, this.output, this.feed, ctx, {
      get closed() {
        return session.isClosed;
      },
      now: () => this.timer.now(),
      exchangeDone: (status, bytes) => this.exchangeDone(status, bytes),
    });
    socket.setNoDelay(true);
    if (reads === null) socket.on("data", (data: Buffer) => this.onData(data));
    else reads.onRead = (bytes) => this.onRead(bytes, reads);
    socket.on("end", () => this.onData(EMPTY));
    socket.on("error", () => {});
    socket.on("close", () => this.onClose());
    ctx.sessions.add(this);
    this.timer.arm("header", ctx.options.headerTimeout);
    // Flowing from the start, as a `data` listener would make it (a socket reading into a
    // ReadBuffer has none); the session pauses and resumes it from here on.
    socket.resume();
  }

  /** When the current timer fires (ms since the epoch), or 0 for none. */
  get deadline(): number {
    return this.timer.deadline;
  }

  /** True while a request is being answered. */
  get busy(): boolean {
    return this.head !== null;
  }

  /** A read into the `ReadBuffer`: the buffer is lent if the core kept bytes of it. */
  private onRead(bytes: Buffer, reads: ReadBuffer): void {
    this.onData(bytes);
    if (this.conn.bufferedBytes > 0) reads.lend();
  }

  private onData(data: Uint8Array): void {
    this.timer.eventStarted();
    try {
      this.receive(data);
    } finally {
      this.timer.eventEnded();
    }
  }

  private receive(data: Uint8Array): void {
    // After a protocol error was answered, nothing more is parsed (or logged again).
    if (this.isClosed || this.conn.phase === "error") return;
    try {
      this.conn.receive(data);
    } catch (error) {
      if (error instanceof LocalProtocolError) return;
      throw error;
    }
    if (this.feed.waiting) {
      this.feed.feed();
    } else if (data.length === 0 && this.head !== null && this.conn.responseState === "BODY") {
      // The client closed its side while the response streams: it hung up (as node:http
      // takes it). A half-close before the response started still gets the response.
      this.destroy();
    } else if (this.head === null) {
      if (this.timer.kind === "keepAlive" && data.length > 0) {
        this.timer.arm("header", this.ctx.options.headerTimeout);
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
    while (this.head === null && !this.isClosed) {
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
            else if (this.timer.kind !== "keepAlive")
              this.timer.arm("keepAlive", this.ctx.options.keepAliveTimeout);
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
    this.timer.arm("response", this.ctx.options.responseTimeout);
    if (this.ctx.fetchApp !== null) {
      this.startFetch(head, this.ctx.fetchApp);
      return;
    }
    this.exchange.begin(buildCgiVars(head, this.peer, this.headerKeys, this.ctx), head.hasBody);
    // Past --max-concurrency, the request gets the 503 app and the connection closes after it.
    const admitted = this.ctx.requestStarted(this.exchange);
    this.runWsgi(admitted ? this.ctx.app : this.refuse());
  }

  /** A request past --max-concurrency: the connection closes after the 503 app answered. */
  private refuse(): WSGIApplication {
    this.conn.closeAfterResponse();
    return this.ctx.overloadedApp;
  }

  /** Runs a WSGI application for the current request, through an `ExchangeHandler`. */
  private runWsgi(app: WSGIApplication): void {
    const handler = new ExchangeHandler(this.exchange, this.ctx.serverSoftware);
    this.handler = handler;
    try {
      handler.handle(app)?.catch(this.onHandlerFailure);
    } catch (error) {
      this.onHandlerFailure(error);
    }
  }

  /**
   * A Fetch application's request, on the fast path (fetch-exchange.ts): no WSGI handler,
   * the `Request` and the environ built only as far as the application reads them.
   */
  private startFetch(head: RequestHead, app: FetchApplication): void {
    const ctx = this.ctx;
    // The access log and the request hooks read the CGI variables; otherwise the request's
    // bookkeeping (in flight, --max-concurrency, recycling) needs only its method and target.
    const full =
      ctx.accessLog !== null ||
      ctx.hooks?.preRequest !== undefined ||
      ctx.hooks?.postRequest !== undefined;
    const cgiVars = full
      ? buildCgiVars(head, this.peer, this.headerKeys, ctx)
      : { REQUEST_METHOD: head.method, RAW_URI: head.target };
    const exchange = this.exchange;
    exchange.begin(cgiVars, head.hasBody);
    if (!ctx.requestStarted(exchange)) {
      this.runWsgi(this.refuse());
      return;
    }
    const host = head.host ?? `${ctx.serverName}:${ctx.serverPort}`;
    const request = new LazyRequest(
      head,
      `${ctx.scheme}://${host}`,
      head.hasBody ? exchange.input : null,
      ctx.options.keepUnderscoreHeaders,
    );
    const env = lazyEnviron(() => {
      const vars = full ? cgiVars : buildCgiVars(head, this.peer, this.headerKeys, ctx);
      return fetchEnviron(vars, exchange, ctx);
    });
    this.handler = FetchExchange.run(exchange, ctx, { app, request, env });
  }

  /** The exchange is over: logs it, then goes on to the next request or closes. */
  private exchangeDone(status: string | undefined, bytesSent: number): void {
    const head = this.head;
    this.head = null;
    this.handler = null;
    const exchange = this.exchange;
    const vars = exchange.cgiVars;
    if (head !== null) this.ctx.requestFinished(exchange, status, exchange.responseHeaders);
    exchange.responseHeaders = undefined;
    if (head !== null && this.ctx.accessLog !== null) {
      this.ctx.accessLog({
        // After the app ran: a proxyFix in front of it put the client's address there.
        remoteAddr: vars.REMOTE_ADDR || this.peer.address || "-",
        requestLine: `${head.method} ${head.target} ${head.version}`,
        status: status === undefined ? 0 : Number(status.slice(0, 3)),
        // A HEAD response carries no body, whatever the app returned.
        bytes: head.method === "HEAD" ? 0 : bytesSent,
        time: this.startedAt,
        referer: vars.HTTP_REFERER,
        userAgent: vars.HTTP_USER_AGENT,
        requestId: exchange.id,
      });
    }
    this.output.flush();
    if (this.isClosed) return;
    if (this.exchange.rejected) {
      this.finish();
      return;
    }
    const state = this.conn.responseState;
    if (state === "ERROR" || state === "BODY" || this.timedOut) {
      this.destroy();
      return;
    }
    if (this.ctx.closing) this.conn.closeAfterResponse();
    this.timer.arm("keepAlive", this.ctx.options.keepAliveTimeout);
    this.pump();
  }

  /** Called by the server's sweep: fires the timer if due, then checks the two rates. */
  sweep(now: number): void {
    const deadline = this.timer.deadline;
    if (deadline !== 0 && now >= deadline) this.onTimeout();
    this.checkSend(now);
    this.checkBodyRate(now);
  }

  /**
   * `sendTimeout`: while response bytes wait in the socket, the bytes the kernel took must
   * keep growing; a client that stops reading for that long is cut, and its exchange
   * aborted, so neither its socket nor the response it did not take is held forever.
   */
  private checkSend(now: number): void {
    const ms = this.ctx.options.sendTimeout;
    const socket = this.socket;
    const pending = socket.writableLength;
    if (ms <= 0 || socket.destroyed || pending === 0) {
      this.sendProgress.reset();
      return;
    }
    if (this.sendProgress.stalled(socket.bytesWritten - pending, now, ms)) {
      this.ctx.logError(
        `ERR_SEND_TIMEOUT: ${this.peer.address || "-"} took no response bytes for ${ms} ms (${pending} waiting)`,
      );
      this.destroy();
    }
  }

  /**
   * `minBodyRate`: after a grace period, a request body the application is reading must
   * arrive at this many bytes per second of waiting, or the request gets 408 and the app's
   * read fails as a disconnect (a body trickled just under the body timeout would
   * otherwise hold the connection for weeks).
   */
  private checkBodyRate(now: number): void {
    const rate = this.ctx.options.minBodyRate;
    if (rate <= 0 || this.isClosed || this.head === null || !this.feed.waiting) return;
    const waited = this.feed.waited(now);
    if (waited <= BODY_RATE_GRACE || this.feed.received * 1000 >= rate * waited) return;
    const message = `request body from ${this.peer.address || "-"} arrived at ${Math.floor((this.feed.received * 1000) / waited)} bytes/s, below ${rate}`;
    this.ctx.logError(`ERR_BODY_TOO_SLOW: ${message}`);
    this.giveUp("ERR_BODY_TOO_SLOW", message);
  }

  /** Called when the timer's deadline passed. */
  onTimeout(): void {
    this.timer.clear();
    const kind = this.timer.kind;
    if (kind === "linger") {
      this.destroy();
      return;
    }
    if (this.isClosed) return;
    switch (kind) {
      case "header":
      case "body": {
        if (this.conn.phase === "idle" && kind === "header") {
          this.finish();
          return;
        }
        const code = kind === "header" ? "ERR_HEADER_TIMEOUT" : "ERR_BODY_TIMEOUT";
        const message = `${kind} not received in time from ${this.socket.remoteAddress}`;
        this.ctx.logError(`${code}: ${message}`);
        this.giveUp(code, message);
        return;
      }
      case "keepAlive":
        if (this.head === null) this.finish();
        return;
      case "response": {
        const message = `${this.head?.method} ${this.head?.target} did not finish within ${this.ctx.options.responseTimeout} ms`;
        this.ctx.logError(`ERR_RESPONSE_TIMEOUT: ${message}`);
        this.giveUp("ERR_RESPONSE_TIMEOUT", message);
        return;
      }
      case "graceful":
        this.destroy();
    }
  }

  /**
   * A timer ran out: answers with the core's coded error response if no response bytes went
   * out yet (then lets the peer read it and close), else cuts the connection. Either way
   * the running exchange is aborted: the application's body is closed now.
   */
  private giveUp(code: TimeoutCode, message: string): void {
    this.timedOut = true;
    const bytes = this.conn.timeOut(code, message, { date: httpDate(this.timer.now()) });
    if (bytes === null) {
      this.destroy();
      return;
    }
    this.output.flush();
    this.socket.end(bytes);
    this.isClosed = true;
    this.linger();
    this.failPending();
  }

  /**
   * Graceful shutdown: idle keep-alive connections close now, busy ones after their
   * response. A connection that has not sent its first request yet was accepted just
   * before the shutdown and its request may be on the way: it gets `FIRST_REQUEST_GRACE`.
   */
  shutdown(): void {
    if (this.isClosed) return;
    // Read before closeAfterResponse(), which moves an idle connection to "closed".
    const idle = this.head === null && this.conn.phase === "idle";
    if (idle && this.conn.requestCount === 0) {
      // Its response will say Connection: close, as every response does once closing.
      const headerTimeout = this.ctx.options.headerTimeout;
      const grace =
        headerTimeout > 0 ? Math.min(headerTimeout, FIRST_REQUEST_GRACE) : FIRST_REQUEST_GRACE;
      this.timer.arm("header", grace);
      return;
    }
    this.conn.closeAfterResponse();
    if (idle) this.finish();
  }

  /** Closes the connection once the bytes written so far are flushed. */
  private finish(): void {
    this.output.flush();
    // Once only: Node builds an error (with its stack) for an end() after the end.
    if (!this.isClosed && !this.socket.writableEnded) this.socket.end();
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
    if (this.timer.kind === "linger") return;
    this.timer.arm("linger", 0);
    if (this.socket.isPaused()) this.socket.resume();
    const ms = Math.min(LINGER_MAX, this.ctx.options.headerTimeout || LINGER_MAX);
    if (this.socket.writableFinished) this.timer.arm("linger", ms);
    else this.socket.once("finish", () => this.timer.arm("linger", ms));
  }

  /** Cuts the connection at once. */
  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.onClose();
  }

  private onClose(): void {
    if (this.isClosed && !this.ctx.sessions.has(this)) return;
    this.isClosed = true;
    this.timer.clear();
    this.ctx.sessions.delete(this);
    this.failPending();
    this.ctx.onSessionClosed();
  }

  /**
   * The client is gone (or a timer gave up on it): a body read and writes that wait are
   * rejected, and the running exchange is aborted, so the application's body is closed now
   * even while nothing is being read or written.
   */
  private failPending(): void {
    const handler = this.handler;
    // Most connections end with nothing waiting: no error (and no stack trace) to build.
    if (!this.feed.waiting && !this.output.waiting && handler === null) return;
    const error = clientGone();
    this.feed.fail(error);
    this.output.fail(error);
    handler?.abort(error);
  }

  [inspect.custom](): string {
    return `Session ${this.socket.remoteAddress}:${this.socket.remotePort} ${inspect(this.conn)}`;
  }
}
