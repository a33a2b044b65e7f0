/**
 * The coded errors of the HTTP/1.1 core.
 *
 * `ProtocolError` is the peer's fault: a malformed, hostile or oversized request. It carries
 * a stable `code`, the `status` and `reason` to answer with, and the RFC clause that decides
 * it. After one, the connection answers with that status and closes.
 *
 * `LocalProtocolError` is our side's fault: the server or the application asked the core
 * for something HTTP does not allow (writing more than the declared `Content-Length`, a
 * header value with a line break, a response before a request). It also carries a code.
 *
 * `PROTOCOL_ERRORS` is the table of every code, exported as data for the docs and logs.
 *
 * @module
 */

/** What one protocol error code means: the answer to send and the clause that decides it. */
export interface ProtocolErrorInfo {
  /** The status code of the answer. */
  readonly status: number;
  /** The reason phrase of the answer. */
  readonly reason: string;
  /** The RFC clause that requires or allows the rejection. */
  readonly rfc: string;
  /** One line on when it happens. */
  readonly summary: string;
}

const BAD = "Bad Request";

/** Every code a `ProtocolError` can carry, with its status, reason, RFC clause and summary. */
export const PROTOCOL_ERRORS = {
  ERR_INVALID_REQUEST_LINE: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §3",
    summary:
      "The request line is not `method SP request-target SP HTTP-version` with single spaces.",
  },
  ERR_INVALID_METHOD: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9110 §9.1",
    summary: "The method is not a token.",
  },
  ERR_INVALID_TARGET: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §3.2",
    summary:
      "The request-target has a forbidden byte or fits none of the forms allowed for its method.",
  },
  ERR_URI_TOO_LONG: {
    status: 414,
    reason: "URI Too Long",
    rfc: "RFC 9112 §3; RFC 9110 §15.5.15",
    summary: "The request line is longer than `maxRequestLineLength`.",
  },
  ERR_METHOD_TOO_LONG: {
    status: 501,
    reason: "Not Implemented",
    rfc: "RFC 9112 §3; RFC 9110 §15.6.2",
    summary:
      "A method as long as `maxRequestLineLength`: longer than any method implemented, so 501, not 414.",
  },
  ERR_INVALID_VERSION: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §2.3",
    summary: "The version is not `HTTP/` DIGIT `.` DIGIT (names are case-sensitive).",
  },
  ERR_UNSUPPORTED_VERSION: {
    status: 505,
    reason: "HTTP Version Not Supported",
    rfc: "RFC 9110 §15.6.6",
    summary: "A well-formed version whose major number is not 1, or HTTP/0.9.",
  },
  ERR_BARE_CR: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §2.2",
    summary: "A CR not followed by LF in the head or a chunk line.",
  },
  ERR_BARE_LF: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §2.2",
    summary: "A line ended by LF alone; only CRLF is accepted.",
  },
  ERR_OBS_FOLD: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §5.2; RFC 9112 §2.2",
    summary:
      "A field line starts with whitespace (obsolete line folding, or whitespace after the request line).",
  },
  ERR_INVALID_HEADER_NAME: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9110 §5.1; RFC 9112 §5.1",
    summary:
      "A field name is empty, not a token, has whitespace before the colon, or the colon is missing.",
  },
  ERR_INVALID_HEADER_VALUE: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9110 §5.5",
    summary: "A field value holds NUL, a control character other than HTAB, or DEL.",
  },
  ERR_HEADERS_TOO_LARGE: {
    status: 431,
    reason: "Request Header Fields Too Large",
    rfc: "RFC 6585 §5",
    summary: "The header section is longer than `maxHeaderBytes`.",
  },
  ERR_TOO_MANY_HEADERS: {
    status: 431,
    reason: "Request Header Fields Too Large",
    rfc: "RFC 6585 §5",
    summary: "The header section has more than `maxHeaderCount` fields.",
  },
  ERR_MISSING_HOST: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §3.2",
    summary: "An HTTP/1.1 request without a Host field.",
  },
  ERR_DUPLICATE_HOST: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §3.2",
    summary: "More than one Host field line.",
  },
  ERR_INVALID_HOST: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §3.2; RFC 9110 §7.2",
    summary:
      'A Host value that is not `uri-host [ ":" port ]` (a list, userinfo, a path...), or one no URL can hold (`:80`, a port above 65535, `[v1.x]`, a bad IP literal).',
  },
  ERR_INVALID_CONTENT_LENGTH: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9110 §8.6; RFC 9112 §6.3",
    summary:
      "Content-Length is not 1*DIGIT (sign, hex, inner space, empty) or is too large to be exact.",
  },
  ERR_DUPLICATE_CONTENT_LENGTH: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9110 §8.6; RFC 9112 §6.3",
    summary: "Content-Length repeated, as two lines or a comma list, even with equal values.",
  },
  ERR_CL_AND_TE: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §6.1; RFC 9112 §6.3",
    summary: "Both Content-Length and Transfer-Encoding: the classic request smuggling vector.",
  },
  ERR_TE_NOT_FINAL_CHUNKED: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §6.3",
    summary:
      "Transfer-Encoding whose final coding is not `chunked`: the body length cannot be known.",
  },
  ERR_TE_CHUNKED_TWICE: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §6.1",
    summary: "`chunked` applied more than once.",
  },
  ERR_INVALID_TRANSFER_ENCODING: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §6.1; RFC 9110 §5.6.1",
    summary: "Transfer-Encoding is empty, not a list of tokens, or gives `chunked` parameters.",
  },
  ERR_TE_IN_HTTP10: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §6.1",
    summary: "Transfer-Encoding in an HTTP/1.0 request: its framing must be treated as faulty.",
  },
  ERR_UNKNOWN_TRANSFER_CODING: {
    status: 501,
    reason: "Not Implemented",
    rfc: "RFC 9112 §6.1",
    summary: "A transfer coding other than `chunked` before the final `chunked` (gzip, ...).",
  },
  ERR_INVALID_CHUNK: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §7.1",
    summary:
      "A chunk-size that is not 1*HEXDIG or overflows, a bad chunk-ext, or no CRLF after chunk data.",
  },
  ERR_CHUNK_EXTENSION_TOO_LONG: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §7.1.1",
    summary: "A chunk line longer than `maxChunkLineLength` (size plus extensions).",
  },
  ERR_TRAILERS_TOO_LARGE: {
    status: 431,
    reason: "Request Header Fields Too Large",
    rfc: "RFC 9112 §7.1.2; RFC 6585 §5",
    summary:
      "The trailer section is longer than `maxTrailerBytes` or has more than `maxHeaderCount` fields.",
  },
  ERR_FORBIDDEN_TRAILER: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9110 §6.5.1",
    summary:
      "A framing or routing field (Content-Length, Transfer-Encoding, Host) in the trailers.",
  },
  ERR_BODY_TOO_LARGE: {
    status: 413,
    reason: "Content Too Large",
    rfc: "RFC 9110 §15.5.14",
    summary:
      "The body is longer than `maxBodySize`, declared by Content-Length or counted in chunks.",
  },
  ERR_HEADER_TIMEOUT: {
    status: 408,
    reason: "Request Timeout",
    rfc: "RFC 9110 §15.5.9",
    summary: "A request head began but did not arrive whole within `headerTimeout`.",
  },
  ERR_BODY_TIMEOUT: {
    status: 408,
    reason: "Request Timeout",
    rfc: "RFC 9110 §15.5.9",
    summary:
      "The next bytes of a request body the application was reading did not arrive within `bodyTimeout`.",
  },
  ERR_BODY_TOO_SLOW: {
    status: 408,
    reason: "Request Timeout",
    rfc: "RFC 9110 §15.5.9",
    summary:
      "A request body the application was reading arrived slower than `minBodyRate` bytes per second, after a grace period.",
  },
  ERR_RESPONSE_TIMEOUT: {
    status: 500,
    reason: "Internal Server Error",
    rfc: "RFC 9110 §15.6.1",
    summary: "The application did not finish its response within `responseTimeout`.",
  },
  ERR_EXPECTATION_FAILED: {
    status: 417,
    reason: "Expectation Failed",
    rfc: "RFC 9110 §10.1.1",
    summary: "An Expect value other than `100-continue`.",
  },
  ERR_CONNECT_NOT_SUPPORTED: {
    status: 501,
    reason: "Not Implemented",
    rfc: "RFC 9110 §9.3.6; RFC 9110 §15.6.2",
    summary: "CONNECT: this is an origin server, not a tunnel.",
  },
  ERR_INCOMPLETE_MESSAGE: {
    status: 400,
    reason: BAD,
    rfc: "RFC 9112 §8",
    summary: "The peer closed its side in the middle of a request head or body.",
  },
} as const satisfies Record<string, ProtocolErrorInfo>;

/** A code a `ProtocolError` can carry: a key of `PROTOCOL_ERRORS`. */
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;

/**
 * Renders a piece of received input for an error message: latin-1, with every byte outside
 * printable ASCII escaped (`\r`, `\n`, `\t`, `\xNN`), cut to `max` characters.
 */
export function escapeBytes(value: string | Uint8Array, max = 64): string {
  const text = typeof value === "string" ? value : Buffer.from(value).toString("latin1");
  let out = "";
  const n = Math.min(text.length, max);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d) out += "\\r";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x5c) out += "\\\\";
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += text[i];
  }
  return text.length > max ? `${out}...` : out;
}

/**
 * The peer sent something HTTP/1.1 forbids, or more than our limits allow.
 *
 * @example
 * try { conn.nextEvent(); } catch (e) {
 *   if (e instanceof ProtocolError) socket.end(conn.sendErrorResponse(e));
 * }
 */
export class ProtocolError extends Error {
  /** The stable code, such as `ERR_CL_AND_TE`. */
  readonly code: ProtocolErrorCode;
  /** The status code to answer with. */
  readonly status: number;
  /** The reason phrase to answer with. */
  readonly reason: string;
  /** The RFC clause that decides it. */
  readonly rfc: string;

  /**
   * @param code which rule was broken
   * @param message what exactly was wrong, naming the offending value (escaped, truncated)
   */
  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    const info: ProtocolErrorInfo = PROTOCOL_ERRORS[code];
    this.code = code;
    this.status = info.status;
    this.reason = info.reason;
    this.rfc = info.rfc;
  }

  override readonly name = "ProtocolError";
}

/** The codes of a `LocalProtocolError`: misuse of the core by the server or application. */
export type LocalProtocolErrorCode =
  | "ERR_INVALID_STATE"
  | "ERR_INVALID_STATUS"
  | "ERR_INVALID_RESPONSE_HEADER"
  | "ERR_INVALID_RESPONSE_CONTENT_LENGTH"
  | "ERR_RESPONSE_BODY_TOO_LONG"
  | "ERR_RESPONSE_BODY_TOO_SHORT";

/**
 * Our side broke the protocol: the server or application asked the core for something
 * HTTP/1.1 does not allow. When the response head was already sent, the connection can only
 * be closed; `ServerConnection` moves to its error state.
 */
export class LocalProtocolError extends Error {
  /** The stable code, such as `ERR_RESPONSE_BODY_TOO_LONG`. */
  readonly code: LocalProtocolErrorCode;

  /**
   * @param code which rule was broken
   * @param message what exactly was wrong
   */
  constructor(code: LocalProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }

  override readonly name = "LocalProtocolError";
}
