/**
 * Every option of the production server, declared once: name, type, default, command-line
 * flag, `WSGIREF_*` environment variable, check, help text, and why that default. The
 * CLI's `--help`, the configuration check and docs/options.md are all generated from
 * `OPTIONS`.
 *
 * @module
 */

import { LIMITS, type LimitDoc, type Limits } from "../http/limits.ts";

/** The kinds of value an option takes, and how its text form is read. */
export type OptionType = "string" | "integer" | "size" | "duration" | "boolean" | "enum" | "list";

/** The production server's settings, as `serve(app, options)` takes them. */
export interface ServerOptions {
  /** Interface to listen on. */
  host: string;
  /** TCP port to listen on (0 picks a free one). */
  port: number;
  /** A Unix socket path to listen on instead of host and port. */
  path: string | undefined;
  /** PEM private key file: with `cert`, serves HTTPS. */
  key: string | undefined;
  /** PEM certificate file: with `key`, serves HTTPS. */
  cert: string | undefined;
  /** Worker processes (node:cluster); 1 serves in this process. */
  workers: number;
  /** Longest request line, in bytes (414 past it). */
  maxRequestLine: number;
  /** Most header fields in one request (431 past it). */
  maxHeaders: number;
  /** Largest header block, in bytes (431 past it). */
  maxHeaderBytes: number;
  /** Largest request body, in bytes (413 past it). */
  maxBodySize: number;
  /** Unread request body the server may discard to keep a connection alive, in bytes. */
  drainLimit: number;
  /** Milliseconds to receive a whole request head, from accept or a later request's first byte (408 past it). */
  headerTimeout: number;
  /** Milliseconds an idle keep-alive connection stays open. */
  keepAliveTimeout: number;
  /** Milliseconds to wait for the next bytes of a request body (408 past it). */
  bodyTimeout: number;
  /** Milliseconds an application may take to finish a response; 0 means no limit. */
  responseTimeout: number;
  /** Milliseconds a response may wait on a client that takes no bytes before the connection is cut; 0 means no limit. */
  sendTimeout: number;
  /** Slowest request body in bytes per second of waiting, after a 5 s grace (408 below it); 0 means no limit. */
  minBodyRate: number;
  /** Milliseconds in-flight requests get to finish on shutdown. */
  gracefulTimeout: number;
  /** Keep request headers whose names contain `_` (dropped by default). */
  keepUnderscoreHeaders: boolean;
  /** Where the access log goes: `off`, `-` (stderr), or a file path. */
  accessLog: string;
  /** The access log's format: `common`, `combined`, `json`, or a gunicorn-style format such as `%(h)s "%(r)s" %(s)s %(D)s`. */
  accessLogFormat: "common" | "combined" | "json" | (string & {});
  /** Where the error log goes: `-` (stderr) or a file path. */
  errorLog: string;
  /** The `Server` header and `SERVER_SOFTWARE`; empty sends none. */
  serverHeader: string;
  /** Milliseconds a worker may go without a heartbeat before it is killed and replaced; 0 is off. */
  workerTimeout: number;
  /** Requests in flight in one worker before new ones get 503; 0 is no limit. */
  maxConcurrency: number;
  /** The listen backlog: connections the kernel queues before they are accepted. */
  backlog: number;
  /** Requests a worker serves before it is replaced gracefully; 0 is never. */
  maxRequests: number;
  /** Up to this many more requests, chosen at random per worker, so workers do not recycle together. */
  maxRequestsJitter: number;
  /** Resident memory (bytes) past which a worker is replaced gracefully; 0 is no limit. */
  maxWorkerMemory: number;
  /** Addresses to listen on (`HOST:PORT`, `[IPv6]:PORT`, `unix:PATH`, `fd://N`) instead of host/port. */
  bind: string[] | undefined;
  /** `HOST:PORT` (or `unix:PATH`) where Prometheus metrics are served at `/metrics`; off when undefined. */
  metricsBind: string | undefined;
  /** The error log's format: `text` lines or `json` records. */
  logFormat: "text" | "json";
  /** With a Fetch application: install the light `Response` as `globalThis.Response`. */
  fastResponse: boolean;
}

/** One row of the options table. */
export interface OptionSpec {
  /** The option's name in `ServerOptions`. */
  name: keyof ServerOptions;
  /** How its value is typed and read from text. */
  type: OptionType;
  /** Its default. */
  default: ServerOptions[keyof ServerOptions];
  /** Its command-line flag. */
  flag: string;
  /** Its environment variable. */
  env: string;
  /** The allowed values, for enums. */
  values?: readonly string[];
  /** For enums: other text that matches this is allowed too (a custom format). */
  pattern?: RegExp;
  /** Smallest allowed number, for numeric options. */
  min?: number;
  /** Help text: what it does. */
  doc: string;
  /** Why the default is what it is. */
  why: string;
}

/** The core's own statement of a limit (what happens past it, and why its default): one owner. */
function limit(name: keyof Limits): LimitDoc {
  const doc = LIMITS.find((l) => l.name === name);
  if (doc === undefined) throw new Error(`no limit ${name}`);
  return doc;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** The options table: the single source of truth for defaults, flags, checks and docs. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: "host",
    type: "string",
    default: "127.0.0.1",
    flag: "--host",
    env: "WSGIREF_HOST",
    doc: "Interface to listen on; 0.0.0.0 or :: for all.",
    why: "Loopback until you choose to expose the app, as gunicorn does.",
  },
  {
    name: "port",
    type: "integer",
    default: 8000,
    flag: "--port",
    env: "WSGIREF_PORT",
    min: 0,
    doc: "TCP port to listen on; 0 picks a free port.",
    why: "The port of CPython's simple server and gunicorn.",
  },
  {
    name: "path",
    type: "string",
    default: undefined,
    flag: "--unix-socket",
    env: "WSGIREF_UNIX_SOCKET",
    doc: "Listen on this Unix socket instead of host and port.",
    why: "Off: most deployments use TCP.",
  },
  {
    name: "key",
    type: "string",
    default: undefined,
    flag: "--key",
    env: "WSGIREF_KEY",
    doc: "PEM private key file; with --cert, serves HTTPS (wsgi.url_scheme is https).",
    why: "Off: TLS is usually ended at a proxy.",
  },
  {
    name: "cert",
    type: "string",
    default: undefined,
    flag: "--cert",
    env: "WSGIREF_CERT",
    doc: "PEM certificate file; with --key, serves HTTPS.",
    why: "Off: TLS is usually ended at a proxy.",
  },
  {
    name: "workers",
    type: "integer",
    default: 1,
    flag: "--workers",
    env: "WSGIREF_WORKERS",
    min: 1,
    doc: "Worker processes; more than 1 runs a node:cluster primary that restarts dead workers.",
    why: "One process is simplest to debug; use about one per core in production.",
  },
  {
    name: "maxRequestLine",
    type: "size",
    default: 8 * KiB,
    flag: "--max-request-line",
    env: "WSGIREF_MAX_REQUEST_LINE",
    min: 16,
    doc: `Longest request line in bytes; past it, ${limit("maxRequestLineLength").effect}.`,
    why: limit("maxRequestLineLength").why,
  },
  {
    name: "maxHeaders",
    type: "integer",
    default: 100,
    flag: "--max-headers",
    env: "WSGIREF_MAX_HEADERS",
    min: 1,
    doc: `Most header fields in a request; past it, ${limit("maxHeaderCount").effect}.`,
    why: limit("maxHeaderCount").why,
  },
  {
    name: "maxHeaderBytes",
    type: "size",
    default: 16 * KiB,
    flag: "--max-header-bytes",
    env: "WSGIREF_MAX_HEADER_BYTES",
    min: 64,
    doc: `Largest header section in bytes; past it, ${limit("maxHeaderBytes").effect}.`,
    why: limit("maxHeaderBytes").why,
  },
  {
    name: "maxBodySize",
    type: "size",
    default: 1 * GiB,
    flag: "--max-body-size",
    env: "WSGIREF_MAX_BODY_SIZE",
    min: 0,
    doc: `Largest request body in bytes, by Content-Length or as chunks arrive; past it, ${limit("maxBodySize").effect}.`,
    why: "The core streams bodies in bounded memory and sets no limit; the server caps them at 1 GiB so one request cannot take unbounded disk or time.",
  },
  {
    name: "drainLimit",
    type: "size",
    default: 256 * KiB,
    flag: "--drain-limit",
    env: "WSGIREF_DRAIN_LIMIT",
    min: 0,
    doc: `Unread request body the server discards to keep the connection; past it, ${limit("maxDrainBytes").effect}.`,
    why: `${limit("maxDrainBytes").why} The server allows 256 KiB (the core 64 KiB): a typical form post an app declined is worth reading.`,
  },
  {
    name: "headerTimeout",
    type: "duration",
    default: 20_000,
    flag: "--header-timeout",
    env: "WSGIREF_HEADER_TIMEOUT",
    min: 1,
    doc: "Time to receive a whole request head, from the connection's accept (or, on a kept-alive connection, from the next request's first byte); past it, 408 and close.",
    why: "Stops slowloris clients that trickle headers; generous for slow mobile links.",
  },
  {
    name: "keepAliveTimeout",
    type: "duration",
    default: 5_000,
    flag: "--keep-alive",
    env: "WSGIREF_KEEP_ALIVE",
    min: 0,
    doc: "How long an idle keep-alive connection stays open. Behind a load balancer, set it ABOVE the balancer's idle timeout (e.g. 65s behind a 60s AWS ALB), or the balancer may reuse a connection we just closed and answer 502.",
    why: "node:http's default; idle sockets cost memory and file descriptors.",
  },
  {
    name: "bodyTimeout",
    type: "duration",
    default: 30_000,
    flag: "--body-timeout",
    env: "WSGIREF_BODY_TIMEOUT",
    min: 1,
    doc: "Time to wait for the next bytes of a request body the app is reading; past it, 408 and close.",
    why: "A stalled upload must not hold a worker forever.",
  },
  {
    name: "responseTimeout",
    type: "duration",
    default: 0,
    flag: "--timeout",
    env: "WSGIREF_TIMEOUT",
    min: 0,
    doc: "Time an app may take to finish a response; past it, 500 (or a cut connection if headers went out). 0 is no limit.",
    why: "Off by default: streaming responses may legitimately run long.",
  },
  {
    name: "sendTimeout",
    type: "duration",
    default: 60_000,
    flag: "--send-timeout",
    env: "WSGIREF_SEND_TIMEOUT",
    min: 0,
    doc: "Longest a response may wait on a client that takes no bytes; past it, the connection is cut and the app's body closed. 0 is no limit.",
    why: "nginx's send_timeout: a client that stops reading must not hold a socket and its buffered response forever.",
  },
  {
    name: "minBodyRate",
    type: "integer",
    default: 240,
    flag: "--min-body-rate",
    env: "WSGIREF_MIN_BODY_RATE",
    min: 0,
    doc: "Slowest request body, in bytes per second of waiting, after a 5 s grace; slower gets 408 and close, and the app's read fails as a disconnect. 0 is no limit.",
    why: "Kestrel's MinRequestBodyDataRate: a body trickled just under the body timeout would hold a connection for weeks.",
  },
  {
    name: "gracefulTimeout",
    type: "duration",
    default: 30_000,
    flag: "--graceful-timeout",
    env: "WSGIREF_GRACEFUL_TIMEOUT",
    min: 0,
    doc: "On SIGTERM/SIGINT, time in-flight requests get to finish before connections are cut.",
    why: "gunicorn's graceful_timeout.",
  },
  {
    name: "keepUnderscoreHeaders",
    type: "boolean",
    default: false,
    flag: "--keep-underscore-headers",
    env: "WSGIREF_KEEP_UNDERSCORE_HEADERS",
    doc: "Keep request headers whose names contain '_' instead of dropping them.",
    why: "X-Forwarded_For and X-Forwarded-For both map to HTTP_X_FORWARDED_FOR: one could spoof the other.",
  },
  {
    name: "accessLog",
    type: "string",
    default: "off",
    flag: "--access-log",
    env: "WSGIREF_ACCESS_LOG",
    doc: "Access log destination: off, - (stderr), or a file path.",
    why: "Off, as in gunicorn: logging every request costs throughput.",
  },
  {
    name: "accessLogFormat",
    type: "enum",
    default: "common",
    flag: "--access-log-format",
    env: "WSGIREF_ACCESS_LOG_FORMAT",
    values: ["common", "combined", "json"],
    pattern: /%\(\w+\)/,
    doc: "Access log format: common, combined (adds Referer and User-Agent), json (one record a line, with duration_ms and request_id), or a gunicorn-style format of %(h)s %(l)s %(u)s %(t)s %(r)s %(m)s %(U)s %(q)s %(s)s %(b)s %(B)s %(f)s %(a)s %(D)s (microseconds) %(T)s %(M)s (milliseconds) %(p)s %(i)s (request id) atoms.",
    why: "Common Log Format is what most tools parse.",
  },
  {
    name: "errorLog",
    type: "string",
    default: "-",
    flag: "--error-log",
    env: "WSGIREF_ERROR_LOG",
    doc: "Error log destination: - (stderr) or a file path.",
    why: "Errors should be seen.",
  },
  {
    name: "serverHeader",
    type: "string",
    default: "wsgiref",
    flag: "--server-header",
    env: "WSGIREF_SERVER_HEADER",
    doc: "The Server header and SERVER_SOFTWARE; empty sends no Server header.",
    why: "Names the software without its version.",
  },
  {
    name: "workerTimeout",
    type: "duration",
    default: 30_000,
    flag: "--worker-timeout",
    env: "WSGIREF_WORKER_TIMEOUT",
    min: 0,
    doc: "With --workers > 1: a worker whose event loop does not answer the primary's heartbeat for this long (an app stuck in a loop) is killed with SIGKILL, logged with the request it was serving, and replaced. 0 turns the watchdog off.",
    why: "gunicorn's --timeout: long enough for any synchronous work a worker should do at once.",
  },
  {
    name: "maxConcurrency",
    type: "integer",
    default: 0,
    flag: "--max-concurrency",
    env: "WSGIREF_MAX_CONCURRENCY",
    min: 0,
    doc: "Requests in flight in one worker before new ones are answered 503 with Retry-After: 1 and Connection: close, without calling the app. 0 is no limit.",
    why: "Off, as uvicorn's --limit-concurrency: the right number depends on the app.",
  },
  {
    name: "backlog",
    type: "integer",
    default: 2048,
    flag: "--backlog",
    env: "WSGIREF_BACKLOG",
    min: 1,
    doc: "The listen backlog: connections the kernel queues before the server accepts them (capped by net.core.somaxconn).",
    why: "gunicorn's default; the kernel caps it anyway.",
  },
  {
    name: "maxRequests",
    type: "integer",
    default: 0,
    flag: "--max-requests",
    env: "WSGIREF_MAX_REQUESTS",
    min: 0,
    doc: "With --workers > 1: a worker that served this many requests is replaced gracefully (its successor listens first; requests in flight finish). 0 is never.",
    why: "Off, as in gunicorn: a simple guard against slow memory leaks, when needed.",
  },
  {
    name: "maxRequestsJitter",
    type: "integer",
    default: 0,
    flag: "--max-requests-jitter",
    env: "WSGIREF_MAX_REQUESTS_JITTER",
    min: 0,
    doc: "Adds a random 0 to N requests to --max-requests per worker, so the workers do not all recycle at once.",
    why: "gunicorn's max_requests_jitter; off with --max-requests.",
  },
  {
    name: "maxWorkerMemory",
    type: "size",
    default: 0,
    flag: "--max-worker-memory",
    env: "WSGIREF_MAX_WORKER_MEMORY",
    min: 0,
    doc: "With --workers > 1: a worker whose resident memory (RSS) passes this size, checked every second, is replaced gracefully. 0 is no limit.",
    why: "pm2's max_memory_restart; off because the right size depends on the app.",
  },
  {
    name: "bind",
    type: "list",
    default: undefined,
    flag: "--bind",
    env: "WSGIREF_BIND",
    doc: "Listen on this address instead of --host/--port: HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N. Repeat the flag (or separate with commas in the variable) to listen on several at once.",
    why: "Off: --host and --port are the shorthand for one TCP address.",
  },
  {
    name: "metricsBind",
    type: "string",
    default: undefined,
    flag: "--metrics-bind",
    env: "WSGIREF_METRICS_BIND",
    doc: "Serve Prometheus metrics at http://HOST:PORT/metrics (or unix:PATH), from the primary, summed over the workers: requests by status class, a duration histogram, requests in flight, open connections, bytes in and out, rejected requests by error code, worker restarts by cause.",
    why: "Off: a second port should be opened on purpose (keep it private).",
  },
  {
    name: "logFormat",
    type: "enum",
    default: "text",
    flag: "--log-format",
    env: "WSGIREF_LOG_FORMAT",
    values: ["text", "json"],
    doc: "Error log format: text lines ([time] [pid] [LEVEL] message) or json records (time, pid, level, message); a request's lines add its method, path and request id.",
    why: "Text is what people read; json is for log shippers.",
  },
  {
    name: "fastResponse",
    type: "boolean",
    default: true,
    flag: "--fast-response",
    env: "WSGIREF_FAST_RESPONSE",
    doc: "With a Fetch application, replace globalThis.Response with a light Response whose string or bytes body is sent in one write, without a stream (--fast-response=false keeps the standard one).",
    why: "Frameworks (Hono) build their responses with the global Response; @hono/node-server replaces it by default too.",
  },
];

/** The defaults of every option, from the table. */
export const DEFAULTS: Readonly<ServerOptions> = Object.freeze(
  Object.fromEntries(OPTIONS.map((o) => [o.name, o.default])) as unknown as ServerOptions,
);

/** A bad option value: the message names the option and the value. */
export class OptionError extends Error {
  override name = "OptionError";
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: KiB,
  kb: KiB,
  kib: KiB,
  m: MiB,
  mb: MiB,
  mib: MiB,
  g: GiB,
  gb: GiB,
  gib: GiB,
};
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  "": 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
};

/**
 * Reads an option from its text form (flag or environment variable): sizes take
 * `16k`/`1m`/`1g`, durations take `500ms`/`5s`/`2m` (plain numbers are seconds, as in
 * gunicorn), booleans take `true`/`false`/`1`/`0`.
 */
export function parseOption(spec: OptionSpec, text: string): ServerOptions[keyof ServerOptions] {
  const bad = (what: string) =>
    new OptionError(`${spec.flag}: ${what}, got ${JSON.stringify(text)}`);
  const t = text.trim().toLowerCase();
  switch (spec.type) {
    case "string":
      return text;
    case "list":
      return text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
    case "boolean":
      if (["1", "true", "yes", "on", ""].includes(t)) return true;
      if (["0", "false", "no", "off"].includes(t)) return false;
      throw bad("expected true or false");
    case "enum":
      if (spec.values?.includes(t)) return t as ServerOptions["accessLogFormat"];
      if (spec.pattern?.test(text)) return text;
      throw bad(
        `expected one of ${spec.values?.join(", ")}${spec.pattern ? ", or a format with %(x)s atoms" : ""}`,
      );
    case "integer":
    case "size":
    case "duration": {
      const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(t);
      const units =
        spec.type === "duration" ? DURATION_UNITS : spec.type === "size" ? SIZE_UNITS : { "": 1 };
      const unit = m ? units[m[2] ?? ""] : undefined;
      if (!m || unit === undefined) {
        throw bad(
          spec.type === "integer"
            ? "expected a whole number"
            : spec.type === "size"
              ? "expected a size such as 16384, 16k or 1m"
              : "expected a duration such as 5, 5s or 500ms",
        );
      }
      const value = Number(m[1]) * unit;
      if (
        !Number.isSafeInteger(Math.round(value)) ||
        (spec.type === "integer" && !Number.isInteger(value))
      ) {
        throw bad("expected a whole number");
      }
      return Math.round(value);
    }
  }
}

/** Checks a complete set of options and throws an `OptionError` naming the first bad one. */
export function checkOptions(options: ServerOptions): void {
  for (const spec of OPTIONS) {
    const value = options[spec.name];
    if (spec.default === undefined && value === undefined) continue;
    if (spec.type === "list") {
      if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
        throw new OptionError(
          `${spec.name} must be a list of strings, got ${JSON.stringify(value)}`,
        );
      }
      continue;
    }
    const expected =
      spec.type === "string" || spec.type === "enum"
        ? "string"
        : spec.type === "boolean"
          ? "boolean"
          : "number";
    if (typeof value !== expected) {
      throw new OptionError(`${spec.name} must be a ${expected}, got ${JSON.stringify(value)}`);
    }
    if (typeof value === "number") {
      if (!Number.isInteger(value) && value !== Number.POSITIVE_INFINITY) {
        throw new OptionError(`${spec.name} must be a whole number, got ${value}`);
      }
      if (spec.min !== undefined && value < spec.min) {
        throw new OptionError(`${spec.name} must be at least ${spec.min}, got ${value}`);
      }
    }
    if (spec.values && !spec.values.includes(String(value)) && !spec.pattern?.test(String(value))) {
      throw new OptionError(
        `${spec.name} must be one of ${spec.values.join(", ")}, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (options.port > 65535)
    throw new OptionError(`port must be at most 65535, got ${options.port}`);
  if ((options.key === undefined) !== (options.cert === undefined)) {
    throw new OptionError("key and cert go together: give both for HTTPS, or neither");
  }
}

/**
 * Fills in defaults under the given options, with `WSGIREF_*` environment variables in
 * between (explicit options win), and checks the result.
 */
export function resolveOptions(
  given: Partial<ServerOptions> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ServerOptions {
  const options = { ...DEFAULTS } as Record<string, unknown>;
  for (const spec of OPTIONS) {
    const text = env[spec.env];
    if (text !== undefined) options[spec.name] = parseOption(spec, text);
  }
  for (const [name, value] of Object.entries(given)) {
    if (value !== undefined) options[name] = value;
  }
  const resolved = options as unknown as ServerOptions;
  checkOptions(resolved);
  return resolved;
}

/** The options as a Markdown table, for docs/options.md. */
export function optionsMarkdown(): string {
  const rows = OPTIONS.map((o) => {
    const def = o.default === undefined ? "—" : `\`${formatDefault(o)}\``;
    return `| \`${o.name}\` | \`${o.flag}\` | \`${o.env}\` | ${def} | ${o.doc} | ${o.why} |`;
  });
  return [
    "| option | flag | environment | default | what it does | why this default |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** An option's default as text, in the units its flag takes. */
export function formatDefault(spec: OptionSpec): string {
  const value = spec.default;
  if (typeof value === "number" && spec.type === "duration")
    return value % 1000 === 0 ? `${value / 1000}s` : `${value}ms`;
  if (typeof value === "number" && spec.type === "size") {
    for (const [unit, size] of [
      ["g", GiB],
      ["m", MiB],
      ["k", KiB],
    ] as const) {
      if (value >= size && value % size === 0) return `${value / size}${unit}`;
    }
  }
  return String(value);
}
