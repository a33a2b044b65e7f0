/**
 * Renders a benchmark run: RESULTS.md (targets with PASS/MISS, then absolute numbers and
 * ratios against node:http) and results.svg (hand-written grouped bars of the ratios, on a
 * log scale centred on node:http = 1×).
 */

import type { SseDropResult } from "./sse-drop.ts";

/** A server as the report names it. */
export interface ServerInfo {
  id: string;
  label: string;
  /** A shorter name for the chart's legend. */
  short?: string | undefined;
  /** Why it was skipped, if it was. */
  missing?: string | undefined;
}

/** One wrk run of the hello-world workload. */
export interface HelloRun {
  rps: number;
  /** Milliseconds. */
  p50: number;
  /** Milliseconds. */
  p99: number;
  errors: number;
  requests: number;
  /** How long wrk ran. */
  seconds: number;
  /** CPU seconds the server used meanwhile (user + system, with its child processes). */
  cpuSeconds: number;
  /** The server's peak RSS during the run, in bytes (sampled every 100 ms). */
  peakRss?: number;
}

/** One timed sample: `transferRepeat` transfers in a row. */
export interface TransferRun {
  /** Megabytes (10^6 bytes) per second. */
  mbps: number;
  /** Body bytes moved, over the transfers of the sample. */
  bytes: number;
  seconds: number;
  /** CPU seconds the server used meanwhile. */
  cpuSeconds: number;
}

/** Memory of one server (bytes). */
export interface MemoryResult {
  startRss?: number;
  upload?: { peak: number; mbps: number };
  download?: { peak: number; mbps: number };
  idle?: {
    count: number;
    open: number;
    failed: number;
    closedByServer: number;
    before: number;
    rss: number;
  };
}

/** Everything one run measured (bench/out/results.json). */
export interface Results {
  date: string;
  command: string;
  quick: boolean;
  /** A full run with every server that is installed and no failure. */
  complete: boolean;
  seconds: number;
  config: {
    warmup: number;
    duration: number;
    reps: number;
    transferReps: number;
    /** Transfers in a row per sample. */
    transferRepeat: number;
    transfer: number;
    memory: number;
    idle: number;
    /** SSE streams dropped at once (absent from older runs). */
    sse?: number;
    concurrency: number[];
  };
  machine: {
    cpu: string;
    cores: number;
    memory: number;
    kernel: string;
    node: string;
    python: string;
    gunicorn: string;
    wrk: string;
    pinning: string;
    loadBefore: number;
    loadAfter: number;
  };
  servers: ServerInfo[];
  /** `close`: a new connection per request (absent from runs before it was added). */
  hello: Record<string, { c50: HelloRun[]; c1: HelloRun[]; close?: HelloRun[] }>;
  download: Record<string, TransferRun[]>;
  upload: Record<string, TransferRun[]>;
  memory: Record<string, MemoryResult>;
  /** 1,000 SSE streams on our Fetch fast path, dropped at once (absent from older runs). */
  sse?: SseDropResult;
  failures: string[];
}

const MiB = 1024 * 1024;
const BASE = "node-http";

/** The median of some numbers (the mean of the middle two for an even count). */
function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Half the range as a percentage of the median: how much the repetitions disagreed. */
function spread(values: number[]): number {
  if (values.length < 2) return Number.NaN;
  return ((Math.max(...values) - Math.min(...values)) / 2 / median(values)) * 100;
}

const num = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "—";
const ms = (n: number) =>
  !Number.isFinite(n) ? "—" : n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1);
const ratio = (n: number) =>
  Number.isFinite(n) ? `${n < 0.1 ? n.toFixed(3) : n.toFixed(2)}×` : "—";
const mib = (bytes: number | undefined) =>
  bytes === undefined || !Number.isFinite(bytes) ? "—" : `${(bytes / MiB).toFixed(1)} MiB`;
const size = (bytes: number) =>
  bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`;

/** The medians the tables and the chart use, by server id. */
interface Summary {
  /** req/s or MB/s. */
  rate: Record<string, number>;
  p50: Record<string, number>;
  p99: Record<string, number>;
  spread: Record<string, number>;
  errors: Record<string, number>;
  /** Share of one core the server used. */
  cpu: Record<string, number>;
  /** Requests (or MB) per server CPU-second. */
  perCpu: Record<string, number>;
  /** Server CPU-seconds per GB (10^9 bytes) moved: transfers only. */
  cpuPerGB: Record<string, number>;
}

const emptySummary = (): Summary => ({
  rate: {},
  p50: {},
  p99: {},
  spread: {},
  errors: {},
  cpu: {},
  perCpu: {},
  cpuPerGB: {},
});

function summarize(results: Results, key: "c50" | "c1" | "close"): Summary {
  const s = emptySummary();
  for (const [id, runs] of Object.entries(results.hello)) {
    const r = runs[key] ?? [];
    if (r.length === 0) continue;
    s.rate[id] = median(r.map((x) => x.rps));
    s.p50[id] = median(r.map((x) => x.p50));
    s.p99[id] = median(r.map((x) => x.p99));
    s.spread[id] = spread(r.map((x) => x.rps));
    s.errors[id] = r.reduce((sum, x) => sum + x.errors, 0);
    s.cpu[id] = median(r.map((x) => x.cpuSeconds / x.seconds));
    s.perCpu[id] = median(
      r.map((x) => (x.cpuSeconds > 0 ? x.requests / x.cpuSeconds : Number.NaN)),
    );
  }
  return s;
}

function summarizeTransfers(results: Results, kind: "download" | "upload"): Summary {
  const s = emptySummary();
  for (const [id, runs] of Object.entries(results[kind])) {
    if (runs.length === 0) continue;
    s.rate[id] = median(runs.map((x) => x.mbps));
    s.spread[id] = spread(runs.map((x) => x.mbps));
    // Over all the runs together: one transfer is too short to time CPU use well.
    const cpu = runs.reduce((sum, x) => sum + x.cpuSeconds, 0);
    const seconds = runs.reduce((sum, x) => sum + x.seconds, 0);
    const bytes = runs.reduce((sum, x) => sum + x.bytes, 0);
    s.cpu[id] = cpu / seconds;
    s.perCpu[id] = cpu > 0 ? bytes / 1e6 / cpu : Number.NaN;
    s.cpuPerGB[id] = bytes > 0 ? cpu / (bytes / 1e9) : Number.NaN;
  }
  return s;
}

/** All the summaries of a run. */
interface Summaries {
  c50: Summary;
  c1: Summary;
  close: Summary;
  download: Summary;
  upload: Summary;
}

interface Check {
  name: string;
  ours: string;
  anchor: string;
  ratio: string;
  target: string;
  pass: boolean | undefined;
}

const get = (r: Record<string, number>, id: string) => r[id] ?? Number.NaN;
const withUnit = (text: string, unit: string) => (text === "—" ? text : `${text} ${unit}`);

function checks(results: Results, all: Summaries): Check[] {
  const out: Check[] = [];
  const ok = (v: number, good: (v: number) => boolean) =>
    Number.isFinite(v) ? good(v) : undefined;
  // The targets are for load (50 connections); with one connection every server waits on
  // the round trip through the load generator, so those rows are for information.
  for (const [key, s, load] of [
    ["50 connections", all.c50, true],
    ["1 connection", all.c1, false],
  ] as const) {
    const info = "info (1 connection: round-trip bound)";
    const rps = get(s.rate, "ours") / get(s.rate, BASE);
    out.push({
      name: `hello world, ${key}: req/s vs node:http`,
      ours: num(get(s.rate, "ours")),
      anchor: num(get(s.rate, BASE)),
      ratio: ratio(rps),
      target: load ? "≥ 1.3×" : info,
      pass: load ? ok(rps, (v) => v >= 1.3) : undefined,
    });
    const p99 = get(s.p99, "ours") / get(s.p99, BASE);
    out.push({
      name: `hello world, ${key}: p99 latency vs node:http`,
      ours: withUnit(ms(get(s.p99, "ours")), "ms"),
      anchor: withUnit(ms(get(s.p99, BASE)), "ms"),
      ratio: ratio(p99),
      target: load ? "≤ 1.0× (no worse)" : info,
      pass: load ? ok(p99, (v) => v <= 1) : undefined,
    });
    const py = get(s.rate, "ours") / get(s.rate, "cpython");
    out.push({
      name: `hello world, ${key}: req/s vs CPython simple_server`,
      ours: num(get(s.rate, "ours")),
      anchor: num(get(s.rate, "cpython")),
      ratio: ratio(py),
      target: load ? "≥ 10×" : info,
      pass: load ? ok(py, (v) => v >= 10) : undefined,
    });
  }
  const asyncRate = get(all.c50.rate, "ours-async") / get(all.c50.rate, BASE);
  out.push({
    name: "hello world, 50 connections, async WSGI app: req/s vs node:http",
    ours: num(get(all.c50.rate, "ours-async")),
    anchor: num(get(all.c50.rate, BASE)),
    ratio: ratio(asyncRate),
    target: "≥ 1.45×",
    pass: ok(asyncRate, (v) => v >= 1.45),
  });
  /** A row with no target: ours against node:http in `values`, and why it is shown. */
  const infoRow = (name: string, values: Record<string, number>, why: string): Check => ({
    name,
    ours: num(get(values, "ours")),
    anchor: num(get(values, BASE)),
    ratio: ratio(get(values, "ours") / get(values, BASE)),
    target: `info (${why})`,
    pass: undefined,
  });
  out.push(
    infoRow(
      "hello world, a new connection per request: req/s vs node:http",
      all.close.rate,
      "accepting and closing connections is most of the work",
    ),
    infoRow(
      "hello world, 50 connections: requests per server CPU-second vs node:http",
      all.c50.perCpu,
      "what req/s would show if the server, not the client, were the limit",
    ),
  );
  for (const [kind, target, min] of [
    ["download", "≥ 2×", 2],
    ["upload", "≥ 1×", 1],
  ] as const) {
    const s = all[kind];
    const r = get(s.rate, "ours") / get(s.rate, BASE);
    out.push({
      name: `${size(results.config.transfer)} ${kind}: MB/s vs node:http`,
      ours: num(get(s.rate, "ours")),
      anchor: num(get(s.rate, BASE)),
      ratio: ratio(r),
      target,
      pass: ok(r, (v) => v >= min),
    });
  }
  // The Hono app on our server (the Fetch fast path) against the same app on @hono/node-server.
  const honoRow = (name: string, values: Record<string, number>, text: (v: number) => string) => {
    const r = get(values, "hono-ours") / get(values, "hono");
    return { name, ours: text(get(values, "hono-ours")), anchor: text(get(values, "hono")), r };
  };
  for (const [name, values, text, target, good] of [
    [
      "Hono hello world, 50 connections: req/s vs @hono/node-server",
      all.c50.rate,
      num,
      "≥ 1.3×",
      (v: number) => v >= 1.3,
    ],
    [
      "Hono hello world, 50 connections: p99 vs @hono/node-server",
      all.c50.p99,
      (v: number) => withUnit(ms(v), "ms"),
      "≤ 1.0× (no worse)",
      (v: number) => v <= 1,
    ],
    [
      `Hono ${size(results.config.transfer)} download (ReadableStream): MB/s vs @hono/node-server`,
      all.download.rate,
      num,
      "≥ 1.2×",
      (v: number) => v >= 1.2,
    ],
    [
      `Hono ${size(results.config.transfer)} upload (request.body): MB/s vs @hono/node-server`,
      all.upload.rate,
      num,
      "≥ 1.0×",
      (v: number) => v >= 1,
    ],
  ] as const) {
    const row = honoRow(name, values, text);
    out.push({
      name,
      ours: row.ours,
      anchor: row.anchor,
      ratio: ratio(row.r),
      target,
      pass: ok(row.r, good),
    });
  }
  const honoPeak = (id: string) =>
    Math.max(...(results.hello[id]?.c50 ?? []).map((run) => run.peakRss ?? Number.NaN));
  const peakOurs = honoPeak("hono-ours");
  out.push({
    name: "Hono hello world, 50 connections: peak RSS",
    ours: mib(peakOurs),
    anchor: mib(honoPeak("hono")),
    ratio: ratio(peakOurs / honoPeak("hono")),
    target: "< 100 MiB",
    pass: ok(peakOurs, (v) => v < 100 * MiB),
  });
  const ours = results.memory.ours;
  const base = results.memory[BASE];
  for (const kind of ["upload", "download"] as const) {
    const peak = ours?.[kind]?.peak ?? Number.NaN;
    out.push({
      name: `peak RSS during a ${size(results.config.memory)} ${kind}`,
      ours: mib(peak),
      anchor: mib(base?.[kind]?.peak),
      ratio: ratio(peak / (base?.[kind]?.peak ?? Number.NaN)),
      target: "< 150 MiB",
      pass: ok(peak, (v) => v < 150 * MiB),
    });
  }
  const idle = ours?.idle;
  out.push({
    name: `RSS with ${num(results.config.idle)} idle keep-alive connections`,
    ours: idle
      ? `${mib(idle.rss)}${idle.open < idle.count ? ` (only ${num(idle.open)} open)` : ""}`
      : "—",
    anchor: mib(base?.idle?.rss),
    ratio: ratio((idle?.rss ?? Number.NaN) / (base?.idle?.rss ?? Number.NaN)),
    target: "< 300 MiB",
    pass: idle ? idle.open === idle.count && idle.rss < 300 * MiB : undefined,
  });
  const sse = results.sse;
  if (sse) {
    out.push({
      name: `${num(sse.count)} SSE streams dropped at once: RSS 2 s after vs before (${num(sse.aborted)} signals aborted in ${num(sse.ms)} ms)`,
      ours: mib(sse.after),
      anchor: mib(sse.before),
      ratio: ratio(sse.after / sse.before),
      target: "≤ 1.1×, every signal aborted",
      pass: sse.aborted === sse.count && sse.after <= 1.1 * sse.before,
    });
  }
  return out;
}

const withSpread = (value: number, sp: number, digits = 0) =>
  `${num(value, digits)}${Number.isFinite(sp) ? ` ±${sp.toFixed(0)}%` : ""}`;
const percent = (share: number) => (Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : "—");

function helloTable(results: Results, s: Summary): string {
  const rows = [
    "| server | req/s | × node:http | p50 ms | p99 ms | server CPU | req per CPU-second | × node:http |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const server of results.servers) {
    if (server.missing) {
      rows.push(`| ${server.label} | skipped: ${server.missing} |||||||`);
      continue;
    }
    if (!Number.isFinite(get(s.rate, server.id))) continue;
    const id = server.id;
    rows.push(
      `| ${server.label} | ${withSpread(get(s.rate, id), get(s.spread, id))} | ${ratio(get(s.rate, id) / get(s.rate, BASE))} | ${ms(get(s.p50, id))} | ${ms(get(s.p99, id))} | ${percent(get(s.cpu, id))} | ${num(get(s.perCpu, id))} | ${ratio(get(s.perCpu, id) / get(s.perCpu, BASE))} |`,
    );
  }
  const errors = results.servers
    .filter((server) => (s.errors[server.id] ?? 0) > 0)
    .map((server) => `${server.label}: ${num(s.errors[server.id] ?? 0)}`)
    .join("; ");
  if (errors) {
    rows.push(
      "",
      `wrk counted socket errors or non-2xx answers (summed over the runs): ${errors}. Only completed requests count in req/s.`,
    );
  }
  return rows.join("\n");
}

function transferTable(results: Results, all: Summaries): string {
  const rows = [
    "| server | download MB/s | × node:http | server CPU | server CPU-s per GB | upload MB/s | × node:http | server CPU | server CPU-s per GB |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const server of results.servers) {
    if (server.missing) continue;
    const id = server.id;
    const cells: string[] = [];
    for (const kind of ["download", "upload"] as const) {
      const s = all[kind];
      cells.push(
        withSpread(get(s.rate, id), get(s.spread, id)),
        ratio(get(s.rate, id) / get(s.rate, BASE)),
        percent(get(s.cpu, id)),
        num(get(s.cpuPerGB, id), 2),
      );
    }
    if (cells[0] === "—" && cells[4] === "—") continue;
    rows.push(`| ${server.label} | ${cells.join(" | ")} |`);
  }
  return rows.join("\n");
}

function memoryTable(results: Results): string {
  const rows = [
    `| server | after start | peak, ${size(results.config.memory)} upload | peak, ${size(results.config.memory)} download | ${num(results.config.idle)} idle connections | per idle connection |`,
    "|---|--:|--:|--:|--:|--:|",
  ];
  for (const server of results.servers) {
    const m = results.memory[server.id];
    if (!m) continue;
    const idle = m.idle;
    const per =
      idle && idle.open > 0
        ? `${((idle.rss - idle.before) / idle.open / 1024).toFixed(1)} KiB`
        : "—";
    const idleCell = idle
      ? `${mib(idle.rss)}${idle.open < idle.count ? ` (${num(idle.open)} open, ${num(idle.failed)} failed)` : ""}${idle.closedByServer ? ` (${num(idle.closedByServer)} closed by the server)` : ""}`
      : "—";
    rows.push(
      `| ${server.label} | ${mib(m.startRss)} | ${mib(m.upload?.peak)} | ${mib(m.download?.peak)} | ${idleCell} | ${per} |`,
    );
  }
  return rows.join("\n");
}

/** RESULTS.md and results.svg for a run. */
export function render(results: Results): { markdown: string; svg: string } {
  const all: Summaries = {
    c50: summarize(results, "c50"),
    c1: summarize(results, "c1"),
    close: summarize(results, "close"),
    download: summarizeTransfers(results, "download"),
    upload: summarizeTransfers(results, "upload"),
  };
  const m = results.machine;
  const cfg = results.config;
  const lines: string[] = ["# Benchmark results", ""];
  if (results.quick) {
    lines.push(
      "> **Quick smoke run** (`--quick`): tiny durations and sizes, one repetition. These numbers say the harness works, not how fast anything is.",
      "",
    );
  } else if (!results.complete) {
    lines.push(
      "> **Partial run**: some servers or workloads were left out or failed (see the end).",
      "",
    );
  }
  if (m.loadBefore >= m.cores / 2) {
    lines.push(
      `> **Busy machine**: the load average was ${m.loadBefore.toFixed(2)} on ${m.cores} cores when the run began, so other processes shared the cores with the servers and the load generator. Expect wide spreads (±x%) and server CPU well below 100%; trust the memory numbers and the per-CPU-second columns more than req/s and MB/s, and rerun on a quiet machine.`,
      "",
    );
  }
  lines.push(
    `Taken ${results.date.replace("T", " ").slice(0, 16)} UTC with \`${results.command}\` (${results.seconds} s).`,
    "",
    `- Machine: ${m.cpu}, ${m.cores} cores, ${(m.memory / 1024 ** 3).toFixed(1)} GiB RAM, Linux ${m.kernel}.`,
    `- Software: Node ${m.node}; ${m.python}; ${m.gunicorn}; ${m.wrk}.`,
    `- Pinning: ${m.pinning}. Each server is a child process on 127.0.0.1.`,
    `- Load average (1 min): ${m.loadBefore.toFixed(2)} before, ${m.loadAfter.toFixed(2)} after. Anything else running makes the absolute numbers noisier; the ratios less so, since the servers take turns and share the noise.`,
    `- Hello world: \`wrk -t1 -cN -d${cfg.duration}s --latency\` (with \`-H "Connection: close"\` for a new connection per request), ${cfg.reps} run(s) per server, round-robin, medians${cfg.warmup ? ` (after a ${cfg.warmup} s warm-up)` : ""}; ±x% is half the range of the runs. Transfers: one client, [transfer-client.py](transfer-client.py) (1 MiB \`recv_into\` and \`sendall\`: not curl, which set the pace), a fresh connection per transfer; a run is ${cfg.transferRepeat} transfer(s) of ${size(cfg.transfer)} back to back, ${cfg.transferReps} run(s) per server after one warm-up, medians; MB is 10^6 bytes.`,
    "- Server CPU is the share of one core the server process (with its children) used during the run, from `/proc/<pid>/task/*/schedstat`. Well below 100%, something other than the server set the pace (the load generator, or other processes on the machine): compare the per-CPU-second columns then (for transfers, server CPU-seconds per GB moved: lower is better).",
    "",
    "## Targets",
    "",
    "| check | ours | anchor | ratio | target | |",
    "|---|--:|--:|--:|---|---|",
  );
  for (const c of checks(results, all)) {
    const mark = c.pass === undefined ? "—" : c.pass ? "PASS" : "**MISS**";
    lines.push(`| ${c.name} | ${c.ours} | ${c.anchor} | ${c.ratio} | ${c.target} | ${mark} |`);
  }
  lines.push(
    "",
    "![ratios against node:http](results.svg)",
    "",
    "## Hello world, 50 connections (keep-alive; CPython's simple server and gunicorn sync close every connection)",
    "",
    helloTable(results, all.c50),
    "",
    "## Hello world, 1 connection",
    "",
    helloTable(results, all.c1),
    "",
    "## Hello world, a new connection per request (`Connection: close`), 10 at a time",
    "",
    helloTable(results, all.close),
    "",
    `## Transfers: ${size(cfg.transfer)} download (64 KiB chunks) and upload (read in 64 KiB chunks, discarded), ${cfg.transferRepeat} back to back per run`,
    "",
    transferTable(results, all),
    "",
    "## Memory: the server's VmRSS, sampled every 100 ms (a fresh process for each column)",
    "",
    memoryTable(results),
    "",
  );
  if (results.failures.length) {
    lines.push("## Failures", "", ...results.failures.map((f) => `- ${f}`), "");
  }
  lines.push("How to run this and how to read it: [README.md](README.md).", "");
  return { markdown: lines.join("\n"), svg: chart(results, all) };
}

const COLORS: Record<string, string> = {
  ours: "#c62828",
  reference: "#ef9a9a",
  hono: "#ef6c00",
  "ours-async": "#e57373",
  "hono-ours": "#ad1457",
  "hono-srvx": "#ffb300",
  cpython: "#1565c0",
  "gunicorn-sync": "#2e7d32",
  "gunicorn-gthread": "#9ccc65",
};

const escapeXml = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** Grouped bars of ratios against node:http on a log scale; bars grow from 1×. */
function chart(results: Results, all: Summaries): string {
  const groups: { name: string; target?: number; ratios: Record<string, number> }[] = [];
  const over = (values: Record<string, number>) => {
    const out: Record<string, number> = {};
    const base = values[BASE] ?? Number.NaN;
    for (const [id, v] of Object.entries(values)) if (id !== BASE) out[id] = v / base;
    return out;
  };
  groups.push({ name: "hello world, 50 conns (req/s)", target: 1.3, ratios: over(all.c50.rate) });
  groups.push({ name: "hello world, 1 conn (req/s)", ratios: over(all.c1.rate) });
  groups.push({ name: "hello world, conn per request (req/s)", ratios: over(all.close.rate) });
  groups.push({
    name: `${size(results.config.transfer)} download (MB/s)`,
    target: 2,
    ratios: over(all.download.rate),
  });
  groups.push({
    name: `${size(results.config.transfer)} upload (MB/s)`,
    target: 1,
    ratios: over(all.upload.rate),
  });
  const series = results.servers.filter(
    (s) => s.id !== BASE && !s.missing && groups.some((g) => Number.isFinite(g.ratios[s.id])),
  );
  const values = groups
    .flatMap((g) => Object.values(g.ratios))
    .filter((v) => Number.isFinite(v) && v > 0);
  const steps = (v: number) => {
    const e = Math.floor(Math.log10(v));
    return [1, 2, 5, 10].map((m) => m * 10 ** e);
  };
  const hiWant = Math.max(2.5, ...values.map((v) => v * 1.15));
  const hi = steps(hiWant).find((v) => v >= hiWant * 0.999) ?? hiWant;
  const loWant = Math.min(0.4, ...values.map((v) => v / 1.15));
  const lo = [...steps(loWant)].reverse().find((v) => v <= loWant * 1.001) ?? loWant;

  const W = 960;
  const left = 100;
  const right = 20;
  const top = 56;
  const plotH = 300;
  const plotW = W - left - right;
  const legendRows = Math.ceil(series.length / 3);
  const H = top + plotH + 44 + legendRows * 22 + 16;
  const span = Math.log10(hi) - Math.log10(lo);
  const y = (v: number) =>
    top + ((Math.log10(hi) - Math.log10(Math.min(hi, Math.max(lo, v)))) / span) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">`,
    `<title id="title">Throughput of each server relative to node:http: ${escapeXml(
      groups
        .map(
          (g) =>
            `${g.name}: ${series
              .filter((s) => Number.isFinite(g.ratios[s.id]))
              .map((s) => `${s.short ?? s.label} ${ratio(g.ratios[s.id] as number)}`)
              .join(", ")}`,
        )
        .join("; "),
    )}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">Throughput relative to node:http (log scale; higher is better)</text>`,
    `<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${escapeXml(`${results.date.slice(0, 10)}, ${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}${results.quick ? ", QUICK SMOKE RUN" : ""}${results.machine.loadBefore >= results.machine.cores / 2 ? `, BUSY MACHINE (load ${results.machine.loadBefore.toFixed(1)})` : ""}`)}</text>`,
  ];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.log10(hi) + 1e-9; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v < lo * 0.999 || v > hi * 1.001) continue;
      const yy = y(v).toFixed(1);
      out.push(
        `<line x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}" stroke="${v === 1 ? "#000" : "#e0e0e0"}" stroke-width="${v === 1 ? 1.5 : 1}"/>`,
        `<text x="${left - 6}" y="${yy}" dy="4" text-anchor="end" fill="${v === 1 ? "#000" : "#333"}"${v === 1 ? ' font-weight="bold"' : ""}>${v === 1 ? "node:http 1×" : `${Number(v.toPrecision(1))}×`}</text>`,
      );
    }
  }
  const groupW = plotW / groups.length;
  const barW = Math.min(34, (groupW * 0.8) / Math.max(1, series.length));
  groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * series.length) / 2;
    if (g.target !== undefined && g.target !== 1) {
      const yy = y(g.target).toFixed(1);
      out.push(
        `<line x1="${(x0 - 8).toFixed(1)}" x2="${(x0 + barW * series.length + 8).toFixed(1)}" y1="${yy}" y2="${yy}" stroke="#c62828" stroke-dasharray="5,3"/>`,
        `<text x="${(x0 + barW * series.length + 8).toFixed(1)}" y="${yy}" dy="-3" text-anchor="end" fill="#c62828" font-size="10">target ${g.target}×</text>`,
      );
    }
    series.forEach((s, si) => {
      const r = g.ratios[s.id];
      if (r === undefined || !Number.isFinite(r)) return;
      const x = x0 + si * barW;
      const y1 = y(1);
      const y2 = y(r);
      out.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${Math.min(y1, y2).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.max(1, Math.abs(y2 - y1)).toFixed(1)}" fill="${COLORS[s.id] ?? "#777"}"><title>${escapeXml(`${s.label}: ${ratio(r)}`)}</title></rect>`,
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(r >= 1 ? y2 - 4 : y2 + 12).toFixed(1)}" text-anchor="middle" font-size="10">${r < 0.1 ? r.toFixed(3) : r.toFixed(2)}</text>`,
      );
    });
    out.push(
      `<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 20}" text-anchor="middle" font-weight="bold">${escapeXml(g.name)}</text>`,
    );
  });
  series.forEach((s, i) => {
    const col = i % 3;
    const row = Math.floor(i / 3);
    const x = left + col * (plotW / 3);
    const yy = top + plotH + 44 + row * 22;
    out.push(
      `<rect x="${x}" y="${yy - 10}" width="14" height="14" fill="${COLORS[s.id] ?? "#777"}"/>`,
      `<text x="${x + 20}" y="${yy + 1}">${escapeXml(s.short ?? s.label)}</text>`,
    );
  });
  out.push("</svg>", "");
  return out.join("\n");
}
