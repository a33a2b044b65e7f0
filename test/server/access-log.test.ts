import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { escapeControls } from "../../src/server/access-log.ts";
import { type ServeOptions, serve } from "../../src/server.ts";
import type { WSGIApplication } from "../../src/types.ts";
import { FIXTURES, get, killAll, startCli } from "../helpers/cli.ts";
import { exchange } from "../helpers/wire.ts";

after(killAll);

const dir = mkdtempSync(join(tmpdir(), "wsgiref-access-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** `/empty` answers 200 with no body, `/nothing` 204; anything else `hello`. */
const app: WSGIApplication = (environ, startResponse) => {
  if (environ.PATH_INFO === "/nothing") {
    startResponse("204 No Content", []);
    return [];
  }
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return environ.PATH_INFO === "/empty" ? [] : [new TextEncoder().encode("hello")];
};

/** The CLF time field: `[10/Oct/2000:13:55:36 -0700]`. */
const TIME = String.raw`\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]`;
/** A quoted, escaped log field: no raw quote, backslash or control byte inside. */
const QUOTED = String.raw`"(?:[^"\\\x00-\x1f\x7f]|\\.)*"`;

/**
 * Serves `app` with an access log file, sends the raw requests, and returns the log's
 * lines once `expected` lines arrived (or 2 s passed; with 0 expected, after 200 ms).
 */
async function logOf(
  requests: string[],
  options: ServeOptions = {},
  expected = requests.length,
): Promise<string[]> {
  const file = join(dir, `access-${n++}.log`);
  const server = await serve(app, {
    port: 0,
    host: "127.0.0.1",
    errorLog: "/dev/null",
    accessLog: file,
    ...options,
  });
  const port = (server.address as { port: number }).port;
  for (const request of requests) await exchange(port, request);
  await server.close();
  const deadline = Date.now() + (expected === 0 ? 200 : 2000);
  let text = "";
  while (Date.now() < deadline) {
    text = existsSync(file) ? readFileSync(file, "latin1") : "";
    if (expected > 0 && text.split("\n").length > expected) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return text.split("\n").slice(0, -1);
}

const request = (target: string, headers = "", method = "GET") =>
  `${method} ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n${headers}\r\n`;

describe("escapeControls: error log text", () => {
  it("escapes ESC, CR, NUL, DEL and C1 controls, keeping line breaks, tabs and text", () => {
    assert.equal(
      escapeControls("a\x1b[31mb\rc\0d\x7fe\x9bf\n\tg caf\u00e9 \u2603"),
      "a\\x1b[31mb\\x0dc\\x00d\\x7fe\\x9bf\n\tg caf\u00e9 \u2603",
    );
  });
});

describe("access log: line shapes", () => {
  it("writes Common Log Format lines", async () => {
    const [line] = await logOf([request("/path?q=1")]);
    assert.match(
      line ?? "",
      new RegExp(`^127\\.0\\.0\\.1 - - ${TIME} "GET /path\\?q=1 HTTP/1\\.1" 200 5$`),
    );
  });

  it("adds the quoted Referer and User-Agent in the combined format", async () => {
    const [line] = await logOf(
      [request("/", "Referer: http://r.example/\r\nUser-Agent: curl/8\r\n")],
      {
        accessLogFormat: "combined",
      },
    );
    assert.match(
      line ?? "",
      new RegExp(
        `^127\\.0\\.0\\.1 - - ${TIME} "GET / HTTP/1\\.1" 200 5 "http://r\\.example/" "curl/8"$`,
      ),
    );
  });

  it("writes - for the Referer and User-Agent a request did not send", async () => {
    const [line] = await logOf([request("/")], { accessLogFormat: "combined" });
    assert.match(line ?? "", / 200 5 "-" "-"$/);
  });

  it("writes - for the size of an empty body, a 204 and a HEAD", async () => {
    const lines = await logOf([request("/empty"), request("/nothing"), request("/", "", "HEAD")]);
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? "", /"GET \/empty HTTP\/1\.1" 200 -$/);
    assert.match(lines[1] ?? "", /"GET \/nothing HTTP\/1\.1" 204 -$/);
    assert.match(lines[2] ?? "", /"HEAD \/ HTTP\/1\.1" 200 -$/);
  });
});

describe("access log: a client cannot forge lines", () => {
  // Quotes and backslashes are legal in a request-target; quotes, HTAB and obs-text bytes
  // in a header value. Each must come out escaped so the line keeps its fields.
  const forged = [
    request('/a"b\\c', 'Referer: x" 200 1 "y\r\nUser-Agent: evil"\t\xff\\" "127.0.0.1 - -\r\n'),
  ];

  it("escapes quotes, backslashes, control and non-ASCII bytes", async () => {
    const [line] = await logOf(forged, { accessLogFormat: "combined" });
    assert.ok(line);
    assert.ok(line.includes(String.raw`"GET /a\"b\\c HTTP/1.1"`), line);
    assert.ok(line.includes(String.raw`"x\" 200 1 \"y"`), line);
    assert.ok(line.includes(String.raw`"evil\"\x09\xff\\\" \"127.0.0.1 - -"`), line);
  });

  it("keeps exactly the fields of the format, on one line", async () => {
    const lines = await logOf(forged, { accessLogFormat: "combined" });
    assert.equal(lines.length, 1);
    assert.match(
      lines[0] ?? "",
      new RegExp(`^127\\.0\\.0\\.1 - - ${TIME} ${QUOTED} 200 5 ${QUOTED} ${QUOTED}$`),
    );
    assert.doesNotMatch(lines[0] ?? "", /[\x00-\x1f\x7f-\xff]/);
  });
});

describe("access log: destinations", () => {
  it("writes nothing when off", async () => {
    assert.deepEqual(await logOf([request("/")], { accessLog: "off" }, 0), []);
  });

  it("goes to stderr with --access-log -, and nowhere by default", async () => {
    const app = join(FIXTURES, "app.ts");
    const logged = startCli(["serve", app, "--port", "0", "--access-log", "-"]);
    const quiet = startCli(["serve", app, "--port", "0"]);
    const [a, b] = await Promise.all([logged.port(), quiet.port()]);
    await get(a, "/to-stderr");
    await get(b, "/to-nowhere");
    await logged.waitFor(/"GET \/to-stderr HTTP\/1\.1" 200 \d+\n/, "stderr");
    assert.deepEqual(await quiet.stop(), { code: 0, signal: null });
    assert.deepEqual(await logged.stop(), { code: 0, signal: null });
    assert.equal(quiet.stderr, "");
    assert.match(logged.stderr, new RegExp(`^127\\.0\\.0\\.1 - - ${TIME} "GET /to-stderr`, "m"));
  });
});

/** The lines of `file` once it has `count` of them (or 5 s passed). */
async function linesOf(file: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  let lines: string[] = [];
  while (Date.now() < deadline) {
    lines = existsSync(file) ? readFileSync(file, "latin1").split("\n").slice(0, -1) : [];
    if (lines.length >= count) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return lines;
}

describe("access log: reopening after logrotate", () => {
  it("reopenLogs() goes on in a new file at the path; the moved file keeps the earlier lines", async () => {
    const access = join(dir, `rotate-${n++}.log`);
    const errors = join(dir, `rotate-errors-${n++}.log`);
    const server = await serve(app, {
      port: 0,
      host: "127.0.0.1",
      accessLog: access,
      errorLog: errors,
    });
    const port = (server.address as { port: number }).port;
    try {
      await exchange(port, request("/before"));
      assert.equal((await linesOf(access, 1)).length, 1);
      renameSync(access, `${access}.1`);
      renameSync(errors, `${errors}.1`);
      server.reopenLogs();
      await exchange(port, request("/after"));
      const now = await linesOf(access, 1);
      assert.equal(now.length, 1);
      assert.match(now[0] ?? "", /"GET \/after HTTP\/1\.1" 200 5$/);
      const moved = await linesOf(`${access}.1`, 1);
      assert.equal(moved.length, 1);
      assert.match(moved[0] ?? "", /"GET \/before HTTP\/1\.1"/);
      assert.match((await linesOf(errors, 1))[0] ?? "", /\] reopened the log files$/);
    } finally {
      await server.close();
    }
  });

  for (const workers of ["1", "2"]) {
    it(`SIGUSR1 reopens the log files (--workers ${workers})`, async () => {
      const access = join(dir, `usr1-${workers}.log`);
      const errors = join(dir, `usr1-errors-${workers}.log`);
      const app = join(FIXTURES, "app.ts");
      const server = startCli([
        "serve",
        app,
        "--port",
        "0",
        "--workers",
        workers,
        "--access-log",
        access,
        "--error-log",
        errors,
      ]);
      const port = await server.port();
      await get(port, "/before");
      assert.equal((await linesOf(access, 1)).length, 1);
      renameSync(access, `${access}.1`);
      process.kill(server.pid, "SIGUSR1");
      // Each worker says so in the (new) error log once it reopened.
      const reopened = await linesOf(errors, Number(workers));
      assert.equal(
        reopened.filter((l) => l.endsWith("reopened the log files")).length,
        Number(workers),
      );
      for (let i = 0; i < 4; i++) await get(port, `/after-${i}`);
      const now = await linesOf(access, 4);
      assert.equal(now.length, 4, "every request after the signal is in the new file");
      const moved = await linesOf(`${access}.1`, 1);
      assert.equal(moved.length, 1, "the moved file keeps only the line from before");
      assert.match(moved[0] ?? "", /"GET \/before /);
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
      assert.doesNotMatch(
        server.stderr,
        /Debugger listening/,
        "SIGUSR1 must not start the inspector",
      );
    });
  }
});
