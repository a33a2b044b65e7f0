/**
 * The worker's side of the hung-worker watchdog (and of recycling). A cluster worker's
 * event loop sends the primary a heartbeat every `beatInterval`; the primary (workers.ts)
 * kills a worker whose heartbeats stop for `workerTimeout` and replaces it.
 *
 * A worker stuck in a loop cannot say which request it was serving, and reporting every
 * request to the primary would cost a message each. So the worker also runs a small
 * thread that shares memory with it: the event loop writes the newest request in flight
 * there (a few hundred nanoseconds, no system call) and counts its beats; when the beats
 * stop for most of `workerTimeout`, the thread writes the stuck request to the error log,
 * just before the primary's kill.
 *
 * @module
 */
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import type { InFlight } from "./context.ts";
import type { LogFormat } from "./log.ts";

/** A worker's heartbeat: its event loop runs. */
export interface Beat {
  /** Marks the message as a heartbeat. */
  readonly wsgiref: "beat";
}

/** A worker's request to be replaced gracefully: it served its quota, or grew too large. */
export interface RecycleRequest {
  /** Marks the message as a recycle request. */
  readonly wsgiref: "recycle";
  /** Why, for the log: `max-requests` or `max-worker-memory`. */
  readonly reason: string;
}

/** A worker's report that it listens on every endpoint, and where. */
export interface ListeningReport {
  /** Marks the message as a listening report. */
  readonly wsgiref: "listening";
  /** Where it listens: host and port, or a Unix socket path. */
  readonly addresses: (AddressInfo | string)[];
}

/** True when `message` is a worker's listening report. */
export function isListeningReport(message: unknown): message is ListeningReport {
  return (message as { wsgiref?: unknown } | null)?.wsgiref === "listening";
}

/** A message a worker sends to the primary about its health. */
export type WorkerReport = Beat | RecycleRequest;

/** True when `message` is a worker's heartbeat or recycle request. */
export function isWorkerReport(message: unknown): message is WorkerReport {
  const kind = (message as { wsgiref?: unknown } | null)?.wsgiref;
  return kind === "beat" || kind === "recycle";
}

/** How often a worker beats for a given watchdog timeout: four beats per timeout, at most 1 s apart. */
export function beatInterval(workerTimeout: number): number {
  return Math.max(50, Math.min(1000, Math.floor(workerTimeout / 4)));
}

/** Shared memory layout: beat count, request text length, start time, request text. */
const BEATS = 0;
const LENGTH = 1;
const STARTED_AT = 8;
const TEXT = 16;
const TEXT_MAX = 1008;

/**
 * The thread that names a stuck request. It cannot use the IPC channel, so it writes the
 * line itself, to the error log's file descriptor.
 */
const WATCHER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { writeSync, openSync } = require("node:fs");
const { buffer, interval, timeout, errorLog, pid, format } = workerData;
const ints = new Int32Array(buffer, 0, 2);
const view = new DataView(buffer);
const bytes = new Uint8Array(buffer);
let seen = Atomics.load(ints, 0);
let seenAt = Date.now();
let reported = false;
setInterval(() => {
  const now = Date.now();
  const beats = Atomics.load(ints, 0);
  if (beats !== seen) {
    seen = beats;
    seenAt = now;
    reported = false;
    return;
  }
  if (reported || now - seenAt < timeout - interval) return;
  reported = true;
  const length = Atomics.load(ints, 1);
  const text = length === 0 ? null : Buffer.from(bytes.subarray(${TEXT}, ${TEXT} + length)).toString("utf8");
  // "<id> <method> <path>"
  const id = text === null ? null : text.slice(0, text.indexOf(" "));
  const request = text === null ? null : text.slice(text.indexOf(" ") + 1);
  const ran = request === null ? 0 : (now - view.getFloat64(${STARTED_AT}, true)) / 1000;
  const stalled = ((now - seenAt) / 1000).toFixed(1);
  let line;
  if (format === "json") {
    const space = request === null ? -1 : request.indexOf(" ");
    line = JSON.stringify({
      time: new Date(now).toISOString(), pid, level: "critical",
      ...(request === null ? {} : { method: request.slice(0, space), path: request.slice(space + 1), request_id: id, running_s: Number(ran.toFixed(1)) }),
      message: "WORKER TIMEOUT: the event loop has not run for " + stalled + " s; the primary kills this worker",
    }) + "\\n";
  } else {
    const what = request === null
      ? "while no request was in flight"
      : "while serving " + request.replace(/[\\0-\\x1f\\x7f]/g, "?") + " (for " + ran.toFixed(1) + " s)";
    const about = request === null ? "" : " [" + request.replace(/[\\0-\\x1f\\x7f]/g, "?") + "] [" + id + "]";
    line = "[" + new Date(now).toISOString() + "] [" + pid + "] [CRITICAL]" + about + " WORKER TIMEOUT: the event loop has not run for " +
      stalled + " s " + what + "; the primary kills this worker\\n";
  }
  try {
    if (errorLog === "-") writeSync(2, line);
    else writeSync(openSync(errorLog, "a"), line);
  } catch {}
}, Math.max(10, Math.floor(interval / 4)));
`;

const encoder = new TextEncoder();

/** Sends heartbeats from a cluster worker and keeps the newest request where the watcher thread sees it. */
export class Heartbeat {
  private readonly timer: NodeJS.Timeout;
  private readonly ints: Int32Array;
  private readonly view: DataView;
  private readonly text: Uint8Array;
  private readonly watcher: Worker;

  /**
   * @param interval milliseconds between beats (see `beatInterval`)
   * @param timeout the watchdog's timeout, `workerTimeout`
   * @param errorLog where the watcher writes: `-` (stderr) or a file path
   * @param format the error log's format
   */
  constructor(interval: number, timeout: number, errorLog: string, format: LogFormat = "text") {
    const buffer = new SharedArrayBuffer(TEXT + TEXT_MAX);
    this.ints = new Int32Array(buffer, 0, 2);
    this.view = new DataView(buffer);
    this.text = new Uint8Array(buffer, TEXT, TEXT_MAX);
    this.watcher = new Worker(WATCHER_SOURCE, {
      eval: true,
      workerData: { buffer, interval, timeout, errorLog, pid: process.pid, format },
      stdout: false,
      stderr: false,
      // A loop and a few numbers: a small heap (its RSS is about 6 MB).
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2, stackSizeMb: 1 },
    });
    // The watcher only adds a log line: if it fails, the heartbeat (and the primary's kill) go on.
    this.watcher.on("error", (error) =>
      process.stderr.write(`wsgiref: the watchdog's watcher thread failed: ${error.message}\n`),
    );
    this.watcher.unref();
    this.timer = setInterval(() => this.beat(), interval);
    this.timer.unref();
    this.beat();
  }

  /** Records the newest request in flight, for the watcher to name if the loop stops now. */
  requestStarted(request: InFlight): void {
    const { written } = encoder.encodeInto(
      `${request.id} ${request.method} ${request.path}`,
      this.text,
    );
    this.view.setFloat64(STARTED_AT, request.startedAt, true);
    Atomics.store(this.ints, LENGTH, written);
  }

  /** Records that no request is in flight any more. */
  idle(): void {
    Atomics.store(this.ints, LENGTH, 0);
  }

  /** Stops beating and ends the watcher thread. */
  stop(): void {
    clearInterval(this.timer);
    void this.watcher.terminate();
  }

  private beat(): void {
    Atomics.add(this.ints, BEATS, 1);
    const beat: Beat = { wsgiref: "beat" };
    if (process.connected) process.send?.(beat);
  }
}
