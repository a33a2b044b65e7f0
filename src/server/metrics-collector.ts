/**
 * The cluster primary's side of the metrics: on each scrape it asks every live worker for
 * its snapshot and sums them, together with what workers that are gone had counted (their
 * last snapshot: a worker that stops gracefully sends a final one; one that crashed loses
 * what it counted since the previous scrape).
 *
 * @module
 */
import type { Worker } from "node:cluster";
import { addSnapshot, emptySnapshot, type MetricsSnapshot, renderPrometheus } from "./metrics.ts";

/** The primary's question to a worker. */
export interface MetricsQuery {
  /** Marks the message. */
  readonly wsgiref: "metrics?";
  /** Which scrape asks. */
  readonly id: number;
}

/** A worker's answer (id 0: its final snapshot, sent as it stops). */
export interface MetricsReply {
  /** Marks the message. */
  readonly wsgiref: "metrics";
  /** The scrape it answers, or 0. */
  readonly id: number;
  /** What the worker counted. */
  readonly snapshot: MetricsSnapshot;
}

/** True when `message` is a worker's metrics reply. */
export function isMetricsReply(message: unknown): message is MetricsReply {
  return (message as { wsgiref?: unknown } | null)?.wsgiref === "metrics";
}

/** True when `message` is the primary's metrics query. */
export function isMetricsQuery(message: unknown): message is MetricsQuery {
  return (message as { wsgiref?: unknown } | null)?.wsgiref === "metrics?";
}

/** How long a scrape waits for the workers' answers. */
const REPLY_TIMEOUT = 1000;

/** Sums the workers' metrics for the primary's /metrics. */
export class MetricsCollector {
  /** Worker restarts by cause. */
  readonly restarts: Record<string, number> = { crash: 0, timeout: 0, recycle: 0 };
  private readonly last = new Map<Worker, MetricsSnapshot>();
  private readonly retired = emptySnapshot();
  private nextId = 1;
  private readonly waiting = new Map<number, (worker: Worker, snapshot: MetricsSnapshot) => void>();

  /** Takes a message from a worker; true if it was a metrics reply. */
  onMessage(worker: Worker, message: unknown): boolean {
    if (!isMetricsReply(message)) return false;
    this.last.set(worker, message.snapshot);
    this.waiting.get(message.id)?.(worker, message.snapshot);
    return true;
  }

  /** A worker exited: its last counters stay in the sums (its gauges do not). */
  workerExited(worker: Worker): void {
    const snapshot = this.last.get(worker);
    this.last.delete(worker);
    if (snapshot === undefined) return;
    addSnapshot(this.retired, { ...snapshot, inFlight: 0, connections: 0 });
  }

  /** Asks the live workers and renders the sum as Prometheus text. */
  async render(live: readonly Worker[]): Promise<string> {
    const id = this.nextId++;
    const answered = new Set<Worker>();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, REPLY_TIMEOUT);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiting.set(id, (worker) => {
        answered.add(worker);
        if (live.every((w) => answered.has(w))) done();
      });
      const query: MetricsQuery = { wsgiref: "metrics?", id };
      for (const worker of live) if (worker.isConnected()) worker.send(query);
      if (live.length === 0) done();
    });
    this.waiting.delete(id);
    const sum = addSnapshot(emptySnapshot(), this.retired);
    // A worker that did not answer in time counts with its previous snapshot.
    for (const worker of live) {
      const snapshot = this.last.get(worker);
      if (snapshot) addSnapshot(sum, snapshot);
    }
    return renderPrometheus(sum, { workers: live.length, restarts: this.restarts });
  }
}
