/**
 * A corpus of malformed and hostile requests, as plain data: each `raw` request (latin-1)
 * must be rejected with `status` and the `ProtocolError` `code`.
 *
 * Run it with the limits of `CORPUS_LIMITS` (everything default except a 1 MiB body limit,
 * so the 413 cases have something to hit). Cases with `halfClose` end with the client
 * shutting down its sending side: the request is cut short.
 *
 * The same data drives `corpus.test.ts` (through `ServerConnection`, whole and byte by byte)
 * and the server's socket tests.
 */
import type { ProtocolErrorCode } from "../../src/http/errors.ts";
import type { Limits } from "../../src/http/limits.ts";

/** One hostile request and the answer it must get. */
export interface CorpusCase {
  /** What it tries, kebab-case. */
  readonly name: string;
  /** The bytes sent, as a latin-1 string. */
  readonly raw: string;
  /** The status of the answer. */
  readonly status: number;
  /** The `ProtocolError` code. */
  readonly code: ProtocolErrorCode;
  /** The client closes its sending side after `raw`. */
  readonly halfClose?: boolean;
}

/** The limits the corpus assumes. */
export const CORPUS_LIMITS: Partial<Limits> = { maxBodySize: 1024 * 1024 };

const H = "Host: example.com\r\n";
const post = (fields: string, body = "") => `POST /submit HTTP/1.1\r\n${H}${fields}\r\n${body}`;
const get = (fields: string) => `GET / HTTP/1.1\r\n${fields}\r\n`;
const chunked = (body: string) => post("Transfer-Encoding: chunked\r\n", body);

/** Every case, grouped by what it attacks. */
export const CORPUS: readonly CorpusCase[] = [
  // Content-Length and Transfer-Encoding together: the classic CL.TE / TE.CL smuggling.
  {
    name: "cl-then-te",
    raw: post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_CL_AND_TE",
  },
  {
    name: "te-then-cl",
    raw: post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_CL_AND_TE",
  },
  {
    name: "te-tab-value-with-cl",
    raw: post("Transfer-Encoding:\tchunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_CL_AND_TE",
  },
  {
    name: "te-xchunked-with-cl",
    raw: post("Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_CL_AND_TE",
  },
  {
    name: "te-lowercase-with-cl-smuggled-get",
    raw: post(
      "transfer-encoding: CHUNKED\r\nContent-Length: 35\r\n",
      "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n",
    ),
    status: 400,
    code: "ERR_CL_AND_TE",
  },
  // Transfer-Encoding obfuscations.
  {
    name: "te-chunked-identity",
    raw: post("Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_TE_NOT_FINAL_CHUNKED",
  },
  {
    name: "te-xchunked",
    raw: post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_TE_NOT_FINAL_CHUNKED",
  },
  {
    name: "te-identity",
    raw: post("Transfer-Encoding: identity\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_TE_NOT_FINAL_CHUNKED",
  },
  {
    name: "te-gzip-alone",
    raw: post("Transfer-Encoding: gzip\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_TE_NOT_FINAL_CHUNKED",
  },
  {
    name: "te-chunked-then-gzip",
    raw: post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_TE_NOT_FINAL_CHUNKED",
  },
  {
    name: "te-gzip-then-chunked",
    raw: post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
    status: 501,
    code: "ERR_UNKNOWN_TRANSFER_CODING",
  },
  {
    name: "te-gzip-line-then-chunked-line",
    raw: post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
    status: 501,
    code: "ERR_UNKNOWN_TRANSFER_CODING",
  },
  {
    name: "te-chunked-twice-in-list",
    raw: post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_TE_CHUNKED_TWICE",
  },
  {
    name: "te-duplicate-lines",
    raw: post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_TE_CHUNKED_TWICE",
  },
  {
    name: "te-empty",
    raw: post("Transfer-Encoding: \r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_TRANSFER_ENCODING",
  },
  {
    name: "te-only-commas",
    raw: post("Transfer-Encoding: , ,\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_TRANSFER_ENCODING",
  },
  {
    name: "te-chunked-with-parameter",
    raw: post("Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_TRANSFER_ENCODING",
  },
  {
    name: "te-quoted-chunked",
    raw: post('Transfer-Encoding: "chunked"\r\n', "0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_TRANSFER_ENCODING",
  },
  {
    name: "te-space-before-colon",
    raw: post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_HEADER_NAME",
  },
  {
    name: "te-folded-value",
    raw: post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_OBS_FOLD",
  },
  {
    name: "te-folded-line",
    raw: post("X-Padding: a\r\n Transfer-Encoding: chunked\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_OBS_FOLD",
  },
  {
    name: "te-vertical-tab",
    raw: post("Transfer-Encoding: chunked\x0b\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_HEADER_VALUE",
  },
  {
    name: "te-form-feed",
    raw: post("Transfer-Encoding: \x0cchunked\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_HEADER_VALUE",
  },
  {
    name: "te-nul",
    raw: post("Transfer-Encoding: chunked\x00\r\n", "0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_HEADER_VALUE",
  },
  {
    name: "te-in-http10",
    raw: `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: "ERR_TE_IN_HTTP10",
  },
  // Content-Length.
  {
    name: "cl-plus-sign",
    raw: post("Content-Length: +5\r\n", "hello"),
    status: 400,
    code: "ERR_INVALID_CONTENT_LENGTH",
  },
  {
    name: "cl-minus-sign",
    raw: post("Content-Length: -1\r\n"),
    status: 400,
    code: "ERR_INVALID_CONTENT_LENGTH",
  },
  {
    name: "cl-hex",
    raw: post("Content-Length: 0x5\r\n", "hello"),
    status: 400,
    code: "ERR_INVALID_CONTENT_LENGTH",
  },
  {
    name: "cl-empty",
    raw: post("Content-Length: \r\n"),
    status: 400,
    code: "ERR_INVALID_CONTENT_LENGTH",
  },
  {
    name: "cl-inner-space",
    raw: post("Content-Length: 1 0\r\n", "0123456789"),
    status: 400,
    code: "ERR_INVALID_CONTENT_LENGTH",
  },
  {
    name: "cl-underscore",
    raw: post("Content-Length: 1_0\r\n", "0123456789"),
    status: 400,
    code: "ERR_INVALID_CONTENT_LENGTH",
  },
  {
    name: "cl-decimal-point",
    raw: post("Content-Length: 5.0\r\n", "hello"),
    status: 400,
    code: "ERR_INVALID_CONTENT_LENGTH",
  },
  {
    name: "cl-superscript-digit",
    raw: post("Content-Length: 5\xb2\r\n", "hello"),
    status: 400,
    code: "ERR_INVALID_CONTENT_LENGTH",
  },
  {
    name: "cl-overflow",
    raw: post("Content-Length: 99999999999999999999\r\n"),
    status: 400,
    code: "ERR_INVALID_CONTENT_LENGTH",
  },
  {
    name: "cl-list-different",
    raw: post("Content-Length: 5, 6\r\n", "hello!"),
    status: 400,
    code: "ERR_DUPLICATE_CONTENT_LENGTH",
  },
  {
    name: "cl-list-same",
    raw: post("Content-Length: 5, 5\r\n", "hello"),
    status: 400,
    code: "ERR_DUPLICATE_CONTENT_LENGTH",
  },
  {
    name: "cl-two-lines-same",
    raw: post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"),
    status: 400,
    code: "ERR_DUPLICATE_CONTENT_LENGTH",
  },
  {
    name: "cl-two-lines-different",
    raw: post("Content-Length: 5\r\nContent-Length: 40\r\n", "hello"),
    status: 400,
    code: "ERR_DUPLICATE_CONTENT_LENGTH",
  },
  {
    name: "cl-above-body-limit",
    raw: post("Content-Length: 2000000\r\n"),
    status: 413,
    code: "ERR_BODY_TOO_LARGE",
  },
  // Chunked framing.
  {
    name: "chunk-size-not-hex",
    raw: chunked("g\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-size-empty",
    raw: chunked("\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-size-overflow",
    raw: chunked("fffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-size-0x-prefix",
    raw: chunked("0x5\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-size-negative",
    raw: chunked("-5\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-size-plus",
    raw: chunked("+5\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-size-leading-space",
    raw: chunked(" 5\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-size-trailing-space",
    raw: chunked("5 \r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-size-underscore",
    raw: chunked("5_0\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-data-longer-than-size",
    raw: chunked("5\r\nhello world\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-data-lf-only",
    raw: chunked("5\r\nhello\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-data-cr-only",
    raw: chunked("5\r\nhello\r0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-ext-bare-semicolon",
    raw: chunked("5;\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-ext-space-in-value",
    raw: chunked("5;a=b c\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-ext-unterminated-quote",
    raw: chunked('5;a="b\r\nhello\r\n0\r\n\r\n'),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-ext-control-char",
    raw: chunked("5;a=\x01\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_INVALID_CHUNK",
  },
  {
    name: "chunk-ext-bare-cr",
    raw: chunked("5;a\rb\r\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_BARE_CR",
  },
  {
    name: "chunk-line-lf-only",
    raw: chunked("5\nhello\r\n0\r\n\r\n"),
    status: 400,
    code: "ERR_BARE_LF",
  },
  {
    name: "last-chunk-lf-only",
    raw: chunked("5\r\nhello\r\n0\n\r\n"),
    status: 400,
    code: "ERR_BARE_LF",
  },
  {
    name: "trailer-lf-only",
    raw: chunked("0\r\nX-Checksum: 1\n\r\n"),
    status: 400,
    code: "ERR_BARE_LF",
  },
  {
    name: "trailer-content-length",
    raw: chunked("5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n"),
    status: 400,
    code: "ERR_FORBIDDEN_TRAILER",
  },
  {
    name: "trailer-transfer-encoding",
    raw: chunked("0\r\nTransfer-Encoding: chunked\r\n\r\n"),
    status: 400,
    code: "ERR_FORBIDDEN_TRAILER",
  },
  {
    name: "trailer-host",
    raw: chunked("0\r\nHost: evil.example\r\n\r\n"),
    status: 400,
    code: "ERR_FORBIDDEN_TRAILER",
  },
  {
    name: "trailer-obs-fold",
    raw: chunked("0\r\nX-A: 1\r\n 2\r\n\r\n"),
    status: 400,
    code: "ERR_OBS_FOLD",
  },
  {
    name: "chunk-extension-too-long",
    raw: chunked(`5;x=${"a".repeat(5000)}\r\nhello\r\n0\r\n\r\n`),
    status: 400,
    code: "ERR_CHUNK_EXTENSION_TOO_LONG",
  },
  {
    name: "chunk-above-body-limit",
    raw: chunked("200000\r\nhello"),
    status: 413,
    code: "ERR_BODY_TOO_LARGE",
  },
  {
    name: "trailers-too-large",
    raw: chunked(`0\r\nX-Big: ${"a".repeat(17000)}\r\n\r\n`),
    status: 431,
    code: "ERR_TRAILERS_TOO_LARGE",
  },
  // Field lines.
  {
    name: "obs-fold",
    raw: get(`${H}X-Long: first\r\n second\r\n`),
    status: 400,
    code: "ERR_OBS_FOLD",
  },
  {
    name: "obs-fold-tab",
    raw: get(`${H}X-Long: first\r\n\tsecond\r\n`),
    status: 400,
    code: "ERR_OBS_FOLD",
  },
  {
    name: "whitespace-before-first-field",
    raw: `GET / HTTP/1.1\r\n ${H}\r\n`,
    status: 400,
    code: "ERR_OBS_FOLD",
  },
  {
    name: "space-before-colon",
    raw: get("Host : example.com\r\n"),
    status: 400,
    code: "ERR_INVALID_HEADER_NAME",
  },
  {
    name: "tab-before-colon",
    raw: get(`${H}X-A\t: 1\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_NAME",
  },
  {
    name: "empty-field-name",
    raw: get(`${H}: value\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_NAME",
  },
  {
    name: "field-without-colon",
    raw: get(`${H}NoColonHere\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_NAME",
  },
  {
    name: "field-name-parenthesis",
    raw: get(`${H}X(A): 1\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_NAME",
  },
  {
    name: "field-name-slash",
    raw: get(`${H}X/A: 1\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_NAME",
  },
  {
    name: "field-name-high-byte",
    raw: get(`${H}X-\xe9: 1\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_NAME",
  },
  {
    name: "field-name-nul",
    raw: get(`${H}X-\x00A: 1\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_NAME",
  },
  {
    name: "field-value-nul",
    raw: get(`${H}X-A: a\x00b\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_VALUE",
  },
  {
    name: "field-value-control",
    raw: get(`${H}X-A: a\x01b\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_VALUE",
  },
  {
    name: "field-value-escape",
    raw: get(`${H}X-A: \x1b[31m\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_VALUE",
  },
  {
    name: "field-value-del",
    raw: get(`${H}X-A: a\x7fb\r\n`),
    status: 400,
    code: "ERR_INVALID_HEADER_VALUE",
  },
  { name: "field-value-bare-cr", raw: get(`${H}X-A: a\rb\r\n`), status: 400, code: "ERR_BARE_CR" },
  {
    name: "header-injection-bare-cr",
    raw: get(`${H}X-A: a\rTransfer-Encoding: chunked\r\n`),
    status: 400,
    code: "ERR_BARE_CR",
  },
  {
    name: "field-line-lf-only",
    raw: `GET / HTTP/1.1\r\n${"Host: example.com\n"}\r\n`,
    status: 400,
    code: "ERR_BARE_LF",
  },
  {
    name: "request-line-lf-only",
    raw: `GET / HTTP/1.1\n${H}\r\n`,
    status: 400,
    code: "ERR_BARE_LF",
  },
  {
    name: "lf-only-everywhere",
    raw: "GET / HTTP/1.1\nHost: example.com\n\n",
    status: 400,
    code: "ERR_BARE_LF",
  },
  {
    name: "cr-only-everywhere",
    raw: "GET / HTTP/1.1\rHost: example.com\r\r",
    status: 400,
    code: "ERR_BARE_CR",
  },
  {
    name: "end-of-head-lf-only",
    raw: `GET / HTTP/1.1\r\n${H}\n`,
    status: 400,
    code: "ERR_BARE_LF",
  },
  // Request line.
  {
    name: "nul-in-target",
    raw: `GET /\x00 HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_TARGET",
  },
  {
    name: "nul-in-method",
    raw: `G\x00T / HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_METHOD",
  },
  {
    name: "method-not-token",
    raw: `GE(T / HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_METHOD",
  },
  {
    name: "double-space",
    raw: `GET  / HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_REQUEST_LINE",
  },
  {
    name: "tab-separator",
    raw: `GET\t/ HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_REQUEST_LINE",
  },
  {
    name: "trailing-space",
    raw: `GET / HTTP/1.1 \r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_REQUEST_LINE",
  },
  {
    name: "leading-space",
    raw: ` GET / HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_REQUEST_LINE",
  },
  {
    name: "space-in-target",
    raw: `GET /a b HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_REQUEST_LINE",
  },
  { name: "http09-request", raw: "GET /\r\n\r\n", status: 400, code: "ERR_INVALID_REQUEST_LINE" },
  {
    name: "tls-client-hello",
    raw: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    status: 400,
    code: "ERR_INVALID_REQUEST_LINE",
  },
  {
    name: "fragment-in-target",
    raw: `GET /page#frag HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_TARGET",
  },
  {
    name: "high-byte-in-target",
    raw: `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_TARGET",
  },
  {
    name: "asterisk-with-get",
    raw: `GET * HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_TARGET",
  },
  {
    name: "authority-form-with-get",
    raw: `GET example.com:80 HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_TARGET",
  },
  {
    name: "absolute-form-userinfo",
    raw: `GET http://user:pw@example.com/ HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_TARGET",
  },
  {
    name: "absolute-form-empty-host",
    raw: `GET http:///path HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_TARGET",
  },
  {
    name: "absolute-form-ftp",
    raw: `GET ftp://example.com/ HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_TARGET",
  },
  {
    name: "connect",
    raw: `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`,
    status: 501,
    code: "ERR_CONNECT_NOT_SUPPORTED",
  },
  {
    name: "version-lowercase",
    raw: `GET / http/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_VERSION",
  },
  {
    name: "version-no-minor",
    raw: `GET / HTTP/1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_VERSION",
  },
  {
    name: "version-https",
    raw: `GET / HTTPS/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_VERSION",
  },
  {
    name: "version-two-digit-minor",
    raw: `GET / HTTP/1.10\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_VERSION",
  },
  {
    name: "version-http2",
    raw: `GET / HTTP/2.0\r\n${H}\r\n`,
    status: 505,
    code: "ERR_UNSUPPORTED_VERSION",
  },
  {
    name: "version-http3",
    raw: `GET / HTTP/3.0\r\n${H}\r\n`,
    status: 505,
    code: "ERR_UNSUPPORTED_VERSION",
  },
  {
    name: "version-http09",
    raw: "GET / HTTP/0.9\r\n\r\n",
    status: 505,
    code: "ERR_UNSUPPORTED_VERSION",
  },
  {
    name: "h2-prior-knowledge-preface",
    raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    status: 505,
    code: "ERR_UNSUPPORTED_VERSION",
  },
  // Host.
  {
    name: "missing-host",
    raw: "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
    status: 400,
    code: "ERR_MISSING_HOST",
  },
  {
    name: "two-hosts",
    raw: get("Host: example.com\r\nHost: evil.example\r\n"),
    status: 400,
    code: "ERR_DUPLICATE_HOST",
  },
  {
    name: "two-hosts-same",
    raw: get("Host: example.com\r\nHost: example.com\r\n"),
    status: 400,
    code: "ERR_DUPLICATE_HOST",
  },
  {
    name: "two-hosts-http10",
    raw: "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
    status: 400,
    code: "ERR_DUPLICATE_HOST",
  },
  {
    name: "host-list",
    raw: get("Host: example.com, evil.example\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-userinfo",
    raw: get("Host: user@example.com\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-with-path",
    raw: get("Host: example.com/admin\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-with-space",
    raw: get("Host: exa mple.com\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-bad-port",
    raw: get("Host: example.com:http\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-bad-percent",
    raw: get("Host: ex%zzample.com\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-port-without-name",
    raw: get("Host: :80\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-port-too-large",
    raw: get("Host: x:99999\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-ipvfuture",
    raw: get("Host: [v1.x]\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-bad-ipv6",
    raw: get("Host: [1:2:3]\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  {
    name: "host-bad-ipv4",
    raw: get("Host: 1.2.3.999\r\n"),
    status: 400,
    code: "ERR_INVALID_HOST",
  },
  // The Host rule follows the URL parser: Node 20 and 22 refuse a bad punycode label,
  // Node 24's parser takes any `xn--` label, so the case holds only where it refuses.
  ...(URL.canParse("http://xn--a.example/")
    ? []
    : [
        {
          name: "host-bad-punycode",
          raw: get("Host: xn--a.example\r\n"),
          status: 400,
          code: "ERR_INVALID_HOST",
        } as const,
      ]),
  {
    name: "absolute-form-port-too-large",
    raw: `GET http://example.com:99999/ HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "ERR_INVALID_TARGET",
  },
  // Limits.
  {
    name: "request-line-too-long",
    raw: `GET /${"a".repeat(9000)} HTTP/1.1\r\n${H}\r\n`,
    status: 414,
    code: "ERR_URI_TOO_LONG",
  },
  {
    name: "method-too-long",
    raw: `${"M".repeat(9000)} / HTTP/1.1\r\n${H}\r\n`,
    status: 501,
    code: "ERR_METHOD_TOO_LONG",
  },
  {
    name: "too-many-fields",
    raw: get(`${H}${"X-A: 1\r\n".repeat(100)}`),
    status: 431,
    code: "ERR_TOO_MANY_HEADERS",
  },
  {
    name: "header-section-too-large",
    raw: get(`${H}Cookie: ${"c".repeat(17000)}\r\n`),
    status: 431,
    code: "ERR_HEADERS_TOO_LARGE",
  },
  {
    name: "many-empty-lines-before-request",
    raw: `${"\r\n".repeat(5000)}GET / HTTP/1.1\r\n${H}\r\n`,
    status: 414,
    code: "ERR_URI_TOO_LONG",
  },
  // Expectations and cut-short messages.
  {
    name: "unknown-expectation",
    raw: get(`${H}Expect: 200-ok\r\n`),
    status: 417,
    code: "ERR_EXPECTATION_FAILED",
  },
  {
    name: "head-cut-short",
    raw: `GET / HTTP/1.1\r\n${H}`,
    status: 400,
    code: "ERR_INCOMPLETE_MESSAGE",
    halfClose: true,
  },
  {
    name: "body-cut-short",
    raw: post("Content-Length: 10\r\n", "hello"),
    status: 400,
    code: "ERR_INCOMPLETE_MESSAGE",
    halfClose: true,
  },
  {
    name: "chunked-body-cut-short",
    raw: chunked("5\r\nhello\r\n"),
    status: 400,
    code: "ERR_INCOMPLETE_MESSAGE",
    halfClose: true,
  },
];
