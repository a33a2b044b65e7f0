/**
 * Property tests of the HTTP core with fast-check, bounded to a few hundred runs each
 * (`FUZZ_RUNS` raises them: `npm run fuzz`):
 * hostile bytes in any pieces only ever raise ProtocolError; a valid pipelined stream parses
 * the same however it is split; chunked framing written by the core reads back the same.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ServerConnection } from "../../src/http/connection.ts";
import { ProtocolError } from "../../src/http/errors.ts";
import { fuzzRuns } from "../fuzz/runs.ts";
import { bytes, exchange, text } from "./helpers.ts";

/** Sorted, distinct cut offsets inside a buffer of `length` bytes. */
const cutsFor = (length: number) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 12 })
    .map((a) => a.sort((x, y) => x - y));

/** Byte soup biased towards HTTP fragments, so runs get past the request line. */
const FRAGMENTS = [
  "GET ",
  "POST ",
  "HEAD ",
  "/",
  "/a?b",
  " ",
  "HTTP/1.1",
  "HTTP/1.0",
  "\r\n",
  "\r\n\r\n",
  "\n",
  "\r",
  "Host: a",
  "Content-Length: 5",
  "Content-Length: 0",
  "Transfer-Encoding: chunked",
  "Connection: close",
  "Expect: 100-continue",
  ":",
  "0\r\n",
  "5\r\n",
  "hello",
  ";x=y",
  "\x00",
  "\xff",
  "\t",
  ",",
];
const soup = fc
  .array(
    fc.oneof(
      fc.constantFrom(...FRAGMENTS),
      fc.string({ maxLength: 4 }),
      fc.uint8Array({ maxLength: 4 }).map((b) => text(b)),
    ),
    {
      maxLength: 40,
    },
  )
  .map((parts) => bytes(parts.join("")));

describe("property: hostile input", () => {
  it("raises nothing but ProtocolError, and always settles, for any bytes in any pieces", () => {
    fc.assert(
      fc.property(
        fc
          .oneof(
            soup,
            fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
          )
          .chain((raw) => fc.tuple(fc.constant(raw), cutsFor(raw.length), fc.boolean())),
        ([raw, cuts, halfClose]) => {
          const { error } = exchange(raw, cuts, {}, halfClose);
          return error === null || error instanceof ProtocolError;
        },
      ),
      { numRuns: fuzzRuns(400) },
    );
  });

  // An error inside a line that has no LF yet may only be found when the LF (or a limit)
  // arrives, so a split stream can still be waiting where the whole one already failed;
  // it never fails where the whole one does not, and the events before are the same.
  it("gives the same events whole or in pieces, and fails in pieces only if it fails whole", () => {
    fc.assert(
      fc.property(
        soup.chain((raw) => fc.tuple(fc.constant(raw), cutsFor(raw.length))),
        ([raw, cuts]) => {
          const whole = exchange(raw, []);
          const split = exchange(raw, cuts);
          assert.deepEqual(split.events, whole.events);
          if (split.error !== null) assert.ok(whole.error instanceof ProtocolError);
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });
});

/** A valid request: its bytes, and the method, target and body a parser must find. */
interface Spec {
  raw: string;
  method: string;
  target: string;
  body: string;
  trailers: string[];
}

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,11}$/);
const fieldValue = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);
const path = fc.stringMatching(/^\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]{0,20}(\?[A-Za-z0-9=&%]{0,10})?$/);
const bodyText = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, "x"));

const request: fc.Arbitrary<Spec> = fc
  .record({
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
    target: path,
    fields: fc.array(fc.tuple(token, fieldValue), { maxLength: 5 }),
    framing: fc.constantFrom("none", "length", "chunked"),
    body: bodyText,
    pieces: fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 5 }),
    extension: fc.constantFrom("", ";a", ";a=b", ';q="x y"'),
    trailers: fc.array(fc.tuple(token, fieldValue), { maxLength: 2 }),
  })
  .map(({ method, target, fields, framing, body, pieces, extension, trailers }) => {
    const safe = fields.filter(
      ([n]) => !/^(host|content-length|transfer-encoding|connection|expect|upgrade)$/i.test(n),
    );
    let head = `${method} ${target} HTTP/1.1\r\nHost: example.com\r\n${safe.map(([n, v]) => `${n}: ${v}\r\n`).join("")}`;
    let encoded = "";
    let finalBody = body;
    let finalTrailers: string[] = [];
    if (framing === "length") {
      head += `Content-Length: ${body.length}\r\n`;
      encoded = body;
    } else if (framing === "chunked") {
      head += "Transfer-Encoding: chunked\r\n";
      let rest = body;
      for (const n of [...pieces, rest.length]) {
        const piece = rest.slice(0, n);
        rest = rest.slice(n);
        if (piece.length > 0) encoded += `${piece.length.toString(16)}${extension}\r\n${piece}\r\n`;
      }
      const t = trailers.filter(([n]) => !/^(host|content-length|transfer-encoding)$/i.test(n));
      finalTrailers = t.flat();
      encoded += `0${extension}\r\n${t.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
    } else {
      finalBody = "";
    }
    return {
      raw: `${head}\r\n${encoded}`,
      method,
      target,
      body: finalBody,
      trailers: finalTrailers,
    };
  });

describe("property: valid pipelined streams", () => {
  it("parse to the expected requests, the same whatever the split", () => {
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 4 }).chain((specs) => {
          const raw = bytes(specs.map((s) => s.raw).join(""));
          return fc.tuple(fc.constant(specs), fc.constant(raw), cutsFor(raw.length));
        }),
        ([specs, raw, cuts]) => {
          const whole = exchange(raw, []);
          assert.equal(whole.error, null);
          const expected = specs.flatMap((s) => [
            { method: s.method, target: s.target },
            ...(s.body === "" ? [] : [{ data: s.body }]),
            { end: s.trailers },
            { paused: true },
          ]);
          const seen = whole.events.map((e) =>
            e.type === "request"
              ? { method: e.method, target: e.target }
              : e.type === "data"
                ? { data: e.data }
                : e.type === "end"
                  ? { end: e.trailers }
                  : { paused: true },
          );
          assert.deepEqual(seen, expected);
          assert.deepEqual(exchange(raw, cuts), whole);
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });
});

describe("property: chunked round trip", () => {
  it("reads back what the core's chunked framing wrote", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (pieces) => {
        const writer = new ServerConnection();
        writer.receive(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        writer.nextEvent();
        const head = text(writer.sendResponse(200));
        assert.match(head, /Transfer-Encoding: chunked/);
        const framed = [...pieces.map((p) => writer.sendData(p)), writer.sendEnd()];
        const reader = new ServerConnection();
        reader.receive(bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"));
        for (const f of framed) if (f.length > 0) reader.receive(f);
        const received: Uint8Array[] = [];
        for (let event = reader.nextEvent(); event.type !== "paused"; event = reader.nextEvent()) {
          if (event.type === "data") received.push(event.data);
          assert.notEqual(event.type, "need-data");
        }
        assert.deepEqual(Buffer.concat(received), Buffer.concat(pieces));
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});
