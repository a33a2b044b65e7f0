/**
 * Worker recycling (gunicorn's `max_requests`, pm2's `max_memory_restart`): a cluster
 * worker that served its quota of requests, or whose resident memory passed the limit,
 * asks the primary once to be replaced. The primary starts its successor, then stops it
 * gracefully, so no request in flight fails (see workers.ts).
 *
 * @module
 */
import type { RecycleRequest } from "./heartbeat.ts";
import type { ServerOptions } from "./options.ts";

/** How often resident memory is checked against `maxWorkerMemory`. */
const MEMORY_CHECK_INTERVAL = 1000;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Counts a worker's requests and watches its memory; asks for a replacement once. */
export class Recycler {
  /** Requests this worker serves before it asks to be replaced (Infinity: never). */
  readonly limit: number;
  private served = 0;
  private asked = false;
  private readonly timer: NodeJS.Timeout | undefined;

  /** @param random a number in [0, 1), for the jitter */
  constructor(options: ServerOptions, random: () => number = Math.random) {
    this.limit =
      options.maxRequests > 0
        ? options.maxRequests + Math.floor(random() * (options.maxRequestsJitter + 1))
        : Number.POSITIVE_INFINITY;
    const maxMemory = options.maxWorkerMemory;
    if (maxMemory > 0) {
      this.timer = setInterval(() => {
        const rss = process.memoryUsage.rss();
        if (rss > maxMemory) this.ask(`max-worker-memory: rss ${mib(rss)} > ${mib(maxMemory)}`);
      }, MEMORY_CHECK_INTERVAL);
      this.timer.unref();
    }
  }

  /** True when the options ask for recycling at all. */
  static wanted(options: ServerOptions): boolean {
    return options.maxRequests > 0 || options.maxWorkerMemory > 0;
  }

  /** Counts a request; the one that reaches the limit asks for the replacement. */
  requestStarted(): void {
    if (++this.served >= this.limit) this.ask(`max-requests: served ${this.served}`);
  }

  /** Stops watching. */
  stop(): void {
    clearInterval(this.timer);
  }

  private ask(reason: string): void {
    if (this.asked) return;
    this.asked = true;
    clearInterval(this.timer);
    const message: RecycleRequest = { wsgiref: "recycle", reason };
    if (process.connected) process.send?.(message);
  }
}
