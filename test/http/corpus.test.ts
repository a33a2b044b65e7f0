import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ServerConnection } from "../../src/http/connection.ts";
import { PROTOCOL_ERRORS, ProtocolError } from "../../src/http/errors.ts";
import { CORPUS, CORPUS_LIMITS } from "./corpus.ts";
import { bytes, exchange, text } from "./helpers.ts";

describe("hostile request corpus", () => {
  it("has at least 60 cases with unique names", () => {
    assert.ok(CORPUS.length >= 60, `only ${CORPUS.length} cases`);
    assert.equal(new Set(CORPUS.map((c) => c.name)).size, CORPUS.length);
  });

  it("states each case's status as the status of its code", () => {
    for (const c of CORPUS) assert.equal(c.status, PROTOCOL_ERRORS[c.code].status, c.name);
  });

  for (const c of CORPUS) {
    it(`${c.name}: ${c.status} ${c.code}`, () => {
      const { error } = exchange(bytes(c.raw), [], { limits: CORPUS_LIMITS }, c.halfClose);
      assert.ok(
        error instanceof ProtocolError,
        `${c.name}: expected ${c.code}, got ${String(error)}`,
      );
      assert.equal(error.code, c.code, `${c.name}: ${error.message}`);
      assert.equal(error.status, c.status);
    });
  }

  it("gives the same code when every case arrives one byte at a time", () => {
    for (const c of CORPUS) {
      const raw = bytes(c.raw);
      const cuts = Array.from({ length: raw.length }, (_, i) => i);
      const { error } = exchange(raw, cuts, { limits: CORPUS_LIMITS }, c.halfClose);
      assert.ok(error instanceof ProtocolError, `${c.name}: got ${String(error)}`);
      assert.equal(error.code, c.code, `${c.name} byte by byte: ${error.message}`);
    }
  });

  it("answers each case with its status, its code in the body, and Connection: close", () => {
    for (const c of CORPUS) {
      const conn = new ServerConnection({ limits: CORPUS_LIMITS });
      conn.receive(bytes(c.raw));
      if (c.halfClose) conn.receive(new Uint8Array(0));
      let error: unknown;
      try {
        for (let i = 0; i < 1000; i++) conn.nextEvent();
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof ProtocolError, c.name);
      const answer = conn.sendErrorResponse(error);
      assert.ok(answer !== null, c.name);
      const reply = text(answer);
      assert.match(reply, new RegExp(`^HTTP/1\\.1 ${c.status} `), c.name);
      assert.match(reply, /\r\nConnection: close\r\n/, c.name);
      assert.ok(reply.endsWith(`${c.code}\n`), c.name);
    }
  });
});
