/**
 * `BaseHandler`: the WSGI algorithm, written once (PEP 3333, CPython's `wsgiref.handlers`).
 *
 * Theory of operation: `run(app)` builds the environ (`setupEnviron`), calls the
 * application, then `finishResponse` iterates the body, handing each chunk to `write`.
 * `write` sends the headers before the first non-empty chunk (`sendHeaders`), then the
 * chunk; `finishContent` ends the response. Errors before the headers went out become
 * `errorOutput`'s 500 page; errors after cut the response short. The body's `close()`
 * runs exactly once on every path.
 *
 * Every gateway (the simple server, CGI, the production server, the bridges, the test
 * client) is a subclass that only supplies I/O, through these hooks and nothing else of
 * the algorithm:
 *
 * - `sendHead_()`: hand the status and headers over. A gateway that may refuse a head
 *   throws here before sending anything; `headersSent` becomes true only once it returned,
 *   so a refused head still gets the error page on a connection that is still in sync.
 * - `write_(data)` and `flush_()`: body bytes, as CPython's `_write` and `_flush`.
 * - `end_()`: the response is complete.
 * - `getStdin()`, `getStderr()`, `addCgiVars()`: the request side, as in CPython.
 *
 * The hooks may return promises: that is how a slow client's backpressure reaches the
 * application. A synchronous body is iterated synchronously, with no microtask per chunk
 * unless a hook asks to wait.
 *
 * @module
 */
import type { FileHandle } from "node:fs/promises";
import { AssertionError } from "../assertion.ts";
import { latin1Bytes } from "../bytes.ts";
import { Headers } from "../headers.ts";
import { statusForbidsBody } from "../http/status.ts";
import type {
  ErrorStream,
  FileLike,
  FileWrapperFactory,
  HeaderTuple,
  InputStream,
  ResponseBody,
  StartResponse,
  WriteCallable,
  WSGIApplication,
  WSGIEnvironment,
} from "../types.ts";
import { WRAPPED_CHUNKS } from "../types.ts";
import { FileWrapper } from "../util/file-wrapper.ts";
import { guessScheme } from "../util.ts";
import { clientGone, isClientGone } from "./client-gone.ts";
import { httpDate } from "./date.ts";
import { readEnviron } from "./environ.ts";
import { checkHeaders, checkStatus } from "./start-response.ts";
import { closeBody, describe, formatError, isPromiseLike } from "./support.ts";

/** A class whose instances are `wsgi.file_wrapper` bodies, such as `util.FileWrapper`. */
export type FileWrapperClass = new (
  filelike: FileLike | FileHandle | number,
  blksize?: number,
) => ResponseBody;

const WSGI_VERSION: readonly [number, number] = Object.freeze([1, 0] as const);
const ERROR_HEADERS: HeaderTuple[] = [["Content-Type", "text/plain"]];
const ERROR_BODY: Uint8Array = latin1Bytes(
  "A server error occurred.  Please contact the administrator.",
);
const ignore = () => {};

/**
 * Runs one WSGI application for one request. Subclasses supply the I/O: `write_`,
 * `getStdin`, `getStderr` and `addCgiVars`, and where needed `sendHead_`, `flush_` and
 * `end_`; the rest may be overridden to
 * customise the environ, headers and error handling, as in CPython.
 */
export abstract class BaseHandler {
  /** The value of `wsgi.version`. */
  wsgiVersion: readonly [number, number] = WSGI_VERSION;
  /** The value of `wsgi.multithread`. */
  wsgiMultithread = true;
  /** The value of `wsgi.multiprocess`. */
  wsgiMultiprocess = true;
  /** The value of `wsgi.run_once`: true only under CGI. */
  wsgiRunOnce = false;
  /** True when writing to the client directly (`HTTP/1.x` status line); false for CGI-like gateways (`Status:` header). */
  originServer = true;
  /** The HTTP version of the status line an origin server writes. */
  httpVersion = "1.0";
  /** The default `SERVER_SOFTWARE` and `Server` header of an origin server, if any. */
  serverSoftware: string | undefined = undefined;
  /** Variables every environ starts with: by default `readEnviron()` as of import time. */
  osEnviron: Readonly<Record<string, string>> = DEFAULT_OS_ENVIRON;
  /** The class of `wsgi.file_wrapper` bodies, or null to offer none. */
  wsgiFileWrapper: FileWrapperClass | null = FileWrapper;
  /** The class used to hold the response headers. */
  headersClass: typeof Headers = Headers;
  /** How many stack frames `logException` prints; undefined prints them all. */
  tracebackLimit: number | undefined = undefined;
  /** The status of the error page sent when the application fails before its headers. */
  errorStatus = "500 Internal Server Error";
  /** The headers of that error page (shared by default: assign a new list to change them). */
  errorHeaders: HeaderTuple[] = ERROR_HEADERS;
  /** The body of that error page. */
  errorBody: Uint8Array = ERROR_BODY;
  /**
   * Which bodies `setContentLength` measures: `"one-chunk"`, a list of exactly one chunk
   * (CPython's rule); `"list"`, any list of byte chunks (the HTTP/1.1 gateways' rule).
   */
  contentLengthRule: "one-chunk" | "list" = "one-chunk";

  /** The status the application gave, once `startResponse` was called. */
  status: string | undefined = undefined;
  /** What the application returned. */
  result: ResponseBody | undefined = undefined;
  /** True once the status line and headers went out. */
  headersSent = false;
  /** The response headers, once `startResponse` was called. */
  headers: Headers | undefined = undefined;
  /** Body bytes sent so far. */
  bytesSent = 0;
  /** The environ of the request being handled (set by `setupEnviron`). */
  environ!: WSGIEnvironment;

  /** True once `close()` ran for the current request. */
  private closed = false;
  /** Why the exchange was aborted (`abort()`), or undefined while it runs normally. */
  private abortReason: Error | undefined = undefined;
  /** Rejects what the handler is waiting for from the application, when it is aborted. */
  private rejectWait: ((error: Error) => void) | undefined = undefined;
  /** False for 1xx, 204 and 304 responses, which have no body and get no Content-Length. */
  private statusAllowsBody = true;
  /** False when no body bytes may be sent: those statuses, and any response to HEAD. */
  private bodyAllowed = true;
  /**
   * The `write` the application gets. A Python-style app calls it without awaiting, so a
   * rejection (the client left) is marked handled here; an app that awaits still sees it.
   */
  private readonly boundWrite: WriteCallable = (data) => {
    const pending = this.write(data);
    pending?.catch(ignore);
    return pending;
  };
  private readonly boundStartResponse: StartResponse = (status, headers, excInfo) =>
    this.startResponse(status, headers, excInfo);

  /**
   * Invokes the application and sends its response; resolves when the response is
   * finished and the body's `close()` was called. Errors the handler cannot report to
   * the client (a failure while sending the error page) reject.
   */
  async run(application: WSGIApplication): Promise<void> {
    const running = this.handle(application);
    if (running) await running;
  }

  /**
   * `run`, without a promise when nothing had to wait: a synchronous application whose
   * body went out synchronously is handled (and closed) before this returns. Otherwise it
   * returns a promise; errors `run` would reject with are thrown or rejected.
   */
  handle(application: WSGIApplication): void | Promise<void> {
    this.closed = false;
    this.abortReason = undefined;
    let finishing: void | Promise<void>;
    try {
      this.setupEnviron();
      const result = application(this.environ, this.boundStartResponse);
      if (isPromiseLike<ResponseBody>(result)) return this.handleAsync(result);
      this.result = result;
      finishing = this.finishResponse();
    } catch (error) {
      return this.recover(error);
    }
    if (finishing) {
      return finishing.then(
        () => this.closeOnce(),
        (error: unknown) => this.recover(error),
      );
    }
    return this.closeOnce();
  }

  /**
   * `handle` for an application that returned a promise: one promise for the whole
   * exchange and one reaction to the application's, so an `async` hello world costs two
   * promises and one turn more than a synchronous one. `abort()` while the application
   * computes settles the exchange at once; the body that comes later is closed.
   */
  private handleAsync(result: PromiseLike<ResponseBody>): Promise<void> {
    if (this.abortReason !== undefined) {
      Promise.resolve(result).then(closeBody, ignore).catch(ignore);
      return this.recover(this.abortReason);
    }
    return new Promise<void>((resolve, reject) => {
      let waiting = true;
      const settle = (closing: void | Promise<void>) => {
        if (closing) closing.then(resolve, reject);
        else resolve();
      };
      const fail = (error: unknown) => this.recover(error).then(resolve, reject);
      this.rejectWait = (reason) => {
        waiting = false;
        // Two turns later, as when this went through two promise reactions: a write or a
        // read the application awaits fails first (the gateway fails them in the same
        // turn), so the application sees ECONNRESET before the exchange closes.
        queueMicrotask(() => queueMicrotask(() => fail(reason)));
      };
      result.then(
        (body) => {
          if (!waiting) {
            // Aborted while the application computed its body: close it now it came.
            try {
              closeBody(body)?.catch(ignore);
            } catch {
              // Nothing is listening any more.
            }
            return;
          }
          waiting = false;
          this.rejectWait = undefined;
          this.result = body;
          let finishing: void | Promise<void>;
          try {
            finishing = this.finishResponse();
          } catch (error) {
            fail(error);
            return;
          }
          if (finishing) finishing.then(() => settle(this.closeOnce()), fail);
          else settle(this.closeOnce());
        },
        (error: unknown) => {
          if (!waiting) return;
          waiting = false;
          this.rejectWait = undefined;
          fail(error);
        },
      );
    });
  }

  /** After the application or its response failed: reports the error, then closes. */
  private async recover(error: unknown): Promise<void> {
    try {
      if (!isClientGone(error)) await this.handleError(error);
    } catch (second) {
      await this.close();
      throw second;
    }
    const closing = this.closeOnce();
    if (closing) await closing;
  }

  /**
   * CPython leaves the handler unclosed after an error it could not report to the client;
   * we close it on every path, so subclasses can rely on close() (logging, releasing the
   * connection). The body itself was closed when the error happened.
   */
  private closeOnce(): void | Promise<void> {
    if (!this.closed) return this.close();
  }

  /**
   * Ends the exchange at once because the client went away (or the gateway gave up on it):
   * the rule of docs/disconnects.md, written once for every gateway. Whatever the handler
   * waits for from the application (its promise, the next chunk of an async body) is
   * abandoned with `reason` (by default the `ECONNRESET` error), so the body's `close()`
   * runs now, exactly once, and an async iterator's `return()` is called; a body that the
   * application returns later is closed when it comes. Later writes throw `reason`.
   */
  abort(reason: Error = clientGone()): void {
    if (this.closed || this.abortReason !== undefined) return;
    this.abortReason = reason;
    const reject = this.rejectWait;
    this.rejectWait = undefined;
    reject?.(reason);
  }

  /** True once `abort()` was called for the current request. */
  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  /** `promise`, unless the exchange is aborted first: then it rejects with the reason. */
  private unlessAborted<T>(promise: Promise<T>): Promise<T> {
    const reason = this.abortReason;
    if (reason !== undefined) {
      promise.catch(ignore);
      return Promise.reject(reason);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectWait = reject;
      promise.then(
        (value) => {
          this.rejectWait = undefined;
          resolve(value);
        },
        (error: unknown) => {
          this.rejectWait = undefined;
          reject(error);
        },
      );
    });
  }

  /** Builds `this.environ` for the request: `osEnviron`, the CGI variables, then the `wsgi.*` keys. */
  setupEnviron(): void {
    const env = this.createEnviron();
    this.environ = env;
    this.addCgiVars();
    env["wsgi.input"] = this.getStdin();
    env["wsgi.errors"] = this.getStderr();
    env["wsgi.version"] = this.wsgiVersion;
    env["wsgi.run_once"] = this.wsgiRunOnce;
    env["wsgi.url_scheme"] = this.getScheme();
    env["wsgi.multithread"] = this.wsgiMultithread;
    env["wsgi.multiprocess"] = this.wsgiMultiprocess;
    if (this.wsgiFileWrapper !== null)
      env["wsgi.file_wrapper"] = fileWrapperFactory(this.wsgiFileWrapper);
    if (this.originServer && this.serverSoftware && env.SERVER_SOFTWARE === undefined) {
      env.SERVER_SOFTWARE = this.serverSoftware;
    }
  }

  /** The object the environ starts as: a copy of `osEnviron`. */
  protected createEnviron(): WSGIEnvironment {
    return { ...this.osEnviron } as unknown as WSGIEnvironment;
  }

  /**
   * Sends the body, then closes it. A file-wrapper body goes to `sendfile()` first; a
   * synchronous iterable is iterated synchronously. On failure the body is closed and
   * the error goes on to `run`. Returns a promise only if something had to wait.
   */
  finishResponse(): void | Promise<void> {
    const result = this.result;
    // The usual body, an array, is sent without a promise unless a write must wait.
    if (Array.isArray(result)) return this.finishChunks(result, 0);
    return this.finishIterable();
  }

  /** Sends an array body from index `from`, synchronously until a write has to wait. */
  private finishChunks(chunks: readonly unknown[], from: number): void | Promise<void> {
    try {
      for (let i = from; i < chunks.length; i++) {
        const pending = this.write(chunks[i] as Uint8Array);
        if (pending) {
          return pending.then(
            () => this.finishChunks(chunks, i + 1),
            (error: unknown) => this.abandonBody(error),
          );
        }
      }
      const finishing = this.finishContent();
      if (finishing) {
        return finishing.then(
          () => this.close(),
          (error: unknown) => this.abandonBody(error),
        );
      }
    } catch (error) {
      return this.abandonBody(error);
    }
    return this.close();
  }

  /** After sending failed: closes the body, then throws the error on to `run`. */
  private abandonBody(error: unknown): Promise<never> {
    const result = this.result;
    this.result = undefined;
    const closing = closeBody(result);
    if (closing) {
      return closing.then(() => {
        throw error;
      });
    }
    throw error;
  }

  /** `finishResponse` for anything but an array: file wrappers, iterables, async iterables. */
  private async finishIterable(): Promise<void> {
    // Awaits only what is really pending: a synchronous body over synchronous hooks
    // runs without a microtask per step.
    const result = this.result;
    try {
      if (!this.resultIsFile() || !(await this.sendfile())) {
        if (result === undefined || result === null) {
          throw new TypeError("the application returned nothing: return an iterable of Uint8Array");
        }
        if (typeof result !== "object" || result instanceof Uint8Array) {
          throw new TypeError(
            `the application must return an iterable of Uint8Array chunks (such as [body]), not a ${describe(result)}`,
          );
        }
        if (Symbol.iterator in result) {
          for (const data of result as Iterable<Uint8Array>) {
            const pending = this.write(data);
            if (pending) await pending;
          }
        } else if (Symbol.asyncIterator in result) {
          const iterator = (result as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
          for (;;) {
            let step: IteratorResult<Uint8Array>;
            try {
              step = await this.unlessAborted(iterator.next());
            } catch (error) {
              if (error === this.abortReason) returnQuietly(iterator);
              throw error;
            }
            if (step.done) break;
            try {
              const pending = this.write(step.value);
              if (pending) await pending;
            } catch (error) {
              returnQuietly(iterator);
              throw error;
            }
          }
        } else {
          throw new TypeError(
            `the application must return an iterable of Uint8Array chunks, got ${describe(result)}`,
          );
        }
        const finishing = this.finishContent();
        if (finishing) await finishing;
      }
    } catch (error) {
      return this.abandonBody(error);
    }
    const closing = this.close();
    if (closing) await closing;
  }

  /** The URL scheme of the request: `guessScheme(environ)` by default. */
  getScheme(): string {
    return guessScheme(this.environ);
  }

  /**
   * Sets `Content-Length` when the body's length is known before it is sent, under
   * `contentLengthRule`: a list of exactly one chunk (CPython's rule, the default), or any
   * list of byte chunks (`"list"`, what the HTTP/1.1 gateways use, so a list never needs
   * chunked framing). A list wrapped by the validator counts as the list.
   */
  setContentLength(): void {
    const result = this.result as unknown;
    const chunks: readonly unknown[] | undefined = Array.isArray(result)
      ? result
      : (result as { [WRAPPED_CHUNKS]?: readonly unknown[] } | null | undefined)?.[WRAPPED_CHUNKS];
    if (chunks === undefined) return;
    if (this.contentLengthRule === "one-chunk") {
      if (chunks.length === 1) this.headers!.set("Content-Length", String(this.bytesSent));
      return;
    }
    let length = 0;
    for (const chunk of chunks) {
      if (!(chunk instanceof Uint8Array)) return;
      length += chunk.length;
    }
    this.headers!.set("Content-Length", String(length));
  }

  /** Last changes to the headers before they are sent: a `Content-Length` where it can be known. */
  cleanupHeaders(): void {
    if (this.statusAllowsBody && !this.headers!.has("Content-Length")) this.setContentLength();
  }

  /**
   * The `start_response` callable (PEP 3333). Checks the status (`NNN reason`, latin-1)
   * and the headers (strings, latin-1, not hop-by-hop), stores them, and returns `write`.
   */
  startResponse(status: string, headers: HeaderTuple[], excInfo?: unknown): WriteCallable {
    if (excInfo !== undefined && excInfo !== null) {
      if (this.headersSent) throw excInfo;
    } else if (this.headers !== undefined) {
      throw new AssertionError({ message: "Headers already set!" });
    }
    const code = checkStatus(status);
    checkHeaders(headers);
    this.status = status;
    // A copy: the server adds Content-Length and friends, which must not leak into a
    // header list the application reuses across requests (CPython wraps it in place).
    this.headers = new this.headersClass(headers.slice());
    this.statusAllowsBody = !statusForbidsBody(code);
    this.bodyAllowed = this.statusAllowsBody && this.environ?.REQUEST_METHOD !== "HEAD";
    return this.boundWrite;
  }

  /** Writes the status line (or CGI `Status:` header), `Date` and `Server` through `write_`. */
  sendPreamble(): void | Promise<void> {
    if (this.originServer) {
      if (this.clientIsModern()) {
        let head = `HTTP/${this.httpVersion} ${this.status}\r\n`;
        if (!this.headers!.has("Date")) head += `Date: ${httpDate()}\r\n`;
        if (this.serverSoftware && !this.headers!.has("Server")) {
          head += `Server: ${this.serverSoftware}\r\n`;
        }
        return this.write_(latin1Bytes(head));
      }
    } else {
      return this.write_(latin1Bytes(`Status: ${this.status}\r\n`));
    }
  }

  /**
   * The `write()` callable (PEP 3333): sends the headers before the first chunk, then the
   * chunk. Returns a promise while the transport has not yet taken the bytes.
   */
  write(data: Uint8Array): void | Promise<void> {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`write() argument must be a Uint8Array, got ${describe(data)}`);
    }
    if (!this.status) throw new AssertionError({ message: "write() before start_response()" });
    if (this.abortReason !== undefined) throw this.abortReason;
    if (!this.headersSent) {
      if (data.length === 0) return;
      this.bytesSent = data.length;
      const sent = this.sendHeaders();
      if (sent) return sent.then(() => this.writeBody(data));
    } else {
      this.bytesSent += data.length;
    }
    return this.writeBody(data);
  }

  private writeBody(data: Uint8Array): void | Promise<void> {
    if (!this.bodyAllowed || data.length === 0) return;
    const written = this.write_(data);
    if (written) return written.then(() => this.flush_());
    return this.flush_();
  }

  /**
   * Transmits a `wsgi.file_wrapper` body by a platform-specific path. Return true if it
   * did (after sending the headers itself); the default returns false, so the body is
   * iterated as usual.
   */
  sendfile(): boolean | Promise<boolean> {
    return false;
  }

  /**
   * Ends the response: sends the headers if no body byte did (with `Content-Length: 0`
   * where a body is allowed and none was set), then calls `end_`.
   */
  finishContent(): void | Promise<void> {
    if (!this.headersSent) {
      // An empty body has length 0, except in answer to HEAD, where it says nothing
      // about the length a GET would get (CPython says 0 there too).
      if (this.bodyAllowed) this.headers!.setDefault("Content-Length", "0");
      const sent = this.sendHeaders();
      if (sent) return sent.then(() => this.end_());
    }
    return this.end_();
  }

  /** Closes the body and resets the per-request state. */
  close(): void | Promise<void> {
    this.closed = true;
    let closing: void | Promise<void>;
    try {
      closing = closeBody(this.result);
    } catch (error) {
      this.reset();
      throw error;
    }
    if (!closing) return this.reset();
    return closing.finally(() => this.reset());
  }

  /** Forgets the finished request: status, headers, body and counters. */
  private reset(): void {
    this.result = undefined;
    this.headers = undefined;
    this.status = undefined;
    this.bytesSent = 0;
    this.headersSent = false;
    this.statusAllowsBody = true;
    this.bodyAllowed = true;
  }

  /**
   * Sends the status line and headers: `cleanupHeaders`, then the gateway's `sendHead_`.
   * `headersSent` becomes true only once the gateway accepted the head.
   */
  sendHeaders(): void | Promise<void> {
    this.cleanupHeaders();
    const sending = this.sendHead_();
    this.headersSent = true;
    return sending;
  }

  /** True if the body is an instance of `wsgiFileWrapper`, so `sendfile()` may send it. */
  resultIsFile(): boolean {
    const wrapper = this.wsgiFileWrapper;
    return wrapper !== null && this.result instanceof wrapper;
  }

  /** True unless the request is HTTP/0.9, whose clients take no status line or headers. */
  clientIsModern(): boolean {
    return String(this.environ.SERVER_PROTOCOL ?? "").toUpperCase() !== "HTTP/0.9";
  }

  /** Writes the error's stack (at most `tracebackLimit` frames) to the error stream and flushes it. */
  logException(error: unknown): void {
    const stderr = this.getStderr();
    stderr.write(`${formatError(error, this.tracebackLimit)}\n`);
    stderr.flush();
  }

  /** Logs the error, and if the headers were not sent yet, sends `errorOutput`'s page instead. */
  async handleError(error: unknown): Promise<void> {
    this.logException(error);
    if (!this.headersSent) {
      this.result = this.errorOutput(this.environ, this.boundStartResponse, error);
      await this.finishResponse();
    }
  }

  /** A small WSGI app that produces the error page from `errorStatus`, `errorHeaders` and `errorBody`. */
  errorOutput(
    _environ: WSGIEnvironment,
    startResponse: StartResponse,
    error: unknown = new Error("unknown error"),
  ): ResponseBody {
    startResponse(this.errorStatus, this.errorHeaders.slice(), error);
    return [this.errorBody];
  }

  /**
   * Hands the status line and headers (`this.status`, `this.headers`) to the client. The
   * default writes them through `write_` as an origin server (`HTTP/1.x` status line,
   * `Date`, `Server`; nothing for an HTTP/0.9 client) or a CGI script (`Status:` header)
   * does. A gateway that may refuse a head throws before sending anything.
   */
  protected sendHead_(): void | Promise<void> {
    if (this.originServer && !this.clientIsModern()) return;
    const preamble = this.sendPreamble();
    if (preamble) return preamble.then(() => this.write_(this.headers!.toBytes()));
    return this.write_(this.headers!.toBytes());
  }

  /** Ends the response after its last body byte; the default does nothing (the stream just ends). */
  protected end_(): void | Promise<void> {}

  /** Queues bytes for the client; may send them at once, may return a promise for backpressure. */
  protected abstract write_(data: Uint8Array): void | Promise<void>;
  /** Pushes queued bytes to the client; the default does nothing. */
  protected flush_(): void | Promise<void> {}
  /** The `wsgi.input` of the request. */
  abstract getStdin(): InputStream;
  /** The `wsgi.errors` of the request. */
  abstract getStderr(): ErrorStream;
  /** Adds the request's CGI variables to `this.environ`. */
  abstract addCgiVars(): void;
}

const DEFAULT_OS_ENVIRON: Readonly<Record<string, string>> = Object.freeze(readEnviron());

const factories = new WeakMap<FileWrapperClass, FileWrapperFactory>();
/** The last class asked for and its factory: every request asks, nearly always for the same. */
let lastWrapper: FileWrapperClass | undefined;
let lastFactory: FileWrapperFactory | undefined;

/** The `wsgi.file_wrapper` callable for a wrapper class (one per class, cached). */
function fileWrapperFactory(wrapper: FileWrapperClass): FileWrapperFactory {
  if (wrapper === lastWrapper && lastFactory !== undefined) return lastFactory;
  let factory = factories.get(wrapper);
  if (!factory) {
    factory = function fileWrapper(filelike, blksize) {
      return new wrapper(filelike, blksize) as ReturnType<FileWrapperFactory>;
    };
    factories.set(wrapper, factory);
  }
  lastWrapper = wrapper;
  lastFactory = factory;
  return factory;
}

/** Calls an abandoned iterator's `return()`, without waiting: a generator busy in an `await` runs it at its next `yield`. */
function returnQuietly(iterator: AsyncIterator<unknown>): void {
  try {
    const returned = iterator.return?.();
    if (isPromiseLike(returned)) Promise.resolve(returned).catch(ignore);
  } catch {
    // The body's own cleanup failed; the response is abandoned either way.
  }
}
