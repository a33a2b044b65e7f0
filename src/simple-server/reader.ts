/**
 * `SocketReader`: the request handler's `rfile`, a buffered reader over a socket.
 *
 * The head is read line by line (`readline(limit)`, as Python's `BufferedReader`); the
 * bytes that arrived after the head stay buffered and are the first bytes of the body
 * (`bodySource()`), so nothing is lost between the two. Reading pulls from the socket
 * only when asked (paused mode), so a slow application slows the client down.
 *
 * @module
 */
import type { Readable } from "node:stream";
import type { ChunkSource } from "../streams.ts";

const EMPTY: Buffer = Buffer.alloc(0);
const LF = 0x0a;

/** A buffered, pull-based reader over a `Readable` (a socket). */
export class SocketReader {
  private readonly stream: Readable;
  private buffer: Buffer = EMPTY;
  private eof = false;
  private error: unknown = undefined;

  constructor(stream: Readable) {
    this.stream = stream;
    stream.on("error", (error) => {
      this.error ??= error;
    });
  }

  /** The bytes read from the socket but not handed out yet. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** The next chunk from the socket, `null` at its end; rejects if the socket failed. */
  private async pull(): Promise<Buffer | null> {
    const stream = this.stream;
    for (;;) {
      if (this.error !== undefined) throw this.error;
      if (this.eof) return null;
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) return chunk;
      if (stream.readableEnded || stream.destroyed) {
        this.eof = true;
        return null;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off("readable", done);
          stream.off("end", done);
          stream.off("close", done);
          stream.off("error", done);
          resolve();
        };
        stream.on("readable", done);
        stream.on("end", done);
        stream.on("close", done);
        stream.on("error", done);
      });
    }
  }

  /**
   * Reads one line, up to and including `\n`, or `limit` bytes when no `\n` comes
   * before; at the end of the stream, what is left (possibly nothing).
   */
  async readline(limit: number): Promise<Buffer> {
    let scanned = 0;
    for (;;) {
      const at = this.buffer.indexOf(LF, scanned);
      if (at !== -1 && at < limit) return this.take(at + 1);
      if (this.buffer.length >= limit) return this.take(limit);
      scanned = this.buffer.length;
      const chunk = await this.pull();
      if (chunk === null) return this.take(this.buffer.length);
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    }
  }

  private take(n: number): Buffer {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** A source for `BodyInputStream`: the buffered bytes first, then the socket's. */
  bodySource(): ChunkSource {
    return () => {
      if (this.buffer.length > 0) return this.take(this.buffer.length);
      return this.pull();
    };
  }
}
