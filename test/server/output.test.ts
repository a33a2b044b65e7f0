import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import { Output } from "../../src/server/output.ts";

/** Records each `write` call (with whether the socket was corked) as latin-1 text. */
class RecordingSocket extends EventEmitter {
  writes: Array<{ text: string; corked: boolean; string: boolean }> = [];
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  private corks = 0;
  write(data: Uint8Array | string, encoding?: BufferEncoding): boolean {
    const string = typeof data === "string";
    if (string) assert.equal(encoding, "latin1", "strings are written as latin-1");
    const text = string ? data : Buffer.from(data).toString("latin1");
    this.writes.push({ text, corked: this.corks > 0, string });
    return true;
  }
  cork(): void {
    this.corks++;
  }
  uncork(): void {
    this.corks--;
  }
}

function output(): [Output, RecordingSocket] {
  const socket = new RecordingSocket();
  return [new Output(socket as unknown as Socket), socket];
}

const HEAD = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";

describe("Output: how response bytes reach the socket", () => {
  it("sends a head and a small body as one write, bytes unchanged", () => {
    const [out, socket] = output();
    const body = Uint8Array.from([0x68, 0xe9, 0x00, 0xff, 0x0a]);
    out.write(HEAD, true);
    out.write(body, true);
    assert.equal(socket.writes.length, 0, "nothing before flush while more is coming");
    out.flush();
    assert.equal(socket.writes.length, 1);
    assert.equal(socket.writes[0]?.text, `${HEAD}h\u00e9\u0000\u00ff\n`);
  });

  it("copies pieces up to 16 KiB into one buffer, and corks larger batches into one writev", () => {
    const [out, socket] = output();
    const piece = Buffer.alloc(4096, "a");
    out.write(HEAD, true);
    for (let i = 0; i < 3; i++) out.write(piece, true);
    out.flush();
    assert.equal(socket.writes.length, 1);
    assert.equal(socket.writes[0]?.string, false);
    assert.equal(socket.writes[0]?.text.length, HEAD.length + 3 * 4096);

    const big = Buffer.alloc(64 * 1024, "b");
    out.write(big, true);
    out.write(big, true);
    out.flush();
    assert.deepEqual(
      socket.writes.slice(1).map((w) => [w.text.length, w.corked]),
      [
        [65536, true],
        [65536, true],
      ],
    );
  });

  it("flushes by itself past 1 MiB, and at the end of the turn when nothing more follows", async () => {
    const [out, socket] = output();
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 16; i++) out.write(chunk, true);
    assert.equal(socket.writes.length, 16, "1 MiB queued: sent at once");
    out.write(chunk, false);
    assert.equal(socket.writes.length, 16);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(socket.writes.length, 17, "sent within the turn");
  });

  it("makes the writer wait while more than 1 MiB waits in the socket, until drain", async () => {
    const [out, socket] = output();
    socket.writableLength = 2 * 1024 * 1024;
    const waiting = out.write(Buffer.alloc(10), false);
    assert.ok(waiting instanceof Promise);
    let resolved = false;
    void waiting.then(() => {
      resolved = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(resolved, false);
    socket.emit("drain");
    await waiting;
    assert.equal(resolved, true);
  });

  it("rejects the writers still waiting when the connection fails", async () => {
    const [out, socket] = output();
    socket.writableLength = 2 * 1024 * 1024;
    const waiting = out.write(Buffer.alloc(10), true);
    out.fail(new Error("the client closed the connection"));
    await assert.rejects(waiting as Promise<void>, /client closed/);
  });
});
