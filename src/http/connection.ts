/**
 * `ServerConnection`: the server side of one HTTP/1.1 connection, without I/O.
 *
 * Bytes go in with `receive(bytes)` and come out as events from `nextEvent()`; responses
 * go out as bytes from `sendResponse`, `sendData`, `sendEnd` (or `respond`). The theory of
 * operation and the state machines it runs, as data, are in `states.ts`.
 *
 * @module
 */
import { inspect } from "node:util";
import { ChunkedDecoder, DATA, END } from "./chunked.ts";
import { LocalProtocolError, ProtocolError } from "./errors.ts";

import {
  CLOSED,
  type ConnectionEvent,
  END_NO_TRAILERS,
  NEED_DATA,
  type NeedDataEvent,
  PAUSED,
} from "./events.ts";
import { writeLatin1 } from "./latin1.ts";
import { DEFAULT_LIMITS, type Limits, resolveLimits } from "./limits.ts";
import { HeadParser, type RequestHead } from "./parser.ts";
import { ReceiveBuffer } from "./receive-buffer.ts";
import { errorResponse, informational, ResponseFramer, type ResponseHeader } from "./response.ts";
import {
  R_AWAIT_HEAD,
  R_BODY,
  R_CLOSED,
  R_DONE,
  R_DRAIN,
  R_ERROR,
  R_SWITCHED,
  REQUEST_NEXT,
  REQUEST_STATE_NAMES,
  RESPONSE_NEXT,
  RESPONSE_STATE_NAMES,
  type RequestState,
  type ResponseState,
  T_BODY_END,
  T_CLOSE,
  T_CYCLE,
  T_DRAIN,
  T_ERROR,
  T_HEAD,
  T_RESPONSE_END,
  T_RESPONSE_START,
  T_SWITCH,
  TRIGGER_NAMES,
  TRIGGERS,
  W_BODY,
  W_DONE,
  W_IDLE,
} from "./states.ts";

/** The codes the server gives up on an exchange with, when one of its clocks ran out. */
export type TimeoutCode =
  | "ERR_HEADER_TIMEOUT"
  | "ERR_BODY_TIMEOUT"
  | "ERR_BODY_TOO_SLOW"
  | "ERR_RESPONSE_TIMEOUT";

/**
 * Where the connection is, for the server's timers: `idle` (no request bytes buffered;
 * `requestCount` tells a new connection from a kept-alive one), `head` (part of a head
 * received), `body` (the request body is being read), `response` (request read, response
 * not finished), `drain` (discarding an unread body), `switched`, `closed`, `error`.
 */
export type Phase =
  | "idle"
  | "head"
  | "body"
  | "response"
  | "drain"
  | "switched"
  | "closed"
  | "error";

/** Options of a `ServerConnection`. */
export interface ServerConnectionOptions {
  /** Size limits; missing ones take their defaults (see `LIMITS`). */
  limits?: Partial<Limits>;
  /** Allow persistent connections; false closes after every response. Default true. */
  keepAlive?: boolean;
  /** The `Server` field value added to every response that has none. */
  server?: string;
}

/** Per-response options of `sendResponse` and `respond`. */
export interface SendOptions {
  /** The pre-rendered `Date` value, added unless the application gave one. */
  date?: string;
  /** Close the connection after this response (`Connection: close`). */
  close?: boolean;
}

const EMPTY = Buffer.alloc(0);

const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";

/**
 * The server side of one HTTP/1.1 connection, as a sans-I/O state machine.
 *
 * @example
 * const conn = new ServerConnection();
 * conn.receive(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * const req = conn.nextEvent(); // { type: "request", method: "GET", path: "/", ... }
 * conn.nextEvent(); // { type: "end", trailers: [] }
 * const bytes = conn.respond(200, [["Content-Type", "text/plain"]], Buffer.from("hi"));
 * // write `bytes`; conn.nextEvent() now parses the next request, or says need-data
 */
export class ServerConnection {
  /** Indexes into REQUEST_STATE_NAMES and RESPONSE_STATE_NAMES. */
  private req = R_AWAIT_HEAD;
  private res = W_IDLE;
  private readonly limits: Limits;
  private readonly allowKeepAlive: boolean;
  private readonly server: string | undefined;
  private readonly parser: HeadParser;
  private readonly framer = new ResponseFramer();
  private decoder: ChunkedDecoder | null = null;
  private readonly input = new ReceiveBuffer();
  private eof = false;
  private current: RequestHead | null = null;
  private chunked = false;
  private bodyRemaining = 0;
  private bodyReceived = 0;
  private drained = 0;
  private wantKeepAlive = true;
  private closeRequested = false;
  private continueSent = false;
  private errorAnswerable = false;
  private failure: Error | null = null;
  private requests = 0;

  /** @param options limits, keep-alive policy and the Server field */
  constructor(options: ServerConnectionOptions = {}) {
    this.limits = options.limits === undefined ? DEFAULT_LIMITS : resolveLimits(options.limits);
    this.allowKeepAlive = options.keepAlive ?? true;
    this.server = options.server;
    this.parser = new HeadParser(this.limits);
  }

  /** The request side's state. */
  get requestState(): RequestState {
    return REQUEST_STATE_NAMES[this.req]!;
  }

  /** The response side's state. */
  get responseState(): ResponseState {
    return RESPONSE_STATE_NAMES[this.res]!;
  }

  /** Where the connection is, for timers (see `Phase`). */
  get phase(): Phase {
    switch (this.req) {
      case R_AWAIT_HEAD:
        return this.input.pending > 0 ? "head" : "idle";
      case R_BODY:
        return this.requestBodyPending ? "body" : "response";
      case R_DONE:
        return "response";
      case R_DRAIN:
        return "drain";
      case R_SWITCHED:
        return "switched";
      case R_CLOSED:
        return "closed";
      default:
        return "error";
    }
  }

  /** The request being answered, or null between requests. */
  get request(): RequestHead | null {
    return this.current;
  }

  /** How many request heads were read on this connection. */
  get requestCount(): number {
    return this.requests;
  }

  /** Whether the connection will stay open after the current response, as decided so far. */
  get keepAlive(): boolean {
    if (this.req === R_CLOSED || this.req === R_ERROR || this.closeRequested) return false;
    if (this.res === W_BODY || this.res === W_DONE) return this.framer.keepAlive;
    return this.current === null || this.wantKeepAlive;
  }

  /** Whether the peer closed its side (`receive` got an empty array). */
  get peerClosed(): boolean {
    return this.eof;
  }

  /** How many received bytes are not consumed yet. */
  get bufferedBytes(): number {
    return this.input.pending;
  }

  /** The received bytes not consumed yet: after a 101, the start of the new protocol. */
  get trailingData(): Uint8Array {
    return this.input.bytes.subarray(this.input.pos);
  }

  /** Whether part of the current request body has not been read as events yet. */
  get requestBodyPending(): boolean {
    if (this.req !== R_BODY) return false;
    return this.chunked ? !this.decoder!.done : this.bodyRemaining > 0;
  }

  /**
   * Whether the client sent `Expect: 100-continue` and waits: no body byte arrived, no 100
   * and no response were sent. The server calls `sendContinue()` when the app first reads.
   */
  get awaitingContinue(): boolean {
    return (
      this.current?.expectContinue === true &&
      !this.continueSent &&
      this.res === W_IDLE &&
      this.bodyReceived === 0 &&
      this.input.pending === 0 &&
      this.requestBodyPending
    );
  }

  /** Whether an error response can still be sent (the error came before any response bytes). */
  get canSendErrorResponse(): boolean {
    return this.errorAnswerable;
  }

  /**
   * Appends received bytes. The core keeps views of them (body events are subarrays), so
   * do not reuse the memory. An empty array means the peer closed its side.
   *
   * @throws LocalProtocolError ERR_INVALID_STATE for data after the end or after a switch
   */
  receive(data: Uint8Array): void {
    if (data.length === 0) {
      this.eof = true;
      return;
    }
    if (this.eof || this.req === R_SWITCHED) {
      throw new LocalProtocolError(
        "ERR_INVALID_STATE",
        this.eof
          ? "data received after the peer closed"
          : "data received after switching protocols",
      );
    }
    if (this.req === R_CLOSED || this.req === R_ERROR) return;
    this.input.append(data);
  }

  /**
   * The next event from the received bytes.
   *
   * @param maxData the most body bytes a `data` event may carry (a reader with a buffer of
   *   that size); at least 1
   * @throws ProtocolError when the request is malformed, hostile or over a limit; the
   *   connection is then in ERROR: answer with `sendErrorResponse(error)` and close
   */
  nextEvent(maxData = Number.POSITIVE_INFINITY): ConnectionEvent {
    switch (this.req) {
      case R_AWAIT_HEAD:
      case R_BODY:
      case R_DRAIN:
        try {
          return this.req === R_BODY ? this.readBody(maxData) : this.readHead();
        } catch (e) {
          if (e instanceof ProtocolError) this.fail(e, this.res === W_IDLE);
          throw e;
        }
      case R_DONE:
      case R_SWITCHED:
        return PAUSED;
      case R_CLOSED:
        return CLOSED;
      default:
        throw this.failure!;
    }
  }

  /**
   * Starts the response: validates the status and fields, decides the framing, and returns
   * the bytes of the head.
   *
   * @param status a code (`200`) or a WSGI status string (`"200 OK"`); 1xx other than 101
   *   go through `sendInformational`
   * @param headers the application's fields; Content-Length is honoured and enforced,
   *   Transfer-Encoding, Connection and Keep-Alive are replaced by the core's own
   * @throws LocalProtocolError for an invalid status or field (nothing changes: a 500 can
   *   still be sent), or ERR_INVALID_STATE when no request awaits a response
   */
  sendResponse(
    status: number | string,
    headers: Iterable<ResponseHeader> = [],
    options: SendOptions = {},
  ): Uint8Array {
    return Buffer.from(this.startResponse(status, headers, options, -1), "latin1");
  }

  /**
   * `sendResponse`, with the head returned as text (one char per byte, latin-1) rather than
   * encoded: for a server that copies it into one buffer with the first body bytes.
   *
   * @throws LocalProtocolError as `sendResponse`
   */
  sendResponseHead(
    status: number | string,
    headers: Iterable<ResponseHeader> = [],
    options: SendOptions = {},
  ): string {
    return this.startResponse(status, headers, options, -1);
  }

  /**
   * A whole response in one buffer: head, body and end. Content-Length is set to the body's
   * length unless given (and then checked against it). The fastest path for small bodies.
   *
   * @throws LocalProtocolError as `sendResponse`, and ERR_RESPONSE_BODY_TOO_LONG or
   *   ERR_RESPONSE_BODY_TOO_SHORT when a given Content-Length does not match the body
   */
  respond(
    status: number | string,
    headers: Iterable<ResponseHeader>,
    body: Uint8Array,
    options: SendOptions = {},
  ): Uint8Array {
    const head = this.startResponse(status, headers, options, body.length, true);
    const framer = this.framer;
    const withBody = framer.mode !== "none";
    const bodyLength = withBody ? body.length : 0;
    const out = Buffer.allocUnsafe(head.length + bodyLength);
    writeLatin1(out, head, 0);
    if (withBody) out.set(body, head.length);
    framer.sent = framer.mode === "length" ? framer.contentLength : bodyLength;
    this.finishResponse();
    return out;
  }

  /**
   * Frames a piece of the response body.
   *
   * @returns the bytes to write: the chunk itself (Content-Length or close-delimited), a
   *   chunk frame (chunked), or nothing (HEAD, 204, 304)
   * @throws LocalProtocolError ERR_RESPONSE_BODY_TOO_LONG past the declared Content-Length
   *   (the connection is then in ERROR and must be closed), ERR_INVALID_STATE
   */
  sendData(chunk: Uint8Array): Uint8Array {
    if (this.res !== W_BODY) throw this.invalidState("sendData");
    try {
      return this.framer.data(chunk);
    } catch (e) {
      if (e instanceof LocalProtocolError) this.fail(e, false);
      throw e;
    }
  }

  /**
   * Ends the response and moves on: to the next request, to draining the unread body, or
   * to CLOSED.
   *
   * @returns the bytes that end the body (`0\r\n\r\n` when chunked, else nothing)
   * @throws LocalProtocolError ERR_RESPONSE_BODY_TOO_SHORT when less than the declared
   *   Content-Length was written (the connection is then in ERROR), ERR_INVALID_STATE
   */
  sendEnd(): Uint8Array {
    if (this.res !== W_BODY) throw this.invalidState("sendEnd");
    let bytes: Uint8Array;
    try {
      bytes = this.framer.end();
    } catch (e) {
      if (e instanceof LocalProtocolError) this.fail(e, false);
      throw e;
    }
    this.finishResponse();
    return bytes;
  }

  /**
   * The `100 Continue` interim response, once, when the client is `awaitingContinue`; call
   * it when the application first reads the body. Null when it is not needed.
   */
  sendContinue(): Uint8Array | null {
    if (!this.awaitingContinue) return null;
    this.continueSent = true;
    return Buffer.from(CONTINUE, "latin1");
  }

  /**
   * An informational response (103 Early Hints, ...) before the final one. HTTP/1.0 clients
   * get none (RFC 9110 §15.2), so the result is then empty.
   *
   * @throws LocalProtocolError ERR_INVALID_STATUS, ERR_INVALID_RESPONSE_HEADER, ERR_INVALID_STATE
   */
  sendInformational(status: number | string, headers: Iterable<ResponseHeader> = []): Uint8Array {
    if (this.res !== W_IDLE || this.current === null) throw this.invalidState("sendInformational");
    const head = informational(status, headers);
    if (this.current.version === "HTTP/1.0") return EMPTY;
    if (head.startsWith("HTTP/1.1 100")) this.continueSent = true;
    return Buffer.from(head, "latin1");
  }

  /**
   * The answer to a `ProtocolError` from `nextEvent()`: its status, a short body naming its
   * code, `Connection: close`. Null when a response had already started (then just close).
   */
  sendErrorResponse(error: ProtocolError, options: { date?: string } = {}): Uint8Array | null {
    if (!this.errorAnswerable) return null;
    this.errorAnswerable = false;
    const isHead = this.current?.method === "HEAD";
    return errorResponse(error.status, error.reason, error.code, options.date, this.server, isHead);
  }

  /**
   * Gives up on the current exchange because one of the server's clocks ran out (the core
   * keeps no clock): the connection moves to ERROR, and the answer is framed as any
   * rejection is, with the code's status and `Connection: close`; null when response bytes
   * already went out (then the server just closes).
   */
  timeOut(code: TimeoutCode, message: string, options: { date?: string } = {}): Uint8Array | null {
    const error = new ProtocolError(code, message);
    this.fail(error, this.res === W_IDLE);
    return this.sendErrorResponse(error, options);
  }

  /**
   * Asks to close the connection after the current response (graceful shutdown): a response
   * not started yet says `Connection: close`; one already started ends the connection anyway.
   */
  closeAfterResponse(): void {
    this.closeRequested = true;
    if (this.req === R_AWAIT_HEAD && this.res === W_IDLE && this.input.pending === 0) {
      this.move(T_CLOSE);
    }
  }

  /** Shows the state in `util.inspect` and `console.log`. */
  [inspect.custom](): string {
    const req = this.current === null ? "" : ` ${this.current.method} ${this.current.target}`;
    return (
      `ServerConnection <${this.phase}> request=${this.requestState} response=${this.responseState}` +
      ` keepAlive=${this.keepAlive} requests=${this.requests} buffered=${this.bufferedBytes}${req}` +
      (this.failure === null
        ? ""
        : ` error=${(this.failure as { code?: string }).code ?? this.failure.name}`)
    );
  }

  /** Reads a head (AWAIT_HEAD), or discards unread body bytes first (DRAIN). */
  private readHead(): ConnectionEvent {
    if (this.req === R_DRAIN) {
      const drained = this.drain();
      if (drained === "closed") return CLOSED;
      if (drained === "need") return this.needData();
    }
    const input = this.input;
    if (input.pending > 0) {
      const head = this.parser.parse(input.bytes, input.pos);
      if (head !== null) {
        input.pos += this.parser.consumed;
        this.begin(head);
        return head;
      }
    }
    if (this.eof) {
      if (input.pending > 0 && !onlyLineBreaks(input.bytes, input.pos)) {
        throw new ProtocolError(
          "ERR_INCOMPLETE_MESSAGE",
          "peer closed in the middle of a request head",
        );
      }
      this.move(T_CLOSE);
      return CLOSED;
    }
    return this.needData();
  }

  /** Starts the exchange for a parsed head. */
  private begin(head: RequestHead): void {
    this.move(T_HEAD);
    this.current = head;
    this.requests++;
    this.chunked = head.chunked;
    this.bodyRemaining = head.chunked ? 0 : (head.contentLength ?? 0);
    this.bodyReceived = 0;
    this.continueSent = false;
    this.wantKeepAlive = head.keepAlive && this.allowKeepAlive && !this.closeRequested;
    if (head.chunked) {
      if (this.decoder === null) this.decoder = new ChunkedDecoder(this.limits);
      else this.decoder.reset();
    }
  }

  /** The next body event in BODY. */
  private readBody(maxData: number): ConnectionEvent {
    if (this.chunked) {
      const decoder = this.decoder!;
      const result = decoder.decode(this.input.bytes, this.input.pos, maxData);
      this.input.pos = decoder.pos;
      if (result === DATA) {
        this.bodyReceived += decoder.data.length;
        return { type: "data", data: decoder.data };
      }
      if (result === END) {
        this.move(T_BODY_END);
        return decoder.trailers.length === 0
          ? END_NO_TRAILERS
          : { type: "end", trailers: decoder.trailers };
      }
    } else {
      const remaining = this.bodyRemaining;
      if (remaining === 0) {
        this.move(T_BODY_END);
        return END_NO_TRAILERS;
      }
      const input = this.input;
      const available = input.pending;
      if (available > 0) {
        const n = Math.min(available, remaining, maxData);
        const data = input.bytes.subarray(input.pos, input.pos + n);
        input.pos += n;
        this.bodyRemaining = remaining - n;
        this.bodyReceived += n;
        return { type: "data", data };
      }
    }
    if (this.eof) {
      throw new ProtocolError(
        "ERR_INCOMPLETE_MESSAGE",
        "peer closed in the middle of a request body",
      );
    }
    return this.needData();
  }

  /**
   * Discards body bytes in DRAIN.
   *
   * @returns `done` when the body is over (the state is then AWAIT_HEAD), `need` when more
   *   bytes are needed, `closed` when the body was too long or the peer went away
   */
  private drain(): "done" | "need" | "closed" {
    const max = this.limits.maxDrainBytes;
    if (this.chunked) {
      const decoder = this.decoder!;
      for (;;) {
        const result = decoder.decode(this.input.bytes, this.input.pos);
        this.input.pos = decoder.pos;
        if (result === END) break;
        if (result !== DATA) return this.drainStalled();
        this.drained += decoder.data.length;
        if (this.drained > max) {
          this.move(T_CLOSE);
          return "closed";
        }
      }
    } else {
      const n = Math.min(this.input.pending, this.bodyRemaining);
      this.input.pos += n;
      this.bodyRemaining -= n;
      if (this.bodyRemaining > 0) return this.drainStalled();
    }
    this.cycle();
    return "done";
  }

  private drainStalled(): "need" | "closed" {
    if (!this.eof) return "need";
    this.move(T_CLOSE);
    return "closed";
  }

  /** Validates and renders the response head and moves the response side to BODY. */
  private startResponse(
    status: number | string,
    headers: Iterable<ResponseHeader>,
    options: SendOptions,
    bodyLength: number,
    whole = false,
  ): string {
    const req = this.current;
    if (this.res !== W_IDLE || req === null) throw this.invalidState("a response");
    const keepAlive =
      this.wantKeepAlive &&
      options.close !== true &&
      !this.closeRequested &&
      !this.awaitingContinue;
    const framer = this.framer;
    const head = framer.head(
      status,
      headers,
      req.method === "HEAD",
      req.version === "HTTP/1.0",
      keepAlive,
      options.date,
      this.server,
      bodyLength,
    );
    const code = framer.code;
    if (code < 200 && code !== 101) {
      throw new LocalProtocolError(
        "ERR_INVALID_STATUS",
        `${code} is informational: use sendInformational`,
      );
    }
    if (whole && framer.mode === "length" && framer.contentLength !== bodyLength) {
      throw new LocalProtocolError(
        framer.contentLength < bodyLength
          ? "ERR_RESPONSE_BODY_TOO_LONG"
          : "ERR_RESPONSE_BODY_TOO_SHORT",
        `body of ${bodyLength} bytes for a Content-Length of ${framer.contentLength}`,
      );
    }
    if (code === 101) {
      if (whole || req.upgrade === null || this.requestBodyPending) {
        throw new LocalProtocolError(
          "ERR_INVALID_STATE",
          "101 Switching Protocols needs an Upgrade request whose body was read, and no body",
        );
      }
      this.move(T_SWITCH);
      return head;
    }
    this.move(T_RESPONSE_START);
    return head;
  }

  /** After the response ended: the next request, draining, or closing. */
  private finishResponse(): void {
    this.move(T_RESPONSE_END);
    if (!this.framer.keepAlive || this.closeRequested) {
      this.move(T_CLOSE);
    } else if (this.req === R_DONE) {
      this.cycle();
    } else if (!this.requestBodyPending) {
      this.move(T_BODY_END);
      this.cycle();
    } else if (!this.chunked && this.bodyRemaining > this.limits.maxDrainBytes) {
      this.move(T_CLOSE);
    } else {
      this.drained = 0;
      this.move(T_DRAIN);
    }
  }

  /** Both sides back to the start for the next request. */
  private cycle(): void {
    this.move(T_CYCLE);
    this.current = null;
  }

  private needData(): NeedDataEvent {
    this.input.releaseIfConsumed();
    return NEED_DATA;
  }

  /** Moves to ERROR; `answerable` says whether an error response may still be sent. */
  private fail(error: Error, answerable: boolean): void {
    this.failure = error;
    this.errorAnswerable = answerable;
    this.move(T_ERROR);
  }

  /** Fires a trigger on both state machines, following `REQUEST_STATES` and `RESPONSE_STATES` (states.ts). */
  private move(trigger: number): void {
    const req = REQUEST_NEXT[this.req * TRIGGERS + trigger]!;
    const res = RESPONSE_NEXT[this.res * TRIGGERS + trigger]!;
    if (req < 0 && res < 0) {
      throw new LocalProtocolError(
        "ERR_INVALID_STATE",
        `cannot ${TRIGGER_NAMES[trigger]} in request=${this.requestState} response=${this.responseState}`,
      );
    }
    if (req >= 0) this.req = req;
    if (res >= 0) this.res = res;
  }

  private invalidState(what: string): LocalProtocolError {
    return new LocalProtocolError(
      "ERR_INVALID_STATE",
      `cannot send ${what} in request=${this.requestState} response=${this.responseState}`,
    );
  }
}

/** Whether `buf[from..]` holds nothing but CR and LF (stray line breaks, not a request). */
function onlyLineBreaks(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0x0d && buf[i] !== 0x0a) return false;
  return true;
}
