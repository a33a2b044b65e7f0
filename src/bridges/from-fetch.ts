/**
 * `fromFetchHandler(handler)`: a Fetch handler (a Hono app's `fetch`, say) as a WSGI
 * application, so it runs on this package's servers, under the validator and in the
 * test client.
 *
 * The `Request` is rebuilt from the environ (URL by `requestUri`, method, headers from
 * `HTTP_*`, `CONTENT_TYPE` and `CONTENT_LENGTH` without hop-by-hop ones, the body
 * streamed from `wsgi.input`). The `Response` body becomes an async iterable whose
 * `close()` cancels the reader. `request.signal` aborts when the client disconnects: when
 * the gateway closes the body before it was read to the end, or when reading
 * `wsgi.input` fails because the client went away (docs/disconnects.md).
 *
 * @module
 */
import { utf8Bytes } from "../bytes.ts";
import { clientGone, isClientGone } from "../handlers/client-gone.ts";
import { reasonPhrase } from "../http/status.ts";
import type { HeaderTuple, InputStream, WSGIApplication, WSGIEnvironment } from "../types.ts";
import { isHopByHop, requestUri } from "../util.ts";

/**
 * A Fetch handler as `fromFetchHandler` calls it: the `Request`, and the WSGI environ as
 * a second argument (a Hono app sees it as `c.env`: `REMOTE_ADDR`, `wsgi.errors`, ...).
 */
export type FetchFunction = (
  request: Request,
  environ: WSGIEnvironment,
) => Response | Promise<Response>;

/** Options of `fromFetchHandler`. */
export interface FromFetchOptions {
  /** How many bytes each read of `wsgi.input` asks for when the handler reads the body (default 64 KiB). */
  readSize?: number;
}

/** Methods a Fetch `Request` refuses to carry: the gateway answers them with 501. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** Methods whose `Request` cannot have a body. */
const NO_BODY_METHODS = new Set(["GET", "HEAD"]);

/**
 * Turns a Fetch handler into a WSGI application.
 *
 * @example
 * import { Hono } from "hono";
 * const hono = new Hono().get("/", (c) => c.text("hi"));
 * const app = fromFetchHandler(hono.fetch);
 * // serve(app, { port: 8000 }), or validator(app) in a test
 */
export function fromFetchHandler(
  handler: FetchFunction,
  options: FromFetchOptions = {},
): WSGIApplication {
  const readSize = options.readSize ?? 64 * 1024;
  return async (environ, startResponse) => {
    const method = environ.REQUEST_METHOD;
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) {
      startResponse("501 Not Implemented", [["Content-Type", "text/plain; charset=utf-8"]]);
      return [utf8Bytes(`${method} is not supported by a Fetch handler\n`)];
    }
    const abort = new AbortController();
    const gone = () => abort.abort(clientGone());
    const init: RequestInit & { duplex?: "half" } = {
      method,
      headers: requestHeaders(environ),
      signal: abort.signal,
    };
    if (hasBody(environ)) {
      init.body = inputStream(environ["wsgi.input"], readSize, gone);
      init.duplex = "half";
    }
    const request = new Request(requestUri(environ), init);
    const response: unknown = await handler(request, environ);
    if (!(response instanceof Response)) {
      throw new TypeError(
        `the Fetch handler must return a Response, got ${response === null ? "null" : typeof response}`,
      );
    }
    const reason = response.statusText || reasonPhrase(response.status);
    const headers: HeaderTuple[] = [];
    for (const [name, value] of response.headers) {
      if (!isHopByHop(name)) headers.push([name, value]);
    }
    startResponse(`${response.status} ${reason}`, headers);
    return new FetchResponseBody(response.body, gone);
  };
}

/** The request headers of the environ, without hop-by-hop ones. */
function requestHeaders(environ: WSGIEnvironment): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(environ)) {
    if (typeof value !== "string") continue;
    let name: string;
    if (key.startsWith("HTTP_")) name = key.slice(5).toLowerCase().replaceAll("_", "-");
    else if (key === "CONTENT_TYPE" || key === "CONTENT_LENGTH") {
      if (value === "") continue;
      name = key.toLowerCase().replace("_", "-");
    } else continue;
    if (isHopByHop(name)) continue;
    try {
      headers.append(name, value);
    } catch {
      // A name or value Fetch cannot carry (a server would not have accepted it either).
    }
  }
  return headers;
}

/** True when the request may have a body to stream: not GET/HEAD, and not declared empty. */
function hasBody(environ: WSGIEnvironment): boolean {
  if (NO_BODY_METHODS.has(environ.REQUEST_METHOD.toUpperCase())) return false;
  const length = environ.CONTENT_LENGTH;
  if (length !== undefined && length !== "") return length.trim() !== "0";
  // Without CONTENT_LENGTH a body exists only where the server ends the input itself.
  return environ["wsgi.input_terminated"] === true;
}

/** A pull-based stream over `wsgi.input`: nothing is read until the handler asks. */
function inputStream(
  input: InputStream,
  readSize: number,
  gone: () => void,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const chunk = await input.read(readSize);
          if (chunk.length === 0) controller.close();
          else controller.enqueue(chunk);
        } catch (error) {
          if (isClientGone(error)) gone();
          controller.error(error);
        }
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * The `Response` body as a WSGI body: an async iterable of its chunks. `close()` (and an
 * early `return()` of its iterator) cancels the reader and, if the body was not read to
 * the end, aborts `request.signal`.
 */
class FetchResponseBody implements AsyncIterable<Uint8Array> {
  private readonly stream: ReadableStream<Uint8Array> | null;
  private readonly gone: () => void;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private finished: boolean;

  constructor(stream: ReadableStream<Uint8Array> | null, gone: () => void) {
    this.stream = stream;
    this.gone = gone;
    this.finished = stream === null;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        if (this.finished || this.stream === null) return { done: true, value: undefined };
        this.reader ??= this.stream.getReader();
        const step = await this.reader.read();
        if (step.done) {
          this.finished = true;
          this.reader.releaseLock();
          return { done: true, value: undefined };
        }
        return { done: false, value: step.value };
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        await this.cancel();
        return { done: true, value: undefined };
      },
    };
  }

  /** Called by the gateway exactly once when the response is over. */
  close(): Promise<void> {
    return this.cancel();
  }

  private async cancel(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.gone();
    const error = clientGone();
    try {
      if (this.reader !== undefined) await this.reader.cancel(error);
      else await this.stream?.cancel(error);
    } catch {
      // The handler's stream failed while being cancelled: nothing is listening any more.
    }
  }
}
