import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { formatLogLine, requestId } from "../../src/server/log.ts";
import { get, killAll, startCli } from "../helpers/cli.ts";

after(killAll);

const dir = mkdtempSync(join(tmpdir(), "wsgiref-log-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `/boom` throws; `/nap` answers after 50 ms; `/late` answers at once and writes to its
 * `wsgi.errors` 25 ms later; anything else answers at once.
 */
const APP = join(dir, "app.ts");
writeFileSync(
  APP,
  `
export const app = async (environ, startResponse) => {
  if (environ.PATH_INFO === "/boom") throw new Error("the app broke");
  if (environ.PATH_INFO === "/nap") await new Promise((r) => setTimeout(r, 50));
  if (environ.PATH_INFO === "/late") {
    const errors = environ["wsgi.errors"];
    setTimeout(() => errors.write("written late\\n"), 25);
  }
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode("ok")];
};
`,
);

/** The JSON records among `text`'s lines. */
function records(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("log: line formats", () => {
  it("gives every text line the time, pid and level, and a request's its method, path and id", () => {
    const time = new Date("2026-01-02T03:04:05.678Z");
    assert.equal(
      formatLogLine("text", "info", "hello", undefined, time),
      `[2026-01-02T03:04:05.678Z] [${process.pid}] [INFO] hello\n`,
    );
    assert.equal(
      formatLogLine("text", "error", "boom\n", { method: "GET", path: "/a\nb", id: "r1" }, time),
      `[2026-01-02T03:04:05.678Z] [${process.pid}] [ERROR] [GET /a\\x0ab] [r1] boom\n`,
    );
  });

  it("gives every json record the same fields", () => {
    const line = formatLogLine("json", "warning", "x", { method: "POST", path: "/p", id: "7" });
    assert.deepEqual(Object.keys(JSON.parse(line)), [
      "time",
      "pid",
      "level",
      "method",
      "path",
      "request_id",
      "message",
    ]);
  });

  it("takes the request id from a sane X-Request-ID, else numbers requests per process", () => {
    assert.equal(requestId("abc-123"), "abc-123");
    assert.match(requestId(undefined), new RegExp(`^${process.pid}-\\d+$`));
    assert.match(requestId("has space"), /^\d+-\d+$/);
    assert.match(requestId("x".repeat(200)), /^\d+-\d+$/);
  });
});

describe("log: --log-format json and the access log formats, end to end", () => {
  it("writes json error records and json access records that share the request id", async () => {
    const server = startCli([
      "serve",
      APP,
      "--port",
      "0",
      "--log-format",
      "json",
      "--access-log",
      "-",
      "--access-log-format",
      "json",
    ]);
    const port = await server.port();
    assert.equal((await get(port, "/boom", { "X-Request-ID": "abc-123" })).status, 500);
    await server.until(() => records(server.stderr).length >= 2, "two records");
    const [error, access] = records(server.stderr);
    assert.equal(error?.level, "error");
    assert.equal(error?.pid, server.pid);
    assert.equal(error?.method, "GET");
    assert.equal(error?.path, "/boom");
    assert.equal(error?.request_id, "abc-123");
    assert.match(String(error?.message), /Error: the app broke/);
    assert.ok(!Number.isNaN(Date.parse(String(error?.time))));
    assert.equal(access?.request_id, "abc-123");
    assert.equal(access?.status, 500);
    assert.equal(access?.path, "/boom");
    assert.equal(access?.remote_addr, "127.0.0.1");
    assert.equal(typeof access?.duration_ms, "number");
    // SIGUSR1's note is a record too, at level info.
    server.kill("SIGUSR1");
    await server.until(
      () => records(server.stderr).some((r) => r.level === "info"),
      "an info record",
    );
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    for (const line of server.stderr.split("\n").filter(Boolean))
      assert.doesNotThrow(() => JSON.parse(line), line);
  });

  it("names the request a wsgi.errors was made for, even once its connection serves the next", async () => {
    const server = startCli(["serve", APP, "--port", "0", "--log-format", "json"]);
    const port = await server.port();
    const socket = connect(port, "127.0.0.1");
    let received = "";
    socket.on("data", (data: Buffer) => {
      received += data.toString("latin1");
    });
    const ask = (path: string, id: string) =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nX-Request-ID: ${id}\r\n\r\n`);
    ask("/late", "first");
    await server.until(() => received.includes("\r\n\r\nok"), "the first response");
    // The same connection is on /nap when /late's line is written.
    ask("/nap", "second");
    await server.until(() => records(server.stderr).length >= 1, "the late record");
    await server.until(() => received.split("HTTP/1.1 200").length === 3, "the second response");
    socket.destroy();
    const [late] = records(server.stderr);
    assert.equal(late?.message, "written late");
    assert.equal(late?.path, "/late");
    assert.equal(late?.request_id, "first");
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("fills a gunicorn-style access format, %(D)s being the duration in microseconds", async () => {
    const server = startCli([
      "serve",
      APP,
      "--port",
      "0",
      "--access-log",
      "-",
      "--access-log-format",
      '%(h)s "%(r)s" %(s)s %(b)s %(D)s %(i)s',
    ]);
    const port = await server.port();
    await get(port, "/nap?x=1", { "X-Request-ID": "nap-1" });
    const m = await server.waitFor(
      /^127\.0\.0\.1 "GET \/nap\?x=1 HTTP\/1\.1" 200 2 (\d+) nap-1$/m,
      "stderr",
    );
    // The app slept 50 ms: the duration covers it.
    assert.ok(Number(m[1]) >= 50_000, m[0]);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});
