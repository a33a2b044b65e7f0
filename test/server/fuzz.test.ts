/**
 * Fuzzing, bounded for `npm test` (`npm run fuzz` runs the same properties far longer,
 * `FUZZ_RUNS` runs each, `FUZZ_SEED` replays a failure):
 * hostile bytes in random pieces over a real socket, and the parser compared with an
 * independent reading of RFC 9112.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ServerConnection } from "../../src/http/connection.ts";
import { ProtocolError } from "../../src/http/errors.ts";
import {
  echoApp,
  FUZZ_BODY_LIMIT,
  parserStaysInsideTheGrammar,
  serverAnswersAnyBytes,
} from "../fuzz/properties.ts";
import { isStrictTarget, recognise } from "../fuzz/rfc9112.ts";
import { fuzzRuns } from "../fuzz/runs.ts";
import { fdCount, waitFor, withServer } from "../helpers/servers.ts";
import { exchange } from "../helpers/wire.ts";
import { CORPUS } from "../http/corpus.ts";

describe("the RFC 9112 reference recogniser", () => {
  it("accepts well-formed heads and gives their parts", () => {
    assert.deepEqual(
      recognise("\r\nGET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-E:\r\nX-Ws: \t a  b \t\r\n\r\n"),
      {
        method: "GET",
        target: "/a?b=c",
        version: "HTTP/1.1",
        headers: ["Host", "example.com", "X-E", "", "X-Ws", "a  b"],
      },
    );
    assert.ok(recognise("OPTIONS * HTTP/1.0\r\n\r\n"));
    assert.ok(recognise("GET http://u@example.com:80/p?q HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert.ok(recognise("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"));
    assert.ok(recognise("GET / HTTP/1.1\r\nX: caf\xe9\r\n\r\n"), "obs-text in a value");
  });

  it("rejects what the grammar does not allow", () => {
    for (const head of [
      "GET / HTTP/1.1\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\n\r\n",
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
      "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET / http/1.1\r\n\r\n",
      "GET / HTTP/1.10\r\n\r\n",
      "GET /a#b HTTP/1.1\r\n\r\n",
      "GET /a b HTTP/1.1\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
      "GET / HTTP/1.1\r\n: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n",
    ]) {
      assert.equal(recognise(head), null, JSON.stringify(head));
    }
  });

  it("reads targets strictly unless told about the parser's documented leniency", () => {
    assert.equal(isStrictTarget("/a{b}"), false);
    assert.equal(isStrictTarget("/%zz"), false);
    assert.equal(recognise("GET /a{b} HTTP/1.1\r\n\r\n"), null);
    assert.ok(recognise("GET /a{b} HTTP/1.1\r\n\r\n", { lenientTarget: true }));
  });

  it("rejects every head in the corpus that breaks the grammar", () => {
    const grammar = new Set([
      "ERR_INVALID_REQUEST_LINE",
      "ERR_INVALID_METHOD",
      "ERR_INVALID_VERSION",
      "ERR_BARE_CR",
      "ERR_BARE_LF",
      "ERR_OBS_FOLD",
      "ERR_INVALID_HEADER_NAME",
      "ERR_INVALID_HEADER_VALUE",
    ]);
    let checked = 0;
    for (const c of CORPUS) {
      if (!grammar.has(c.code)) continue;
      const end = c.raw.indexOf("\r\n\r\n");
      if (end === -1 || (!c.raw.startsWith("GET") && !c.raw.startsWith("POST"))) continue;
      const conn = new ServerConnection();
      conn.receive(Buffer.from(c.raw, "latin1"));
      // Only heads that fail in the head (not later, in a chunked body) are grammar cases.
      let failedInHead = false;
      try {
        conn.nextEvent();
      } catch (error) {
        failedInHead = error instanceof ProtocolError && conn.request === null;
      }
      if (!failedInHead) continue;
      checked++;
      assert.equal(recognise(c.raw.slice(0, end + 4), { lenientTarget: true }), null, c.name);
    }
    assert.ok(checked >= 15, `only ${checked} corpus heads checked`);
  });
});

describe("fuzz: the parser stays inside the RFC 9112 grammar", () => {
  it("accepts only heads the reference recogniser accepts, with the same parts", () => {
    const runs = fuzzRuns(1000);
    const stats = parserStaysInsideTheGrammar(runs);
    assert.ok(stats.accepted >= runs / 10, `only ${stats.accepted} of ${runs} heads accepted`);
    assert.ok(stats.rejected >= runs / 10, `only ${stats.rejected} of ${runs} heads rejected`);
  });
});

describe("fuzz: a real server socket", () => {
  it("answers any bytes in any pieces as the core predicts, closes, and keeps serving", () =>
    withServer(echoApp, { maxBodySize: FUZZ_BODY_LIMIT }, async ({ port, errorLog, logged }) => {
      // Open the error log (it opens on its first line) before counting descriptors.
      await exchange(port, "BAD\r\n\r\n");
      await logged(/ERR_/);
      const fds = fdCount();
      await serverAnswersAnyBytes(port, fuzzRuns(150), async () => {
        const normal = await exchange(
          port,
          "GET /normal HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        );
        assert.match(normal, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nGET \/normal 0$/);
      });
      assert.ok(
        await waitFor(() => fdCount() <= fds),
        `file descriptors: ${fds} before, ${fdCount()} after`,
      );
      assert.doesNotMatch(
        errorLog(),
        /internal error|error while sending|\n\s+at /,
        "only rejections are logged",
      );
    }));
});
