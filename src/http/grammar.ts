/**
 * The HTTP/1.1 grammar of RFC 9110 and RFC 9112 as named byte tables and small checks.
 *
 * Every table is a `Uint8Array(256)` indexed by a byte: 1 where the byte belongs to the
 * class, 0 elsewhere. A lookup is one array access, which is what keeps the parser fast:
 * it validates the bytes it receives in place, without regular expressions or decoding.
 *
 * The ABNF is quoted next to each table so the code can be checked against the RFC.
 *
 * @module
 */
import { latin1Bytes } from "../bytes.ts";

/** Builds a byte table from explicit characters and inclusive byte ranges. */
function byteTable(chars: string, ...ranges: [number, number][]): Uint8Array {
  const table = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1;
  for (const [from, to] of ranges) table.fill(1, from, to + 1);
  return table;
}

/** ALPHA and DIGIT (RFC 5234 §B.1). */
const ALNUM: [number, number][] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
];

/** Horizontal tab, 0x09. */
export const HTAB = 0x09;
/** Line feed, 0x0a. */
export const LF = 0x0a;
/** Carriage return, 0x0d. */
export const CR = 0x0d;
/** Space, 0x20. */
export const SP = 0x20;
/** `:`, which ends a field name (RFC 9112 §5). */
export const COLON = 0x3a;

/**
 * `tchar`, the characters of a token (RFC 9110 §5.6.2):
 * `"!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`.
 * Methods (RFC 9110 §9.1), field names (RFC 9110 §5.1), transfer codings and chunk extension
 * names are tokens.
 */
export const TCHAR = byteTable("!#$%&'*+-.^_`|~", ...ALNUM);

/**
 * The bytes allowed inside a field value (RFC 9110 §5.5):
 * `field-value = *field-content`, `field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]`,
 * `field-vchar = VCHAR / obs-text`, `obs-text = %x80-FF`. So: VCHAR (0x21-0x7E), SP, HTAB
 * and 0x80-0xFF; never NUL, CR, LF, other controls or DEL.
 */
export const FIELD_VALUE_BYTE = byteTable("\t ", [0x21, 0x7e], [0x80, 0xff]);

/** `VCHAR` (RFC 5234 §B.1): the visible ASCII characters 0x21-0x7E. */
export const VCHAR = byteTable("", [0x21, 0x7e]);

/**
 * The bytes of a `request-target` (RFC 9112 §3.2). Every form is built from URI characters
 * (RFC 3986 §2): unreserved, reserved and `%`. We accept any VCHAR except `#`: a fragment
 * is never part of a request-target, and rejecting one keeps routing unambiguous. Bytes
 * 0x80-0xFF, controls and SP are never part of a URI (clients percent-encode them).
 */
export const TARGET_BYTE = byteTable("", [0x21, 0x22], [0x24, 0x7e]);

/**
 * The characters of an `authority` without userinfo (RFC 3986 §3.2):
 * `reg-name = *( unreserved / pct-encoded / sub-delims )`, IP literals in `[` `]`, and `:`
 * before the port. `@` (userinfo) is left out on purpose: RFC 9110 §4.2.4 says a recipient
 * SHOULD treat userinfo as an error. So is `,`: a sub-delim, but no DNS name or IP address
 * has one, and `a, b` is what two Host values joined into a list look like.
 */
export const AUTHORITY_CHAR = byteTable("-._~%!$&'()*+;=:[]", ...ALNUM);

/**
 * Skips the bytes of a class: the index of the first byte at or after `i` whose `table` entry
 * is not 1, or `end`. Eight bytes per step while they all belong (ANDing eight lookups costs
 * less than eight loop tests): about twice as fast as a plain loop on long values.
 */
export function skipClass(table: Uint8Array, buf: Uint8Array, i: number, end: number): number {
  while (i + 8 <= end) {
    if (
      (table[buf[i]!]! &
        table[buf[i + 1]!]! &
        table[buf[i + 2]!]! &
        table[buf[i + 3]!]! &
        table[buf[i + 4]!]! &
        table[buf[i + 5]!]! &
        table[buf[i + 6]!]! &
        table[buf[i + 7]!]!) !==
      1
    ) {
      break;
    }
    i += 8;
  }
  while (i < end && table[buf[i]!] === 1) i++;
  return i;
}

/** `OWS = *( SP / HTAB )` (RFC 9110 §5.6.3): optional whitespace, also `BWS`. */
export const OWS_BYTE = byteTable("\t ");

/** `HEXDIG` (RFC 5234 §B.1, case-insensitive per RFC 5234 §2.3): the digits of a `chunk-size`. */
export const HEX_VALUE: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) table[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    table[0x41 + i] = 10 + i;
    table[0x61 + i] = 10 + i;
  }
  return table;
})();

/** `DIGIT` (RFC 5234 §B.1): the characters of `Content-Length = 1*DIGIT` (RFC 9110 §8.6). */
export const DIGIT = byteTable("", [0x30, 0x39]);

/**
 * `qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text` (RFC 9110 §5.6.4): the bytes
 * of a quoted-string other than `"` and `\`.
 */
export const QDTEXT = byteTable("\t ", [0x21, 0x21], [0x23, 0x5b], [0x5d, 0x7e], [0x80, 0xff]);

/** `quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )` (RFC 9110 §5.6.4): what may follow `\`. */
export const QUOTED_PAIR_BYTE = byteTable("\t ", [0x21, 0x7e], [0x80, 0xff]);

/**
 * `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`, `HTTP-name = %s"HTTP"` (RFC 9112 §2.3):
 * the name is case-sensitive, so `http/1.1` is not a version.
 */
export const HTTP_VERSION_LENGTH = 8;

/** The bytes `HTTP/` that start every `HTTP-version` (RFC 9112 §2.3). */
export const HTTP_NAME_SLASH: Uint8Array = latin1Bytes("HTTP/");

/**
 * Checks one `chunk-ext` (RFC 9112 §7.1.1) in `buf[start, end)`:
 * `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`,
 * `chunk-ext-name = token`, `chunk-ext-val = token / quoted-string`.
 *
 * @returns true when the bytes are a (possibly empty) list of well-formed extensions
 */
export function isChunkExtensions(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    while (i < end && OWS_BYTE[buf[i]!] === 1) i++;
    if (buf[i] !== 0x3b) return false; // ";"
    i++;
    while (i < end && OWS_BYTE[buf[i]!] === 1) i++;
    const nameStart = i;
    while (i < end && TCHAR[buf[i]!] === 1) i++;
    if (i === nameStart) return false;
    let j = i;
    while (j < end && OWS_BYTE[buf[j]!] === 1) j++;
    if (j < end && buf[j] === 0x3d) {
      // "=" then a token or a quoted-string
      j++;
      while (j < end && OWS_BYTE[buf[j]!] === 1) j++;
      if (buf[j] === 0x22) {
        j = quotedStringEnd(buf, j, end);
        if (j < 0) return false;
      } else {
        const valueStart = j;
        while (j < end && TCHAR[buf[j]!] === 1) j++;
        if (j === valueStart) return false;
      }
      i = j;
    } else if (j < end && buf[j] !== 0x3b) {
      return false;
    } else {
      i = j;
    }
  }
  return true;
}

/**
 * Finds the end of the `quoted-string` (RFC 9110 §5.6.4) that opens at `buf[start]`.
 *
 * @returns the index just after the closing `"`, or -1 if it is malformed or unterminated
 */
export function quotedStringEnd(buf: Uint8Array, start: number, end: number): number {
  let i = start + 1;
  while (i < end) {
    const b = buf[i]!;
    if (b === 0x22) return i + 1;
    if (b === 0x5c) {
      if (i + 1 >= end || QUOTED_PAIR_BYTE[buf[i + 1]!] !== 1) return -1;
      i += 2;
    } else if (QDTEXT[b] === 1) {
      i++;
    } else {
      return -1;
    }
  }
  return -1;
}

/**
 * Checks a `Host` field value or the authority of an absolute-form target (RFC 9112 §3.2,
 * RFC 9110 §7.2): `uri-host [ ":" port ]`, where `uri-host` is an IP literal in brackets, or
 * a reg-name of unreserved, percent-encoded and sub-delim characters, and `port = *DIGIT`.
 * Userinfo (`@`) and anything else make it invalid. The empty string is a valid `Host`
 * (RFC 9110 §7.2: a URI with an empty authority).
 */
export function isValidAuthority(value: string): boolean {
  const authorityChar = AUTHORITY_CHAR;
  const n = value.length;
  let i = 0;
  if (n > 0 && value.charCodeAt(0) === 0x5b) {
    // IP-literal = "[" ( IPv6address / IPvFuture ) "]": hex digits, ":", "." and, for
    // IPvFuture, "v" and unreserved / sub-delims; checked by character class only.
    const close = value.indexOf("]");
    if (close < 2) return false;
    for (i = 1; i < close; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f || authorityChar[c] !== 1 || c === 0x5b || c === 0x25) return false;
    }
    i = close + 1;
  } else {
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c === 0x3a) break;
      if (c > 0x7f || authorityChar[c] !== 1 || c === 0x5b || c === 0x5d) return false;
      if (c === 0x25 && !isPercentEncoded(value, i)) return false;
    }
  }
  if (i === n) return true;
  if (value.charCodeAt(i) !== 0x3a) return false;
  for (i++; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** `pct-encoded = "%" HEXDIG HEXDIG` (RFC 3986 §2.1) at `value[i]`. */
function isPercentEncoded(value: string, i: number): boolean {
  const a = value.charCodeAt(i + 1);
  const b = value.charCodeAt(i + 2);
  return a < 256 && b < 256 && HEX_VALUE[a]! >= 0 && HEX_VALUE[b]! >= 0;
}

/**
 * Checks that a string is a `token` (RFC 9110 §5.6.2): one or more `tchar`.
 * Used for response field names and methods given as strings.
 */
export function isToken(value: string): boolean {
  const tchar = TCHAR;
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || tchar[c] !== 1) return false;
  }
  return true;
}

/** Response field names already checked: an application sends the same few again and again. */
const fieldNames = new Set<string>();
/** How many names `fieldNames` keeps; past that, names are checked each time. */
const FIELD_NAMES_MAX = 512;

/**
 * `isToken` for the field names of responses, remembering up to 512 names that passed: a
 * lookup costs less than a scan. Only for names the application chose, never the client.
 */
export function isFieldName(name: string): boolean {
  if (fieldNames.has(name)) return true;
  if (!isToken(name)) return false;
  if (fieldNames.size < FIELD_NAMES_MAX) fieldNames.add(name);
  return true;
}

/**
 * Checks that a string is a valid `field-value` (RFC 9110 §5.5) as one line: only
 * `field-vchar`, SP and HTAB, each a char code below 256. Leading or trailing whitespace
 * is tolerated (it is OWS around the value on the wire). Used for response fields, where
 * a CR or LF would split the response.
 */
export function isFieldValue(value: string): boolean {
  const valueByte = FIELD_VALUE_BYTE;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || valueByte[c] !== 1) return false;
  }
  return true;
}

/**
 * The request-target forms of RFC 9112 §3.2: `origin-form` (`/path?query`, §3.2.1),
 * `absolute-form` (`http://host/path`, §3.2.2), `authority-form` (`host:port`, CONNECT only,
 * §3.2.3) and `asterisk-form` (`*`, OPTIONS only, §3.2.4).
 */
export type TargetForm = "origin" | "absolute" | "authority" | "asterisk";
