/**
 * The `wsgi.input` of the production server's requests: body bytes pulled from the HTTP
 * core as the application reads, never ahead of it. The first read sends `100 Continue`
 * when the client asked for it; a read that finds nothing buffered waits for the socket,
 * under the body timer; a malformed body fails the read with the core's coded error.
 *
 * @module
 */
import { clientGone } from "../handlers/client-gone.ts";
import type { ServerConnection } from "../http/connection.ts";
import { ProtocolError } from "../http/errors.ts";
import type { ChunkSource } from "../streams.ts";
import type { ReadBuffer } from "./read-buffer.ts";

/**
 * Body bytes handed to the app that are copied out of the read buffer, at most, so that
 * the buffer serves the next read; a larger piece takes the buffer with it.
 */
const COPY_MAX = 16 * 1024;

/** An app waiting for body bytes: as a chunk, or copied into `target` (then it gets a count). */
interface BodyWaiter {
  readonly target: Uint8Array | null;
  resolve(value: Uint8Array | number | null): void;
  reject(error: unknown): void;
}

/** What the feed needs from its session. */
export interface FeedHost {
  /** Sends `100 Continue` (or other interim bytes) at once. */
  sendInterim(bytes: Uint8Array): void;
  /** A read is waiting for the client: arm the body timer, resume the socket. */
  waitingForBody(): void;
  /** A piece of the body arrived: the body timer starts again. */
  bodyProgress(bytes: number): void;
  /** The body ended: the application's time runs again. */
  bodyEnded(): void;
  /** The body was malformed: log the rejection (the read fails with `error`). */
  bodyRejected(error: ProtocolError): void;
  /** True once the connection closed: reads fail with the client-gone error. */
  readonly closed: boolean;
  /** The time in ms. */
  now(): number;
}

/** The body side of one connection, shared by its requests. */
export class BodyFeed {
  /** What every request's `wsgi.input` reads from. */
  readonly source: ChunkSource;
  /** A malformed request body found while the app read it, or null. */
  requestError: ProtocolError | null = null;
  /** Body bytes handed to the application for the current request. */
  received = 0;
  private waiter: BodyWaiter | null = null;
  /** Time spent waiting for the client's body bytes (ms), and since when it waits now (0: not). */
  private waitedMs = 0;
  private waitingSince = 0;
  private readonly conn: ServerConnection;
  private readonly reads: ReadBuffer | null;
  private readonly host: FeedHost;

  constructor(conn: ServerConnection, reads: ReadBuffer | null, host: FeedHost) {
    this.conn = conn;
    this.reads = reads;
    this.host = host;
    this.source = Object.assign(() => this.pull(null) as Promise<Uint8Array | null>, {
      into: (target: Uint8Array) => this.pull(target) as Promise<number>,
    });
  }

  /** Starts counting for a new request's body. */
  reset(): void {
    this.requestError = null;
    this.received = 0;
    this.waitedMs = 0;
    this.waitingSince = 0;
  }

  /** How long reads have waited for the client's bytes so far, in ms, up to `now`. */
  waited(now: number): number {
    return this.waitedMs + (this.waitingSince === 0 ? 0 : now - this.waitingSince);
  }

  /** True while a read waits for bytes from the socket. */
  get waiting(): boolean {
    return this.waiter !== null;
  }

  /** New bytes arrived: serves the waiting read, if any. */
  feed(): void {
    const waiter = this.waiter;
    if (waiter !== null) this.serve(waiter);
  }

  /** Fails the waiting read, if any (the client is gone). */
  fail(error: Error): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(error);
  }

  /**
   * The next piece of the body, or null at its end; with a `target`, the piece is copied
   * into it and the count (0 at the end) is returned.
   */
  private pull(target: Uint8Array | null): Promise<Uint8Array | number | null> {
    if (this.host.closed) throw clientGone();
    const interim = this.conn.sendContinue();
    if (interim) this.host.sendInterim(interim);
    return new Promise((resolve, reject) => this.serve({ target, resolve, reject }));
  }

  private serve(waiter: BodyWaiter): void {
    const target = waiter.target;
    let event: ReturnType<ServerConnection["nextEvent"]>;
    try {
      event = this.conn.nextEvent(target === null ? undefined : target.length);
    } catch (error) {
      this.waiter = null;
      if (error instanceof ProtocolError) {
        this.requestError = error;
        this.host.bodyRejected(error);
      }
      waiter.reject(error);
      return;
    }
    switch (event.type) {
      case "data":
        this.waiter = null;
        this.received += event.data.length;
        if (this.waitingSince !== 0) {
          this.waitedMs += this.host.now() - this.waitingSince;
          this.waitingSince = 0;
        }
        this.host.bodyProgress(event.data.length);
        if (target === null) waiter.resolve(this.handOver(event.data));
        else {
          target.set(event.data);
          waiter.resolve(event.data.length);
        }
        return;
      case "end":
        this.waiter = null;
        this.host.bodyEnded();
        waiter.resolve(target === null ? null : 0);
        return;
      case "need-data":
        if (this.conn.peerClosed) {
          this.waiter = null;
          waiter.reject(clientGone());
          return;
        }
        this.waiter = waiter;
        if (this.waitingSince === 0) this.waitingSince = this.host.now();
        this.host.waitingForBody();
        return;
      default:
        this.waiter = null;
        waiter.resolve(target === null ? null : 0);
    }
  }

  /**
   * Body bytes for the app, which may keep them: a small piece of the read buffer is
   * copied out, a large one takes the buffer with it (the next read goes into a new one).
   */
  private handOver(data: Uint8Array): Uint8Array {
    const reads = this.reads;
    if (reads === null || !reads.holds(data)) return data;
    if (data.length <= COPY_MAX) return Buffer.from(data);
    reads.lend();
    return data;
  }
}
