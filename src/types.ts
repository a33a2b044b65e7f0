/**
 * The types of the Web Server Gateway Interface (PEP 3333), as TypeScript sees them.
 *
 * This module mirrors Python's `wsgiref.types`: it holds only types, so importing it
 * costs nothing at run time. Bytes are `Uint8Array` (a `Buffer` is one); "native strings"
 * in the environ are PEP 3333's bytes-as-latin-1 strings, one char code 0-255 per byte.
 *
 * @module
 */
import type { FileHandle } from "node:fs/promises";

/**
 * The `wsgi.input` stream: the request body, read with async methods.
 *
 * A server's stream never reads past `CONTENT_LENGTH` or the end of a chunked body, so
 * reading "everything" with `read()` is safe. Iterating it with `for await` yields lines.
 */
export interface InputStream extends AsyncIterable<Uint8Array> {
  /** Read at most `size` bytes, or everything that is left when `size` is omitted or negative. */
  read(size?: number): Promise<Uint8Array>;
  /**
   * Read at most `size` bytes without copying: what is already buffered, or else the next
   * piece of the body as it arrives (Python's `BufferedReader.read1`); empty at the end.
   * The fast way to stream a large body. Not in PEP 3333: every `wsgi.input` of this
   * package has it, but a portable application checks for it.
   */
  read1?(size?: number): Promise<Uint8Array>;
  /**
   * Copy the next piece of the body into `target`, at most `target.length` bytes, and
   * resolve to the count, 0 at the end (Python's `BufferedReader.readinto1`). With one
   * buffer reused from call to call, the fastest way to consume a large body: the
   * production server copies straight from its socket buffer. Not in PEP 3333.
   */
  readinto1?(target: Uint8Array): Promise<number>;
  /** Fill `target`, with fewer bytes only at the end, and resolve to the count (Python's `readinto`). Not in PEP 3333. */
  readinto?(target: Uint8Array): Promise<number>;
  /** Read one line, up to and including `\n`, or at most `size` bytes of it. */
  readline(size?: number): Promise<Uint8Array>;
  /** Read the remaining lines, stopping after the line that brings the total past `hint`. */
  readlines(hint?: number): Promise<Uint8Array[]>;
}

/** The `wsgi.errors` stream: a synchronous text sink for the server's error log. */
export interface ErrorStream {
  /** Write a string to the error log. */
  write(s: string): void;
  /** Write each string of `lines` in turn (no newlines are added). */
  writelines(lines: Iterable<string>): void;
  /** Push buffered text out; may do nothing. */
  flush(): void;
}

/**
 * A file-like object a `FileWrapper` reads from: anything whose `read(n)` returns
 * bytes or a promise of bytes, an empty result meaning the end.
 */
export interface FileLike {
  /** Read at most `size` bytes; an empty array means the end of the file. */
  read(size: number): Uint8Array | Promise<Uint8Array>;
  /** Release the file, if it has anything to release. */
  close?(): void | Promise<void>;
}

/**
 * The body an application returns: a synchronous or asynchronous iterable of byte chunks,
 * with an optional `close()` the server calls exactly once when the response is over.
 * Arrays, generators, async generators and Node `Readable` streams all qualify.
 */
export type ResponseBody = (Iterable<Uint8Array> | AsyncIterable<Uint8Array>) & {
  close?(): void | Promise<void>;
};

/**
 * The key under which a body that wraps a list of chunks (the validator's checked body)
 * exposes that list, so a handler can still compute the response's `Content-Length` from
 * it, as it would for the list itself.
 */
export const WRAPPED_CHUNKS: unique symbol = Symbol.for("wsgiref.wrappedChunks");

/**
 * A body that wraps a file (PEP 3333 "Optional Platform-Specific File Handling"); a server
 * may transmit it by a faster path than iterating it.
 */
export interface FileWrapper extends AsyncIterable<Uint8Array> {
  /** The wrapped file-like object. */
  readonly filelike: FileLike | number;
  /** The size of each read, in bytes. */
  readonly blksize: number;
  /** Close the wrapped file-like object. */
  close(): void | Promise<void>;
}

/** The `wsgi.file_wrapper` callable: wraps a file-like object as a response body. */
export type FileWrapperFactory = (
  filelike: FileLike | FileHandle | number,
  blksize?: number,
) => FileWrapper;

/**
 * The `write()` callable `startResponse` returns: sends bytes as part of the body.
 * The promise it may return resolves when the transport accepted the bytes, so a
 * writer that awaits it gets backpressure.
 */
export type WriteCallable = (data: Uint8Array) => void | Promise<void>;

/** A response header as WSGI carries it: `[name, value]`, both latin-1 strings. */
export type HeaderTuple = [name: string, value: string];

/**
 * The `start_response` callable (PEP 3333): begins the response with a status such as
 * `"200 OK"` and a list of headers. Call it once, or again with `excInfo` (the caught
 * error) before the headers were sent; once they were sent, a call with `excInfo`
 * re-throws it.
 */
export type StartResponse = (
  status: string,
  headers: HeaderTuple[],
  excInfo?: unknown,
) => WriteCallable;

/**
 * The WSGI environment: CGI variables, `HTTP_*` request headers and the `wsgi.*` keys.
 * All CGI and header values are native strings (bytes as latin-1).
 */
export interface WSGIEnvironment {
  /** The request method, such as `GET`. */
  REQUEST_METHOD: string;
  /** The part of the path that leads to the application; empty for the root. */
  SCRIPT_NAME: string;
  /** The rest of the path, percent-decoded as latin-1; may be empty. */
  PATH_INFO: string;
  /** The part of the URL after `?`, undecoded; may be absent or empty. */
  QUERY_STRING?: string;
  /** The request's `Content-Type`, if any. */
  CONTENT_TYPE?: string;
  /** The request's `Content-Length`, if any, as a string. */
  CONTENT_LENGTH?: string;
  /** The server's host name. */
  SERVER_NAME: string;
  /** The server's port, as a string. */
  SERVER_PORT: string;
  /** The protocol of the request, such as `HTTP/1.1`. */
  SERVER_PROTOCOL: string;
  /** Always `[1, 0]`. */
  "wsgi.version": readonly [number, number];
  /** `http` or `https`. */
  "wsgi.url_scheme": string;
  /** The request body. */
  "wsgi.input": InputStream;
  /** The error log. */
  "wsgi.errors": ErrorStream;
  /** True if another request may run the application at the same time in this thread of control. */
  "wsgi.multithread": boolean;
  /** True if another process may run the same application at the same time. */
  "wsgi.multiprocess": boolean;
  /** True if the application will be run only once in this process (CGI). */
  "wsgi.run_once": boolean;
  /** Wraps a file as a response body the server may send by a fast path. */
  "wsgi.file_wrapper"?: FileWrapperFactory;
  /** True when `wsgi.input` ends at the end of the body, so reading it all is safe. */
  "wsgi.input_terminated"?: boolean;
  /** Request headers: `HTTP_USER_AGENT`, `HTTP_HOST`, ... */
  [header: `HTTP_${string}`]: string | undefined;
  /** Any other key: CGI variables, server extensions, middleware state. */
  [key: string]: unknown;
}

/**
 * A WSGI application: takes the environ and `startResponse`, returns the body (or a
 * promise of it). It may be `async`.
 */
export type WSGIApplication = (
  environ: WSGIEnvironment,
  startResponse: StartResponse,
) => ResponseBody | Promise<ResponseBody>;
