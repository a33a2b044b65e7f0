/**
 * A stand-in for a `net.Socket`, with just what a server `Session` uses: for tests that
 * drive a session without a network, and for `bench/session.ts`.
 */
import { EventEmitter } from "node:events";

/** Records what is written (as latin-1 text, when `record` is on) and whether reading is paused. */
export class FakeSocket extends EventEmitter {
  remoteAddress = "127.0.0.1";
  remotePort = 50000;
  writableLength = 0;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  /** How many bytes were written, in how many calls. */
  bytesWritten = 0;
  writes = 0;
  /** Everything written, as latin-1 text (empty unless `record`). */
  written = "";
  private paused = false;

  /** @param record keep the text written (a benchmark only counts) */
  constructor(private readonly record = true) {
    super();
  }

  setNoDelay(): this {
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  isPaused(): boolean {
    return this.paused;
  }
  write(data: Uint8Array | string): boolean {
    this.bytesWritten += data.length;
    this.writes++;
    if (this.record) {
      this.written += typeof data === "string" ? data : Buffer.from(data).toString("latin1");
    }
    return true;
  }
  cork(): void {}
  uncork(): void {}
  end(data?: Uint8Array | string): this {
    if (data !== undefined) this.write(data);
    this.writableEnded = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    this.emit("close");
    return this;
  }
}
