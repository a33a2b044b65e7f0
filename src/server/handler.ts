/**
 * The production server's `BaseHandler`: the shared WSGI algorithm over one HTTP/1.1
 * exchange. It only supplies I/O (the head, body chunks and the end go to the
 * connection) and a few HTTP/1.1 refinements: file bodies streamed in large reads, and an
 * access log line at the end.
 *
 * @module
 */
import { fstat, read } from "node:fs";
import { promisify } from "node:util";
import { GatewayHandler } from "../handlers/gateway.ts";
import type { Headers } from "../headers.ts";
import { ProtocolError } from "../http/errors.ts";
import type { ErrorStream, InputStream, WSGIEnvironment } from "../types.ts";
import { FileHandleReader, FileWrapper } from "../util/file-wrapper.ts";

const readAsync = promisify(read);
const fstatAsync = promisify(fstat);

/** What the handler needs from the connection for one request/response exchange. */
export interface Exchange {
  /** The CGI variables and `HTTP_*` headers of the request. */
  readonly cgiVars: Record<string, string>;
  /** `http` or `https`. */
  readonly scheme: string;
  /** The request body. */
  readonly input: InputStream;
  /** The error log. */
  readonly errors: ErrorStream;
  /** True when the server runs several worker processes. */
  readonly multiprocess: boolean;
  /**
   * Sends the status line and headers, choosing the framing. `more` says that more bytes
   * follow synchronously (a synchronous body is being iterated), so they may wait for
   * the end of the response instead of going out within this turn.
   */
  writeHead(status: string, headers: Headers, more: boolean): void | Promise<void>;
  /** Sends body bytes (framed as the head chose); resolves when the socket took them. */
  writeBody(data: Uint8Array, more: boolean): void | Promise<void>;
  /** Ends the response (the last chunk of a chunked body). */
  end(): void | Promise<void>;
  /** Called once when the exchange is over, with the status and body bytes sent. */
  done(status: string | undefined, bytesSent: number): void;
  /**
   * The error found in the request body while the app read it (already logged as a
   * rejection), or null. The connection can no longer carry the app's response.
   */
  readonly requestError: ProtocolError | null;
  /** Answers `requestError` with its own status (400, 413, ...) and `Connection: close`. */
  rejectRequest(): void;
}

/** How much of a file one read takes when a file wrapper body is streamed. */
const FILE_CHUNK = 256 * 1024;

/** Runs the application for one HTTP/1.1 exchange. */
export class ExchangeHandler extends GatewayHandler {
  private readonly exchange: Exchange;

  constructor(exchange: Exchange, serverSoftware: string | undefined) {
    super();
    this.exchange = exchange;
    this.cgiVars = exchange.cgiVars;
    this.stdin = exchange.input;
    this.stderr = exchange.errors;
    this.scheme = exchange.scheme;
    this.wsgiMultiprocess = exchange.multiprocess;
    this.serverSoftware = serverSoftware || undefined;
  }

  /** The environ is the request's CGI variables object itself, built fresh per request. */
  protected override createEnviron(): WSGIEnvironment {
    return this.exchange.cgiVars as unknown as WSGIEnvironment;
  }

  /** The head goes to the core, which frames it; a head the core refuses throws before any byte is sent. */
  protected override sendHead_(): void | Promise<void> {
    return this.exchange.writeHead(this.status!, this.headers!, this.iteratingSyncBody());
  }

  protected override write_(data: Uint8Array): void | Promise<void> {
    return this.exchange.writeBody(data, this.iteratingSyncBody());
  }

  protected override end_(): void | Promise<void> {
    return this.exchange.end();
  }

  /** True while a synchronous body is iterated: its chunks come without a pause. */
  private iteratingSyncBody(): boolean {
    const result = this.result;
    return typeof result === "object" && result !== null && Symbol.iterator in result;
  }

  /**
   * Streams a `FileWrapper` over a file descriptor or `FileHandle` in large reads, with a
   * `Content-Length` from the file's size when the app set none.
   */
  override async sendfile(): Promise<boolean> {
    const wrapper = this.result;
    if (!(wrapper instanceof FileWrapper)) return false;
    const file = wrapper.filelike;
    const fd =
      typeof file === "number"
        ? file
        : file instanceof FileHandleReader
          ? file.handle.fd
          : undefined;
    if (fd === undefined) return false;
    const { size, isFile } = await fstatAsync(fd).then((s) => ({
      size: s.size,
      isFile: s.isFile(),
    }));
    if (!isFile) return false;
    if (!this.headers!.has("Content-Length")) this.headers!.set("Content-Length", String(size));
    if (this.environ.REQUEST_METHOD === "HEAD") {
      await this.finishContent();
      return true;
    }
    for (;;) {
      const buffer = Buffer.allocUnsafe(FILE_CHUNK);
      const { bytesRead } = await readAsync(fd, buffer, 0, FILE_CHUNK, null);
      if (bytesRead === 0) break;
      const pending = this.write(buffer.subarray(0, bytesRead));
      if (pending) await pending;
    }
    await this.finishContent();
    return true;
  }

  /**
   * A malformed request body (found while the app read `wsgi.input`) is the client's
   * fault: it gets the protocol error's own answer (400, 413, 431...), as a malformed head
   * does, rather than a 500 page the connection could no longer carry. Whatever the app
   * made of the failed read, only its own errors are logged with their stack.
   */
  override async handleError(error: unknown): Promise<void> {
    const rejected = this.exchange.requestError;
    if (rejected === null) return super.handleError(error);
    if (error !== rejected && !(error instanceof ProtocolError)) this.logException(error);
    if (!this.headersSent) this.exchange.rejectRequest();
  }

  override close(): void | Promise<void> {
    const { status, bytesSent } = this;
    let closing: void | Promise<void>;
    try {
      closing = super.close();
    } catch (error) {
      this.exchange.done(status, bytesSent);
      throw error;
    }
    if (!closing) return this.exchange.done(status, bytesSent);
    return closing.finally(() => this.exchange.done(status, bytesSent));
  }
}
