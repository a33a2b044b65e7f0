/**
 * The incremental parser of request heads: request line and header section (RFC 9112 §2-§6).
 *
 * It validates the received bytes in place with the byte tables of `grammar.ts`, one line at
 * a time as lines complete, and decodes nothing until the head is whole; then it turns the
 * head into latin-1 text with one native call and slices names and values out of it. Header
 * positions live in a reusable `Int32Array`, so a head costs the strings themselves, the
 * flat `headers` array and the result object.
 *
 * A head that arrives in pieces is validated as its lines complete; a piece without a new LF
 * costs one `indexOf` over the new bytes, so a peer sending one byte at a time makes us do
 * linear work, not quadratic.
 *
 * @module
 */
import { escapeBytes, ProtocolError } from "./errors.ts";
import {
  bareCr,
  bareLf,
  checkTransferEncoding,
  excerpt,
  NAME_END,
  parseContentLength,
  parseExpect,
  scanFieldLine,
  UNDERSCORE,
  VALUE_END,
  VALUE_START,
} from "./fields.ts";
import {
  CR,
  HTAB,
  HTTP_NAME_SLASH,
  HTTP_VERSION_LENGTH,
  LF,
  SP,
  skipClass,
  TARGET_BYTE,
  type TargetForm,
  TCHAR,
  VCHAR,
} from "./grammar.ts";
import { isUsableHost } from "./host.ts";
import { latin1 } from "./latin1.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";

/** A complete request head and the facts the server needs from it. */
export interface RequestHead {
  /** Tells the events of `ServerConnection.nextEvent()` apart. */
  readonly type: "request";
  /** The method, case-sensitive as received (`GET`). */
  readonly method: string;
  /** The request-target as received (RFC 9112 §3.2). */
  readonly target: string;
  /** Which form the target has (RFC 9112 §3.2). */
  readonly form: TargetForm;
  /** The path of the target, still percent-encoded: `/a/b` for `/a/b?x`, `*` for `OPTIONS *`. */
  readonly path: string;
  /** The query of the target without `?`; empty when there is none. */
  readonly query: string;
  /** The protocol version; `HTTP/1.2`-`HTTP/1.9` count as `HTTP/1.1` (RFC 9110 §2.5). */
  readonly version: "HTTP/1.0" | "HTTP/1.1";
  /** The fields as `[name0, value0, name1, value1, ...]`, latin-1, names as received, values trimmed. */
  readonly headers: string[];
  /** The host from an absolute-form target, else the Host field; null when neither (HTTP/1.0). */
  readonly host: string | null;
  /** The declared Content-Length; null when there is none. */
  readonly contentLength: number | null;
  /** Whether the body is chunked. */
  readonly chunked: boolean;
  /** Whether the request has a body to read (chunked, or a Content-Length above 0). */
  readonly hasBody: boolean;
  /** Whether the client wants the connection kept open after this exchange (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  /** Whether an HTTP/1.1 client sent `Expect: 100-continue` (RFC 9110 §10.1.1). */
  readonly expectContinue: boolean;
  /** The Upgrade value when an HTTP/1.1 client asked to switch protocols (RFC 9110 §7.8). */
  readonly upgrade: string | null;
  /** Whether a field name contains `_` (servers usually drop those: see `environKey`). */
  readonly underscoreNames: boolean;
}

/** Lower-case names of the fields the parser interprets, as bytes. */
const HOST = Buffer.from("host");
const EXPECT = Buffer.from("expect");
const UPGRADE = Buffer.from("upgrade");
const CONNECTION = Buffer.from("connection");
const CONTENT_LENGTH = Buffer.from("content-length");
const TRANSFER_ENCODING = Buffer.from("transfer-encoding");

/** Whether `buf[at, at + name.length)` equals the lower-case token `name`, ignoring ASCII case. */
function isName(buf: Uint8Array, at: number, name: Uint8Array): boolean {
  // `| 0x20` lower-cases letters and leaves `-` alone. The bytes were already checked as
  // tchar or field-value bytes, and no other such byte maps onto a letter or `-` this way
  // (CR, which would become `-`, is never among them).
  for (let i = 0; i < name.length; i++) {
    if ((buf[at + i]! | 0x20) !== name[i]) return false;
  }
  return true;
}

/** Fields a parser has room for before its table grows. */
const FIRST_FIELDS = 16;
/**
 * Where `scanFieldLine` reports the parts of the line it scanned: read at once, before
 * anything else can scan, so every parser shares it.
 */
const LINE = new Int32Array(4);

/** Bits of the Connection options seen. */
const CLOSE = 1;
const KEEP_ALIVE = 2;
const UPGRADE_TOKEN = 4;

const CLOSE_NAME = Buffer.from("close");
const KEEP_ALIVE_NAME = Buffer.from("keep-alive");

/**
 * The Connection options of the value `buf[start, end)` as bits (RFC 9110 §7.6.1: a list
 * of case-insensitive tokens). The usual single `keep-alive` or `close` is matched in place.
 */
function connectionBits(buf: Buffer, start: number, end: number): number {
  const n = end - start;
  if (n === 10 && isName(buf, start, KEEP_ALIVE_NAME)) return KEEP_ALIVE;
  if (n === 5 && isName(buf, start, CLOSE_NAME)) return CLOSE;
  let bits = 0;
  for (const part of latin1(buf, start, end).split(",")) {
    const token = part.trim().toLowerCase();
    if (token === "close") bits |= CLOSE;
    else if (token === "keep-alive") bits |= KEEP_ALIVE;
    else if (token === "upgrade") bits |= UPGRADE_TOKEN;
  }
  return bits;
}

/**
 * Parses request heads from a byte buffer, incrementally. One parser serves a whole
 * connection: after each head it resets itself for the next.
 *
 * @example
 * const parser = new HeadParser();
 * const buf = Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "latin1");
 * const head = parser.parse(buf, 0); // head.method === "GET"; parser.consumed === buf.length
 */
export class HeadParser {
  /** The limits enforced. */
  readonly limits: Limits;
  /** After `parse` returned a head: how many bytes from `start` it used. */
  consumed = 0;
  /** Per field, relative to the head start: name start, name end, value start, value end. */
  private fields: Int32Array;
  private count = 0;
  private underscore = 0;
  /** Relative to the head start: the next line to scan, where to look for LF next. */
  private lineStart = 0;
  private searchFrom = 0;
  /** Relative: where the header section starts; -1 while reading the request line. */
  private headersStart = -1;
  private methodStart = 0;
  private methodEnd = 0;
  private targetEnd = 0;
  private minor = 1;
  /** The last Host value found valid on this connection. */
  private validHost = "";

  /** @param limits the limits to enforce (`maxRequestLineLength`, `maxHeaderCount`, ...) */
  constructor(limits: Limits = DEFAULT_LIMITS) {
    this.limits = limits;
    // Room for 16 fields at first (it doubles as needed): a connection costs less to set up.
    this.fields = new Int32Array(Math.min(limits.maxHeaderCount + 1, FIRST_FIELDS) * 4);
  }

  /** Whether part of a head has been received (so the peer closing now is an error). */
  get inProgress(): boolean {
    return this.searchFrom > 0 || this.lineStart > 0;
  }

  /** Forgets any partial head. */
  reset(): void {
    this.count = 0;
    this.underscore = 0;
    this.lineStart = 0;
    this.searchFrom = 0;
    this.headersStart = -1;
  }

  /**
   * Parses the head that starts at `buf[start]`; `buf` ends where the received bytes end.
   * Call again with the same `start` and a longer `buf` (same bytes, more appended) after
   * it returned null.
   *
   * @returns the head (and sets `consumed`), or null when more bytes are needed
   * @throws ProtocolError when the bytes cannot be a valid request head
   */
  parse(buf: Buffer, start: number): RequestHead | null {
    const end = buf.length;
    if (this.searchFrom > 0) {
      const from = start + this.searchFrom;
      if (from >= end || buf.indexOf(LF, from) === -1) return this.incomplete(buf, start, -1);
    }
    const limits = this.limits;
    let pos = start + this.lineStart;
    while (pos < end) {
      const b = buf[pos]!;
      if (b === CR || b === LF) {
        if (b === LF) throw bareLf(buf, pos, end);
        if (pos + 1 === end) break;
        if (buf[pos + 1] !== LF) throw bareCr(buf, pos, end);
        if (this.headersStart >= 0) return this.finish(buf, start, pos + 2);
        // RFC 9112 §2.2: a server SHOULD ignore empty lines before the request line.
        pos += 2;
        if (pos - start > limits.maxRequestLineLength) throw tooLong(buf, start, limits);
        continue;
      }
      if (this.headersStart < 0) {
        const next = this.requestLine(buf, start, pos, end);
        if (next < 0) break;
        if (next - 2 - start > limits.maxRequestLineLength) throw tooLong(buf, pos, limits);
        this.headersStart = next - start;
        pos = next;
        continue;
      }
      const line = LINE;
      const next = scanFieldLine(buf, pos, end, line);
      if (next < 0) break;
      if (next - start - this.headersStart > limits.maxHeaderBytes) throw headersTooLarge();
      const count = this.count;
      if (count >= limits.maxHeaderCount) {
        throw new ProtocolError(
          "ERR_TOO_MANY_HEADERS",
          `more than ${limits.maxHeaderCount} header fields`,
        );
      }
      let f = this.fields;
      const k = count * 4;
      if (k + 4 > f.length) f = this.fields = growFields(f);
      f[k] = pos - start;
      f[k + 1] = line[NAME_END]! - start;
      f[k + 2] = line[VALUE_START]! - start;
      f[k + 3] = line[VALUE_END]! - start;
      this.underscore |= line[UNDERSCORE]!;
      this.count = count + 1;
      pos = next;
    }
    return this.incomplete(buf, start, pos);
  }

  /** Records where scanning stopped and applies the limits to the unfinished line. */
  private incomplete(buf: Buffer, start: number, pos: number): null {
    const end = buf.length;
    const from = start + this.searchFrom;
    if (pos >= 0) this.lineStart = pos - start;
    if (this.headersStart < 0) {
      if (end - 1 - start > this.limits.maxRequestLineLength) {
        throw tooLong(buf, start + this.lineStart, this.limits);
      }
    } else if (end - start - this.headersStart > this.limits.maxHeaderBytes + 1) {
      throw headersTooLarge();
    }
    // No LF arrived, so a CR anywhere but at the very end cannot be part of a CRLF.
    const cr = buf.indexOf(CR, Math.max(start + this.lineStart, from - 1));
    if (cr !== -1 && cr < end - 1) throw bareCr(buf, start + this.lineStart, end);
    this.searchFrom = end - start;
    return null;
  }

  /**
   * Scans `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3) at `ls`.
   *
   * @returns the index after its LF, or -1 when the line is not complete yet
   */
  private requestLine(buf: Buffer, start: number, ls: number, end: number): number {
    const tchar = TCHAR;
    const targetByte = TARGET_BYTE;
    const vchar = VCHAR;
    let i = ls;
    let b = 0;
    while (i < end) {
      b = buf[i]!;
      if (tchar[b] !== 1) break;
      i++;
    }
    if (i === end) return -1;
    if (b !== SP || i === ls) {
      throw lineError(
        buf,
        ls,
        i,
        end,
        i === ls ? "ERR_INVALID_REQUEST_LINE" : "ERR_INVALID_METHOD",
      );
    }
    const methodEnd = i++;
    const targetStart = i;
    i = skipClass(targetByte, buf, i, end);
    if (i === end) return -1;
    b = buf[i]!;
    if (b !== SP || i === targetStart) {
      const code =
        i === targetStart || b === CR ? "ERR_INVALID_REQUEST_LINE" : "ERR_INVALID_TARGET";
      throw lineError(buf, ls, i, end, code);
    }
    const targetEnd = i++;
    const versionStart = i;
    while (i < end) {
      b = buf[i]!;
      if (vchar[b] !== 1) break;
      i++;
    }
    if (i === end) return -1;
    if (b !== CR) {
      throw lineError(
        buf,
        ls,
        i,
        end,
        b === SP ? "ERR_INVALID_REQUEST_LINE" : "ERR_INVALID_VERSION",
      );
    }
    if (i + 1 === end) return -1;
    if (buf[i + 1] !== LF) throw bareCr(buf, ls, end);
    this.minor = httpVersion(buf, versionStart, i);
    if (methodEnd - ls === 7 && latin1(buf, ls, methodEnd) === "CONNECT") {
      throw new ProtocolError(
        "ERR_CONNECT_NOT_SUPPORTED",
        `CONNECT ${excerpt(buf, targetStart, targetEnd)}: this server is not a proxy`,
      );
    }
    this.methodStart = ls - start;
    this.methodEnd = methodEnd - start;
    this.targetEnd = targetEnd - start;
    return i + 2;
  }

  /** Builds the head once its last line arrived; `headEnd` is just after the empty line. */
  private finish(buf: Buffer, start: number, headEnd: number): RequestHead {
    const s = latin1(buf, start, headEnd);
    const minor = this.minor;
    const method = s.slice(this.methodStart, this.methodEnd);
    const target = s.slice(this.methodEnd + 1, this.targetEnd);
    const count = this.count;
    const f = this.fields;
    const headers = new Array<string>(count * 2);
    let host: string | null = null;
    let contentLength = -1;
    let te: string[] | null = null;
    let connection = 0;
    let expectContinue = false;
    let upgrade: string | null = null;
    for (let k = 0; k < count; k++) {
      const ns = f[k * 4]!;
      const ne = f[k * 4 + 1]!;
      const vs = f[k * 4 + 2]!;
      const ve = f[k * 4 + 3]!;
      const value = s.slice(vs, ve);
      headers[k * 2] = s.slice(ns, ne);
      headers[k * 2 + 1] = value;
      switch (ne - ns) {
        case 4:
          if (isName(buf, start + ns, HOST)) {
            if (host !== null) {
              throw new ProtocolError("ERR_DUPLICATE_HOST", "more than one Host field line");
            }
            // A keep-alive client sends the same Host every time: checked once.
            if (value !== this.validHost && !isUsableHost(value)) {
              throw new ProtocolError(
                "ERR_INVALID_HOST",
                `invalid Host "${excerpt(buf, start + vs, start + ve)}"`,
              );
            }
            host = value;
            this.validHost = value;
          }
          break;
        case 6:
          if (minor === 1 && isName(buf, start + ns, EXPECT)) {
            expectContinue = parseExpect(value) || expectContinue;
          }
          break;
        case 7:
          if (isName(buf, start + ns, UPGRADE))
            upgrade = upgrade === null ? value : `${upgrade}, ${value}`;
          break;
        case 10:
          if (isName(buf, start + ns, CONNECTION)) {
            connection |= connectionBits(buf, start + vs, start + ve);
          }
          break;
        case 14:
          if (isName(buf, start + ns, CONTENT_LENGTH)) {
            if (contentLength >= 0) {
              throw new ProtocolError(
                "ERR_DUPLICATE_CONTENT_LENGTH",
                "more than one Content-Length field line",
              );
            }
            contentLength = parseContentLength(buf, start + vs, start + ve);
          }
          break;
        case 17:
          if (isName(buf, start + ns, TRANSFER_ENCODING)) {
            if (te === null) te = [value];
            else te.push(value);
          }
          break;
      }
    }
    if (minor === 1 && host === null) {
      throw new ProtocolError("ERR_MISSING_HOST", "HTTP/1.1 request without a Host field");
    }
    let chunked = false;
    if (te !== null) {
      if (contentLength >= 0) {
        throw new ProtocolError(
          "ERR_CL_AND_TE",
          "both Content-Length and Transfer-Encoding: refusing an ambiguous body length",
        );
      }
      if (minor === 0) {
        throw new ProtocolError("ERR_TE_IN_HTTP10", "Transfer-Encoding in an HTTP/1.0 request");
      }
      checkTransferEncoding(te);
      chunked = true;
    }
    if (contentLength > this.limits.maxBodySize) {
      throw new ProtocolError(
        "ERR_BODY_TOO_LARGE",
        `Content-Length ${contentLength} is above the limit of ${this.limits.maxBodySize}`,
      );
    }
    let form: TargetForm = "origin";
    let path = target;
    let query = "";
    if (target.charCodeAt(0) === 0x2f) {
      const q = target.indexOf("?");
      if (q !== -1) {
        path = target.slice(0, q);
        query = target.slice(q + 1);
      }
    } else if (target === "*" && method === "OPTIONS") {
      form = "asterisk";
    } else {
      const parts = splitAbsolute(target);
      form = "absolute";
      host = parts[0];
      path = parts[1];
      query = parts[2];
    }
    const underscoreNames = this.underscore === 1;
    this.consumed = headEnd - start;
    this.reset();
    return {
      type: "request",
      method,
      target,
      form,
      path,
      query,
      version: minor === 1 ? "HTTP/1.1" : "HTTP/1.0",
      headers,
      host,
      contentLength: contentLength >= 0 ? contentLength : null,
      chunked,
      hasBody: chunked || contentLength > 0,
      keepAlive: (connection & CLOSE) === 0 && (minor === 1 || (connection & KEEP_ALIVE) !== 0),
      expectContinue,
      upgrade: minor === 1 && (connection & UPGRADE_TOKEN) !== 0 ? upgrade : null,
      underscoreNames,
    };
  }
}

/** Doubles the field position table (only when `maxHeaderCount` is above 1024). */
function growFields(f: Int32Array): Int32Array {
  const bigger = new Int32Array(f.length * 2);
  bigger.set(f);
  return bigger;
}

/**
 * Checks `HTTP-version = "HTTP/" DIGIT "." DIGIT` (RFC 9112 §2.3) in `buf[start, end)`.
 *
 * @returns the minor version to use: 0 for HTTP/1.0, 1 for HTTP/1.1 to HTTP/1.9
 * @throws ProtocolError ERR_INVALID_VERSION or, for another major version, ERR_UNSUPPORTED_VERSION
 */
function httpVersion(buf: Buffer, start: number, end: number): number {
  const name = HTTP_NAME_SLASH;
  if (
    end - start !== HTTP_VERSION_LENGTH ||
    buf[start] !== name[0] ||
    buf[start + 1] !== name[1] ||
    buf[start + 2] !== name[2] ||
    buf[start + 3] !== name[3] ||
    buf[start + 4] !== name[4] ||
    !isDigit(buf[start + 5]!) ||
    buf[start + 6] !== 0x2e ||
    !isDigit(buf[start + 7]!)
  ) {
    throw new ProtocolError(
      "ERR_INVALID_VERSION",
      `invalid HTTP version "${excerpt(buf, start, end)}"`,
    );
  }
  if (buf[start + 5] !== 0x31) {
    throw new ProtocolError(
      "ERR_UNSUPPORTED_VERSION",
      `HTTP version "${excerpt(buf, start, end)}" is not supported`,
    );
  }
  return buf[start + 7] === 0x30 ? 0 : 1;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** The error for a request line that stops at `buf[i]`; line-ending problems take precedence. */
function lineError(
  buf: Buffer,
  ls: number,
  i: number,
  end: number,
  code:
    | "ERR_INVALID_REQUEST_LINE"
    | "ERR_INVALID_METHOD"
    | "ERR_INVALID_TARGET"
    | "ERR_INVALID_VERSION",
): ProtocolError {
  const b = buf[i];
  if (b === LF) return bareLf(buf, ls, end);
  if (b === CR && i + 1 < end && buf[i + 1] !== LF) return bareCr(buf, ls, end);
  // Whitespace other than SP, or the line ending early, is a malformed line, not a bad method.
  if (b === HTAB || b === CR) code = "ERR_INVALID_REQUEST_LINE";
  const what =
    code === "ERR_INVALID_METHOD"
      ? "method is not a token"
      : code === "ERR_INVALID_TARGET"
        ? `byte 0x${(b ?? 0).toString(16).padStart(2, "0")} not allowed in the request-target`
        : code === "ERR_INVALID_VERSION"
          ? "invalid HTTP version"
          : "request line is not `method SP target SP version`";
  return new ProtocolError(code, `${what}: "${excerpt(buf, ls, end)}"`);
}

/**
 * The error for a request line over the limit, starting at `ls`: 414 when the target is what
 * is too long; 501 when the method alone takes the whole limit (RFC 9112 §3: a method
 * longer than any implemented gets 501, and the target may well be just `/`).
 */
function tooLong(buf: Buffer, ls: number, limits: Limits): ProtocolError {
  const methodEnd = skipClass(TCHAR, buf, ls, buf.length);
  if (methodEnd - ls >= limits.maxRequestLineLength) {
    return new ProtocolError(
      "ERR_METHOD_TOO_LONG",
      `method longer than the request line limit: "${excerpt(buf, ls, buf.length, 40)}"`,
    );
  }
  return new ProtocolError(
    "ERR_URI_TOO_LONG",
    `request line longer than the limit: "${excerpt(buf, ls, buf.length, 40)}"`,
  );
}

function headersTooLarge(): ProtocolError {
  return new ProtocolError("ERR_HEADERS_TOO_LARGE", "header section larger than the limit");
}

/**
 * Splits an absolute-form target (RFC 9112 §3.2.2) into host, path and query. Only the
 * `http` and `https` schemes are accepted, with a non-empty authority and no userinfo
 * (RFC 9110 §4.2.1, §4.2.4); an empty path means `/`.
 *
 * @throws ProtocolError ERR_INVALID_TARGET
 */
function splitAbsolute(target: string): [host: string, path: string, query: string] {
  const lower = target.slice(0, 8).toLowerCase();
  const authorityStart = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : -1;
  if (authorityStart < 0) {
    throw new ProtocolError(
      "ERR_INVALID_TARGET",
      `request-target "${escapeBytes(target)}" is neither origin-form nor an http(s) absolute-form`,
    );
  }
  let authorityEnd = target.length;
  for (let i = authorityStart; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x2f || c === 0x3f) {
      authorityEnd = i;
      break;
    }
  }
  const host = target.slice(authorityStart, authorityEnd);
  if (host === "" || !isUsableHost(host)) {
    throw new ProtocolError(
      "ERR_INVALID_TARGET",
      `invalid authority "${escapeBytes(host)}" in the request-target`,
    );
  }
  const rest = target.slice(authorityEnd);
  const q = rest.indexOf("?");
  const path = q === -1 ? rest : rest.slice(0, q);
  return [host, path === "" ? "/" : path, q === -1 ? "" : rest.slice(q + 1)];
}
