/**
 * The `Request` of the server's Fetch fast path, built lazily from the parsed head, after
 * `@hono/node-server`'s: its URL, `Headers`, `signal` and body stream are each made when
 * the handler first reads them, and the standard `Request` only when something else is
 * asked (`clone()`, `formData()`, `cache`, ...). A handler that never reads a header pays
 * for none. `instanceof Request` holds; `text()`, `json()` and `arrayBuffer()` read the body
 * straight from the connection, without a stream.
 *
 * @module
 */
import { isClientGone } from "../handlers/client-gone.ts";
import type { RequestHead } from "../http/parser.ts";
import type { BodyInputStream } from "../streams.ts";
import { isHopByHop } from "../util.ts";
import { delegateToStandard } from "./delegate.ts";

/** How many bytes one pull of the body stream asks the connection for, at most. */
const READ_SIZE = 64 * 1024;

/** The methods the Fetch standard upper-cases whatever their case. */
const NORMALIZED = new Map(
  ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"].map((m) => [m.toLowerCase(), m]),
);

const head_ = Symbol("head");
const origin_ = Symbol("origin");
const url_ = Symbol("url");
const input_ = Symbol("input");
const keepUnderscores_ = Symbol("keepUnderscores");
const headers_ = Symbol("headers");
const controller_ = Symbol("controller");
const reason_ = Symbol("reason");
const body_ = Symbol("body");
const used_ = Symbol("used");
const real_ = Symbol("real");

const textDecoder = new TextDecoder();

/**
 * A request as the fast path hands it to `fetch`. Its prototype chain includes
 * `Request.prototype`, so `instanceof Request` holds.
 */
export class LazyRequest {
  declare [head_]: RequestHead;
  declare [origin_]: string;
  declare [url_]: string | undefined;
  declare [input_]: BodyInputStream | null;
  declare [keepUnderscores_]: boolean;
  declare [headers_]: Headers | undefined;
  declare [controller_]: AbortController | undefined;
  declare [reason_]: Error | undefined;
  declare [body_]: ReadableStream<Uint8Array> | null | undefined;
  declare [used_]: boolean;
  declare [real_]: Request | undefined;

  /**
   * @param head the parsed request head
   * @param origin `scheme://host[:port]`, the URL's start
   * @param input the body, or null when the request has none
   * @param keepUnderscores keep header names with `_` (the server drops them by default)
   */
  constructor(
    head: RequestHead,
    origin: string,
    input: BodyInputStream | null,
    keepUnderscores: boolean,
  ) {
    this[head_] = head;
    this[origin_] = origin;
    this[url_] = undefined;
    this[input_] = input;
    this[keepUnderscores_] = keepUnderscores;
    this[headers_] = undefined;
    this[controller_] = undefined;
    this[reason_] = undefined;
    this[body_] = undefined;
    this[used_] = false;
    this[real_] = undefined;
  }

  /** The method, upper-cased when it is one the standard normalizes. */
  get method(): string {
    const method = this[head_].method;
    if (method === "GET" || method === "POST") return method;
    return NORMALIZED.get(method.toLowerCase()) ?? method;
  }

  /** The absolute URL: the origin, the target's path and its query. */
  get url(): string {
    let url = this[url_];
    if (url === undefined) {
      const head = this[head_];
      const path = head.form === "asterisk" ? "/*" : head.path;
      url = this[origin_] + path + (head.query === "" ? "" : `?${head.query}`);
      this[url_] = url;
    }
    return url;
  }

  /** The request's fields, without hop-by-hop ones (as `fromFetchHandler` gives them). */
  get headers(): Headers {
    let headers = this[headers_];
    if (headers === undefined) {
      headers = new Headers();
      const head = this[head_];
      const fields = head.headers;
      const dropUnderscores = head.underscoreNames && !this[keepUnderscores_];
      for (let i = 0; i < fields.length; i += 2) {
        const name = fields[i] as string;
        if (isHopByHop(name) || (dropUnderscores && name.includes("_"))) continue;
        try {
          headers.append(name, fields[i + 1] as string);
        } catch {
          // A value Fetch cannot carry: left out, as fromFetchHandler does.
        }
      }
      this[headers_] = headers;
    }
    return headers;
  }

  /** Aborts when the client hangs up (or the server gives up on the request). */
  get signal(): AbortSignal {
    let controller = this[controller_];
    if (controller === undefined) {
      controller = new AbortController();
      const reason = this[reason_];
      if (reason !== undefined) controller.abort(reason);
      this[controller_] = controller;
    }
    return controller.signal;
  }

  /** The body as a stream pulled from the connection, or null for none (GET, HEAD, empty). */
  get body(): ReadableStream<Uint8Array> | null {
    const real = this[real_];
    if (real !== undefined) return real.body;
    let body = this[body_];
    if (body === undefined) {
      const input = this[input_];
      body = input === null || this[used_] ? null : bodyStream(this, input);
      this[body_] = body;
    }
    return body;
  }

  /** True once the body was read (or its stream disturbed). */
  get bodyUsed(): boolean {
    const real = this[real_];
    if (real !== undefined) return real.bodyUsed;
    return this[used_];
  }

  /** The whole body as text (UTF-8). */
  async text(): Promise<string> {
    return textDecoder.decode(await this.bytes());
  }

  /** The whole body parsed as JSON. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** The whole body. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
      return bytes.buffer as ArrayBuffer;
    }
    return bytes.slice().buffer as ArrayBuffer;
  }

  /** The whole body, read straight from the connection unless its stream was made. */
  async bytes(): Promise<Uint8Array> {
    if (this[real_] !== undefined || this[body_] != null) {
      return new Uint8Array(await materialize(this).arrayBuffer());
    }
    if (this[used_]) throw new TypeError("Body is unusable: Body has already been read");
    this[used_] = true;
    const input = this[input_];
    if (input === null) return new Uint8Array(0);
    try {
      return await input.read();
    } catch (error) {
      if (isClientGone(error)) abortRequest(this, error as Error);
      throw error;
    }
  }
}

/** A pull stream over the body: nothing is read until the handler asks, 64 KiB at most a read. */
function bodyStream(request: LazyRequest, input: BodyInputStream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        request[used_] = true;
        try {
          const chunk = await input.read1(READ_SIZE);
          if (chunk.length === 0) controller.close();
          else controller.enqueue(chunk);
        } catch (error) {
          if (isClientGone(error)) abortRequest(request, error as Error);
          controller.error(error);
        }
      },
    },
    { highWaterMark: 0 },
  );
}

/** The standard `Request` with the same URL, method, headers, body and signal. */
function materialize(request: LazyRequest): Request {
  let real = request[real_];
  if (real !== undefined) return real;
  const init: RequestInit & { duplex?: "half" } = {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
  };
  const body = request.body;
  if (body !== null) {
    init.body = body;
    init.duplex = "half";
  }
  real = new Request(request.url, init);
  request[real_] = real;
  return real;
}

/** Aborts `request.signal` with `reason` now, or at its creation if it was never read. */
export function abortRequest(request: LazyRequest, reason: Error): void {
  if (request[reason_] !== undefined) return;
  request[reason_] = reason;
  request[controller_]?.abort(reason);
}

/** Cancels the body stream, if one was made and is not being read. */
export function cancelRequestBody(request: LazyRequest, reason: Error): void {
  const body = request[body_];
  if (body != null && !body.locked) body.cancel(reason).catch(() => {});
}

// Every other member of Request (cache, mode, clone(), formData(), blob(), ...) comes from
// the standard Request, made on first need.
delegateToStandard(LazyRequest.prototype, Request.prototype, materialize);
