/**
 * Bytes and text without Node: latin-1 and UTF-8 conversions, concatenation and
 * allocation that use Node's `Buffer` where the runtime has one (so Node code gets the
 * `Buffer`s it always got) and plain `Uint8Array`s elsewhere, such as workerd without
 * `nodejs_compat`. The modules behind `wsgiref/fetch` use these instead of `Buffer`.
 *
 * @module
 */

/** Node's `Buffer`, where the runtime has it. */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder();

/**
 * `text` as latin-1 bytes, one byte per char (a char above U+00FF keeps its low byte,
 * as `Buffer.from(text, "latin1")` does).
 */
export function latin1Bytes(text: string): Uint8Array {
  if (NodeBuffer !== undefined) return NodeBuffer.from(text, "latin1");
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** `bytes` as latin-1 text, one char per byte. */
export function latin1Text(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) {
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  }
  let out = "";
  for (let at = 0; at < bytes.length; at += 0x2000) {
    out += String.fromCharCode(...bytes.subarray(at, at + 0x2000));
  }
  return out;
}

/** `text` as UTF-8 bytes (a lone surrogate becomes U+FFFD). */
export function utf8Bytes(text: string): Uint8Array {
  return NodeBuffer !== undefined ? NodeBuffer.from(text, "utf8") : UTF8_ENCODER.encode(text);
}

/** `bytes` decoded as UTF-8, each invalid sequence becoming U+FFFD. */
export function utf8Text(bytes: Uint8Array): string {
  return UTF8_DECODER.decode(bytes);
}

/** The pieces joined into one new array. */
export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  if (NodeBuffer !== undefined) return NodeBuffer.concat(pieces);
  let size = 0;
  for (const piece of pieces) size += piece.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** `size` bytes to be overwritten at once (not zeroed where the runtime can skip that). */
export function allocBytes(size: number): Uint8Array {
  return NodeBuffer !== undefined ? NodeBuffer.allocUnsafe(size) : new Uint8Array(size);
}

/** `size` zero bytes. */
export function zeroBytes(size: number): Uint8Array {
  return NodeBuffer !== undefined ? NodeBuffer.alloc(size) : new Uint8Array(size);
}
