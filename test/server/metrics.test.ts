import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type CliProcess, FIXTURES, get, killAll, startCli } from "../helpers/cli.ts";

const APP = join(FIXTURES, "app.ts");

after(killAll);

/** One sample of the Prometheus text format: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (0.0.4): every sample; checks the comments. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      assert.match(line, /^# (HELP \w+ .+|TYPE \w+ (counter|gauge|histogram))$/);
      continue;
    }
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? "").split(",").filter(Boolean)) {
      const l = /^(\w+)="(.*)"$/.exec(pair);
      assert.ok(l, `bad label in ${line}`);
      labels[l[1] as string] = l[2] as string;
    }
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of one sample (0 when absent). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value ?? 0;
}

/** Scrapes `/metrics`, checking the content type. */
async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(await res.text());
}

/** Starts the CLI with metrics on a free port; resolves with the process, its port and the metrics URL. */
async function start(args: string[]): Promise<{ server: CliProcess; port: number; url: string }> {
  const server = startCli(["serve", APP, "--port", "0", "--metrics-bind", "127.0.0.1:0", ...args]);
  const port = await server.port();
  const m = await server.waitFor(/^wsgiref: metrics at (http:\S+)$/m, "stderr");
  return { server, port, url: m[1] as string };
}

/** Sends raw bytes and resolves with the answer once the server closes. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    let got = "";
    socket.on("data", (d) => {
      got += d.toString("latin1");
    });
    socket.on("end", () => resolve(got));
    socket.on("error", reject);
  });
}

/** Checks that a histogram's buckets are cumulative and end in `_count`. */
function checkHistogram(samples: Sample[], name: string): void {
  const buckets = samples.filter((s) => s.name === `${name}_bucket`);
  assert.ok(buckets.length > 5);
  for (let i = 1; i < buckets.length; i++) {
    assert.ok((buckets[i] as Sample).value >= (buckets[i - 1] as Sample).value);
  }
  assert.equal(buckets.at(-1)?.labels.le, "+Inf");
  assert.equal(buckets.at(-1)?.value, value(samples, `${name}_count`));
}

describe("metrics: --metrics-bind", () => {
  it("serves Prometheus text summed over the workers, keeping a dead worker's counts", async () => {
    const { server, port, url } = await start(["--workers", "2"]);
    for (let i = 0; i < 6; i++) assert.equal((await get(port, "/")).status, 200);
    const bad = await raw(port, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    assert.match(bad, /^HTTP\/1\.1 400 /);

    const first = await scrape(url);
    assert.equal(value(first, "wsgiref_requests_total", { status_class: "2xx" }), 6);
    assert.equal(value(first, "wsgiref_request_duration_seconds_count"), 6);
    checkHistogram(first, "wsgiref_request_duration_seconds");
    const rejected = first.filter((s) => s.name === "wsgiref_rejected_requests_total");
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]?.labels.code ?? "", /^ERR_/);
    assert.equal(rejected[0]?.value, 1);
    assert.ok(value(first, "wsgiref_received_bytes_total") > 6 * 20);
    assert.ok(value(first, "wsgiref_sent_bytes_total") > 6 * 50);
    assert.equal(value(first, "wsgiref_workers"), 2);
    assert.equal(value(first, "wsgiref_worker_restarts_total", { cause: "crash" }), 0);

    // A slow request in flight on an open connection shows in the gauges.
    const slow = get(port, "/slow?ms=1500");
    await server.waitFor(/slow request started/, "stderr");
    const busy = await scrape(url);
    assert.equal(value(busy, "wsgiref_requests_in_flight"), 1);
    assert.ok(value(busy, "wsgiref_connections_open") >= 1);
    await slow;

    const victim = Number((await get(port, "/")).body);
    process.kill(victim, "SIGKILL");
    await server.waitFor(new RegExp(`worker ${victim} died`), "stderr");
    const after = await scrape(url);
    assert.equal(value(after, "wsgiref_worker_restarts_total", { cause: "crash" }), 1);
    // Counters never go back: what the dead worker counted up to the last scrape stays.
    assert.ok(value(after, "wsgiref_requests_total", { status_class: "2xx" }) >= 7);
    assert.equal(value(after, "wsgiref_requests_in_flight"), 0);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("serves them from a single process too, and 404s other paths", async () => {
    const { server, port, url } = await start([]);
    await get(port, "/");
    const samples = await scrape(url);
    assert.equal(value(samples, "wsgiref_requests_total", { status_class: "2xx" }), 1);
    assert.equal(value(samples, "wsgiref_workers"), 0, "no worker gauge without workers");
    const other = await new Promise<number>((resolve) =>
      request(url.replace("/metrics", "/"), (res) => resolve(res.statusCode ?? 0)).end(),
    );
    assert.equal(other, 404);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});
