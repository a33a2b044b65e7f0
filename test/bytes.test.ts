import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as withBuffer from "../src/bytes.ts";
import { loadWithoutNode } from "./helpers/bare-realm.ts";

const withoutBuffer = await loadWithoutNode<typeof withBuffer>(
  fileURLToPath(new URL("../src/bytes.ts", import.meta.url)),
);

for (const [name, bytes] of [
  ["with Buffer (Node, Bun, Deno)", withBuffer],
  ["without Buffer (a runtime without Node)", withoutBuffer],
] as const) {
  describe(`bytes ${name}`, () => {
    it("latin1Bytes takes one byte per char and latin1Text gives it back", () => {
      const text = "caf\u00e9\u00ff\0";
      assert.deepEqual([...bytes.latin1Bytes(text)], [0x63, 0x61, 0x66, 0xe9, 0xff, 0]);
      assert.equal(bytes.latin1Text(bytes.latin1Bytes(text)), text);
    });

    it("latin1Text reads a view at its offset, and long inputs whole", () => {
      const backing = new Uint8Array([0x41, 0x42, 0x43, 0x44]);
      assert.equal(bytes.latin1Text(backing.subarray(1, 3)), "BC");
      const long = new Uint8Array(100_000).fill(0x7a);
      assert.equal(bytes.latin1Text(long), "z".repeat(100_000));
    });

    it("utf8Bytes and utf8Text encode and decode, a lone surrogate or bad byte as U+FFFD", () => {
      assert.deepEqual([...bytes.utf8Bytes("\u00e9")], [0xc3, 0xa9]);
      assert.deepEqual([...bytes.utf8Bytes("\ud800")], [0xef, 0xbf, 0xbd]);
      assert.equal(bytes.utf8Text(new Uint8Array([0xc3, 0xa9, 0xff])), "\u00e9\ufffd");
    });

    it("concatBytes joins the pieces in order", () => {
      const joined = bytes.concatBytes([
        new Uint8Array([1]),
        new Uint8Array([]),
        new Uint8Array([2, 3]),
      ]);
      assert.deepEqual([...joined], [1, 2, 3]);
    });

    it("allocBytes and zeroBytes give arrays of the size asked, zeroBytes zeroed", () => {
      assert.equal(bytes.allocBytes(7).length, 7);
      assert.deepEqual([...bytes.zeroBytes(3)], [0, 0, 0]);
    });
  });
}

describe("bytes", () => {
  it("gives Buffers where the runtime has Buffer, plain Uint8Arrays elsewhere", () => {
    assert.ok(Buffer.isBuffer(withBuffer.latin1Bytes("a")));
    assert.ok(!Buffer.isBuffer(withoutBuffer.latin1Bytes("a")));
    assert.ok(!Buffer.isBuffer(withoutBuffer.concatBytes([new Uint8Array(1)])));
  });
});
