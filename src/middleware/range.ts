/**
 * The `Range` request header (RFC 9110 §14.2), for byte ranges of one known size.
 *
 * @module
 */

/**
 * What to send for a `Range` header: the whole representation (no header, another unit,
 * a header that does not parse, or several ranges), one byte range (`start` to `end`,
 * both inclusive), or `416 Range Not Satisfiable`.
 */
export type RangeRequest =
  | { readonly kind: "whole" }
  | { readonly kind: "partial"; readonly start: number; readonly end: number }
  | { readonly kind: "unsatisfiable" };

const WHOLE: RangeRequest = { kind: "whole" };
const UNSATISFIABLE: RangeRequest = { kind: "unsatisfiable" };

/** `first-[last]` or `-suffix`, digits only (RFC 9110 §14.1.2). */
const RANGE_SPEC = /^(?:([0-9]+)-([0-9]*)|-([0-9]+))$/;

/**
 * Decides what to send for a `Range` header against a representation of `size` bytes.
 *
 * - `bytes=500-999` is bytes 500 to 999; `last` past the end is cut to the end.
 * - `bytes=500-` is from byte 500 to the end; `bytes=-500` the last 500 bytes (or all of
 *   them when there are fewer).
 * - A first byte at or past the end, or `-0`, is unsatisfiable (so is any range of an
 *   empty file).
 * - Several ranges are answered with the whole representation, which RFC 9110 allows (a
 *   server may ignore `Range`); it spares a `multipart/byteranges` body and the
 *   many-small-ranges denial of service.
 * - Another unit, or a header that does not parse (`last` before `first`, signs, spaces
 *   inside a range), is ignored: the whole representation.
 *
 * @example parseRange("bytes=-500", 10_000) // { kind: "partial", start: 9500, end: 9999 }
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return WHOLE;
  const eq = header.indexOf("=");
  if (eq < 0 || header.slice(0, eq).toLowerCase() !== "bytes") return WHOLE;
  const specs = header
    .slice(eq + 1)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (specs.length !== 1) return WHOLE;
  const match = RANGE_SPEC.exec(specs[0] as string);
  if (!match) return WHOLE;
  const [, first, last, suffix] = match;
  if (suffix !== undefined) {
    const length = Number(suffix);
    if (length === 0 || size === 0) return UNSATISFIABLE;
    return { kind: "partial", start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" || last === undefined ? Number.POSITIVE_INFINITY : Number(last);
  if (end < start) return WHOLE;
  if (start >= size) return UNSATISFIABLE;
  return { kind: "partial", start, end: Math.min(end, size - 1) };
}
