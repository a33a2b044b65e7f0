/**
 * `FileWrapper` (Python's `wsgiref.util.FileWrapper`): a file as a response body, read in
 * blocks, and the plumbing that reads a file descriptor or a `FileHandle` for it. Servers
 * offer it as `wsgi.file_wrapper`, and the production server sends it by a faster path.
 *
 * @module
 */
import type { FileHandle } from "node:fs/promises";
import { zeroBytes } from "../bytes.ts";
import { nodeBuiltin } from "../runtime.ts";
import type { FileLike, FileWrapperFactory, FileWrapper as FileWrapperShape } from "../types.ts";

/**
 * A `FileLike` over a `node:fs/promises` `FileHandle`, whose `read` takes a buffer
 * rather than a size. `FileWrapper` builds one when given a handle; `handle` is the
 * original, for servers that want its `fd`.
 */
export class FileHandleReader implements FileLike {
  /** The wrapped handle. */
  readonly handle: FileHandle;

  /** Wraps `handle`; reads continue from the handle's current position. */
  constructor(handle: FileHandle) {
    this.handle = handle;
  }

  /** Reads at most `size` bytes from the current position; empty at the end of the file. */
  async read(size: number): Promise<Uint8Array> {
    const buffer = zeroBytes(size);
    const { bytesRead } = await this.handle.read(buffer, 0, size, null);
    return bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
  }

  /** Closes the handle. */
  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Tells a `FileHandle` from a `FileLike`: Node does not export the class to test against. */
function isFileHandle(value: FileLike | FileHandle): value is FileHandle {
  const v = value as Partial<FileHandle>;
  return (
    typeof v.fd === "number" && typeof v.readFile === "function" && typeof v.stat === "function"
  );
}

/**
 * `node:fs`, for file descriptors: reached lazily, so that `wsgiref/fetch` (which imports
 * this module) imports nothing from Node. A runtime without it has no descriptors either.
 */
function nodeFs(): typeof import("node:fs") {
  const fs = nodeBuiltin<typeof import("node:fs")>("node:fs");
  if (fs === undefined) {
    throw new TypeError("file descriptors need node:fs, which this runtime lacks");
  }
  return fs;
}

/** Reads at most `size` bytes from a file descriptor at its current position. */
function readFromFd(fd: number, size: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const buffer = zeroBytes(size);
    nodeFs().read(fd, buffer, 0, size, null, (error, bytesRead) => {
      if (error) reject(error);
      else resolve(bytesRead === size ? buffer : buffer.subarray(0, bytesRead));
    });
  });
}

/**
 * Turns a file into a response body (PEP 3333 "Optional Platform-Specific File Handling"):
 * iterating it with `for await` reads `blksize` bytes at a time until a read comes back
 * empty, and after that it yields nothing more, even if the file grows. Breaking out of a
 * loop leaves the file where it was, so another loop carries on from there.
 *
 * The file may be a `FileLike` (its `read(n)` may return bytes or a promise of bytes), a
 * `node:fs/promises` `FileHandle`, or a numeric file descriptor; reads start at its current
 * position. `close()` closes it (once; later calls do nothing), after which iterating throws.
 *
 * @example
 * const wrapper = new FileWrapper(await open("index.html"), 64 * 1024);
 * for await (const chunk of wrapper) socket.write(chunk);
 * await wrapper.close();
 */
export class FileWrapper implements FileWrapperShape {
  /** What is read: the `FileLike` or descriptor given, or a `FileHandleReader` over a handle. */
  readonly filelike: FileLike | number;
  /** The most bytes each read asks for. */
  readonly blksize: number;
  private exhausted = false;
  private closed = false;

  /**
   * @param filelike a `FileLike`, a `FileHandle`, or a file descriptor
   * @param blksize how many bytes to read at a time (a positive integer; default 8192)
   */
  constructor(filelike: FileLike | FileHandle | number, blksize = 8192) {
    if (!Number.isSafeInteger(blksize) || blksize <= 0) {
      throw new RangeError(`FileWrapper blksize must be a positive integer, got ${blksize}`);
    }
    if (typeof filelike === "number") {
      if (!Number.isInteger(filelike) || filelike < 0) {
        throw new TypeError(`FileWrapper needs a valid file descriptor, got ${filelike}`);
      }
      this.filelike = filelike;
    } else if (typeof filelike === "object" && filelike !== null && isFileHandle(filelike)) {
      this.filelike = new FileHandleReader(filelike);
    } else if (
      typeof filelike === "object" &&
      filelike !== null &&
      typeof (filelike as FileLike).read === "function"
    ) {
      this.filelike = filelike as FileLike;
    } else {
      throw new TypeError(
        "FileWrapper needs a file-like object with read(size), a FileHandle or a file descriptor",
      );
    }
    this.blksize = blksize;
  }

  /** Reads the next chunk; an empty one means the end. */
  private async readChunk(): Promise<Uint8Array> {
    if (typeof this.filelike === "number") return readFromFd(this.filelike, this.blksize);
    const data: unknown = await this.filelike.read(this.blksize);
    if (!(data instanceof Uint8Array)) {
      const got = typeof data === "string" ? "a string" : typeof data;
      throw new TypeError(`FileWrapper: read() must return bytes (a Uint8Array), got ${got}`);
    }
    return data;
  }

  /** Yields the file's chunks, `blksize` bytes at most each, until a read comes back empty. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    while (!this.exhausted) {
      if (this.closed) throw new Error("FileWrapper: cannot read, it was closed");
      const chunk = await this.readChunk();
      if (chunk.length === 0) {
        this.exhausted = true;
        return;
      }
      yield chunk;
    }
  }

  /**
   * Closes the wrapped file: `FileHandle.close()`, `fs.close()` for a descriptor, or the
   * file-like object's `close()` if it has one. Only the first call does anything, so a
   * descriptor is never closed twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const filelike = this.filelike;
    if (typeof filelike === "number") {
      await new Promise<void>((resolve, reject) => {
        nodeFs().close(filelike, (error) => (error ? reject(error) : resolve()));
      });
    } else {
      await filelike.close?.();
    }
  }
}

/**
 * The `wsgi.file_wrapper` a server puts in the environ: `fileWrapper(f, blksize)` is
 * `new FileWrapper(f, blksize)`.
 *
 * @example return environ["wsgi.file_wrapper"]?.(fd) ?? new FileWrapper(fd);
 */
export function fileWrapper(
  filelike: FileLike | FileHandle | number,
  blksize?: number,
): FileWrapper {
  return new FileWrapper(filelike, blksize);
}
// It must fit the environ's `wsgi.file_wrapper` slot (it also takes a FileHandle).
fileWrapper satisfies FileWrapperFactory;
