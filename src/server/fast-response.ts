/**
 * A light `Response` for the server's Fetch fast path, after `@hono/node-server`'s and
 * srvx's `FastResponse`: it keeps the body and init it was made with, so the server can
 * send a string or bytes in one write without creating (and then reading) a
 * `ReadableStream`. Anything else it is asked (`body`, `clone()`, `text()`, ...) builds the
 * standard `Response` from the same arguments, once, and answers from it. `instanceof
 * Response` holds for it, installed or not, and for a standard `Response` once installed.
 *
 * `serve()` installs it as `globalThis.Response` while it serves a Fetch application
 * (option `fastResponse`, on by default), since frameworks (Hono) call the global.
 *
 * @module
 */
import { delegateToStandard } from "./delegate.ts";

/** What `new Headers(init)` takes. */
export type HeaderInit = ConstructorParameters<typeof Headers>[0];
/** What `new Response(body)` takes. */
type ResponseBody = ConstructorParameters<typeof Response>[0];

/** The standard `Response`, as Node provides it (captured before any install). */
const NativeResponse: typeof Response = globalThis.Response;

/** Statuses whose response has no body (the Fetch standard's "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

const native = Symbol("native");
const source = Symbol("source");

/** What `new Response(body, init)` was given, kept until the standard one is needed. */
interface Source {
  body: string | Uint8Array | null;
  status: number;
  statusText: string;
  /** The init's headers as given, or the `Headers` made from them once read. */
  headers: HeaderInit | Headers | undefined;
}

/** The parts of a response the server sends: the fast path's view of it. */
export interface ResponseParts {
  /** The status code. */
  readonly status: number;
  /** The reason phrase; empty for the default. */
  readonly statusText: string;
  /** The header fields, as given (a `Headers`, a record or a list of pairs), or undefined. */
  readonly headers: HeaderInit | Headers | undefined;
  /** The body when it was given as a string or bytes, or null for none. */
  readonly body: string | Uint8Array | null;
  /** True when `headers` lacks a Content-Type the standard would add (a string body). */
  readonly defaultTextType: boolean;
}

/**
 * A `Response` that defers building the standard one. Made with a string, `Uint8Array`,
 * `ArrayBuffer` or no body and a plain status, it answers `status`, `ok`, `statusText` and
 * `headers` itself; any other body or init is handed to the standard `Response` at once.
 */
export class FastResponse {
  declare [native]: Response | undefined;
  declare [source]: Source | undefined;

  /** True for this class's responses and for standard ones alike. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof NativeResponse;
  }

  /** `Response.json` (the standard's): the body is `JSON.stringify(data)`. */
  static json(data: unknown, init: ResponseInit = {}): Response {
    const body = JSON.stringify(data);
    if (body === undefined) throw new TypeError("Response.json: the data is not JSON serializable");
    const headers = new Headers(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new FastResponse(body, { ...init, headers }) as unknown as Response;
  }

  /** `Response.redirect`: the standard's own. */
  static redirect(url: string | URL, status?: number): Response {
    return NativeResponse.redirect(url, (status ?? 302) as 301 | 302 | 303 | 307 | 308);
  }

  /** `Response.error`: the standard's own. */
  static error(): Response {
    return NativeResponse.error();
  }

  constructor(body?: ResponseBody | null, init?: ResponseInit) {
    const status = init?.status ?? 200;
    const statusText = init?.statusText ?? "";
    let kept: string | Uint8Array | null | undefined;
    if (body === undefined || body === null) kept = null;
    else if (typeof body === "string") kept = body;
    else if (body instanceof Uint8Array) kept = body;
    else if (body instanceof ArrayBuffer) kept = new Uint8Array(body);
    const plain =
      kept !== undefined &&
      Number.isInteger(status) &&
      status >= 200 &&
      status <= 599 &&
      !(kept !== null && NULL_BODY.has(status)) &&
      (statusText === "" || /^[\t\x20-\x7e\x80-\xff]*$/.test(statusText));
    if (plain) {
      this[source] = {
        body: kept as string | Uint8Array | null,
        status,
        statusText,
        headers: init?.headers,
      };
      this[native] = undefined;
    } else {
      // The standard checks (and throws) exactly as it would have.
      this[native] = new NativeResponse(body, init);
      this[source] = undefined;
    }
  }

  /** The status code. */
  get status(): number {
    return this[source]?.status ?? standard(this).status;
  }

  /** True for a 2xx status. */
  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status <= 299;
  }

  /** The reason phrase given, or empty. */
  get statusText(): string {
    return this[source]?.statusText ?? standard(this).statusText;
  }

  /** The headers, made from the init on first read (with the standard's default Content-Type). */
  get headers(): Headers {
    const kept = this[source];
    if (kept === undefined) return standard(this).headers;
    if (kept.headers instanceof Headers) return kept.headers;
    const headers = new Headers(kept.headers);
    if (typeof kept.body === "string" && !headers.has("content-type")) {
      headers.set("content-type", "text/plain;charset=UTF-8");
    }
    kept.headers = headers;
    return headers;
  }
}

/** The standard `Response` behind `response`, built from its source on first need. */
function standard(response: FastResponse): Response {
  let made = response[native];
  if (made !== undefined) return made;
  const kept = response[source] as Source;
  response[source] = undefined;
  made = new NativeResponse(kept.body, {
    status: kept.status,
    statusText: kept.statusText,
    ...(kept.headers === undefined ? {} : { headers: kept.headers }),
  });
  response[native] = made;
  return made;
}

// Everything else a Response has (body, bodyUsed, type, url, redirected, clone(), text(),
// json(), ...) comes from the standard one.
delegateToStandard(FastResponse.prototype, NativeResponse.prototype, standard);
Object.setPrototypeOf(FastResponse, NativeResponse);

/**
 * The parts of `response` the server can send without reading a stream: for a
 * `FastResponse` whose standard twin was never built, its status, headers and body as
 * given; null for any other response (then read its `body` stream).
 */
export function fastParts(response: Response): ResponseParts | null {
  const kept = (response as unknown as FastResponse)[source];
  if (kept === undefined) return null;
  const headers = kept.headers;
  return {
    status: kept.status,
    statusText: kept.statusText,
    headers,
    body: kept.body,
    defaultTextType: typeof kept.body === "string" && !hasContentType(headers),
  };
}

/** Whether a header init that is not a `Headers` names a Content-Type. */
function hasContentType(headers: HeaderInit | undefined): boolean {
  if (headers === undefined) return false;
  if (Array.isArray(headers)) {
    return headers.some((pair) => String(pair[0]).toLowerCase() === "content-type");
  }
  if (headers instanceof Headers) return headers.has("content-type");
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === "content-type") return true;
  }
  return false;
}

let installs = 0;
let replaced: PropertyDescriptor | undefined;

/**
 * Makes `FastResponse` the global `Response` until as many `uninstallFastResponse()` calls;
 * each server that serves a Fetch app with `fastResponse` installs it once.
 */
export function installFastResponse(): void {
  if (installs++ > 0) return;
  replaced = Object.getOwnPropertyDescriptor(globalThis, "Response");
  Object.defineProperty(globalThis, "Response", {
    value: FastResponse,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

/** Undoes one `installFastResponse()`; the last one puts the standard `Response` back. */
export function uninstallFastResponse(): void {
  if (installs === 0 || --installs > 0) return;
  if (replaced !== undefined) Object.defineProperty(globalThis, "Response", replaced);
  replaced = undefined;
}
