/**
 * Prometheus metrics (`--metrics-bind HOST:PORT`): every serving process counts into a
 * `Metrics`; the process that owns the metrics endpoint (the cluster primary, or the
 * single process) sums the workers' snapshots and serves them as Prometheus text at
 * `/metrics`. Counting costs a few additions per request and nothing when metrics are off.
 *
 * @module
 */
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { parseBind } from "./bind.ts";

/** Upper bounds of the request-duration histogram's buckets, in seconds (Prometheus's defaults). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What one process counted (counters since it started, gauges now). */
export interface MetricsSnapshot {
  /** Responses by status class (`2xx`...) of requests that reached the app. */
  requests: Record<string, number>;
  /** Requests per duration bucket (not cumulative), the last one past 10 s. */
  durationBuckets: number[];
  /** Sum of request durations, in seconds. */
  durationSum: number;
  /** Requests in flight. */
  inFlight: number;
  /** Connections open. */
  connections: number;
  /** Bytes received. */
  bytesIn: number;
  /** Bytes sent. */
  bytesOut: number;
  /** Requests answered without the app, by error code (`ERR_OVERLOADED`, `ERR_...`). */
  rejected: Record<string, number>;
}

/** A snapshot with nothing counted. */
export function emptySnapshot(): MetricsSnapshot {
  return {
    requests: {},
    durationBuckets: DURATION_BUCKETS.map(() => 0).concat(0),
    durationSum: 0,
    inFlight: 0,
    connections: 0,
    bytesIn: 0,
    bytesOut: 0,
    rejected: {},
  };
}

/** Adds `b` into `a` (every field, gauges too: the sum over workers). */
export function addSnapshot(a: MetricsSnapshot, b: MetricsSnapshot): MetricsSnapshot {
  const addMap = (x: Record<string, number>, y: Record<string, number>) => {
    for (const [k, v] of Object.entries(y)) x[k] = (x[k] ?? 0) + v;
  };
  addMap(a.requests, b.requests);
  addMap(a.rejected, b.rejected);
  b.durationBuckets.forEach((n, i) => {
    a.durationBuckets[i] = (a.durationBuckets[i] ?? 0) + n;
  });
  a.durationSum += b.durationSum;
  a.inFlight += b.inFlight;
  a.connections += b.connections;
  a.bytesIn += b.bytesIn;
  a.bytesOut += b.bytesOut;
  return a;
}

/** One process's counters. */
export class Metrics {
  private readonly counts = emptySnapshot();
  private readonly sockets = new Set<Socket>();

  /** Counts a new connection; its bytes are counted when it closes (or at a snapshot). */
  connectionOpened(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      this.counts.bytesIn += socket.bytesRead;
      this.counts.bytesOut += socket.bytesWritten;
    });
  }

  /** Counts a request the app answered, by the status class of `status` and its duration. */
  requestFinished(status: string | undefined, durationMs: number): void {
    const key = status === undefined ? "none" : `${status[0]}xx`;
    this.counts.requests[key] = (this.counts.requests[key] ?? 0) + 1;
    const seconds = durationMs / 1000;
    let bucket = DURATION_BUCKETS.findIndex((le) => seconds <= le);
    if (bucket === -1) bucket = DURATION_BUCKETS.length;
    this.counts.durationBuckets[bucket] = (this.counts.durationBuckets[bucket] ?? 0) + 1;
    this.counts.durationSum += seconds;
  }

  /** Counts a request answered without the app, by its error code. */
  rejected(code: string): void {
    this.counts.rejected[code] = (this.counts.rejected[code] ?? 0) + 1;
  }

  /** The counts so far, with the gauges as they are now. */
  snapshot(inFlight: number): MetricsSnapshot {
    const copy = addSnapshot(emptySnapshot(), this.counts);
    copy.inFlight = inFlight;
    copy.connections = this.sockets.size;
    for (const socket of this.sockets) {
      copy.bytesIn += socket.bytesRead;
      copy.bytesOut += socket.bytesWritten;
    }
    return copy;
  }
}

/** What the primary adds to the workers' sums. */
export interface PrimaryMetrics {
  /** Workers running now. */
  workers: number;
  /** Worker restarts by cause: `crash`, `timeout`, `recycle`. */
  restarts: Record<string, number>;
}

const line = (name: string, labels: string, value: number) =>
  `${name}${labels ? `{${labels}}` : ""} ${Number.isInteger(value) ? value : value.toPrecision(9)}`;
const label = (name: string, value: string) => `${name}="${value.replace(/["\\\n]/g, "_")}"`;

/** The Prometheus text exposition (version 0.0.4) of the summed snapshot. */
export function renderPrometheus(sum: MetricsSnapshot, primary?: PrimaryMetrics): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  metric("wsgiref_requests_total", "counter", "Requests answered by the app, by status class.");
  for (const cls of new Set(["1xx", "2xx", "3xx", "4xx", "5xx", ...Object.keys(sum.requests)])) {
    out.push(line("wsgiref_requests_total", label("status_class", cls), sum.requests[cls] ?? 0));
  }
  metric(
    "wsgiref_request_duration_seconds",
    "histogram",
    "Time from the request head to the end of the response.",
  );
  let cumulative = 0;
  DURATION_BUCKETS.forEach((le, i) => {
    cumulative += sum.durationBuckets[i] ?? 0;
    out.push(line("wsgiref_request_duration_seconds_bucket", label("le", String(le)), cumulative));
  });
  cumulative += sum.durationBuckets[DURATION_BUCKETS.length] ?? 0;
  out.push(line("wsgiref_request_duration_seconds_bucket", label("le", "+Inf"), cumulative));
  out.push(line("wsgiref_request_duration_seconds_sum", "", sum.durationSum));
  out.push(line("wsgiref_request_duration_seconds_count", "", cumulative));
  metric("wsgiref_requests_in_flight", "gauge", "Requests being answered now.");
  out.push(line("wsgiref_requests_in_flight", "", sum.inFlight));
  metric("wsgiref_connections_open", "gauge", "Client connections open now.");
  out.push(line("wsgiref_connections_open", "", sum.connections));
  metric("wsgiref_received_bytes_total", "counter", "Bytes received from clients.");
  out.push(line("wsgiref_received_bytes_total", "", sum.bytesIn));
  metric("wsgiref_sent_bytes_total", "counter", "Bytes sent to clients.");
  out.push(line("wsgiref_sent_bytes_total", "", sum.bytesOut));
  metric(
    "wsgiref_rejected_requests_total",
    "counter",
    "Requests answered without the app, by error code.",
  );
  for (const [code, n] of Object.entries(sum.rejected).sort()) {
    out.push(line("wsgiref_rejected_requests_total", label("code", code), n));
  }
  if (primary) {
    metric("wsgiref_workers", "gauge", "Worker processes running.");
    out.push(line("wsgiref_workers", "", primary.workers));
    metric("wsgiref_worker_restarts_total", "counter", "Workers replaced, by cause.");
    for (const cause of ["crash", "timeout", "recycle"]) {
      out.push(
        line("wsgiref_worker_restarts_total", label("cause", cause), primary.restarts[cause] ?? 0),
      );
    }
  }
  return `${out.join("\n")}\n`;
}

/** Serves `GET /metrics` at `bind` (`HOST:PORT` or `unix:PATH`) with the text `render` gives. */
export async function serveMetrics(bind: string, render: () => Promise<string>): Promise<Server> {
  const endpoint = parseBind(bind);
  const server = createServer((req, res) => {
    if (req.url !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("Not Found: try /metrics\n");
      return;
    }
    render().then(
      (text) => {
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: Error) => {
        res.writeHead(500, { "Content-Type": "text/plain" }).end(`${error.message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (endpoint.kind === "unix") server.listen(endpoint.path, done);
    else if (endpoint.kind === "tcp") server.listen(endpoint.port, endpoint.host, done);
    else server.listen({ fd: endpoint.fd }, done);
  });
  server.unref();
  const where = server.address();
  process.stderr.write(
    `wsgiref: metrics at ${typeof where === "string" || where === null ? `unix:${where}` : `http://${where.family === "IPv6" ? `[${where.address}]` : where.address}:${where.port}`}/metrics\n`,
  );
  return server;
}
