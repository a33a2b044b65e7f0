/**
 * `toFetchHandler(app)`: a WSGI application as a Fetch handler, `(Request) => Promise<Response>`,
 * for Hono, Bun, Deno, workers or anything else that speaks the Fetch standard.
 *
 * Theory of operation: `FetchGatewayHandler` is a `BaseHandler` (the WSGI algorithm is
 * not written again here) whose I/O hooks talk to a `Response`. The environ comes from the
 * request's URL and headers; `wsgi.input` reads the request body lazily. When the
 * handler sends the headers, the promise returned to the caller resolves with
 * `new Response(stream, { status, statusText, headers })` (a null body for HEAD, 1xx, 204
 * and 304). Body chunks go into that `ReadableStream`, which queues nothing ahead
 * (high-water mark 0): `write_` enqueues a chunk and returns a promise that resolves only
 * when the reader asks for the next one, so a slow reader slows the application instead
 * of piling its output up in memory. Cancelling the stream, or
 * aborting `request.signal`, is a client disconnect (docs/disconnects.md).
 *
 * @module
 */

import { GatewayHandler } from "../handlers/gateway.ts";
import { declaredLength, inputLimit } from "../handlers/input-limit.ts";
import type { ErrorSink } from "../handlers/simple.ts";
import { ProtocolError } from "../http/errors.ts";
import { statusForbidsBody } from "../http/status.ts";
import type { InputStream, WSGIApplication } from "../types.ts";
import {
  addHeaders,
  defaultPort,
  type HeaderPolicy,
  mount,
  normalizeMount,
  toErrorStream,
  unquoteLatin1,
} from "./environ.ts";
import type { FetchExecutionContext } from "./fetch-application.ts";

/** Options of `toFetchHandler`. */
export interface ToFetchOptions extends HeaderPolicy {
  /**
   * The path the application is mounted at (`"/wsgi"`): it becomes `SCRIPT_NAME` and is
   * cut from `PATH_INFO`. Requests outside it get a 404 without calling the application.
   */
  scriptName?: string;
  /** Where `wsgi.errors` writes (default `process.stderr`). */
  errors?: ErrorSink;
  /** Extra environ keys for each request, such as `REMOTE_ADDR` from the platform; they win over the computed ones. */
  environ?: (request: Request) => Record<string, unknown>;
  /** The value of `wsgi.multiprocess` (default false). */
  multiprocess?: boolean;
  /**
   * The largest request body in bytes (default 1 GiB, the production server's default): a
   * larger declared `Content-Length` gets 413 without calling the application, and a body
   * that grows past it (chunked) fails the application's read and gets 413.
   */
  maxBodySize?: number;
}

/** The production server's default body limit, as `maxBodySize`'s default. */
const MAX_BODY_SIZE = 1024 * 1024 * 1024;

/** The 413 answer to a body past `maxBodySize`. */
function tooLarge(): Response {
  return new Response("413 Content Too Large: ERR_BODY_TOO_LARGE\n", {
    status: 413,
    headers: { "Content-Type": "text/plain; charset=utf-8", Connection: "close" },
  });
}

/** A Fetch handler: takes a `Request`, resolves with its `Response`. */
export type FetchHandler = (
  request: Request,
  env?: unknown,
  ctx?: Partial<FetchExecutionContext>,
) => Promise<Response>;

/**
 * Turns a WSGI application into a Fetch handler. The application runs through a
 * `BaseHandler`, so it gets the same error page, `Content-Length` and `close()` handling
 * as on the servers.
 *
 * @example
 * const handler = toFetchHandler(app);
 * const response = await handler(new Request("http://localhost/hello"));
 * // Hono: honoApp.mount("/wsgi", toFetchHandler(app, { scriptName: "/wsgi" }), { replaceRequest: false })
 */
export function toFetchHandler(app: WSGIApplication, options: ToFetchOptions = {}): FetchHandler {
  const prefix = normalizeMount(options.scriptName);
  return (request, _env, ctx) => {
    const url = new URL(request.url);
    const paths = mount(unquoteLatin1(url.pathname), prefix);
    if (paths === undefined) {
      return Promise.resolve(
        new Response("Not Found\n", {
          status: 404,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
        }),
      );
    }
    const scheme = url.protocol === "https:" ? "https" : "http";
    const vars: Record<string, string> = {
      REQUEST_METHOD: request.method,
      SCRIPT_NAME: paths.SCRIPT_NAME,
      PATH_INFO: paths.PATH_INFO,
      QUERY_STRING: url.search.slice(1),
      SERVER_NAME: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      SERVER_PORT: url.port || defaultPort(scheme),
      SERVER_PROTOCOL: "HTTP/1.1",
    };
    addHeaders(vars, request.headers, options);
    // Fetch's Headers joined repeated Cookie lines with ", "; a cookie-octet holds no comma
    // (RFC 6265 §4.1.1), so every ", " came from that join: undo it as the server joins them.
    if (vars.HTTP_COOKIE?.includes(",")) vars.HTTP_COOKIE = vars.HTTP_COOKIE.replace(/,\s*/g, "; ");
    vars.HTTP_HOST ??= url.host;
    if ((declaredLength(vars) ?? 0) > (options.maxBodySize ?? MAX_BODY_SIZE)) {
      return Promise.resolve(tooLarge());
    }
    const extra = options.environ?.(request) ?? {};
    const handler = new FetchGatewayHandler(request, vars, extra, scheme, options);
    return handler.respond(app, ctx);
  };
}

/** The `BaseHandler` behind `toFetchHandler`: one request, one `Response`. */
class FetchGatewayHandler extends GatewayHandler {
  private readonly request: Request;
  private resolveResponse!: (response: Response) => void;
  private rejectResponse!: (error: unknown) => void;
  private readonly response: Promise<Response>;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private pullWaiter: (() => void) | undefined;
  /** True once the response's stream was closed normally. */
  private ended = false;
  /** The error a read past `maxBodySize` failed with, or null. */
  private bodyTooLarge: ProtocolError | null = null;
  private readonly maxBodySize: number;
  /** The last error the handler logged: what a stream cut short errors with. */
  private failure: unknown = undefined;

  constructor(
    request: Request,
    cgiVars: Record<string, string>,
    extra: Record<string, unknown>,
    scheme: string,
    options: ToFetchOptions,
  ) {
    super();
    this.request = request;
    this.cgiVars = { ...cgiVars, ...extra };
    this.scheme = scheme;
    this.wsgiMultiprocess = options.multiprocess ?? false;
    this.maxBodySize = options.maxBodySize ?? MAX_BODY_SIZE;
    this.stderr = toErrorStream(options.errors);
    this.stdin = this.makeInput();
    this.response = new Promise<Response>((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
    const signal = request.signal;
    if (signal.aborted) this.link.disconnect();
    else signal.addEventListener("abort", () => this.link.disconnect(), { once: true });
    this.link.onGone(() => {
      // Headers not sent yet: nobody is waiting for the Response any more.
      this.rejectResponse(signal.reason ?? new Error("the client went away"));
    });
  }

  /** Runs the application; resolves with the Response once the headers are sent. */
  /**
   * Runs the application; resolves with the Response once the headers are sent. Where the
   * platform gives a `waitUntil`, the run is handed to it, so a worker stays alive until
   * the body's `close()` ran, also after the client left.
   */
  respond(app: WSGIApplication, ctx?: Partial<FetchExecutionContext>): Promise<Response> {
    const running = this.run(app).then(
      () => this.settle(),
      (error: unknown) => this.settle(error),
    );
    ctx?.waitUntil?.(running);
    return this.response;
  }

  /** After `run`: a response cut short (an error after the headers) errors the stream. */
  private settle(error?: unknown): void {
    const problem =
      error ?? this.failure ?? new Error("the application failed after the response started");
    this.rejectResponse(problem);
    if (!this.ended && this.controller !== undefined && !this.link.gone) {
      try {
        this.controller.error(problem);
      } catch {
        // Already closed or errored.
      }
    }
  }

  private makeInput(): InputStream {
    const body = this.request.body;
    if (body === null) return this.link.input(() => null, 0);
    const limit = inputLimit(this.cgiVars);
    const max = this.maxBodySize;
    let received = 0;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    return this.link.input(async () => {
      reader ??= body.getReader();
      const { done, value } = await reader.read();
      if (done) return null;
      received += value.length;
      if (received > max) {
        reader.cancel().catch(() => {});
        this.bodyTooLarge = new ProtocolError(
          "ERR_BODY_TOO_LARGE",
          `request body longer than maxBodySize (${max} bytes)`,
        );
        throw this.bodyTooLarge;
      }
      return value;
    }, limit);
  }

  override logException(error: unknown): void {
    this.failure = error;
    super.logException(error);
  }

  /** A body past `maxBodySize` is the client's fault: 413, as the server answers it. */
  override async handleError(error: unknown): Promise<void> {
    if (this.bodyTooLarge === null || this.headersSent) return super.handleError(error);
    this.ended = true;
    this.resolveResponse(tooLarge());
  }

  /**
   * Resolves the caller's promise with the `Response`. Everything Fetch may refuse (a 1xx
   * status, a bad header) throws here, before the head counts as sent, so it gets the
   * error page instead.
   */
  protected override sendHead_(): void {
    this.link.check();
    const code = Number(this.status!.slice(0, 3));
    const headers = new Headers();
    for (const [name, value] of this.headers!) headers.append(name, value);
    if (code < 200 || code > 599) {
      throw new RangeError(`a Fetch Response cannot carry the status ${this.status}`);
    }
    const init = { status: code, statusText: this.status!.slice(4), headers };
    if (this.request.method === "HEAD" || statusForbidsBody(code)) {
      const response = new Response(null, init);
      this.ended = true;
      this.resolveResponse(response);
      return;
    }
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        pull: () => {
          const waiter = this.pullWaiter;
          this.pullWaiter = undefined;
          waiter?.();
        },
        cancel: () => this.link.disconnect(),
      },
      new CountQueuingStrategy({ highWaterMark: 0 }),
    );
    const response = new Response(stream, init);
    this.controller = controller;
    this.resolveResponse(response);
  }

  protected override write_(data: Uint8Array): void | Promise<void> {
    this.link.check();
    const controller = this.controller!;
    controller.enqueue(data);
    if ((controller.desiredSize ?? 0) > 0) return;
    return this.link.guard(
      new Promise<void>((resolve) => {
        this.pullWaiter = resolve;
      }),
    );
  }

  protected override end_(): void {
    if (this.controller !== undefined && !this.ended) {
      this.ended = true;
      this.controller.close();
    }
  }
}
