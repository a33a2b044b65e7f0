/**
 * The hostile request corpus (test/http/corpus.ts) over real sockets: every case sent to
 * `serve()` gets its status line and `Connection: close`, the server closes the socket, and
 * the error log names the code and the peer. The app reads the whole body, so errors in
 * the body's framing are found too.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { WSGIApplication } from "../../src/types.ts";
import { withServer } from "../helpers/servers.ts";
import { open } from "../helpers/wire.ts";
import { CORPUS, CORPUS_LIMITS } from "../http/corpus.ts";

/** Reads the whole body, then answers 200 with its length. */
const app: WSGIApplication = async (environ, startResponse) => {
  const body = await environ["wsgi.input"].read();
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from(`read ${body.length}`)];
};

/** The corpus's limits as server options. */
const options = { maxBodySize: CORPUS_LIMITS.maxBodySize ?? Number.POSITIVE_INFINITY };

describe("server: the hostile corpus over real sockets", () => {
  for (const c of CORPUS) {
    it(`${c.name}: ${c.status} ${c.code}, Connection: close, logged with the peer`, () =>
      withServer(app, options, async ({ port, logged }) => {
        const conn = await open(port);
        conn.send(c.raw);
        if (c.halfClose) conn.socket.end();
        const reply = await conn.until(() => false, 3000);
        assert.equal(conn.closed, true, `${c.name}: the server closes the connection`);
        assert.match(
          reply,
          new RegExp(`^HTTP/1\\.1 ${c.status} `),
          `${c.name}: ${reply.slice(0, 80)}`,
        );
        assert.match(reply, /\r\nConnection: close\r\n/);
        assert.ok(reply.endsWith(`${c.code}\n`), `${c.name}: body names the code`);
        assert.equal(reply.match(/^HTTP\/1\.1 /gm)?.length, 1, "one response, nothing else");
        const log = await logged(new RegExp(`${c.code} ${c.status} from 127\\.0\\.0\\.1`));
        assert.match(log, new RegExp(`${c.code} ${c.status} from 127\\.0\\.0\\.1`));
      }));
  }
});
