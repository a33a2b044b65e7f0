import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeNative, encodeNative } from "../../src/util/native.ts";

// ---------------------------------------------------------------------------------------
// Native strings
// ---------------------------------------------------------------------------------------

describe("decodeNative and encodeNative", () => {
  const pairs: [native: string, text: string][] = [
    ["/caf\u00c3\u00a9", "/café"],
    ["", ""],
    ["plain ascii", "plain ascii"],
    ["\u00e2\u0082\u00ac", "€"],
    ["\u00f0\u009f\u0098\u0080", "😀"],
    ["\u00ef\u00bb\u00bfbom", "\ufeffbom"],
  ];
  for (const [native, decoded] of pairs) {
    it(`decodeNative(${JSON.stringify(native)}) is ${JSON.stringify(decoded)}`, () => {
      assert.equal(decodeNative(native), decoded);
    });
    it(`encodeNative(${JSON.stringify(decoded)}) is ${JSON.stringify(native)}`, () => {
      assert.equal(encodeNative(decoded), native);
    });
  }

  it("decodeNative throws on bytes that are not UTF-8", () => {
    assert.throws(() => decodeNative("/caf\u00e9"), {
      name: "TypeError",
      message: 'decodeNative(): "/café" is not valid UTF-8',
    });
  });

  it('decodeNative with errors "replace" gives U+FFFD for bad bytes', () => {
    assert.equal(decodeNative("/caf\u00e9", "utf-8", "replace"), "/caf\ufffd");
  });

  it("decodeNative rejects a string that is not native", () => {
    assert.throws(() => decodeNative("/€"), {
      name: "TypeError",
      message: 'decodeNative(): not a native (latin-1) string: "€" at index 1',
    });
  });

  it("latin1 leaves latin-1 text as it is, both ways", () => {
    assert.equal(decodeNative("caf\u00e9", "latin1"), "café");
    assert.equal(encodeNative("café", "latin1"), "caf\u00e9");
  });

  it("encodeNative to latin1 throws on a char above U+00FF, or replaces it with ?", () => {
    assert.throws(() => encodeNative("5€", "latin1"), {
      name: "TypeError",
      message: 'encodeNative(): "€" cannot be encoded as latin-1',
    });
    assert.equal(encodeNative("5€ 😀", "latin1", "replace"), "5? ?");
  });

  it("encodeNative throws on a lone surrogate, or replaces it with U+FFFD", () => {
    assert.throws(() => encodeNative("a\ud800"), /has a lone surrogate/);
    assert.equal(encodeNative("a\ud800", "utf-8", "replace"), "a\u00ef\u00bf\u00bd");
  });

  it("accepts utf8 as another name for utf-8", () => {
    assert.equal(decodeNative("\u00c3\u00a9", "utf8"), "é");
  });

  it("rejects an encoding it does not know", () => {
    assert.throws(() => decodeNative("x", "cp1252" as "utf-8"), RangeError);
    assert.throws(() => encodeNative("x", "ascii" as "utf-8"), RangeError);
  });
});
