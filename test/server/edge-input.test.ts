/**
 * Edge input over real sockets: values a client may send that are valid enough to pass a
 * lenient reading but would break an application, or reach the environ wrong. Each is
 * answered or normalised by the server before the app runs.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromFetchHandler } from "../../src/fetch.ts";
import type { WSGIApplication } from "../../src/types.ts";
import { withServer } from "../helpers/servers.ts";
import { exchange } from "../helpers/wire.ts";

describe("edge input: a Host no URL can hold", () => {
  const hosts = [":80", "x:99999", "[v1.x]", "[1:2:3]", "1.2.3.999"];
  for (const host of hosts) {
    it(`answers Host: ${host} with 400 ERR_INVALID_HOST before a Fetch app runs`, async () => {
      let calls = 0;
      const app = fromFetchHandler((request) => {
        calls++;
        return new Response(request.url);
      });
      await withServer(app, {}, async ({ port, logged }) => {
        const reply = await exchange(port, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
        assert.ok(reply.endsWith("ERR_INVALID_HOST\n"), reply);
        assert.equal(calls, 0, "the app never ran");
        const log = await logged(/ERR_INVALID_HOST 400 from 127\.0\.0\.1/);
        const lines = log.split("\n").filter((line) => line !== "");
        assert.equal(lines.length, 1, `one coded line, no stack: ${log}`);
        assert.ok(lines[0]?.includes(`invalid Host "${host}"`), log);
      });
    });
  }

  it("still serves a Fetch app for an ordinary Host", async () => {
    const app: WSGIApplication = fromFetchHandler((request) => new Response(request.url));
    await withServer(app, {}, async ({ port }) => {
      const reply = await exchange(
        port,
        "GET /x HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n",
      );
      assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(reply.includes("\r\nhttp://example.com:8080/x\r\n"), reply);
    });
  });
});

/** Answers with the environ keys named in the query string, one `KEY=value` line each. */
const echoVars: WSGIApplication = (environ, startResponse) => {
  const lines = String(environ.QUERY_STRING)
    .split("&")
    .map((key) => `${key}=${String(environ[key])}`);
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from(`${lines.join("\n")}\n`)];
};

describe("edge input: an absolute-form target", () => {
  it("gives HTTP_HOST, SERVER_NAME and SERVER_PORT from the target, not from Host", () =>
    withServer(echoVars, {}, async ({ port }) => {
      const reply = await exchange(
        port,
        "GET http://a.example:8080/?HTTP_HOST&SERVER_NAME&SERVER_PORT HTTP/1.1\r\n" +
          "Host: b.example\r\nConnection: close\r\n\r\n",
      );
      assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(
        reply.endsWith(
          "\r\n\r\nHTTP_HOST=a.example:8080\nSERVER_NAME=a.example\nSERVER_PORT=8080\n",
        ),
        reply,
      );
    }));
});

describe("edge input: repeated Cookie lines", () => {
  it("reach the app as one HTTP_COOKIE joined with `; `, as browsers and werkzeug expect", () =>
    withServer(echoVars, {}, async ({ port }) => {
      const reply = await exchange(
        port,
        "GET /?HTTP_COOKIE&HTTP_ACCEPT HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n" +
          "Accept: text/html\r\nAccept: */*\r\nConnection: close\r\n\r\n",
      );
      assert.ok(reply.endsWith("\r\n\r\nHTTP_COOKIE=a=1; b=2\nHTTP_ACCEPT=text/html,*/*\n"), reply);
    }));
});

describe("edge input: the error log escapes control characters", () => {
  it("writes an ESC from a decoded %1b in an app's exception as \\x1b", () => {
    const failing: WSGIApplication = (environ) => {
      throw new Error(`no page at ${environ.PATH_INFO}`);
    };
    return withServer(failing, {}, async ({ port, logged }) => {
      const reply = await exchange(
        port,
        "GET /%1b[2J%1b[31mhello%0d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      );
      assert.match(reply, /^HTTP\/1\.1 500 /);
      const log = await logged(/no page at/);
      assert.ok(log.includes("no page at /\\x1b[2J\\x1b[31mhello\\x0d\n"), log);
      assert.doesNotMatch(log, /[\x1b\r]/, "no raw ESC or CR in the log");
      assert.ok(log.includes("\n    at "), "the stack keeps its lines");
    });
  });
});

describe("edge input: a status outside 100-599", () => {
  /** Answers with the status code named by the path, such as `/600`. */
  const statusApp: WSGIApplication = (environ, startResponse) => {
    startResponse(`${String(environ.PATH_INFO).slice(1)} Odd`, [["Content-Type", "text/plain"]]);
    return [Buffer.from("the app's body")];
  };
  // startResponse refuses them all, so the app can catch it; the client gets the error page.
  for (const code of ["1000", "99", "600", "099"]) {
    it(`answers an app's ${code} status with the 500 error page`, () =>
      withServer(statusApp, {}, async ({ port }) => {
        const reply = await exchange(
          port,
          `GET /${code} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
          { ms: 2000 },
        );
        assert.match(reply, /^HTTP\/1\.1 500 Internal Server Error\r\n/);
        assert.ok(!reply.includes("the app's body"), reply);
      }));
  }
});
