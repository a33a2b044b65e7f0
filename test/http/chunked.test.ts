import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChunkedDecoder, DATA, END, NEED } from "../../src/http/chunked.ts";
import { resolveLimits } from "../../src/http/limits.ts";
import { bytes, text } from "./helpers.ts";

/** Decodes a whole chunked body, returning the data pieces and the trailers. */
function decodeAll(
  raw: Buffer,
  decoder = new ChunkedDecoder(),
): { data: string[]; trailers: string[]; pos: number } {
  const data: string[] = [];
  let pos = 0;
  for (;;) {
    const result = decoder.decode(raw, pos);
    pos = decoder.pos;
    if (result === DATA) data.push(text(decoder.data));
    else if (result === END) return { data, trailers: decoder.trailers, pos };
    else throw new Error("incomplete body");
  }
}

describe("ChunkedDecoder (RFC 9112 §7.1)", () => {
  it("decodes chunks and stops after the last chunk", () => {
    const raw = bytes("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT");
    const { data, trailers, pos } = decodeAll(raw);
    assert.deepEqual(data, ["hello", " world"]);
    assert.deepEqual(trailers, []);
    assert.equal(text(raw.subarray(pos)), "NEXT");
  });

  it("accepts upper-case hex and leading zeros", () => {
    assert.deepEqual(decodeAll(bytes("00A\r\n0123456789\r\n000\r\n\r\n")).data, ["0123456789"]);
  });

  it("ignores well-formed chunk extensions", () => {
    assert.deepEqual(decodeAll(bytes('5;a=1;b="x y"\r\nhello\r\n0;last\r\n\r\n')).data, ["hello"]);
  });

  it("returns the trailer fields", () => {
    assert.deepEqual(
      decodeAll(bytes("1\r\na\r\n0\r\nX-Checksum: abc\r\nX-Other:  1 \r\n\r\n")).trailers,
      ["X-Checksum", "abc", "X-Other", "1"],
    );
  });

  it("hands out chunk data as views of the input, without copying", () => {
    const raw = bytes("5\r\nhello\r\n0\r\n\r\n");
    const decoder = new ChunkedDecoder();
    assert.equal(decoder.decode(raw, 0), DATA);
    assert.equal(decoder.data.buffer, raw.buffer);
    assert.equal(decoder.data.byteOffset, raw.byteOffset + 3);
  });

  it("returns partial chunk data as it arrives", () => {
    const decoder = new ChunkedDecoder();
    assert.equal(decoder.decode(bytes("a\r\nhel"), 0), DATA);
    assert.equal(text(decoder.data), "hel");
    assert.equal(decoder.decode(bytes("lo wo"), 0), DATA);
    assert.equal(text(decoder.data), "lo wo");
  });

  it("hands out at most maxData bytes of a chunk at a time", () => {
    const raw = bytes("a\r\n0123456789\r\n0\r\n\r\n");
    const decoder = new ChunkedDecoder();
    const pieces: string[] = [];
    let pos = 0;
    for (let result = decoder.decode(raw, pos, 4); result === DATA; ) {
      pieces.push(text(decoder.data));
      pos = decoder.pos;
      result = decoder.decode(raw, pos, 4);
    }
    assert.deepEqual(pieces, ["0123", "4567", "89"]);
    assert.ok(decoder.done);
  });

  it("needs more data for a chunk line without its LF", () => {
    const decoder = new ChunkedDecoder();
    assert.equal(decoder.decode(bytes("5;ext"), 0), NEED);
    assert.equal(decoder.pos, 0);
  });

  it("decodes a body arriving one byte at a time", () => {
    const raw = bytes("3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n");
    const decoder = new ChunkedDecoder();
    let data = "";
    let buf = Buffer.alloc(0);
    let done = false;
    for (let i = 0; i < raw.length && !done; i++) {
      buf = Buffer.concat([buf, raw.subarray(i, i + 1)]);
      for (;;) {
        const result = decoder.decode(buf, 0);
        buf = buf.subarray(decoder.pos);
        if (result === DATA) data += text(decoder.data);
        else {
          done = result === END;
          break;
        }
      }
    }
    assert.equal(data, "abc0123456789abcdef");
    assert.deepEqual(decoder.trailers, ["T", "v"]);
  });

  it("counts the announced sizes against maxBodySize before the data arrives", () => {
    const decoder = new ChunkedDecoder(resolveLimits({ maxBodySize: 10 }));
    const raw = bytes("6\r\nabcdef\r\n5\r\n");
    assert.equal(decoder.decode(raw, 0), DATA);
    assert.throws(() => decoder.decode(raw, decoder.pos), {
      code: "ERR_BODY_TOO_LARGE",
      status: 413,
    });
  });

  it("accepts a chunk line of exactly maxChunkLineLength", () => {
    const decoder = new ChunkedDecoder(resolveLimits({ maxChunkLineLength: 8 }));
    assert.equal(decoder.decode(bytes("1;abcdef\r\nx"), 0), DATA);
  });

  it("rejects a chunk line longer than maxChunkLineLength even without its LF", () => {
    const decoder = new ChunkedDecoder(resolveLimits({ maxChunkLineLength: 8 }));
    assert.throws(() => decoder.decode(bytes("1;abcdefgh"), 0), {
      code: "ERR_CHUNK_EXTENSION_TOO_LONG",
    });
  });

  it("rejects chunk sizes above 2^53 - 1", () => {
    assert.throws(() => decodeAll(bytes("20000000000000\r\n")), { code: "ERR_INVALID_CHUNK" });
  });

  it("can be reset for the next body", () => {
    const decoder = new ChunkedDecoder();
    decodeAll(bytes("1\r\na\r\n0\r\nT: 1\r\n\r\n"), decoder);
    decoder.reset();
    assert.equal(decoder.done, false);
    assert.deepEqual(decodeAll(bytes("1\r\nb\r\n0\r\n\r\n"), decoder), {
      data: ["b"],
      trailers: [],
      pos: 11,
    });
  });
});
