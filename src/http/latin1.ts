/**
 * Latin-1 text to bytes and back with Node's native `Buffer#latin1Slice` and
 * `Buffer#latin1Write`: one char per byte, without `toString`/`write`'s argument parsing.
 * The HTTP core and the server both speak latin-1 on the wire, through these.
 *
 * @module
 */

/** The undocumented native methods behind `toString("latin1")` and `write(s, "latin1")`. */
type Latin1Buffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  latin1Write(text: string, offset: number, length: number): number;
};

/** Decodes `bytes[start, end)` (all of it by default) as latin-1 with one native call. */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return (buffer as Latin1Buffer).latin1Slice(start, end);
}

/** Copies latin-1 `text` into `out` at `offset`; returns the bytes written (`text.length`). */
export function writeLatin1(out: Buffer, text: string, offset: number): number {
  return (out as Latin1Buffer).latin1Write(text, offset, text.length);
}
