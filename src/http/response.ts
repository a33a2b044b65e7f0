/**
 * Response framing (RFC 9112 §4, §6, §7): the status line and header section as bytes, and
 * the body framing that follows from them.
 *
 * The framing rule, in order (RFC 9112 §6.3 from the sender's side):
 * 1. no body for HEAD, 1xx, 204 and 304 (whatever the application writes is dropped);
 * 2. the application's Content-Length when it gave one (the core then holds it to it);
 * 3. `Transfer-Encoding: chunked` for an HTTP/1.1 client;
 * 4. otherwise the body ends when the connection closes (an HTTP/1.0 client).
 *
 * The application's `Transfer-Encoding`, `Connection` and `Keep-Alive` fields are not
 * copied: framing and persistence are this module's job (PEP 3333 forbids applications to
 * send hop-by-hop fields in the first place). `Connection: close` from the application is
 * honoured. Only `101 Switching Protocols` keeps the application's `Connection` field.
 *
 * @module
 */
import { escapeBytes, LocalProtocolError } from "./errors.ts";
import { isFieldName, isFieldValue } from "./grammar.ts";
import { reasonPhrase } from "./status.ts";

/** A response header as the application gives it. */
export type ResponseHeader = readonly [name: string, value: string];

/** How the response body is framed: not at all, by Content-Length, chunked, or by closing. */
export type BodyMode = "none" | "length" | "chunked" | "close";

const EMPTY = new Uint8Array(0);
const LAST_CHUNK = "0\r\n\r\n";

/** Validated status lines, by the status string the application gave. */
const statusLines = new Map<string | number, string>();

/** Status line `HTTP/1.1 200 OK\r\n` for a number or a WSGI status string such as `"200 OK"`. */
function statusLine(status: number | string): string {
  const cached = statusLines.get(status);
  if (cached !== undefined) return cached;
  let line: string;
  if (typeof status === "number") {
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw new LocalProtocolError("ERR_INVALID_STATUS", `invalid status code ${status}`);
    }
    line = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
  } else {
    // RFC 9112 §4: status-code = 3DIGIT; reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
    const ok =
      /^[1-9][0-9][0-9]$/.test(status.slice(0, 3)) &&
      (status.length === 3 || (status.charCodeAt(3) === 0x20 && isFieldValue(status.slice(4))));
    if (!ok) {
      throw new LocalProtocolError("ERR_INVALID_STATUS", `invalid status "${escapeBytes(status)}"`);
    }
    line = status.length === 3 ? `HTTP/1.1 ${status} \r\n` : `HTTP/1.1 ${status}\r\n`;
  }
  if (statusLines.size < 512) statusLines.set(status, line);
  return line;
}

/**
 * Whether the token `name` is `lower` in any case, without making a lower-cased copy. OR-ing
 * 0x20 lower-cases a letter and changes no other tchar into a letter or `-`.
 */
function isNamed(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The value of a response's `Content-Length` field (RFC 9110 §8.6): 1 to 15 decimal digits
 * with optional surrounding whitespace, else -1. The framer and `startResponse` both judge
 * the field by this.
 */
export function contentLengthValue(value: string): number {
  let start = 0;
  let end = value.length;
  while (start < end && isSpace(value.charCodeAt(start))) start++;
  while (end > start && isSpace(value.charCodeAt(end - 1))) end--;
  if (end === start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** SP or HTAB, the whitespace a field value may be padded with. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** The status code of a number or a status string (already validated by `statusLine`). */
function statusCode(status: number | string): number {
  if (typeof status === "number") return status;
  const digit = (i: number) => status.charCodeAt(i) - 0x30;
  return digit(0) * 100 + digit(1) * 10 + digit(2);
}

/**
 * Renders an informational (1xx) response other than 101 (RFC 9110 §15.2): status line,
 * the given fields, and the empty line. No Date, Server or framing fields.
 *
 * @throws LocalProtocolError ERR_INVALID_STATUS unless the status is 1xx and not 101,
 *   ERR_INVALID_RESPONSE_HEADER for a bad field
 */
export function informational(status: number | string, headers: Iterable<ResponseHeader>): string {
  let out = statusLine(status);
  const code = statusCode(status);
  if (code < 100 || code > 199 || code === 101) {
    throw new LocalProtocolError(
      "ERR_INVALID_STATUS",
      `${code} is not an informational status (101 goes through sendResponse)`,
    );
  }
  for (const [name, value] of headers) {
    if (!isFieldName(name) || !isFieldValue(value)) {
      throw new LocalProtocolError(
        "ERR_INVALID_RESPONSE_HEADER",
        `invalid response header ${JSON.stringify(name)}: ${JSON.stringify(value)}`,
      );
    }
    out += `${name}: ${value}\r\n`;
  }
  return `${out}\r\n`;
}

/**
 * Renders the minimal answer to a rejected request: the error's status, a short plain-text
 * body naming its code, `Content-Length`, and `Connection: close` (after a protocol error
 * the connection cannot be trusted to find the next request).
 *
 * @param omitBody leave the body out (the request was HEAD); Content-Length stays
 */
export function errorResponse(
  status: number,
  reason: string,
  code: string,
  date: string | undefined,
  server: string | undefined,
  omitBody = false,
): Buffer {
  const body = `${status} ${reason}: ${code}\n`;
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  if (date !== undefined) head += `Date: ${date}\r\n`;
  if (server !== undefined) head += `Server: ${server}\r\n`;
  head += `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  return Buffer.from(omitBody ? head : head + body, "latin1");
}

/**
 * Frames one response: renders its head, then frames each body chunk and the end.
 * `ServerConnection` owns one and resets it per response.
 */
export class ResponseFramer {
  /** The status code of the current response. */
  code = 0;
  /** How the body is framed. */
  mode: BodyMode = "none";
  /** The declared Content-Length, or -1. */
  contentLength = -1;
  /** Body bytes accepted so far (before framing). */
  sent = 0;
  /** Whether the connection may stay open after this response, as the head announced it. */
  keepAlive = true;

  /**
   * Renders the status line and header section.
   *
   * @param status a code (`200`) or a WSGI status string (`"200 OK"`)
   * @param headers the application's fields, validated here (no CR, LF or NUL can pass)
   * @param isHead whether the request was HEAD (no body, same fields as for GET)
   * @param http10 whether the client speaks HTTP/1.0 (no chunked; keep-alive must be explicit)
   * @param keepAlive whether the connection may stay open, before this response's say
   * @param date the Date value to add unless the application gave one
   * @param server the Server value to add unless the application gave one
   * @param bodyLength the whole body's length when known in advance (`respond`), else -1
   * @throws LocalProtocolError ERR_INVALID_STATUS, ERR_INVALID_RESPONSE_HEADER,
   *   ERR_INVALID_RESPONSE_CONTENT_LENGTH
   */
  head(
    status: number | string,
    headers: Iterable<ResponseHeader>,
    isHead: boolean,
    http10: boolean,
    keepAlive: boolean,
    date: string | undefined,
    server: string | undefined,
    bodyLength: number,
  ): string {
    let out = statusLine(status);
    const code = statusCode(status);
    let fields = "";
    let contentLength = -1;
    let sawDate = false;
    let sawServer = false;
    for (const [name, value] of headers) {
      if (!isFieldName(name) || !isFieldValue(value)) {
        throw new LocalProtocolError(
          "ERR_INVALID_RESPONSE_HEADER",
          `invalid response header ${JSON.stringify(name)}: ${JSON.stringify(value)}`,
        );
      }
      switch (name.length) {
        case 4:
          sawDate ||= isNamed(name, "date");
          break;
        case 6:
          sawServer ||= isNamed(name, "server");
          break;
        case 10:
          if (isNamed(name, "connection")) {
            if (/(^|[\s,])close($|[\s,])/i.test(value)) keepAlive = false;
            if (code !== 101) continue;
          } else if (isNamed(name, "keep-alive")) {
            continue;
          }
          break;
        case 14:
          if (isNamed(name, "content-length")) {
            const n = contentLengthValue(value);
            if (n < 0 || contentLength >= 0) {
              throw new LocalProtocolError(
                "ERR_INVALID_RESPONSE_CONTENT_LENGTH",
                contentLength >= 0
                  ? "Content-Length given twice"
                  : `invalid Content-Length "${escapeBytes(value)}"`,
              );
            }
            contentLength = n;
            // RFC 9110 §8.6: never in a 1xx or 204 response.
            if (code < 200 || code === 204) continue;
          }
          break;
        case 17:
          if (isNamed(name, "transfer-encoding")) continue;
          break;
      }
      fields += `${name}: ${value}\r\n`;
    }
    if (!sawDate && date !== undefined) out += `Date: ${date}\r\n`;
    if (!sawServer && server !== undefined) out += `Server: ${server}\r\n`;
    out += fields;
    const bodyless = isHead || code < 200 || code === 204 || code === 304;
    if (contentLength < 0 && bodyLength >= 0 && code >= 200 && code !== 204 && code !== 304) {
      contentLength = bodyLength;
      out += `Content-Length: ${bodyLength}\r\n`;
    }
    let mode: BodyMode;
    if (bodyless) mode = "none";
    else if (contentLength >= 0) mode = "length";
    else if (!http10) {
      mode = "chunked";
      out += "Transfer-Encoding: chunked\r\n";
    } else {
      mode = "close";
      keepAlive = false;
    }
    if (code !== 101) {
      if (!keepAlive) out += "Connection: close\r\n";
      else if (http10) out += "Connection: keep-alive\r\n";
    }
    this.code = code;
    this.mode = mode;
    this.contentLength = contentLength;
    this.sent = 0;
    this.keepAlive = keepAlive;
    return `${out}\r\n`;
  }

  /**
   * Frames a piece of the body.
   *
   * @returns the bytes to write: the chunk itself, a chunk frame, or nothing for a bodyless response
   * @throws LocalProtocolError ERR_RESPONSE_BODY_TOO_LONG past the declared Content-Length
   */
  data(chunk: Uint8Array): Uint8Array {
    const n = chunk.length;
    if (n === 0) return EMPTY;
    switch (this.mode) {
      case "none":
        return EMPTY;
      case "length":
        if (this.sent + n > this.contentLength) {
          throw new LocalProtocolError(
            "ERR_RESPONSE_BODY_TOO_LONG",
            `response body longer than its Content-Length of ${this.contentLength} (${this.sent + n} bytes written)`,
          );
        }
        this.sent += n;
        return chunk;
      case "chunked":
        this.sent += n;
        return chunkFrame(chunk);
      default:
        this.sent += n;
        return chunk;
    }
  }

  /**
   * The bytes that end the body: the last chunk for chunked framing, else nothing.
   *
   * @throws LocalProtocolError ERR_RESPONSE_BODY_TOO_SHORT when less than the declared
   *   Content-Length was written
   */
  end(): Uint8Array {
    if (this.mode === "length" && this.sent < this.contentLength) {
      throw new LocalProtocolError(
        "ERR_RESPONSE_BODY_TOO_SHORT",
        `response body shorter than its Content-Length of ${this.contentLength} (${this.sent} bytes written)`,
      );
    }
    return this.mode === "chunked" ? Buffer.from(LAST_CHUNK, "latin1") : EMPTY;
  }
}

/** `chunk-size CRLF chunk-data CRLF` (RFC 9112 §7.1) in one buffer. */
export function chunkFrame(chunk: Uint8Array): Buffer {
  const n = chunk.length;
  const hex = n.toString(16);
  const out = Buffer.allocUnsafe(hex.length + n + 4);
  let i = 0;
  for (; i < hex.length; i++) out[i] = hex.charCodeAt(i);
  out[i++] = 0x0d;
  out[i++] = 0x0a;
  out.set(chunk, i);
  i += n;
  out[i++] = 0x0d;
  out[i] = 0x0a;
  return out;
}
