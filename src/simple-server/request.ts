/**
 * Reading an HTTP/1.x request head the way CPython's `http.server` does: the request
 * line (`parse_request`), the header block (`http.client.parse_headers`, which hands the
 * lines to the `email` package's parser), and the request target's decoding
 * (`urllib.parse.unquote(path, "iso-8859-1")`). Leniencies are CPython's, on purpose: this
 * is the reference server, and the differential test holds it to CPython's bytes.
 *
 * Everything here is pure: strings and bytes in, values out.
 *
 * @module
 */
import { pyStrip } from "./python.ts";

/** The longest request or header line `http.server` accepts, in bytes (`http.client._MAXLINE`). */
export const MAX_LINE = 65536;
/** The most header lines `http.client` reads, the blank line included (`_MAXHEADERS`). */
export const MAX_HEADERS = 100;

/** A header line longer than `MAX_LINE` bytes (Python's `http.client.LineTooLong`); answered with 431. */
export class LineTooLong extends Error {
  /** A stable code for logs. */
  readonly code = "ERR_HEADER_LINE_TOO_LONG";
  constructor(what = "header line") {
    super(`got more than ${MAX_LINE} bytes when reading ${what}`);
    this.name = "LineTooLong";
  }
}

/** More header lines than `MAX_HEADERS` (Python's `HTTPException` from `_read_headers`); answered with 431. */
export class TooManyHeaders extends Error {
  /** A stable code for logs. */
  readonly code = "ERR_TOO_MANY_HEADERS";
  constructor() {
    super(`got more than ${MAX_HEADERS} headers`);
    this.name = "TooManyHeaders";
  }
}

/** A line that ends the header block in `http.client._read_headers`: CRLF, LF, or EOF. */
export function isHeaderBlockEnd(line: Uint8Array): boolean {
  return (
    line.length === 0 ||
    (line.length === 1 && line[0] === 0x0a) ||
    (line.length === 2 && line[0] === 0x0d && line[1] === 0x0a)
  );
}

/**
 * Parses an HTTP version such as `HTTP/1.1` as `parse_request` does (RFC 2145 §3.1:
 * exactly one dot, decimal components of at most 10 digits, leading zeros ignored).
 * Returns `[major, minor]`, or `undefined` for a "Bad request version".
 */
export function parseHttpVersion(version: string): [major: number, minor: number] | undefined {
  if (!version.startsWith("HTTP/")) return undefined;
  const parts = version.slice(5).split(".");
  if (parts.length !== 2) return undefined;
  if (!parts.every((part) => /^[0-9]{1,10}$/.test(part))) return undefined;
  return [Number(parts[0]), Number(parts[1])];
}

/**
 * Reduces a leading `//...` to one `/` (gh-87389): clients read `//host/path` as a
 * scheme-relative URL, which makes an open redirect of a relative `Location`.
 */
export function collapseLeadingSlashes(path: string): string {
  return path.startsWith("//") ? `/${path.replace(/^\/+/, "")}` : path;
}

/** The `email` parser's test for a header or continuation line (`feedparser.headerRE`). */
const HEADER_RE = /^(From |[\x21-\x39\x3b-\x7e]*:|[\t ])/;
/** Lines as `email` splits them: CRLF, CR or LF each end one, kept with the line. */
const LINES_RE = /[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g;

/**
 * The request headers, as Python's `http.client.HTTPMessage` holds them: names and values
 * as received (latin-1 native strings), in order, duplicates kept. A folded value keeps
 * its inner line breaks, as CPython's compat32 policy keeps them.
 */
export class HTTPMessage implements Iterable<[name: string, value: string]> {
  /** The `[name, value]` pairs, in order. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  /** A `From ...` envelope line at the top of the block, which the `email` parser sets aside. */
  readonly unixFrom: string | undefined;

  constructor(headers: ReadonlyArray<readonly [string, string]> = [], unixFrom?: string) {
    this.headers = headers;
    this.unixFrom = unixFrom;
  }

  /** The first value of the header called `name` (case-insensitive), or `undefined`. */
  get(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const [key, value] of this.headers) if (key.toLowerCase() === lower) return value;
    return undefined;
  }

  /** Every value of the header called `name`, in order. */
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    return this.headers.filter(([key]) => key.toLowerCase() === lower).map(([, value]) => value);
  }

  /** Every `[name, value]` pair, in order, as new arrays. */
  items(): [name: string, value: string][] {
    return this.headers.map(([key, value]) => [key, value]);
  }

  /**
   * The media type, lower-cased, without parameters (`email.message.get_content_type`):
   * `text/plain` when there is no `Content-Type` or it is not `type/subtype`.
   */
  getContentType(): string {
    const value = this.get("content-type");
    if (value === undefined) return "text/plain";
    const semicolon = value.indexOf(";");
    const type = pyStrip(semicolon === -1 ? value : value.slice(0, semicolon)).toLowerCase();
    return type.split("/").length === 2 ? type : "text/plain";
  }

  [Symbol.iterator](): Iterator<[name: string, value: string]> {
    return this.items()[Symbol.iterator]();
  }
}

/** `compat32.header_source_parse`: the name up to `:`, the value with its folds, right-stripped of CR/LF. */
function sourceParse(lines: string[]): [string, string] {
  const first = lines[0] as string;
  const colon = first.indexOf(":");
  let value = first.slice(colon + 1).replace(/^[ \t]+/, "") + lines.slice(1).join("");
  value = value.replace(/[\r\n]+$/, "");
  return [first.slice(0, colon), value];
}

/**
 * Parses the header block `http.client.parse_headers` read (every line, up to and
 * including the blank one) exactly as CPython's `email` parser does: lines end at CRLF,
 * CR or LF; the block stops at the first line that is neither a header nor a continuation
 * (the lines after it are ignored); a continuation line before any header, a line with an
 * empty name and a misplaced `From ` line are dropped.
 */
export function parseHeaderLines(lines: readonly Uint8Array[]): HTTPMessage {
  const text = Buffer.concat(lines).toString("latin1");
  const headerLines: string[] = [];
  for (const line of text.match(LINES_RE) ?? []) {
    if (!HEADER_RE.test(line)) break;
    headerLines.push(line);
  }
  const headers: [string, string][] = [];
  let unixFrom: string | undefined;
  let current: string[] = [];
  for (const [lineno, line] of headerLines.entries()) {
    if (line[0] === " " || line[0] === "\t") {
      if (current.length > 0) current.push(line);
      continue;
    }
    if (current.length > 0) headers.push(sourceParse(current));
    current = [];
    if (line.startsWith("From ")) {
      if (lineno === 0) unixFrom = line.replace(/(\r\n|\r|\n)$/, "");
      else if (lineno === headerLines.length - 1) break;
      continue;
    }
    if (line.indexOf(":") === 0) continue;
    current = [line];
  }
  if (current.length > 0) headers.push(sourceParse(current));
  return new HTTPMessage(headers, unixFrom);
}

/** `html.escape(s, quote=False)`: `&`, `<` and `>` as entities. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The page `sendError` sends (`http.server.DEFAULT_ERROR_MESSAGE`): `%(code)d`, `%(message)s` and `%(explain)s` are filled in. */
export const DEFAULT_ERROR_MESSAGE = `<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: %(code)d</p>
        <p>Message: %(message)s.</p>
        <p>Error code explanation: %(code)s - %(explain)s.</p>
    </body>
</html>
`;

/**
 * Fills in an error page format such as `DEFAULT_ERROR_MESSAGE` (Python's
 * `format % {"code": ..., "message": ..., "explain": ...}`); the caller escapes the values.
 */
export function formatErrorMessage(
  format: string,
  values: { code: number; message: string; explain: string },
): string {
  return format.replace(/%\((code|message|explain)\)[sd]/g, (_m, key: string) =>
    key === "code" ? String(values.code) : key === "message" ? values.message : values.explain,
  );
}
