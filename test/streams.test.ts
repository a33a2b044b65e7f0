import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { BodyInputStream, BufferedErrorStream, iterableSource } from "../src/streams.ts";

const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");

describe("BodyInputStream", () => {
  it("read() with no size returns everything, then empty bytes", async () => {
    const input = BodyInputStream.of("hello\nworld");
    assert.equal(text(await input.read()), "hello\nworld");
    assert.equal((await input.read()).length, 0);
  });

  it("read(n) returns at most n bytes across chunk boundaries", async () => {
    const input = new BodyInputStream(
      iterableSource(Readable.from([Buffer.from("ab"), Buffer.from("cde")])),
    );
    assert.equal(text(await input.read(3)), "abc");
    assert.equal(text(await input.read(3)), "de");
    assert.equal(text(await input.read(3)), "");
  });

  it("never reads past its limit, even when the source has more", async () => {
    const input = new BodyInputStream(
      iterableSource([Buffer.from("12345"), Buffer.from("678")]),
      6,
    );
    assert.equal(text(await input.read()), "123456");
    assert.equal(input.bytesLeft, 0);
  });

  it("read(n) and read() gather many chunks with one copy, keeping the rest", async () => {
    const pieces = Array.from({ length: 10 }, (_, i) => Buffer.from(String(i).repeat(3)));
    const input = new BodyInputStream(iterableSource(pieces));
    assert.equal(text(await input.read(7)), "0001112");
    assert.equal(text(await input.read(4)), "2233");
    assert.equal(text(await input.read()), "3444555666777888999");
  });

  it("read1(n) hands out views of the chunks as they come, never copying", async () => {
    const first = Buffer.from("abcdef");
    const second = Buffer.from("ghij");
    const input = new BodyInputStream(iterableSource([first, second]), 9);
    const a = await input.read1(4);
    assert.equal(text(a), "abcd");
    assert.equal(a.buffer, first.buffer, "a view of the first chunk, not a copy");
    // What is buffered comes first, and a read1 never waits for a second chunk.
    assert.equal(text(await input.read1(100)), "ef");
    const b = await input.read1();
    assert.equal(text(b), "ghi", "cut at the limit of 9 bytes");
    assert.equal(b.buffer, second.buffer);
    assert.equal((await input.read1()).length, 0, "empty at the end");
  });

  it("read1 after readline returns the rest of the buffered chunk first", async () => {
    const input = new BodyInputStream(
      iterableSource([Buffer.from("line\nrest"), Buffer.from("!")]),
    );
    assert.equal(text(await input.readline()), "line\n");
    assert.equal(text(await input.read1()), "rest");
    assert.equal(text(await input.read1(0)), "", "read1(0) reads nothing");
    assert.equal(text(await input.read1(-1)), "!");
    await assert.rejects(input.read1(1.5), /read1\(\) takes an integer size/);
  });

  it("readinto1 copies what is buffered, or else one chunk, and keeps the rest of it", async () => {
    const input = new BodyInputStream(
      iterableSource([Buffer.from("abcdef"), Buffer.from("ghij")]),
      9,
    );
    const target = new Uint8Array(4);
    assert.equal(await input.readinto1(target), 4);
    assert.equal(text(target), "abcd");
    assert.equal(await input.readinto1(target), 2, "the rest of the chunk; no wait for more");
    assert.equal(text(target.subarray(0, 2)), "ef");
    assert.equal(await input.readinto1(target), 3, "cut at the limit of 9 bytes");
    assert.equal(text(target.subarray(0, 3)), "ghi");
    assert.equal(await input.readinto1(target), 0, "0 at the end");
    assert.equal(await input.readinto1(new Uint8Array(0)), 0);
  });

  it("readinto fills the target across chunks; only the last count comes up short", async () => {
    const pieces = Array.from({ length: 5 }, (_, i) => Buffer.from(String(i).repeat(3)));
    const input = new BodyInputStream(iterableSource(pieces));
    const target = Buffer.alloc(4);
    assert.equal(await input.readinto(target), 4);
    assert.equal(text(target), "0001");
    assert.equal(await input.readinto(target), 4);
    assert.equal(text(target), "1122");
    assert.equal(await input.readinto(target), 4);
    assert.equal(await input.readinto(target), 3);
    assert.equal(text(target.subarray(0, 3)), "444");
    assert.equal(await input.readinto(target), 0);
  });

  it("readinto1 lets a source with into() copy straight into the target", async () => {
    const body = Buffer.from("0123456789");
    let at = 0;
    const targets: number[] = [];
    const source = Object.assign(
      () => {
        throw new Error("not called when into() is there");
      },
      {
        into(target: Uint8Array) {
          targets.push(target.length);
          const n = Math.min(3, target.length, body.length - at);
          target.set(body.subarray(at, at + n));
          at += n;
          return Promise.resolve(n);
        },
      },
    );
    const input = new BodyInputStream(source, 8);
    const target = new Uint8Array(5);
    assert.equal(await input.readinto(target), 5);
    assert.equal(text(target), "01234");
    assert.equal(await input.readinto(target), 3, "the limit of 8 bytes");
    assert.equal(text(target.subarray(0, 3)), "567");
    assert.equal(await input.readinto(target), 0);
    assert.deepEqual(targets, [5, 2, 3], "never offers room past the limit");
  });

  it("readinto and readinto1 take a Uint8Array", async () => {
    const input = BodyInputStream.of("abc");
    await assert.rejects(
      input.readinto("xyz" as unknown as Uint8Array),
      /wsgi.input.readinto\(\) takes a Uint8Array to fill, got \[object String\]/,
    );
    await assert.rejects(
      input.readinto1([1, 2] as unknown as Uint8Array),
      /readinto1\(\) takes a Uint8Array to fill, got \[object Array\]/,
    );
  });

  it("keeps what it gathered when the source fails midway", async () => {
    let calls = 0;
    const input = new BodyInputStream(() => {
      calls++;
      if (calls === 2) throw new Error("source failed");
      return calls > 3 ? null : Buffer.from(`c${calls}`);
    });
    await assert.rejects(input.read(10), /source failed/);
    assert.equal(text(await input.read()), "c1c3");
  });

  it("readline() splits on LF and honours size", async () => {
    const input = BodyInputStream.of("one\ntwo\nthree");
    assert.equal(text(await input.readline()), "one\n");
    assert.equal(text(await input.readline(2)), "tw");
    assert.equal(text(await input.readline()), "o\n");
    assert.equal(text(await input.readline()), "three");
    assert.equal(text(await input.readline()), "");
  });

  it("readlines(hint) stops once the total reaches the hint", async () => {
    const input = BodyInputStream.of("a\nbb\nccc\n");
    assert.deepEqual((await input.readlines(3)).map(text), ["a\n", "bb\n"]);
    assert.deepEqual((await input.readlines()).map(text), ["ccc\n"]);
  });

  it("iterates lines with for await", async () => {
    const lines: string[] = [];
    for await (const line of BodyInputStream.of("x\ny\n")) lines.push(text(line));
    assert.deepEqual(lines, ["x\n", "y\n"]);
  });

  it("rejects a size that is not an integer", async () => {
    await assert.rejects(BodyInputStream.of("x").read(1.5), /integer size, got 1.5/);
  });
});

describe("BufferedErrorStream", () => {
  it("keeps what is written and rejects non-strings", () => {
    const errors = new BufferedErrorStream();
    errors.write("a");
    errors.writelines(["b", "c"]);
    errors.flush();
    assert.equal(errors.text, "abc");
    assert.throws(() => errors.write(1 as unknown as string), /takes a string, got number/);
  });
});
