import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReceiveBuffer } from "../../src/http/receive-buffer.ts";
import { bytes, text } from "./helpers.ts";

describe("ReceiveBuffer", () => {
  it("adopts a chunk without copying when nothing is pending", () => {
    const input = new ReceiveBuffer();
    const chunk = bytes("hello");
    input.append(chunk);
    assert.equal(input.bytes, chunk);
    assert.equal(input.pending, 5);
  });

  it("appends to the unconsumed bytes", () => {
    const input = new ReceiveBuffer();
    input.append(bytes("GET / HT"));
    input.pos = 4;
    input.append(bytes("TP/1.1"));
    assert.equal(text(input.bytes.subarray(input.pos)), "/ HTTP/1.1");
  });

  it("never changes bytes behind a view handed out earlier", () => {
    const input = new ReceiveBuffer();
    input.append(bytes("ab"));
    input.pos = 1;
    input.append(bytes("cd")); // now in our own allocation
    const view = input.bytes.subarray(0, 2);
    input.pos = 2;
    input.append(bytes("efgh")); // written after the view, in spare room
    input.append(new Uint8Array(3000).fill(0x78)); // may move to a new allocation
    assert.equal(text(view), "bc");
  });

  it("accepts a plain Uint8Array view", () => {
    const input = new ReceiveBuffer();
    const backing = new Uint8Array([0, 0x61, 0x62, 0]);
    input.append(backing.subarray(1, 3));
    assert.equal(text(input.bytes), "ab");
  });

  it("drops its references once everything was consumed", () => {
    const input = new ReceiveBuffer();
    input.append(bytes("abc"));
    input.pos = 3;
    input.releaseIfConsumed();
    assert.equal(input.bytes.length, 0);
    assert.equal(input.pos, 0);
  });
});
