/**
 * The test client: call a WSGI application in-process, without a socket, and get its
 * response back, checked by the validator on the way.
 *
 * @module
 */

import type { HeaderPolicy } from "../bridges/environ.ts";
import { Headers } from "../headers.ts";
import { ResponseFramer } from "../http/response.ts";
import type { WSGIApplication } from "../types.ts";
import { validator, type WSGIWarning } from "../validate.ts";
import { type ClientBehaviour, TestingHandler } from "./handler.ts";
import { prepareRequest, type TestHeaders, type TestRequest } from "./request.ts";
import { collectWarnings } from "./warnings.ts";

/** Options of `call` and `Client`: validation, error handling, and how the client behaves. */
export interface CallOptions extends ClientBehaviour, HeaderPolicy {
  /** Run the application under `validator` (default true). */
  validate?: boolean;
  /**
   * Answer errors as a server would (the 500 page, or a body cut short) and put the error
   * in `response.error`, instead of rejecting with it (default false: the call rejects,
   * so a failing application or a validator `AssertionError` fails the test).
   */
  catchErrors?: boolean;
}

const DECODER = new TextDecoder();

/** What the application answered. */
export class TestResponse {
  /** The status code, or 0 if the client hung up before the headers. */
  readonly status: number;
  /** The reason phrase (`"OK"`). */
  readonly statusText: string;
  /** The response headers, as sent. */
  readonly headers: Headers;
  /** The body bytes received (empty when `onChunk` consumed them). */
  readonly body: Uint8Array;
  /** False when the body was cut short: an error after the headers, or a hang-up. */
  readonly complete: boolean;
  /** True when the client hung up (`disconnectAfter`, `signal`). */
  readonly disconnected: boolean;
  /** Settles when the handler is done with the request: the body's `close()` ran. */
  readonly done: Promise<void>;
  readonly #source:
    | { readonly errorLog: { readonly text: string }; readonly failure: unknown }
    | undefined;
  readonly #warnings: readonly WSGIWarning[];
  readonly #request: { readonly method: string; readonly protocol: string };
  readonly #chunks: readonly Uint8Array[];

  /** Builds a response; `call` and `replay` do this for you. */
  constructor(init: {
    status: string | undefined;
    headers: Headers | undefined;
    body: Uint8Array;
    complete: boolean;
    disconnected?: boolean;
    done?: Promise<void>;
    /** Where the error log and the failure are read from (live: they may change until `done`). */
    source?: { readonly errorLog: { readonly text: string }; readonly failure: unknown };
    warnings?: readonly WSGIWarning[];
    /** The request's method and protocol, which decide the framing (default GET, HTTP/1.1). */
    request?: { readonly method: string; readonly protocol: string };
    /** The body as the pieces the application wrote, for `toBytes`'s chunk framing. */
    chunks?: readonly Uint8Array[];
  }) {
    const status = init.status ?? "";
    this.status = status === "" ? 0 : Number(status.slice(0, 3));
    this.statusText = status.slice(4);
    this.headers = init.headers ?? new Headers();
    this.body = init.body;
    this.complete = init.complete;
    this.disconnected = init.disconnected ?? false;
    this.done = init.done ?? Promise.resolve();
    this.#source = init.source;
    this.#warnings = init.warnings ?? [];
    this.#request = init.request ?? { method: "GET", protocol: "HTTP/1.1" };
    this.#chunks = init.chunks ?? [init.body];
  }

  /** The status line's status: `"200 OK"`. */
  get statusLine(): string {
    return `${this.status} ${this.statusText}`;
  }

  /** The validator's `WSGIWarning`s for this request, in order. */
  get warnings(): readonly WSGIWarning[] {
    return this.#warnings;
  }

  /** What the application and the handler wrote to `wsgi.errors` (tracebacks included). */
  get errors(): string {
    return this.#source?.errorLog.text ?? "";
  }

  /** The error the application (or the validator) threw, with `catchErrors`; undefined if none. */
  get error(): unknown {
    return this.#source?.failure;
  }

  /** The body decoded as UTF-8. */
  text(): string {
    return DECODER.decode(this.body);
  }

  /** The body parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  /**
   * The response as the production server would put it on the wire, framed by the same
   * HTTP/1.1 core: status line, `Server` (when given), the headers, the framing fields
   * (`Content-Length`, or `Transfer-Encoding: chunked` with a chunk per piece the application
   * wrote), and the body. Only `Date` is left out. A body cut short is printed as it
   * arrived, unframed.
   */
  toBytes(options: { server?: string | undefined } = {}): Uint8Array {
    const framer = new ResponseFramer();
    const { method, protocol } = this.#request;
    const head = framer.head(
      this.statusLine,
      this.headers.items(),
      method === "HEAD",
      protocol === "HTTP/1.0",
      true,
      undefined,
      options.server,
      -1,
    );
    let body: Uint8Array[] = [this.body];
    if (this.complete) {
      try {
        body = this.#chunks.map((chunk) => framer.data(chunk));
        body.push(framer.end());
      } catch {
        // A body that does not match its Content-Length goes out as it is.
        body = [this.body];
      }
    }
    return Buffer.concat([Buffer.from(head, "latin1"), ...body]);
  }
}

function concatChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Calls `app` with `request` in-process and resolves with its response, once the
 * application finished (or the client hung up). Under the validator by default; an
 * error the application throws rejects the call unless `catchErrors` is set.
 *
 * @example
 * const response = await call(app, { method: "POST", path: "/items", json: { name: "x" } });
 * assert.equal(response.status, 201);
 */
export async function call(
  app: WSGIApplication,
  request: TestRequest = {},
  options: CallOptions = {},
): Promise<TestResponse> {
  const { validate = true, catchErrors = false } = options;
  const prepared = prepareRequest(request, options);
  const handler = new TestingHandler(prepared, options);
  const warnings: WSGIWarning[] = [];
  const target = validate ? validator(app) : app;
  let fatal: { error: unknown } | undefined;
  const done = collectWarnings(warnings, () => handler.run(target)).catch((error: unknown) => {
    handler.failure ??= error;
    fatal = { error };
  });
  const hungUp = new Promise<void>((resolve) => handler.link.onGone(resolve));
  await Promise.race([done, hungUp]);
  if (fatal && !catchErrors) throw fatal.error;
  if (handler.failure !== undefined && !catchErrors) throw handler.failure;
  return new TestResponse({
    status: handler.sentStatus,
    headers: handler.sentHeaders,
    body: concatChunks(handler.chunks, options.onChunk ? 0 : handler.received),
    complete: handler.complete,
    disconnected: handler.link.gone,
    done,
    source: handler,
    warnings,
    chunks: handler.chunks,
    request: {
      method: prepared.vars.REQUEST_METHOD ?? "GET",
      protocol: prepared.vars.SERVER_PROTOCOL ?? "HTTP/1.1",
    },
  });
}

/** A request without its method and path, for `Client.get(path, init)` and friends. */
export type TestRequestInit = Omit<TestRequest, "method" | "path">;

/** Options of a `Client`: call options, plus headers and environ keys every request gets. */
export interface ClientOptions extends CallOptions {
  /** Headers added to every request (a request's own header of the same name wins). */
  headers?: TestHeaders;
  /** Environ keys added to every request. */
  environ?: Readonly<Record<string, unknown>>;
}

/**
 * A test client bound to one application, with defaults for every request and a method
 * per HTTP method.
 *
 * @example
 * const client = new Client(app);
 * const response = await client.get("/hello?name=x");
 * assert.equal(response.text(), "Hello x");
 */
export class Client {
  /** The application under test. */
  readonly app: WSGIApplication;
  /** The defaults every request gets. */
  readonly defaults: ClientOptions;

  constructor(app: WSGIApplication, defaults: ClientOptions = {}) {
    this.app = app;
    this.defaults = defaults;
  }

  /** Sends a request; `options` override the client's for this call. */
  request(request: TestRequest = {}, options: CallOptions = {}): Promise<TestResponse> {
    const { headers, environ, ...callOptions } = this.defaults;
    const own = new Set([...headerNames(request.headers)].map((name) => name.toLowerCase()));
    const merged: TestRequest = { ...request };
    if (headers !== undefined) {
      const defaults = [...headerEntries(headers)].filter(([n]) => !own.has(n.toLowerCase()));
      merged.headers = [...defaults, ...headerEntries(request.headers)];
    }
    if (environ !== undefined) merged.environ = { ...environ, ...request.environ };
    return call(this.app, merged, { ...callOptions, ...options });
  }

  /** Sends a GET request. */
  get(path: string, init: TestRequestInit = {}, options?: CallOptions): Promise<TestResponse> {
    return this.request({ ...init, method: "GET", path }, options);
  }

  /** Sends a HEAD request. */
  head(path: string, init: TestRequestInit = {}, options?: CallOptions): Promise<TestResponse> {
    return this.request({ ...init, method: "HEAD", path }, options);
  }

  /** Sends a POST request. */
  post(path: string, init: TestRequestInit = {}, options?: CallOptions): Promise<TestResponse> {
    return this.request({ ...init, method: "POST", path }, options);
  }

  /** Sends a PUT request. */
  put(path: string, init: TestRequestInit = {}, options?: CallOptions): Promise<TestResponse> {
    return this.request({ ...init, method: "PUT", path }, options);
  }

  /** Sends a PATCH request. */
  patch(path: string, init: TestRequestInit = {}, options?: CallOptions): Promise<TestResponse> {
    return this.request({ ...init, method: "PATCH", path }, options);
  }

  /** Sends a DELETE request. */
  delete(path: string, init: TestRequestInit = {}, options?: CallOptions): Promise<TestResponse> {
    return this.request({ ...init, method: "DELETE", path }, options);
  }

  /** Sends an OPTIONS request. */
  options(path: string, init: TestRequestInit = {}, options?: CallOptions): Promise<TestResponse> {
    return this.request({ ...init, method: "OPTIONS", path }, options);
  }
}

function* headerEntries(headers: TestHeaders | undefined): Generator<[string, string]> {
  if (headers === undefined) return;
  if (Symbol.iterator in headers) {
    for (const [name, value] of headers as Iterable<readonly [string, string]>) yield [name, value];
    return;
  }
  for (const [name, value] of Object.entries(headers)) {
    for (const one of typeof value === "string" ? [value] : value) yield [name, one];
  }
}

function* headerNames(headers: TestHeaders | undefined): Generator<string> {
  for (const [name] of headerEntries(headers)) yield name;
}
