/**
 * The decoder of the chunked transfer coding (RFC 9112 §7.1), incremental and zero-copy:
 *
 * ```
 * chunked-body = *chunk last-chunk trailer-section CRLF
 * chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * chunk-size   = 1*HEXDIG
 * last-chunk   = 1*("0") [ chunk-ext ] CRLF
 * ```
 *
 * Chunk data is handed out as `subarray`s of the received buffer. Sizes are exact integers
 * (at most 2^53 - 1); no sign, `0x` or whitespace is accepted around them; extensions are
 * checked against their grammar and then ignored; the trailer section is parsed like the
 * header section and returned.
 *
 * @module
 */
import { ProtocolError } from "./errors.ts";
import {
  bareCr,
  bareLf,
  excerpt,
  NAME_END,
  scanFieldLine,
  VALUE_END,
  VALUE_START,
} from "./fields.ts";
import { CR, HEX_VALUE, isChunkExtensions, LF } from "./grammar.ts";
import { latin1 } from "./latin1.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";

/** `decode` result: more bytes are needed. */
export const NEED = 0;
/** `decode` result: `data` holds body bytes. */
export const DATA = 1;
/** `decode` result: the body ended; `trailers` holds the trailer fields. */
export const END = 2;

/** A `decode` result: `NEED`, `DATA` or `END`. */
export type DecodeResult = typeof NEED | typeof DATA | typeof END;

const SIZE = 0;
const CHUNK = 1;
const CHUNK_END = 2;
const TRAILERS = 3;
const DONE = 4;

const EMPTY = new Uint8Array(0);

/** Fields that frame or route a message and so may not arrive as trailers (RFC 9110 §6.5.1). */
const FORBIDDEN_TRAILERS = new Set(["content-length", "transfer-encoding", "host"]);

/**
 * Decodes one chunked body. Call `decode(buf, pos)` with the received bytes and the read
 * position; it moves `pos` past what it used.
 *
 * @example
 * const d = new ChunkedDecoder();
 * const buf = Buffer.from("5\r\nhello\r\n0\r\n\r\n", "latin1");
 * d.decode(buf, 0); // DATA: d.data is "hello"
 * d.decode(buf, d.pos); // END: d.trailers is []
 */
export class ChunkedDecoder {
  /** The limits enforced: `maxBodySize`, `maxChunkLineLength`, `maxTrailerBytes`, `maxHeaderCount`. */
  readonly limits: Limits;
  /** The read position after the last `decode`. */
  pos = 0;
  /** The bytes of the last `DATA` result. */
  data: Uint8Array = EMPTY;
  /** After `END`: the trailer fields as `[name0, value0, ...]`. */
  trailers: string[] = [];
  /** Sum of the chunk sizes announced so far. */
  declared = 0;
  private state = SIZE;
  private remaining = 0;
  /** How many bytes of the current line were already searched for LF. */
  private scanned = 0;
  private trailerBytes = 0;
  private readonly line = new Int32Array(4);

  /** @param limits the limits to enforce */
  constructor(limits: Limits = DEFAULT_LIMITS) {
    this.limits = limits;
  }

  /** Makes the decoder ready for a new body. */
  reset(): void {
    this.pos = 0;
    this.data = EMPTY;
    this.trailers = [];
    this.declared = 0;
    this.state = SIZE;
    this.remaining = 0;
    this.scanned = 0;
    this.trailerBytes = 0;
  }

  /** Whether the whole body, trailers included, was decoded. */
  get done(): boolean {
    return this.state === DONE;
  }

  /**
   * Decodes from `buf[pos]` up to the end of `buf`.
   *
   * @param maxData the most bytes `data` may hold
   * @returns `DATA` (see `data`), `END` (see `trailers`) or `NEED`; `pos` is updated
   * @throws ProtocolError ERR_INVALID_CHUNK, ERR_CHUNK_EXTENSION_TOO_LONG, ERR_BARE_CR,
   *   ERR_BARE_LF, ERR_BODY_TOO_LARGE, ERR_TRAILERS_TOO_LARGE, ERR_FORBIDDEN_TRAILER and the
   *   field-line errors in trailers
   */
  decode(buf: Buffer, pos: number, maxData = Number.POSITIVE_INFINITY): DecodeResult {
    const end = buf.length;
    for (;;) {
      switch (this.state) {
        case SIZE: {
          const lf = buf.indexOf(LF, pos + this.scanned);
          if (lf === -1) {
            if (end - pos > this.limits.maxChunkLineLength + 1) throw this.lineTooLong();
            this.scanned = end - pos;
            this.pos = pos;
            return NEED;
          }
          this.scanned = 0;
          this.chunkLine(buf, pos, lf);
          pos = lf + 1;
          break;
        }
        case CHUNK: {
          if (pos === end) {
            this.pos = pos;
            return NEED;
          }
          const n = Math.min(end - pos, this.remaining, maxData);
          this.data = buf.subarray(pos, pos + n);
          this.remaining -= n;
          if (this.remaining === 0) this.state = CHUNK_END;
          this.pos = pos + n;
          return DATA;
        }
        case CHUNK_END: {
          if (end - pos < 2) {
            if (pos < end && buf[pos] !== CR) throw missingCrlf(buf, pos);
            this.pos = pos;
            return NEED;
          }
          if (buf[pos] !== CR || buf[pos + 1] !== LF) throw missingCrlf(buf, pos);
          pos += 2;
          this.state = SIZE;
          break;
        }
        case TRAILERS: {
          const next = this.trailerLine(buf, pos);
          if (next < 0) {
            this.pos = pos;
            return NEED;
          }
          if (this.done) {
            this.pos = next;
            return END;
          }
          pos = next;
          break;
        }
        default:
          this.pos = pos;
          return END;
      }
    }
  }

  /** Checks the chunk line `buf[pos, lf]` and moves to its data or to the trailers. */
  private chunkLine(buf: Buffer, pos: number, lf: number): void {
    const limits = this.limits;
    if (lf - 1 - pos > limits.maxChunkLineLength) throw this.lineTooLong();
    if (lf === pos || buf[lf - 1] !== CR) throw bareLf(buf, pos, lf + 1);
    const le = lf - 1;
    const hexValue = HEX_VALUE;
    let i = pos;
    let size = 0;
    while (i < le) {
      const v = hexValue[buf[i]!]!;
      if (v < 0) break;
      size = size * 16 + v;
      if (size > Number.MAX_SAFE_INTEGER) {
        throw new ProtocolError(
          "ERR_INVALID_CHUNK",
          `chunk size "${excerpt(buf, pos, le)}" overflows`,
        );
      }
      i++;
    }
    if (i === pos || (i < le && !isChunkExtensions(buf, i, le))) {
      const cr = buf.indexOf(CR, pos);
      if (cr < le) throw bareCr(buf, pos, lf + 1);
      throw new ProtocolError(
        "ERR_INVALID_CHUNK",
        i === pos
          ? `chunk size is not 1*HEXDIG: "${excerpt(buf, pos, le)}"`
          : `invalid chunk extension: "${excerpt(buf, pos, le)}"`,
      );
    }
    this.declared += size;
    if (this.declared > limits.maxBodySize) {
      throw new ProtocolError(
        "ERR_BODY_TOO_LARGE",
        `chunked body of at least ${this.declared} bytes is above the limit of ${limits.maxBodySize}`,
      );
    }
    if (size === 0) {
      this.state = TRAILERS;
    } else {
      this.remaining = size;
      this.state = CHUNK;
    }
  }

  /**
   * Reads one line of the trailer section at `pos`: a field line, or the empty line that
   * ends the body (then the state becomes DONE).
   *
   * @returns the index after the line, or -1 when it is not complete yet
   */
  private trailerLine(buf: Buffer, pos: number): number {
    const end = buf.length;
    const limits = this.limits;
    if (this.scanned > 0 && buf.indexOf(LF, pos + this.scanned) === -1) {
      return this.trailerIncomplete(end - pos);
    }
    const b = buf[pos];
    if (b === CR || b === LF || pos === end) {
      if (pos === end) return -1;
      if (b === LF) throw bareLf(buf, pos, end);
      if (pos + 1 === end) return this.trailerIncomplete(1);
      if (buf[pos + 1] !== LF) throw bareCr(buf, pos, end);
      this.state = DONE;
      this.scanned = 0;
      return pos + 2;
    }
    const line = this.line;
    const next = scanFieldLine(buf, pos, end, line);
    if (next < 0) return this.trailerIncomplete(end - pos);
    this.scanned = 0;
    this.trailerBytes += next - pos;
    if (
      this.trailerBytes > limits.maxTrailerBytes ||
      this.trailers.length >= limits.maxHeaderCount * 2
    ) {
      throw trailersTooLarge();
    }
    const name = latin1(buf, pos, line[NAME_END]!);
    if (FORBIDDEN_TRAILERS.has(name.toLowerCase())) {
      throw new ProtocolError(
        "ERR_FORBIDDEN_TRAILER",
        `field "${name}" is not allowed as a trailer`,
      );
    }
    this.trailers.push(name, latin1(buf, line[VALUE_START]!, line[VALUE_END]!));
    return next;
  }

  /** Applies the trailer limit to an unfinished line of `pending` bytes. */
  private trailerIncomplete(pending: number): number {
    if (this.trailerBytes + pending > this.limits.maxTrailerBytes + 1) throw trailersTooLarge();
    this.scanned = pending;
    return -1;
  }

  private lineTooLong(): ProtocolError {
    return new ProtocolError(
      "ERR_CHUNK_EXTENSION_TOO_LONG",
      `chunk line longer than ${this.limits.maxChunkLineLength} bytes`,
    );
  }
}

function missingCrlf(buf: Buffer, pos: number): ProtocolError {
  return new ProtocolError(
    "ERR_INVALID_CHUNK",
    `chunk data not followed by CRLF: "${excerpt(buf, pos, buf.length, 16)}"`,
  );
}

function trailersTooLarge(): ProtocolError {
  return new ProtocolError("ERR_TRAILERS_TOO_LARGE", "trailer section larger than the limit");
}
