/**
 * Handlers over explicit streams: `SimpleHandler` for HTTP origin servers and
 * `BaseCGIHandler` for CGI-like gateways (CPython's classes of the same names).
 *
 * @module
 */
import { BodyInputStream, iterableSource, TextErrorStream } from "../streams.ts";
import type { ErrorStream, InputStream } from "../types.ts";
import { BaseHandler } from "./base.ts";
import { inputLimit } from "./input-limit.ts";

/** How long to wait before writing again to a sink that was full (`EAGAIN`). */
const RETRY_MS = 1;

/** Where a handler reads the request body: an `InputStream`, a Node `Readable`, or any async iterable of bytes. */
export type InputSource = InputStream | AsyncIterable<Uint8Array | string>;

/** Where a handler writes the response: a Node `Writable` or anything with `write(bytes)`. */
export interface OutputSink {
  /**
   * Writes bytes; a Node `Writable` returns false when its buffer is full, a raw
   * file-descriptor write returns how many bytes it took.
   */
  write(data: Uint8Array): unknown;
  /** Pushes buffered bytes out, if the sink buffers. */
  flush?(): unknown;
  /** Node `Writable`s: listen for `drain`, `error` and `close`. */
  once?(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Node `Writable`s: listen for `error`. */
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Node `Writable`s: stop listening. */
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Where a handler writes its error log: an `ErrorStream` or a text sink such as `process.stderr`. */
export type ErrorSink = ErrorStream | { write(s: string): unknown };

/** Options of `SimpleHandler` and `BaseCGIHandler`, as CPython's keyword arguments. */
export interface SimpleHandlerOptions {
  /** The value of `wsgi.multithread` (default true). */
  multithread?: boolean;
  /** The value of `wsgi.multiprocess` (default false). */
  multiprocess?: boolean;
}

function isInputStream(value: InputSource): value is InputStream {
  return typeof (value as InputStream).readline === "function";
}

function isErrorStream(value: ErrorSink): value is ErrorStream {
  return typeof (value as ErrorStream).writelines === "function";
}

/**
 * A handler given its streams and environ up front, for HTTP origin servers: it writes
 * an `HTTP/1.0` status line. A `Readable` stdin is read no further than the environ's
 * `CONTENT_LENGTH`; a `Writable` stdout's backpressure reaches the application.
 */
export class SimpleHandler extends BaseHandler {
  /** The request body stream, as `wsgi.input`. */
  stdin: InputStream;
  /** Where the response goes. */
  stdout: OutputSink;
  /** The error stream, as `wsgi.errors`. */
  stderr: ErrorStream;
  /** The CGI variables of the request. */
  baseEnv: Record<string, unknown>;
  private outputError: unknown = undefined;
  /** Settles when a full stdout drains; one shared promise, however many writes wait. */
  private drained: Promise<void> | undefined = undefined;
  /** True when stdin was a stream this handler bounded, so reading it all is safe. */
  private readonly inputTerminated: boolean;

  constructor(
    stdin: InputSource,
    stdout: OutputSink,
    stderr: ErrorSink,
    environ: Record<string, unknown>,
    { multithread = true, multiprocess = false }: SimpleHandlerOptions = {},
  ) {
    super();
    this.inputTerminated =
      !isInputStream(stdin) && this.inputLimit(environ) !== Number.POSITIVE_INFINITY;
    this.stdin = isInputStream(stdin)
      ? stdin
      : new BodyInputStream(iterableSource(stdin), this.inputLimit(environ));
    this.stdout = stdout;
    this.stderr = isErrorStream(stderr) ? stderr : new TextErrorStream(stderr);
    this.baseEnv = environ;
    this.wsgiMultithread = multithread;
    this.wsgiMultiprocess = multiprocess;
    stdout.on?.("error", (error) => {
      this.outputError = error;
    });
  }

  /** How many bytes of a stream stdin to read: the declared `CONTENT_LENGTH`, else all. */
  protected inputLimit(environ: Record<string, unknown>): number {
    return inputLimit(environ);
  }

  override getStdin(): InputStream {
    return this.stdin;
  }

  override getStderr(): ErrorStream {
    return this.stderr;
  }

  override addCgiVars(): void {
    Object.assign(this.environ, this.baseEnv);
    if (this.inputTerminated) this.environ["wsgi.input_terminated"] ??= true;
  }

  /**
   * Writes all of `data`. A sink that returns a count (a raw file-descriptor write, such as
   * `fs.writeSync`) may take only part of it: the rest is written again until none is
   * left, as CPython 3.11 does; a sink that is full for now (`EAGAIN`) is retried shortly.
   * A Node `Writable` that returns false makes the application wait for `drain`.
   */
  protected override write_(data: Uint8Array): void | Promise<void> {
    if (this.outputError !== undefined) throw this.outputError;
    let rest = data;
    for (;;) {
      let result: unknown;
      try {
        result = this.stdout.write(rest);
      } catch (error) {
        if ((error as { code?: unknown }).code !== "EAGAIN") throw error;
        const pending = rest;
        return new Promise<void>((resolve) => setTimeout(resolve, RETRY_MS)).then(() =>
          this.write_(pending),
        );
      }
      if (typeof result === "number" && result >= 0 && result < rest.length) {
        rest = rest.subarray(result);
        continue;
      }
      if (result === false) return this.drain();
      return;
    }
  }

  /** Settles when a full Node `Writable` stdout drains (or fails); one promise for every waiting write. */
  private drain(): Promise<void> | undefined {
    const out = this.stdout;
    if (!out.once) return;
    this.drained ??= new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => {
        this.drained = undefined;
        out.off?.("drain", onDrain);
        out.off?.("close", onClose);
        out.off?.("error", onError);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onDrain = () => done();
      const onError = (error: unknown) => done(error);
      const onClose = () => done(Object.assign(new Error("output closed"), { code: "EPIPE" }));
      out.once?.("drain", onDrain);
      out.once?.("error", onError);
      out.once?.("close", onClose);
    });
    return this.drained;
  }

  protected override flush_(): void {
    this.stdout.flush?.();
  }
}

/**
 * A `SimpleHandler` for CGI-like gateways (CGI, FastCGI, SCGI): not an origin server,
 * so it sends the status in a `Status:` header instead of a status line.
 */
export class BaseCGIHandler extends SimpleHandler {
  override originServer = false;

  /** Under CGI a missing `CONTENT_LENGTH` means no body (RFC 3875 §4.1.2). */
  protected override inputLimit(environ: Record<string, unknown>): number {
    return inputLimit(environ, 0);
  }
}
