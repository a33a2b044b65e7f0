/**
 * Field lines (RFC 9112 §5) and the values of the fields that decide framing and
 * connection handling: Content-Length, Transfer-Encoding, Connection, Expect.
 *
 * `scanFieldLine` validates one `field-line CRLF` in place in the received bytes; it is
 * shared by the header section and the trailer section of a chunked body.
 *
 * @module
 */
import { escapeBytes, ProtocolError } from "./errors.ts";
import {
  COLON,
  CR,
  DIGIT,
  FIELD_VALUE_BYTE,
  HTAB,
  isToken,
  LF,
  SP,
  skipClass,
  TCHAR,
} from "./grammar.ts";

/** Slot of `scanFieldLine`'s output: index of the colon (the end of the name). */
export const NAME_END = 0;
/** Slot of `scanFieldLine`'s output: index of the first byte of the value. */
export const VALUE_START = 1;
/** Slot of `scanFieldLine`'s output: index just after the value, trailing OWS removed. */
export const VALUE_END = 2;
/** Slot of `scanFieldLine`'s output: 1 when the name contains `_`. */
export const UNDERSCORE = 3;

/** `tchar` (RFC 9110 §5.6.2) for field names, with bit 2 set for `_` (see `environKey`). */
const NAME_BYTE = (() => {
  const table = TCHAR.slice();
  table[0x5f] = 3;
  return table;
})();

/** A received line for an error message: from `start`, escaped, truncated. */
export function excerpt(buf: Uint8Array, start: number, end: number, max = 64): string {
  return escapeBytes(buf.subarray(start, Math.min(end, start + max + 1)), max);
}

/**
 * Scans one `field-line CRLF` starting at `buf[start]` (RFC 9112 §5):
 * `field-line = field-name ":" OWS field-value OWS`. The caller has already checked that
 * the line is not the empty line that ends the section.
 *
 * @param out receives the positions of the name end, value start, value end (trimmed), and
 *   whether the name contains `_` (see the slot constants)
 * @returns the index just after the line's LF, or -1 when the line is not complete yet
 * @throws ProtocolError ERR_OBS_FOLD, ERR_INVALID_HEADER_NAME, ERR_INVALID_HEADER_VALUE,
 *   ERR_BARE_CR or ERR_BARE_LF
 */
export function scanFieldLine(
  buf: Uint8Array,
  start: number,
  end: number,
  out: Int32Array,
): number {
  // Tables in locals: a loop reading an imported binding pays for it on every byte.
  const nameByte = NAME_BYTE;
  const valueByte = FIELD_VALUE_BYTE;
  let i = start;
  let flags = 0;
  while (i < end) {
    const t = nameByte[buf[i]!]!;
    if (t === 0) break;
    flags |= t;
    i++;
  }
  if (i === end) return -1;
  if (buf[i] !== COLON || i === start) throw nameError(buf, start, i, end);
  out[NAME_END] = i;
  i++;
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  const valueStart = i;
  i = skipClass(valueByte, buf, i, end);
  if (i === end) return -1;
  const b = buf[i]!;
  if (b !== CR) {
    if (b === LF) throw bareLf(buf, start, end);
    throw new ProtocolError(
      "ERR_INVALID_HEADER_VALUE",
      `byte 0x${b.toString(16).padStart(2, "0")} not allowed in the value of field "${excerpt(buf, start, out[NAME_END]!)}"`,
    );
  }
  if (i + 1 === end) return -1;
  if (buf[i + 1] !== LF) throw bareCr(buf, start, end);
  let valueEnd = i;
  while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) {
    valueEnd--;
  }
  out[VALUE_START] = valueStart;
  out[VALUE_END] = valueEnd;
  out[UNDERSCORE] = flags >> 1;
  return i + 2;
}

/** The error for a field line whose name stops at `buf[i]` without a valid colon. */
function nameError(buf: Uint8Array, start: number, i: number, end: number): ProtocolError {
  const b = buf[i]!;
  if (i === start && (b === SP || b === HTAB)) {
    // RFC 9112 §5.2: obs-fold; RFC 9112 §2.2: whitespace before the first field line.
    return new ProtocolError(
      "ERR_OBS_FOLD",
      `field line starts with whitespace (obsolete line folding): "${excerpt(buf, start, end)}"`,
    );
  }
  if (b === LF) return bareLf(buf, start, end);
  if (b === CR && i + 1 < end && buf[i + 1] !== LF) return bareCr(buf, start, end);
  let why: string;
  if (b === COLON) why = "empty field name";
  else if (b === SP || b === HTAB) why = "whitespace between field name and colon (RFC 9112 §5.1)";
  else if (b === CR) why = "field line without a colon";
  else why = `byte 0x${b.toString(16).padStart(2, "0")} not allowed in a field name`;
  return new ProtocolError("ERR_INVALID_HEADER_NAME", `${why}: "${excerpt(buf, start, end)}"`);
}

/** ERR_BARE_CR for the line at `start`. */
export function bareCr(buf: Uint8Array, start: number, end: number): ProtocolError {
  return new ProtocolError(
    "ERR_BARE_CR",
    `CR not followed by LF in line "${excerpt(buf, start, end)}"`,
  );
}

/** ERR_BARE_LF for the line at `start`. */
export function bareLf(buf: Uint8Array, start: number, end: number): ProtocolError {
  return new ProtocolError(
    "ERR_BARE_LF",
    `line ended by LF without CR: "${excerpt(buf, start, end)}"`,
  );
}

/** Largest Content-Length we represent exactly: 2^53 - 1 (15 digits always fit). */
const MAX_LENGTH = Number.MAX_SAFE_INTEGER;

/**
 * Parses a Content-Length value in place (RFC 9110 §8.6): `Content-Length = 1*DIGIT`.
 * A comma list, even of identical values (`5, 5`), is rejected: RFC 9110 §8.6 allows either
 * rejecting or collapsing it, and rejecting leaves no room for two parsers to disagree.
 *
 * @returns the length
 * @throws ProtocolError ERR_INVALID_CONTENT_LENGTH or ERR_DUPLICATE_CONTENT_LENGTH
 */
export function parseContentLength(buf: Uint8Array, start: number, end: number): number {
  if (start === end) {
    throw new ProtocolError("ERR_INVALID_CONTENT_LENGTH", "empty Content-Length");
  }
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (DIGIT[b] !== 1) {
      const value = excerpt(buf, start, end);
      if (b === 0x2c) {
        throw new ProtocolError(
          "ERR_DUPLICATE_CONTENT_LENGTH",
          `Content-Length is a list: "${value}"`,
        );
      }
      throw new ProtocolError(
        "ERR_INVALID_CONTENT_LENGTH",
        `Content-Length "${value}" is not 1*DIGIT`,
      );
    }
    n = n * 10 + (b - 0x30);
  }
  if (n > MAX_LENGTH) {
    throw new ProtocolError(
      "ERR_INVALID_CONTENT_LENGTH",
      `Content-Length "${excerpt(buf, start, end)}" is too large`,
    );
  }
  return n;
}

/** Trims OWS (SP, HTAB) from both ends of a string. */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HTAB)) a++;
  while (b > a && (s.charCodeAt(b - 1) === SP || s.charCodeAt(b - 1) === HTAB)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * Splits a list-valued field (`#element`, RFC 9110 §5.6.1) into trimmed, lower-cased members,
 * dropping empty ones as the RFC requires.
 */
export function listMembers(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    const member = trimOws(part);
    if (member !== "") out.push(member.toLowerCase());
  }
  return out;
}

/**
 * Decides the framing a request's Transfer-Encoding fields give (RFC 9112 §6.1, §6.3).
 * `values` are the field values in order (several lines form one list).
 *
 * Only `chunked`, once, as the final coding is accepted.
 *
 * @throws ProtocolError ERR_INVALID_TRANSFER_ENCODING (empty or malformed list, `chunked`
 *   with parameters), ERR_TE_CHUNKED_TWICE, ERR_TE_NOT_FINAL_CHUNKED (`gzip`, `identity`,
 *   `xchunked`, `chunked, gzip`), ERR_UNKNOWN_TRANSFER_CODING (`gzip, chunked`: 501)
 */
export function checkTransferEncoding(values: readonly string[]): void {
  const codings: string[] = [];
  for (const value of values) {
    for (const part of value.split(",")) {
      const member = trimOws(part);
      if (member === "") continue;
      const semi = member.indexOf(";");
      const name = semi === -1 ? member : trimOws(member.slice(0, semi));
      if (!isToken(name)) {
        throw new ProtocolError(
          "ERR_INVALID_TRANSFER_ENCODING",
          `transfer coding "${escapeBytes(member)}" is not a token`,
        );
      }
      const lower = name.toLowerCase();
      if (lower === "chunked" && semi !== -1) {
        throw new ProtocolError(
          "ERR_INVALID_TRANSFER_ENCODING",
          `chunked takes no parameters: "${escapeBytes(member)}"`,
        );
      }
      codings.push(lower);
    }
  }
  const joined = escapeBytes(values.join(", "));
  if (codings.length === 0) {
    throw new ProtocolError("ERR_INVALID_TRANSFER_ENCODING", "empty Transfer-Encoding");
  }
  if (codings.indexOf("chunked") !== codings.lastIndexOf("chunked")) {
    throw new ProtocolError("ERR_TE_CHUNKED_TWICE", `chunked applied twice: "${joined}"`);
  }
  if (codings[codings.length - 1] !== "chunked") {
    throw new ProtocolError(
      "ERR_TE_NOT_FINAL_CHUNKED",
      `the final transfer coding is not chunked: "${joined}"`,
    );
  }
  if (codings.length > 1) {
    throw new ProtocolError(
      "ERR_UNKNOWN_TRANSFER_CODING",
      `transfer coding not implemented: "${joined}"`,
    );
  }
}

/**
 * Checks an Expect value (RFC 9110 §10.1.1): the only expectation defined is `100-continue`.
 *
 * @returns true when it asks for 100-continue
 * @throws ProtocolError ERR_EXPECTATION_FAILED for any other expectation (417)
 */
export function parseExpect(value: string): boolean {
  let expect = false;
  for (const member of listMembers(value)) {
    if (member === "100-continue") expect = true;
    else {
      throw new ProtocolError(
        "ERR_EXPECTATION_FAILED",
        `unsupported expectation "${escapeBytes(member)}"`,
      );
    }
  }
  return expect;
}

/**
 * Joins the value of a repeated field line to the values before it, as a server hands a
 * field to an application once (PEP 3333 `HTTP_*` keys). `Cookie` lines are joined with
 * `; ` (RFC 9113 §8.2.3, RFC 6265 §5.4: a cookie-string is `;`-separated, and a comma may
 * sit inside a cookie value); every other field with `,`, its list separator
 * (RFC 9110 §5.3).
 *
 * @param name the field name, in any case
 * @example
 * joinFieldValues("Cookie", "a=1", "b=2"); // "a=1; b=2"
 * joinFieldValues("Accept", "x", "y");     // "x,y"
 */
export function joinFieldValues(name: string, previous: string, value: string): string {
  return name.length === 6 && name.toLowerCase() === "cookie"
    ? `${previous}; ${value}`
    : `${previous},${value}`;
}
