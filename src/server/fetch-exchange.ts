/**
 * The server's fast path for a Fetch application: one request, answered without a WSGI
 * handler in between. The `Request` is built lazily from the parsed head (lazy-request.ts),
 * its body pulled from the connection's `wsgi.input` as the handler reads; the `Response`
 * goes straight to the connection: a string or bytes body (a `FastResponse`'s, see
 * fast-response.ts) in one write with its Content-Length, a stream chunk by chunk, each
 * write awaited so a slow client holds the stream back.
 *
 * The close rule (docs/disconnects.md): when the connection closes or a timer gives up,
 * the session calls `abort`, which aborts `request.signal` and cancels the response body
 * at once, even while nothing is being written (an idle Server-Sent Events stream).
 *
 * @module
 */

import type { FetchApplication, FetchExecutionContext } from "../bridges/fetch-application.ts";
import { clientGone, isClientGone } from "../handlers/client-gone.ts";
import { formatError } from "../handlers/support.ts";
import { ProtocolError } from "../http/errors.ts";
import type { ResponseHeader } from "../http/response.ts";
import { reasonPhrase, statusForbidsBody } from "../http/status.ts";
import type { WSGIEnvironment } from "../types.ts";
import { isHopByHop } from "../util.ts";
import type { ServerContext } from "./context.ts";
import type { ConnectionExchange } from "./exchange.ts";
import { fastParts, type HeaderInit } from "./fast-response.ts";
import { abortRequest, cancelRequestBody, type LazyRequest } from "./lazy-request.ts";

/** The standard `Response`, whatever `globalThis.Response` is later. */
const NativeResponse: typeof Response = globalThis.Response;

/** Methods a Fetch `Request` refuses to carry: answered with 501, as `fromFetchHandler` does. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

const EMPTY = new Uint8Array(0);
const ERROR_STATUS = "500 Internal Server Error";
const ERROR_HEADERS: ResponseHeader[] = [["Content-Type", "text/plain"]];
const ERROR_BODY = Buffer.from("A server error occurred.  Please contact the administrator.");
const ignore = () => {};

/** What the exchange gets from its session besides the connection. */
export interface FetchRequestInfo {
  /** The application. */
  readonly app: FetchApplication;
  /** The request, built lazily. */
  readonly request: LazyRequest;
  /** The `env` argument: the WSGI environ (or an object that builds it on first use). */
  readonly env: WSGIEnvironment;
}

/** One request to a Fetch application, from its call to the end of its response. */
export class FetchExchange {
  private readonly exchange: ConnectionExchange;
  private readonly ctx: ServerContext;
  private readonly request: LazyRequest;
  private abortReason: Error | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private status: string | undefined;
  private bytesSent = 0;
  private headersSent = false;
  private finished = false;

  constructor(exchange: ConnectionExchange, ctx: ServerContext, request: LazyRequest) {
    this.exchange = exchange;
    this.ctx = ctx;
    this.request = request;
  }

  /** Calls the application with `info` and sends its response. */
  static run(
    exchange: ConnectionExchange,
    ctx: ServerContext,
    info: FetchRequestInfo,
  ): FetchExchange {
    const fx = new FetchExchange(exchange, ctx, info.request);
    fx.start(info);
    return fx;
  }

  private start(info: FetchRequestInfo): void {
    const method = info.request.method;
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) {
      this.sendWhole(
        "501 Not Implemented",
        [["Content-Type", "text/plain; charset=utf-8"]],
        Buffer.from(`${method} is not supported by a Fetch handler\n`),
      );
      return;
    }
    let result: Response | Promise<Response>;
    try {
      result = info.app.fetch(
        info.request as unknown as Request,
        info.env,
        executionContext(this.ctx),
      );
    } catch (error) {
      this.fail(error);
      return;
    }
    if (result instanceof NativeResponse) this.send(result);
    else if (isThenable(result)) {
      result.then(
        (response) => this.send(response),
        (error: unknown) => this.fail(error),
      );
    } else this.send(result);
  }

  /**
   * The client is gone (or a timer gave up): `request.signal` aborts and the response body
   * is cancelled now; a response that comes later is cancelled when it comes.
   */
  abort(reason: Error = clientGone()): void {
    if (this.abortReason !== undefined || this.finished) return;
    this.abortReason = reason;
    abortRequest(this.request, reason);
    cancelRequestBody(this.request, reason);
    const reader = this.reader;
    if (reader !== undefined) reader.cancel(reason).catch(ignore);
    else this.finish();
  }

  /** Sends the application's answer; anything it throws on the way gets the 500 page. */
  private send(response: unknown): void {
    try {
      this.sendResponse(response);
    } catch (error) {
      this.fail(error);
    }
  }

  private sendResponse(response: unknown): void {
    if (this.abortReason !== undefined) {
      if (response instanceof NativeResponse) response.body?.cancel(this.abortReason).catch(ignore);
      this.finish();
      return;
    }
    if (!(response instanceof NativeResponse)) {
      this.fail(
        new TypeError(
          `the Fetch application must return a Response, got ${response === null ? "null" : typeof response}`,
        ),
      );
      return;
    }
    const parts = fastParts(response);
    if (parts !== null) {
      const headers = headerList(parts.headers);
      if (parts.defaultTextType) headers.push(["content-type", "text/plain;charset=UTF-8"]);
      const body = parts.body;
      this.sendWhole(
        statusLine(parts.status, parts.statusText),
        headers,
        body === null ? EMPTY : typeof body === "string" ? Buffer.from(body) : body,
      );
      return;
    }
    const status = statusLine(response.status, response.statusText);
    const headers = headerList(response.headers);
    const stream = response.body;
    if (stream === null) {
      this.sendWhole(status, headers, EMPTY);
      return;
    }
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = stream.getReader();
    } catch (error) {
      this.fail(error);
      return;
    }
    try {
      this.exchange.writeHead(status, headers, false);
    } catch (error) {
      reader.cancel(error).catch(ignore);
      this.fail(error);
      return;
    }
    this.status = status;
    this.headersSent = true;
    if (this.request.method === "HEAD") {
      // The head is the whole answer: the body is not read, only released.
      reader.cancel().catch(ignore);
      this.exchange.end();
      this.finish();
      return;
    }
    this.reader = reader;
    void this.pump(reader);
  }

  /** Streams the body: each chunk written, and its write awaited, before the next read. */
  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const step = await reader.read();
        if (this.abortReason !== undefined) break;
        if (step.done) {
          this.exchange.end();
          break;
        }
        const chunk: unknown = step.value;
        if (!(chunk instanceof Uint8Array)) {
          throw new TypeError(
            `a Response body chunk must be a Uint8Array, got ${chunk === null ? "null" : typeof chunk}`,
          );
        }
        this.bytesSent += chunk.length;
        const pending = this.exchange.writeBody(chunk, false);
        if (pending !== undefined) await pending;
      }
    } catch (error) {
      if (this.abortReason === undefined && !isClientGone(error)) this.logError(error);
      // The response is cut short: the session closes the connection (its state is BODY).
      reader.cancel(error).catch(ignore);
    }
    this.finish();
  }

  /** A whole response in one write; the 500 page if the core refuses it. */
  private sendWhole(status: string, headers: ResponseHeader[], body: Uint8Array): void {
    try {
      if (hasContentLength(headers)) {
        // The core checks the given length against the body before anything is queued.
        this.exchange.respond(status, headers, body);
      } else {
        // A head and a small body leave as one latin-1 string (Output.flush): no buffer to fill.
        if (!statusForbidsBody(Number(status.slice(0, 3)))) {
          headers.push(["Content-Length", String(body.length)]);
        }
        this.exchange.writeHead(status, headers, true);
        if (body.length > 0) this.exchange.writeBody(body, true);
        this.exchange.end();
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    this.status = status;
    this.bytesSent = body.length;
    this.finish();
  }

  /**
   * The application failed (threw, rejected, returned no `Response`, or gave a head the
   * core refuses): logged, and answered with the 500 page if nothing was sent yet. A
   * malformed request body gets its own status (400, 413, ...) instead.
   */
  private fail(error: unknown): void {
    if (this.abortReason !== undefined || this.finished) {
      this.finish();
      return;
    }
    const rejected = this.exchange.requestError;
    if (rejected !== null) {
      if (error !== rejected && !isClientGone(error) && !(error instanceof ProtocolError))
        this.logError(error);
      if (!this.headersSent) this.exchange.rejectRequest();
      this.finish();
      return;
    }
    if (!isClientGone(error)) this.logError(error);
    if (!this.headersSent) {
      try {
        this.exchange.respond(ERROR_STATUS, ERROR_HEADERS, ERROR_BODY);
        this.status = ERROR_STATUS;
        this.bytesSent = ERROR_BODY.length;
      } catch {
        // The client is gone: nothing to answer.
      }
    }
    this.finish();
  }

  private logError(error: unknown): void {
    const errors = this.ctx.errorStream;
    errors.write(`${formatError(error)}\n`);
    errors.flush();
  }

  /** The exchange is over: the session logs it and goes on (or closes), once. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.exchange.done(this.status, this.bytesSent);
  }
}

/** Each server's execution context, made once: `waitUntil` logs a rejection to its error log. */
const contexts = new WeakMap<ServerContext, FetchExecutionContext>();

function executionContext(ctx: ServerContext): FetchExecutionContext {
  let context = contexts.get(ctx);
  if (context === undefined) {
    context = {
      waitUntil(promise) {
        Promise.resolve(promise).catch((error: unknown) =>
          ctx.logError(`a waitUntil promise rejected: ${formatError(error)}`),
        );
      },
      passThroughOnException() {},
    };
    contexts.set(ctx, context);
  }
  return context;
}

/** Whether the fields name a Content-Length. */
function hasContentLength(headers: ResponseHeader[]): boolean {
  for (const [name] of headers) {
    if (name.length === 14 && name.toLowerCase() === "content-length") return true;
  }
  return false;
}

/** `200 OK`: the code and the given reason, or the registered one. */
function statusLine(status: number, statusText: string): string {
  return `${status} ${statusText || reasonPhrase(status)}`;
}

/** The response's fields as pairs, without hop-by-hop ones; every Set-Cookie kept apart. */
function headerList(headers: HeaderInit | Headers | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (headers === undefined) return out;
  if (headers instanceof Headers || Array.isArray(headers)) {
    for (const pair of headers as Iterable<[string, string]>) {
      const name = pair[0];
      if (!isHopByHop(name)) out.push([name, String(pair[1]).trim()]);
    }
    return out;
  }
  for (const name of Object.keys(headers)) {
    const value = (headers as Record<string, unknown>)[name];
    if (!isHopByHop(name)) out.push([name, String(value).trim()]);
  }
  return out;
}

function isThenable(value: unknown): value is Promise<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
