/**
 * fast-check generators of request bytes for the fuzz properties: valid requests (every
 * framing, HEAD, 100-continue, HTTP/1.0, Connection: close), request heads built from
 * hostile parts (bad tokens, stray whitespace, bare CR or LF, controls, high bytes), raw
 * byte soup, and streams of those in random pieces.
 */
import fc from "fast-check";

/** Latin-1 text to bytes. */
export const bytes = (s: string): Buffer => Buffer.from(s, "latin1");

/** Strings of up to `max` characters drawn from `pool`. */
const from = (pool: string, max: number, min = 0) =>
  fc
    .array(fc.constantFrom(...pool.split("")), { minLength: min, maxLength: max })
    .map((a) => a.join(""));

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcxyzABCXYZ";
const VCHARS = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~";
/** Bytes that break things: SP, HTAB, CR, LF, NUL, other controls, DEL, obs-text. */
const HOSTILE = " \t\r\n\x00\x01\x0b\x0c\x1b\x7f\x80\xa0\xff";

const method = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom("GET", "POST", "HEAD", "PUT", "OPTIONS", "DELETE", "PATCH"),
  },
  { weight: 1, arbitrary: fc.constantFrom("CONNECT", "TRACE", "M-SEARCH", "get", "") },
  { weight: 2, arbitrary: from(TCHARS, 8, 1) },
  { weight: 1, arbitrary: from(`${TCHARS + HOSTILE}()/:;`, 6) },
);

const target = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.stringMatching(
      /^\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]{0,16}(\?[A-Za-z0-9=&%/?]{0,8})?$/,
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "*",
      "http://example.com/a?b",
      "https://example.com:8443/",
      "http://user@example.com/",
      "http:///a",
      "ftp://example.com/",
      "example.com:443",
      "/a#frag",
      "/%zz",
      "/a{b}|c",
      "//x",
      "/..%2f",
    ),
  },
  { weight: 2, arbitrary: from(VCHARS, 12, 1).map((s) => `/${s}`) },
  { weight: 1, arbitrary: from(VCHARS + HOSTILE, 10) },
);

const version = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("HTTP/1.1", "HTTP/1.0") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "HTTP/1.9",
      "HTTP/2.0",
      "HTTP/0.9",
      "http/1.1",
      "HTTP/1",
      "HTTP/1.10",
      "HTTPS/1.1",
      "HTTP/1.1 ",
      "",
    ),
  },
);

const sp = fc.oneof(
  { weight: 12, arbitrary: fc.constant(" ") },
  { weight: 1, arbitrary: fc.constantFrom("  ", "\t", "", " \t") },
);
const eol = fc.oneof(
  { weight: 20, arbitrary: fc.constant("\r\n") },
  { weight: 1, arbitrary: fc.constantFrom("\n", "\r", "\r\r\n", "\n\r") },
);

const fieldName = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom("X-A", "Accept", "User-Agent", "Cookie", "X_Under", "Content-Type"),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("Content-Length", "Transfer-Encoding", "Expect", "Connection"),
  },
  { weight: 3, arbitrary: from(TCHARS, 10, 1) },
  { weight: 1, arbitrary: from(`${TCHARS + HOSTILE}()/:;"`, 8) },
);
const fieldSep = fc.oneof(
  { weight: 10, arbitrary: fc.constant(": ") },
  { weight: 2, arbitrary: fc.constantFrom(":", ":\t", ":  ") },
  { weight: 1, arbitrary: fc.constantFrom(" :", "\t:", "::", "") },
);
const fieldValue = fc.oneof(
  { weight: 6, arbitrary: from(VCHARS, 16) },
  { weight: 2, arbitrary: from(`${VCHARS} \t`, 16) },
  { weight: 1, arbitrary: from(`${VCHARS}\x80\xe9\xff`, 8) },
  { weight: 1, arbitrary: from(VCHARS + HOSTILE, 10) },
);
const field = fc
  .tuple(fieldName, fieldSep, fieldValue, eol)
  .map(([n, s, v, e]) => `${n}${s}${v}${e}`);

/**
 * A request head from mostly valid, sometimes hostile parts, usually with a valid Host so
 * that a well-formed one is accepted. It ends with an empty line (unless a part broke it).
 */
export const hostileHead: fc.Arbitrary<string> = fc
  .record({
    lead: fc.oneof(
      { weight: 8, arbitrary: fc.constant("") },
      fc.constantFrom("\r\n", "\r\n\r\n", "\n"),
    ),
    method,
    sp1: sp,
    target,
    sp2: sp,
    version,
    eol1: eol,
    fields: fc.array(field, { maxLength: 4 }),
    host: fc.oneof(
      { weight: 8, arbitrary: fc.constant("Host: example.com\r\n") },
      fc.constantFrom(
        "",
        "Host: a, b\r\n",
        "Host: example.com\r\nHost: example.com\r\n",
        "host:x:80\r\n",
      ),
    ),
    hostAt: fc.nat(4),
    end: eol,
  })
  .map((h) => {
    const fields = [...h.fields];
    fields.splice(Math.min(h.hostAt, fields.length), 0, h.host);
    return `${h.lead}${h.method}${h.sp1}${h.target}${h.sp2}${h.version}${h.eol1}${fields.join("")}${h.end}`;
  });

const bodyText = from("abcxyz0123456789 \r\n", 30);

/** A complete, valid request (its bytes), of any framing. */
export const validRequest: fc.Arbitrary<string> = fc
  .record({
    method: fc.constantFrom("GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE"),
    target: fc.stringMatching(/^\/[A-Za-z0-9._~%-]{0,12}(\?[a-z0-9=&]{0,6})?$/),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
    extra: fc.oneof(
      { weight: 3, arbitrary: fc.constant([]) },
      fc.subarray([
        "Expect: 100-continue\r\n",
        "Connection: close\r\n",
        "Connection: keep-alive\r\n",
        "X-A: b\r\n",
      ]),
    ),
    framing: fc.constantFrom("none", "length", "chunked"),
    body: bodyText,
    pieces: fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 4 }),
    ext: fc.constantFrom("", ";a", ';a="b c"'),
    trailer: fc.constantFrom("", "X-T: 1\r\n"),
  })
  .map((r) => {
    const v10 = r.version === "HTTP/1.0";
    let head = `${r.method} ${r.target} ${r.version}\r\nHost: example.com\r\n${r.extra.join("")}`;
    let body = "";
    const framing = v10 && r.framing === "chunked" ? "length" : r.framing;
    if (framing === "length") {
      head += `Content-Length: ${r.body.length}\r\n`;
      body = r.body;
    } else if (framing === "chunked") {
      head += "Transfer-Encoding: chunked\r\n";
      let rest = r.body;
      for (const n of [...r.pieces, rest.length]) {
        const piece = rest.slice(0, n);
        rest = rest.slice(n);
        if (piece.length > 0) body += `${piece.length.toString(16)}${r.ext}\r\n${piece}\r\n`;
      }
      body += `0\r\n${r.trailer}\r\n`;
    }
    return `${head}\r\n${body}`;
  });

/** HTTP fragments and raw bytes, so soup sometimes gets past the request line. */
const FRAGMENTS = [
  "GET / HTTP/1.1\r\n",
  "POST /p HTTP/1.1\r\n",
  "Host: a\r\n",
  "Content-Length: 3\r\n",
  "Transfer-Encoding: chunked\r\n",
  "\r\n",
  "3\r\nabc\r\n",
  "0\r\n\r\n",
  " ",
  ":",
  "\n",
  "\r",
  "\x00",
  "\xff",
];
const soup = fc
  .array(
    fc.oneof(
      fc.constantFrom(...FRAGMENTS),
      fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b).toString("latin1")),
    ),
    { maxLength: 10 },
  )
  .map((parts) => parts.join(""));

/**
 * A byte stream: a few requests and fragments in a row, sometimes with one byte inserted,
 * replaced or deleted, or cut short.
 */
export const stream: fc.Arbitrary<Buffer> = fc
  .record({
    parts: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: validRequest },
        { weight: 3, arbitrary: hostileHead },
        { weight: 1, arbitrary: soup },
      ),
      { minLength: 1, maxLength: 4 },
    ),
    mutation: fc.option(
      fc.tuple(
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom("insert", "replace", "delete", "truncate"),
      ),
      {
        freq: 4,
      },
    ),
  })
  .map(({ parts, mutation }) => {
    const raw = bytes(parts.join(""));
    if (mutation === null || raw.length === 0) return raw;
    const [at, byte, kind] = mutation;
    const i = at % raw.length;
    if (kind === "replace") {
      raw[i] = byte;
      return raw;
    }
    if (kind === "truncate") return raw.subarray(0, i);
    if (kind === "delete") return Buffer.concat([raw.subarray(0, i), raw.subarray(i + 1)]);
    return Buffer.concat([raw.subarray(0, i), Buffer.of(byte), raw.subarray(i)]);
  });

/** Sorted, distinct cut offsets inside a buffer of `length` bytes (at most `max`). */
export const cutsFor = (length: number, max = 5): fc.Arbitrary<number[]> =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: max })
    .map((a) => a.sort((x, y) => x - y));

/** A stream and where to cut it into pieces (at most five cuts). */
export const streamInPieces: fc.Arbitrary<[Buffer, number[]]> = stream.chain((raw) =>
  fc.tuple(fc.constant(raw), cutsFor(raw.length)),
);
