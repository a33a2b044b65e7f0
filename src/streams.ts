/**
 * Concrete `wsgi.input` and `wsgi.errors` streams that every gateway shares.
 *
 * `BodyInputStream` turns any source of byte chunks (a buffer, a Node `Readable`, the
 * production server's body reader) into PEP 3333's file-like `read`/`readline`/`readlines`,
 * never reading past the limit it is given. `TextErrorStream` writes text to a sink.
 *
 * @module
 */
import { allocBytes, concatBytes, latin1Bytes } from "./bytes.ts";
import type { ErrorStream, InputStream } from "./types.ts";

const EMPTY = new Uint8Array(0);
const LF = 0x0a;

/**
 * Where a `BodyInputStream` pulls its bytes from: `null` means the body ended. An
 * optional `release()` is called once the stream's limit is reached, so the source can
 * stop reading (a `Readable` is destroyed). An optional `into(target)` copies the next
 * piece (at most `target.length` bytes, at least 1) into `target` and returns the count,
 * 0 at the end: `readinto` then never allocates.
 */
export type ChunkSource = (() => Promise<Uint8Array | null> | Uint8Array | null) & {
  release?(): void;
  into?(target: Uint8Array): Promise<number> | number;
};

/** Turns an async iterable of chunks (a Node `Readable`, say) into a `ChunkSource`. */
export function iterableSource(
  iterable: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>,
): ChunkSource {
  let iterator: AsyncIterator<Uint8Array | string> | Iterator<Uint8Array> | undefined;
  const source: ChunkSource = async () => {
    iterator ??=
      Symbol.asyncIterator in iterable
        ? iterable[Symbol.asyncIterator]()
        : (iterable as Iterable<Uint8Array>)[Symbol.iterator]();
    const step = await iterator.next();
    if (step.done) return null;
    const value = step.value;
    return typeof value === "string" ? latin1Bytes(value) : value;
  };
  source.release = () => {
    void iterator?.return?.();
  };
  return source;
}

/**
 * A `wsgi.input` over a source of chunks, with an optional byte limit (the request's
 * `Content-Length`): it never asks the source for more once the limit is reached.
 */
export class BodyInputStream implements InputStream {
  private readonly source: ChunkSource;
  private remaining: number;
  private buffered: Uint8Array = EMPTY;
  private ended = false;

  /**
   * @param source where the bytes come from
   * @param limit how many bytes the body has at most (`Infinity` when it ends by itself)
   */
  constructor(source: ChunkSource, limit = Number.POSITIVE_INFINITY) {
    this.source = source;
    this.remaining = limit;
    if (limit <= 0) this.ended = true;
  }

  /** A stream over bytes already in memory. */
  static of(data: Uint8Array | string = EMPTY): BodyInputStream {
    const bytes = typeof data === "string" ? latin1Bytes(data) : data;
    let given = false;
    return new BodyInputStream(() => {
      if (given) return null;
      given = true;
      return bytes;
    }, bytes.length);
  }

  /** Bytes this stream may still hand out (buffered plus unread), `Infinity` if unknown. */
  get bytesLeft(): number {
    return this.ended ? this.buffered.length : this.buffered.length + this.remaining;
  }

  /** The next chunk from the source, cut to the limit, or null once the body is over. */
  private async next(): Promise<Uint8Array | null> {
    if (this.ended) return null;
    let chunk = await this.source();
    if (chunk === null) {
      this.ended = true;
      return null;
    }
    if (chunk.length > this.remaining) chunk = chunk.subarray(0, this.remaining);
    this.count(chunk.length);
    return chunk;
  }

  /** Counts `n` bytes taken from the source against the limit; at the limit, releases it. */
  private count(n: number): void {
    this.remaining -= n;
    if (this.remaining <= 0) {
      this.ended = true;
      this.source.release?.();
    }
  }

  /** Pulls one more chunk into the buffer; false once the body is over. */
  private async fill(): Promise<boolean> {
    const chunk = await this.next();
    if (chunk === null) return false;
    this.buffered = this.buffered.length === 0 ? chunk : concat(this.buffered, chunk);
    return true;
  }

  /**
   * Gathers whole chunks until `size` bytes are at hand (or the end), then copies them
   * once: large reads cost one copy, not one per chunk. If the source fails midway, what
   * was gathered stays buffered for the next read.
   */
  private async gather(size: number): Promise<Uint8Array> {
    if (this.buffered.length >= size) return this.take(size);
    const pieces: Uint8Array[] = this.buffered.length > 0 ? [this.buffered] : [];
    let have = this.buffered.length;
    this.buffered = EMPTY;
    try {
      while (have < size) {
        const chunk = await this.next();
        if (chunk === null) break;
        pieces.push(chunk);
        have += chunk.length;
      }
    } catch (error) {
      this.buffered = pieces.length === 1 ? (pieces[0] as Uint8Array) : concatBytes(pieces);
      throw error;
    }
    if (pieces.length <= 1) {
      this.buffered = pieces[0] ?? EMPTY;
      return this.take(Math.min(size, have));
    }
    const n = Math.min(size, have);
    const out = allocBytes(n);
    let at = 0;
    for (const piece of pieces) {
      const used = Math.min(piece.length, n - at);
      out.set(used === piece.length ? piece : piece.subarray(0, used), at);
      at += used;
      if (used < piece.length) {
        this.buffered = piece.subarray(used);
        break;
      }
    }
    return out;
  }

  private take(n: number): Uint8Array {
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  async read(size?: number): Promise<Uint8Array> {
    checkSize(size, "read");
    return this.gather(size === undefined || size < 0 ? Number.POSITIVE_INFINITY : size);
  }

  /**
   * At most `size` bytes with no copy: a view of what is buffered, or else of the next chunk
   * from the source. `read(n)` returns exactly `n` bytes before the end, so it must copy
   * whenever a read spans two chunks; `read1` never does.
   */
  async read1(size?: number): Promise<Uint8Array> {
    checkSize(size, "read1");
    const max = size === undefined || size < 0 ? Number.POSITIVE_INFINITY : size;
    if (max === 0) return EMPTY;
    if (this.buffered.length === 0) {
      const chunk = await this.next();
      if (chunk === null) return EMPTY;
      this.buffered = chunk;
    }
    return this.take(Math.min(max, this.buffered.length));
  }

  /**
   * Copies at most `target.length` bytes into `target`: what is buffered, or else the next
   * piece of the body (Python's `BufferedReader.readinto1`). Resolves to the count, 0 at
   * the end. With a buffer reused from call to call, a body streams without allocations.
   */
  async readinto1(target: Uint8Array): Promise<number> {
    checkTarget(target, "readinto1");
    if (target.length === 0) return 0;
    if (this.buffered.length === 0) {
      if (this.source.into !== undefined) return this.copyNext(target);
      const chunk = await this.next();
      if (chunk === null) return 0;
      this.buffered = chunk;
    }
    const n = Math.min(target.length, this.buffered.length);
    target.set(this.take(n));
    return n;
  }

  /** The next piece of the body, which the source copies straight into `target`; 0 at the end. */
  private async copyNext(target: Uint8Array): Promise<number> {
    if (this.ended) return 0;
    const room = Math.min(target.length, this.remaining);
    const n = await this.source.into!(room === target.length ? target : target.subarray(0, room));
    if (n === 0) this.ended = true;
    else this.count(n);
    return n;
  }

  /**
   * Fills `target`, with fewer bytes only at the end of the body (Python's
   * `BufferedReader.readinto`); resolves to the count.
   */
  async readinto(target: Uint8Array): Promise<number> {
    checkTarget(target, "readinto");
    let filled = 0;
    while (filled < target.length) {
      const n = await this.readinto1(filled === 0 ? target : target.subarray(filled));
      if (n === 0) break;
      filled += n;
    }
    return filled;
  }

  async readline(size?: number): Promise<Uint8Array> {
    checkSize(size, "readline");
    const max = size === undefined || size < 0 ? Number.POSITIVE_INFINITY : size;
    let scanned = 0;
    for (;;) {
      const at = this.buffered.indexOf(LF, scanned);
      if (at !== -1 && at < max) return this.take(at + 1);
      if (this.buffered.length >= max) return this.take(max);
      scanned = this.buffered.length;
      if (!(await this.fill())) return this.take(this.buffered.length);
    }
  }

  async readlines(hint?: number): Promise<Uint8Array[]> {
    checkSize(hint, "readlines");
    const lines: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (hint !== undefined && hint > 0 && total >= hint) return lines;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}

function checkSize(size: number | undefined, method: string): void {
  if (size !== undefined && (typeof size !== "number" || !Number.isInteger(size))) {
    throw new TypeError(`wsgi.input.${method}() takes an integer size, got ${String(size)}`);
  }
}

function checkTarget(target: Uint8Array, method: string): void {
  if (!(target instanceof Uint8Array)) {
    throw new TypeError(
      `wsgi.input.${method}() takes a Uint8Array to fill, got ${Object.prototype.toString.call(target)}`,
    );
  }
}

/** Joins two byte arrays into a new one. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Something text can be written to: a Node `Writable`, `process.stderr`, or a function. */
export type TextSink = { write(s: string): unknown } | ((s: string) => void);

/**
 * `process.stderr` where the runtime has one; elsewhere (workerd without `nodejs_compat`)
 * `console.error`, which takes whole lines.
 */
function defaultSink(): TextSink {
  const stderr = (globalThis as { process?: { stderr?: TextSink } }).process?.stderr;
  if (stderr !== undefined) return stderr;
  return (s) => console.error(s.endsWith("\n") ? s.slice(0, -1) : s);
}

/** A `wsgi.errors` stream that writes text to a sink (by default `process.stderr`). */
export class TextErrorStream implements ErrorStream {
  private readonly sink: (s: string) => void;

  constructor(sink: TextSink = defaultSink()) {
    this.sink = typeof sink === "function" ? sink : (s) => void sink.write(s);
  }

  write(s: string): void {
    if (typeof s !== "string") {
      throw new TypeError(`wsgi.errors.write() takes a string, got ${typeof s}`);
    }
    this.sink(s);
  }

  writelines(lines: Iterable<string>): void {
    for (const line of lines) this.write(line);
  }

  flush(): void {}
}

/** A `wsgi.errors` stream that keeps what is written, for tests and in-process calls. */
export class BufferedErrorStream extends TextErrorStream {
  /** Everything written so far. */
  text = "";

  constructor() {
    super((s) => {
      this.text += s;
    });
  }
}
