/**
 * The client side of one exchange, as a gateway sees it: connected until the client goes
 * away, then every pending and later wait fails with the same coded error. This is the
 * disconnect rule of docs/disconnects.md in one place:
 *
 * - a write the application is waiting on (backpressure) rejects at once, and any later
 *   write rejects, with an error whose `code` is `ECONNRESET`; `BaseHandler` then closes
 *   the body, so its `close()` runs right after the disconnect is noticed, at the latest
 *   after the next chunk;
 * - a read of `wsgi.input` that needs bytes from the client rejects the same way.
 *
 * @module
 */

import { BodyInputStream, type ChunkSource } from "../streams.ts";
import { clientGone } from "./client-gone.ts";

/** Connected until `disconnect()`; after that, `check()` throws and `guard()` rejects. */
export class ClientLink {
  private isGone = false;
  // Made on first use: most exchanges never wait on the client nor add a listener.
  private waiters: Set<(error: Error) => void> | null = null;
  private listeners: Array<() => void> | null = null;
  private readonly owner: { abort(): void } | undefined;

  /** @param owner aborted first when the client goes away (the handler of the exchange) */
  constructor(owner?: { abort(): void }) {
    this.owner = owner;
  }

  /** True once the client went away. */
  get gone(): boolean {
    return this.isGone;
  }

  /** Marks the client gone: fails every pending `guard()` and runs `onGone` listeners, once. */
  disconnect(): void {
    if (this.isGone) return;
    this.isGone = true;
    this.owner?.abort();
    const waiters = this.waiters;
    this.waiters = null;
    if (waiters !== null) for (const reject of waiters) reject(clientGone());
    const listeners = this.listeners;
    this.listeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
  }

  /** Runs `listener` when the client goes away (at once if it already has). */
  onGone(listener: () => void): void {
    if (this.isGone) {
      listener();
      return;
    }
    this.listeners ??= [];
    this.listeners.push(listener);
  }

  /** Throws the `ECONNRESET` error if the client went away. */
  check(): void {
    if (this.isGone) throw clientGone();
  }

  /** Waits for `promise`, but rejects with the `ECONNRESET` error as soon as the client goes away. */
  guard<T>(promise: PromiseLike<T>): Promise<T> {
    if (this.isGone) return Promise.reject(clientGone());
    return new Promise<T>((resolve, reject) => {
      this.waiters ??= new Set();
      const waiters = this.waiters;
      waiters.add(reject);
      promise.then(
        (value) => {
          waiters.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          waiters.delete(reject);
          reject(error);
        },
      );
    });
  }

  /**
   * A `wsgi.input` over `source` that honours the rule: once the client went away, a read
   * that needs more bytes rejects with `ECONNRESET`, even if they had already arrived.
   */
  input(source: ChunkSource, limit = Number.POSITIVE_INFINITY): BodyInputStream {
    return new BodyInputStream(() => {
      this.check();
      const chunk = source();
      return chunk instanceof Promise ? this.guard(chunk) : chunk;
    }, limit);
  }
}
