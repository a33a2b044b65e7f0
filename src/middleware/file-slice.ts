/**
 * `FileSlice`: a `FileLike` that reads one stretch of a file, for byte ranges.
 *
 * @module
 */
import type { FileHandle } from "node:fs/promises";
import type { FileLike } from "../types.ts";

const EMPTY = new Uint8Array(0);

/**
 * Reads `length` bytes of an open file from `start` on, and no more: reads are positioned
 * (`pread`), so the handle's own position does not matter. If the file shrank, it ends
 * early. `close()` closes the handle.
 *
 * @example new FileWrapper(new FileSlice(handle, 500, 100)) // bytes 500-599
 */
export class FileSlice implements FileLike {
  /** The open file. */
  readonly handle: FileHandle;
  private position: number;
  private remaining: number;

  /**
   * @param handle the open file, closed by `close()`
   * @param start the offset of the first byte
   * @param length how many bytes to read at most
   */
  constructor(handle: FileHandle, start: number, length: number) {
    if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(
        `FileSlice needs a non-negative start and length, got ${start}, ${length}`,
      );
    }
    this.handle = handle;
    this.position = start;
    this.remaining = length;
  }

  /** Reads up to `size` bytes of what is left of the slice; empty at its end. */
  async read(size: number): Promise<Uint8Array> {
    const n = Math.min(size, this.remaining);
    if (n <= 0) return EMPTY;
    const buffer = Buffer.alloc(n);
    const { bytesRead } = await this.handle.read(buffer, 0, n, this.position);
    this.position += bytesRead;
    this.remaining = bytesRead === 0 ? 0 : this.remaining - bytesRead;
    return bytesRead === n ? buffer : buffer.subarray(0, bytesRead);
  }

  /** Closes the file. */
  close(): Promise<void> {
    return this.handle.close();
  }
}
