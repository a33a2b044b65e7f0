/**
 * The test client's `BaseHandler`: the WSGI algorithm of the servers, with I/O hooks that
 * capture the response in memory instead of writing it to a socket, and a client that can
 * be made slow or rude (a slow reader, a hang-up after N bytes).
 *
 * @module
 */

import { GatewayHandler } from "../handlers/gateway.ts";
import { inputLimit } from "../handlers/input-limit.ts";
import { Headers } from "../headers.ts";
import { BufferedErrorStream } from "../streams.ts";
import { bodySource, type PreparedRequest } from "./request.ts";

/** How the simulated client behaves. */
export interface ClientBehaviour {
  /** Deliver the request body in pieces of at most this many bytes (1: a byte at a time). */
  bodyChunkSize?: number;
  /** Wait this long after each response chunk before accepting the next (a slow reader). */
  readDelayMs?: number;
  /**
   * Consume each response chunk here instead of collecting the body; the next chunk waits
   * until the returned promise settles (a pull-based reader).
   */
  onChunk?: (chunk: Uint8Array) => void | Promise<void>;
  /** Hang up once this many body bytes arrived (0: right after the headers). */
  disconnectAfter?: number;
  /** Hang up when this signal aborts. */
  signal?: AbortSignal;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs one application for one in-memory request and keeps what it answered. */
export class TestingHandler extends GatewayHandler {
  override wsgiMultiprocess = false;
  /** The status line the application sent (`"200 OK"`), once the headers went out. */
  sentStatus: string | undefined = undefined;
  /** The headers as sent. */
  sentHeaders: Headers | undefined = undefined;
  /** The body chunks received (unless `onChunk` consumed them). */
  readonly chunks: Uint8Array[] = [];
  /** Body bytes received. */
  received = 0;
  /** True once the body ended normally. */
  complete = false;
  /** The first error the handler logged (the application's, or the validator's). */
  failure: unknown = undefined;
  /** What was written to `wsgi.errors`. */
  readonly errorLog = new BufferedErrorStream();
  private readonly behaviour: ClientBehaviour;

  constructor(request: PreparedRequest, behaviour: ClientBehaviour = {}) {
    super();

    this.behaviour = behaviour;
    this.cgiVars = { ...request.vars, ...request.extra };
    this.stderr = this.errorLog;
    this.scheme = request.scheme;
    const limit = request.body.kind === "none" ? 0 : inputLimit(request.vars);
    this.stdin = this.link.input(bodySource(request.body, behaviour.bodyChunkSize), limit);
    const signal = behaviour.signal;
    if (signal?.aborted) this.link.disconnect();
    else signal?.addEventListener("abort", () => this.link.disconnect(), { once: true });
  }

  override logException(error: unknown): void {
    this.failure ??= error;
    super.logException(error);
  }

  /** Records the head as the client received it. */
  protected override sendHead_(): void {
    this.link.check();
    this.sentStatus = this.status;
    this.sentHeaders = new Headers(this.headers!.items());
    if (this.behaviour.disconnectAfter !== undefined && this.behaviour.disconnectAfter <= 0) {
      this.link.disconnect();
    }
  }

  protected override write_(data: Uint8Array): void | Promise<void> {
    this.link.check();
    const limit = this.behaviour.disconnectAfter;
    let piece = data;
    if (limit !== undefined && this.received + piece.length >= limit) {
      piece = piece.subarray(0, limit - this.received);
    }
    this.received += piece.length;
    const { onChunk, readDelayMs } = this.behaviour;
    let pending: Promise<void> | undefined;
    if (onChunk) pending = onChunk(piece) ?? undefined;
    else this.chunks.push(piece.slice());
    if (limit !== undefined && this.received >= limit) {
      // The bytes were taken; the client hangs up now, and the next write finds out.
      this.link.disconnect();
      if (pending) pending.catch(() => {});
      return;
    }
    if (readDelayMs !== undefined && readDelayMs > 0) {
      pending = pending ? pending.then(() => delay(readDelayMs)) : delay(readDelayMs);
    }
    if (pending) return this.link.guard(pending);
  }

  protected override end_(): void {
    if (!this.link.gone) this.complete = true;
  }
}
