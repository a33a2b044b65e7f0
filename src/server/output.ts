/**
 * The write side of one connection: response bytes are queued, then sent in as few writes
 * as possible, and a slow reader holds the application back.
 *
 * A small response (head and body) is sent with one `write`: as one latin-1 string up to
 * 1 KiB (Node copies it to the socket from the stack, with no buffer to allocate), else
 * copied into one buffer; a streamed one goes out in corked batches of up to `FLUSH_AT`
 * bytes (one `writev` each).
 * Once more than `HIGH_WATER` bytes wait in the socket, `write` returns a promise that
 * resolves on `drain`, so memory per connection stays bounded whatever the body size.
 *
 * @module
 */
import type { Socket } from "node:net";
import { latin1, writeLatin1 } from "../http/latin1.ts";

/** Buffered response bytes past which a write waits for the socket to drain. */
const HIGH_WATER = 1024 * 1024;
/** Queued bytes past which they go out without waiting for the end of the response. */
const FLUSH_AT = 1024 * 1024;
/** Queued pieces up to this size are copied into one buffer and sent with one write. */
const COALESCE_MAX = 16 * 1024;

/** A head and body up to this size go out as one string. */
const SMALL = 1024;

/** A promise's two ends, kept until the socket drains or the connection dies. */
interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** Queues, coalesces and flushes the bytes of one connection's responses. */
export class Output {
  private readonly socket: Socket;
  /** Bytes waiting for `flush`; a string is latin-1 text (a response head). */
  private queue: Array<Uint8Array | string> = [];
  private queued = 0;
  private flushScheduled = false;
  private drainWaiters: Waiter[] = [];
  private readonly scheduledFlush = () => {
    this.flushScheduled = false;
    if (!this.socket.writableEnded && !this.socket.destroyed) this.flush();
  };

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("drain", () => this.onDrain());
  }

  /**
   * Queues bytes; they go out at the end of the response (`flush`), once `FLUSH_AT` bytes
   * wait, or, unless `more` bytes follow synchronously, at the end of this turn (a
   * streaming app may pause between chunks). Returns a promise while more than
   * `HIGH_WATER` bytes wait in the socket, so the application feels the client's pace.
   */
  write(bytes: Uint8Array | string, more: boolean, flushNow = false): void | Promise<void> {
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (flushNow || this.queued >= FLUSH_AT) this.flush();
    else if (!more && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.scheduledFlush);
    }
    if (this.socket.writableLength > HIGH_WATER) {
      return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
    }
  }

  /** Sends what is queued: one write for a small response, a corked batch for a large one. */
  flush(): void {
    const queue = this.queue;
    if (queue.length === 0) return;
    const socket = this.socket;
    if (queue.length === 1) {
      const only = queue[0] as Uint8Array | string;
      if (typeof only === "string") socket.write(only, "latin1");
      else socket.write(only);
    } else if (queue.length === 2 && typeof queue[0] === "string" && this.queued <= SMALL) {
      // A head and a small body: one latin-1 string, which Node writes from the stack.
      socket.write(queue[0] + latin1(queue[1] as Uint8Array), "latin1");
    } else if (this.queued <= COALESCE_MAX) {
      const out = Buffer.allocUnsafe(this.queued);
      let at = 0;
      for (const piece of queue) {
        at += typeof piece === "string" ? writeLatin1(out, piece, at) : copy(piece, out, at);
      }
      socket.write(out);
    } else {
      socket.cork();
      for (const piece of queue) {
        if (typeof piece === "string") socket.write(piece, "latin1");
        else socket.write(piece);
      }
      socket.uncork();
    }
    this.queue = [];
    this.queued = 0;
  }

  /** Whether a write waits for `drain`. */
  get waiting(): boolean {
    return this.drainWaiters.length > 0;
  }

  /** Rejects every write waiting for `drain` (the connection is gone). */
  fail(error: Error): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w.reject(error);
  }

  private onDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w.resolve();
  }
}

/**
 * Copies `bytes` into `out` at `at` and returns their length. Small pieces go byte by byte:
 * `TypedArray#set` costs about 250 ns a call, far more than copying a short body.
 */
function copy(bytes: Uint8Array, out: Uint8Array, at: number): number {
  const n = bytes.length;
  if (n > 256) out.set(bytes, at);
  else for (let i = 0; i < n; i++) out[at + i] = bytes[i] as number;
  return n;
}
