/**
 * The bytes a connection received and has not consumed yet, kept so that views handed out
 * (body events are `subarray`s) never see their bytes change.
 *
 * When everything was consumed, a new chunk is adopted as is: no copy, the common case. When
 * unconsumed bytes remain (a head or chunk line split across reads, pipelined requests), the
 * new chunk is appended: into spare room of a buffer we allocated ourselves, past every view
 * handed out, or else into a fresh allocation. Bytes are never moved inside a buffer.
 *
 * @module
 */

const EMPTY = Buffer.alloc(0);

/** Received bytes: `bytes` holds exactly the valid bytes, `bytes[pos..]` are not consumed yet. */
export class ReceiveBuffer {
  /** The valid bytes; a view of `store`. */
  bytes: Buffer = EMPTY;
  /** Where the unconsumed bytes start. */
  pos = 0;
  /** Our allocation (when `owned`), with room after `bytes`. */
  private store: Buffer = EMPTY;
  private owned = false;

  /** How many bytes are not consumed yet. */
  get pending(): number {
    return this.bytes.length - this.pos;
  }

  /** Appends a received chunk; it is kept by reference when nothing else is pending. */
  append(data: Uint8Array): void {
    const chunk = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.length);
    const pending = this.bytes.length - this.pos;
    if (pending === 0) {
      this.store = chunk;
      this.bytes = chunk;
      this.pos = 0;
      this.owned = false;
      return;
    }
    const used = this.bytes.length;
    if (this.owned && this.store.length - used >= chunk.length) {
      this.store.set(chunk, used);
      this.bytes = this.store.subarray(0, used + chunk.length);
      return;
    }
    const total = pending + chunk.length;
    // Room to grow for a head arriving in small pieces; exact size for a big read.
    const store = Buffer.allocUnsafe(total <= 16384 ? 32768 : total);
    this.bytes.copy(store, 0, this.pos);
    store.set(chunk, pending);
    this.store = store;
    this.bytes = store.subarray(0, total);
    this.pos = 0;
    this.owned = true;
  }

  /** Drops the references once everything was consumed, so an idle connection holds no memory. */
  releaseIfConsumed(): void {
    if (this.pos === this.bytes.length) {
      this.store = EMPTY;
      this.bytes = EMPTY;
      this.pos = 0;
      this.owned = false;
    }
  }
}
