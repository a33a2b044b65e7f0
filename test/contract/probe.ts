/**
 * What a contract case's application observes, for the case to check afterwards: how often
 * its body was iterated and closed, what errors it saw, and a promise for "done".
 */
import type { WSGIWarning } from "../../src/validate.ts";

/** A timeout long enough for a loaded 2-core machine, short enough to fail fast. */
export const WAIT_MS = 5000;

/** Records what the application saw during one contract case. */
export class Probe {
  /** How many times the body's `close()` ran. */
  closes = 0;
  /** How many chunks the body produced. */
  chunks = 0;
  /** Chunks asked for after `close()` (must stay 0). */
  nextAfterClose = 0;
  /** Named observations (error codes, flags). */
  readonly seen: Record<string, unknown> = {};
  /** Warnings the validator emitted while the application was called. */
  readonly warnings: WSGIWarning[] = [];
  private resolveDone!: () => void;
  /** Settles when the application says it is done (usually: its body was closed). */
  readonly done = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });

  /** Marks the application done. */
  finish(): void {
    this.resolveDone();
  }

  /** Waits until `finish()`, failing after `ms` with a message that says what was awaited. */
  async waitDone(what: string, ms = WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
        ms,
      );
    });
    try {
      await Promise.race([this.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A response body that produces chunks from `produce(i)` (null ends it), counts what it
 * does, and finishes the probe when closed. Sync or async iteration, as asked.
 */
export function probeBody(
  probe: Probe,
  produce: (index: number) => Uint8Array | null | Promise<Uint8Array | null>,
  mode: "sync" | "async" = "async",
): (Iterable<Uint8Array> | AsyncIterable<Uint8Array>) & { close(): void } {
  const close = () => {
    probe.closes += 1;
    probe.finish();
  };
  const step = (value: Uint8Array | null): IteratorResult<Uint8Array> => {
    if (value === null) return { done: true, value: undefined };
    probe.chunks += 1;
    return { done: false, value };
  };
  const before = () => {
    if (probe.closes > 0) probe.nextAfterClose += 1;
  };
  if (mode === "sync") {
    return {
      [Symbol.iterator]: () => ({
        next: () => {
          before();
          const value = produce(probe.chunks);
          if (value instanceof Promise) throw new TypeError("a sync probe body must not be async");
          return step(value);
        },
      }),
      close,
    };
  }
  return {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        before();
        return step(await produce(probe.chunks));
      },
    }),
    close,
  };
}
