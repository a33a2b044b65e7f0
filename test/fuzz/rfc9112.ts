/**
 * An independent, deliberately naive recogniser of HTTP/1.1 request heads, written from the
 * ABNF of RFC 9112 (§2.1, §2.2, §3, §5), RFC 9110 (§5.1, §5.5, §5.6) and RFC 3986 (§3), as
 * regular expressions over the head's latin-1 text. It shares no code with src/http/: it is
 * the oracle the fuzz tests compare the real parser with ("what the parser accepts, a strict
 * reading of the RFCs accepts too").
 *
 * It checks the grammar only: no limits, no Host/Content-Length/Transfer-Encoding rules, no
 * method-specific target forms. Those are semantic checks the real parser adds on top, so
 * the comparison goes one way: parser accepts => recogniser accepts, with the same parts.
 *
 * @module
 */

// RFC 5234 §B.1 and RFC 3986 §2.
const ALPHA = "A-Za-z";
const DIGIT = "0-9";
const HEXDIG = "0-9A-Fa-f";
const UNRESERVED = `${ALPHA}${DIGIT}\\-._~`;
const SUB_DELIMS = "!$&'()*+,;=";
/** `pct-encoded = "%" HEXDIG HEXDIG` */
const PCT_ENCODED = `%[${HEXDIG}]{2}`;
/** `pchar = unreserved / pct-encoded / sub-delims / ":" / "@"` */
const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT_ENCODED})`;
/** `segment = *pchar`, `segment-nz = 1*pchar` */
const SEGMENT = `${PCHAR}*`;
const SEGMENT_NZ = `${PCHAR}+`;
/** `query = *( pchar / "/" / "?" )` */
const QUERY = `(?:${PCHAR}|[/?])*`;
/** `absolute-path = 1*( "/" segment )` (RFC 9110 §4.1) */
const ABSOLUTE_PATH = `(?:/${SEGMENT})+`;
/** `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` */
const SCHEME = `[${ALPHA}][${ALPHA}${DIGIT}+\\-.]*`;
/** `userinfo = *( unreserved / pct-encoded / sub-delims / ":" )` */
const USERINFO = `(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT_ENCODED})*`;
/** `IP-literal = "[" ( IPv6address / IPvFuture ) "]"`, by character class only. */
const IP_LITERAL = `\\[(?:[${HEXDIG}:.]+|v[${HEXDIG}]+\\.[${UNRESERVED}${SUB_DELIMS}:]+)\\]`;
/** `reg-name = *( unreserved / pct-encoded / sub-delims )` (also covers IPv4address) */
const REG_NAME = `(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT_ENCODED})*`;
/** `host = IP-literal / IPv4address / reg-name`, `port = *DIGIT` */
const HOST = `(?:${IP_LITERAL}|${REG_NAME})`;
const PORT = `[${DIGIT}]*`;
/** `authority = [ userinfo "@" ] host [ ":" port ]` */
const AUTHORITY = `(?:${USERINFO}@)?${HOST}(?::${PORT})?`;
/** `hier-part = "//" authority path-abempty / path-absolute / path-rootless / path-empty` */
const HIER_PART = `(?://${AUTHORITY}(?:/${SEGMENT})*|/(?:${SEGMENT_NZ}(?:/${SEGMENT})*)?|${SEGMENT_NZ}(?:/${SEGMENT})*|)`;

/** `origin-form = absolute-path [ "?" query ]` (RFC 9112 §3.2.1) */
const ORIGIN_FORM = `${ABSOLUTE_PATH}(?:\\?${QUERY})?`;
/** `absolute-form = absolute-URI = scheme ":" hier-part [ "?" query ]` (§3.2.2) */
const ABSOLUTE_FORM = `${SCHEME}:${HIER_PART}(?:\\?${QUERY})?`;
/** `authority-form = uri-host ":" port` (§3.2.3) */
const AUTHORITY_FORM = `${HOST}:${PORT}`;
/** `asterisk-form = "*"` (§3.2.4) */
const ASTERISK_FORM = "\\*";
/** `request-target = origin-form / absolute-form / authority-form / asterisk-form` */
const REQUEST_TARGET = `(?:${ORIGIN_FORM}|${ABSOLUTE_FORM}|${AUTHORITY_FORM}|${ASTERISK_FORM})`;

/** `tchar` and `token = 1*tchar` (RFC 9110 §5.6.2) */
const TOKEN = `[!#$%&'*+\\-.^_\`|~${DIGIT}${ALPHA}]+`;
/** `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`, `HTTP-name = %s"HTTP"` (RFC 9112 §2.3) */
const HTTP_VERSION = `HTTP/[${DIGIT}]\\.[${DIGIT}]`;
/** `field-vchar = VCHAR / obs-text` (RFC 9110 §5.5) */
const FIELD_VCHAR = "[\\x21-\\x7e\\x80-\\xff]";
/** `field-value = *field-content`, `field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]` */
const FIELD_VALUE = `(?:${FIELD_VCHAR}(?:[ \\t\\x21-\\x7e\\x80-\\xff]*${FIELD_VCHAR})?)?`;
/** `OWS = *( SP / HTAB )` (RFC 9110 §5.6.3) */
const OWS = "[ \\t]*";
/** `field-line = field-name ":" OWS field-value OWS` (RFC 9112 §5), one capture each. */
const FIELD_LINE = new RegExp(`^(${TOKEN}):${OWS}(${FIELD_VALUE})${OWS}$`);

/**
 * The one place where our parser is knowingly more lenient than RFC 3986: a request-target
 * may hold any VCHAR but `#` (so `{`, `|`, `"`, `\` and a `%` without two hex digits pass),
 * as src/http/grammar.ts `TARGET_BYTE` documents, because real clients send them raw.
 * The recogniser uses it only when asked (`lenientTarget`), so the leniency stays visible.
 */
const LENIENT_TARGET = "[\\x21\\x22\\x24-\\x7e]+";

/** The parts of a head the recogniser accepted. */
export interface ReferenceHead {
  method: string;
  target: string;
  /** `HTTP/x.y` as received. */
  version: string;
  /** `[name0, value0, ...]`, names as received, values without the OWS around them. */
  headers: string[];
}

/** Options of `recognise`. */
export interface RecogniseOptions {
  /** Accept the parser's documented request-target leniency (`LENIENT_TARGET`). */
  lenientTarget?: boolean;
}

/**
 * Recognises one request head: `*CRLF request-line CRLF *( field-line CRLF ) CRLF`
 * (RFC 9112 §2.1; §2.2 lets a server skip empty lines before the request line) and nothing
 * after it. Returns its parts, or null when the text is not such a head.
 *
 * @example
 * recognise("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.headers // ["Host", "a"]
 */
export function recognise(head: string, options: RecogniseOptions = {}): ReferenceHead | null {
  const target = options.lenientTarget ? `(?:${REQUEST_TARGET}|${LENIENT_TARGET})` : REQUEST_TARGET;
  const requestLine = new RegExp(`^(?:\\r\\n)*(${TOKEN}) (${target}) (${HTTP_VERSION})\\r\\n`);
  const line = requestLine.exec(head);
  if (line === null) return null;
  if (!head.endsWith("\r\n\r\n")) return null;
  const fieldSection = head.slice(line[0].length, head.length - 2);
  const headers: string[] = [];
  if (fieldSection !== "") {
    if (!fieldSection.endsWith("\r\n")) return null;
    for (const field of fieldSection.slice(0, -2).split("\r\n")) {
      const m = FIELD_LINE.exec(field);
      if (m === null) return null;
      headers.push(m[1] as string, m[2] as string);
    }
  }
  return {
    method: line[1] as string,
    target: line[2] as string,
    version: line[3] as string,
    headers,
  };
}

/** True if `target` is a request-target of RFC 9112 §3.2 read strictly (RFC 3986 characters). */
export function isStrictTarget(target: string): boolean {
  return new RegExp(`^${REQUEST_TARGET}$`).test(target);
}
