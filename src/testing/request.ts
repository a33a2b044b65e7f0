/**
 * What a test asks for, `TestRequest`, and how it becomes CGI variables and a request
 * body, exactly as a server would derive them from the same bytes on the wire.
 *
 * @module
 */
import {
  addHeaders,
  defaultPort,
  encodeTarget,
  type HeaderPolicy,
  hostVars,
  mount,
  normalizeMount,
  splitTarget,
  unquoteLatin1,
} from "../bridges/environ.ts";
import type { ChunkSource } from "../streams.ts";

/** Request headers: a record (an array value repeats the header) or `[name, value]` pairs. */
export type TestHeaders =
  | Readonly<Record<string, string | readonly string[]>>
  | Iterable<readonly [string, string]>;

/** A request body: bytes, text (sent as UTF-8), or chunks produced as they are read. */
export type TestBody = Uint8Array | string | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** A request, as a test describes it. */
export interface TestRequest {
  /** The method (default `GET`). */
  method?: string;
  /** The request target: path and query, `/search?q=x` (default `/`); non-ASCII text is sent as UTF-8. */
  path?: string;
  /** Request headers; `Host` defaults to `localhost`. */
  headers?: TestHeaders;
  /** The body; bytes and text get a `Content-Length`, an iterable is sent chunked. */
  body?: TestBody;
  /** A JSON value to send as the body, with `Content-Type: application/json`. */
  json?: unknown;
  /** `http` (default) or `https`. */
  scheme?: "http" | "https";
  /** A mount prefix the application is at: it becomes `SCRIPT_NAME` (the path must be under it). */
  scriptName?: string;
  /** Extra environ keys (`REMOTE_ADDR`, a middleware's key, ...); they win over computed ones. */
  environ?: Readonly<Record<string, unknown>>;
}

/** The request's header pairs, in order. */
export function headerPairs(headers: TestHeaders | undefined): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (headers === undefined) return pairs;
  const entries: Iterable<readonly [string, unknown]> =
    Symbol.iterator in headers
      ? (headers as Iterable<readonly [string, string]>)
      : Object.entries(headers);
  for (const [name, value] of entries) {
    for (const one of Array.isArray(value) ? value : [value]) {
      const text = String(one);
      if (/[^\0-\xff]/.test(text)) {
        throw new TypeError(
          `header ${name}: ${JSON.stringify(text)} is not latin-1; encode the bytes you mean (encodeNative)`,
        );
      }
      pairs.push([name, text]);
    }
  }
  return pairs;
}

/** A body in memory, or a stream of chunks of unknown length. */
export type PreparedBody =
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "stream"; chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> }
  | { kind: "none" };

/** Everything a gateway needs to play the request: CGI variables, headers as sent, the body. */
export interface PreparedRequest {
  /** The method. */
  method: string;
  /** The request target as sent: percent-encoded path and query. */
  target: string;
  /** The headers as sent, `Host` and `Content-Length`/`Content-Type` included. */
  headers: Array<[string, string]>;
  /** The body. */
  body: PreparedBody;
  /** The CGI variables and `HTTP_*` keys. */
  vars: Record<string, string>;
  /** The scheme. */
  scheme: "http" | "https";
  /** Extra environ keys the test gave. */
  extra: Readonly<Record<string, unknown>>;
}

function hasHeader(pairs: Array<[string, string]>, name: string): boolean {
  const lower = name.toLowerCase();
  return pairs.some(([n]) => n.toLowerCase() === lower);
}

/** Works out the headers, body and CGI variables of a request description. */
export function prepareRequest(request: TestRequest, policy: HeaderPolicy = {}): PreparedRequest {
  const method = request.method ?? "GET";
  const scheme = request.scheme ?? "http";
  const target = encodeTarget(request.path ?? "/");
  if (!target.startsWith("/")) {
    throw new TypeError(`the request path must start with "/", got ${JSON.stringify(target)}`);
  }
  const headers = headerPairs(request.headers);
  if (!hasHeader(headers, "host")) headers.unshift(["Host", "localhost"]);
  let body: PreparedBody = { kind: "none" };
  if (request.json !== undefined) {
    if (request.body !== undefined) throw new TypeError("give a request body or json, not both");
    body = { kind: "bytes", bytes: Buffer.from(JSON.stringify(request.json), "utf8") };
    if (!hasHeader(headers, "content-type")) headers.push(["Content-Type", "application/json"]);
  } else if (typeof request.body === "string") {
    body = { kind: "bytes", bytes: Buffer.from(request.body, "utf8") };
  } else if (request.body instanceof Uint8Array) {
    body = { kind: "bytes", bytes: request.body };
  } else if (request.body !== undefined) {
    body = { kind: "stream", chunks: request.body };
  }
  if (body.kind === "bytes" && !hasHeader(headers, "content-length")) {
    headers.push(["Content-Length", String(body.bytes.length)]);
  }

  const { path, query } = splitTarget(target);
  const prefix = normalizeMount(request.scriptName);
  const paths = mount(unquoteLatin1(path), prefix);
  if (paths === undefined) {
    throw new TypeError(`the path ${JSON.stringify(path)} is not under scriptName ${prefix}`);
  }
  const vars: Record<string, string> = {
    REQUEST_METHOD: method,
    ...paths,
    QUERY_STRING: query,
    SERVER_NAME: "localhost",
    SERVER_PORT: defaultPort(scheme),
    SERVER_PROTOCOL: "HTTP/1.1",
    REMOTE_ADDR: "127.0.0.1",
    RAW_URI: target,
  };
  addHeaders(vars, headers, policy);
  if (vars.HTTP_HOST) {
    [vars.SERVER_NAME, vars.SERVER_PORT] = hostVars(vars.HTTP_HOST, scheme);
  }
  return { method, target, headers, body, vars, scheme, extra: request.environ ?? {} };
}

/** Splits a chunk into pieces of at most `size` bytes. */
function* pieces(chunk: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < chunk.length; at += size) yield chunk.subarray(at, at + size);
}

/** Waits for the next turn of the event loop, as a network packet would. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The source of `wsgi.input` for a body: all at once, or (with `chunkSize`) in pieces of
 * at most that many bytes, each after a turn of the event loop.
 */
export function bodySource(body: PreparedBody, chunkSize?: number): ChunkSource {
  if (body.kind === "none") return () => null;
  if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 1)) {
    throw new RangeError(`bodyChunkSize must be a positive integer, got ${chunkSize}`);
  }
  const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
    body.kind === "bytes" ? [body.bytes] : body.chunks;
  const iterator =
    Symbol.asyncIterator in chunks
      ? chunks[Symbol.asyncIterator]()
      : (chunks as Iterable<Uint8Array>)[Symbol.iterator]();
  let pending: Iterator<Uint8Array> | undefined;
  return async () => {
    for (;;) {
      if (pending !== undefined) {
        const piece = pending.next();
        if (!piece.done) {
          await nextTurn();
          return piece.value;
        }
        pending = undefined;
      }
      const step = await iterator.next();
      if (step.done) return null;
      const chunk = step.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError("a request body iterable must yield Uint8Array chunks");
      }
      if (chunkSize === undefined) return chunk;
      pending = pieces(chunk, chunkSize);
    }
  };
}
