/**
 * Conditional requests (RFC 9110 §13): entity tags, HTTP dates, and the order in which
 * `If-Match`, `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since` and `If-Range`
 * are evaluated (§13.2.2).
 *
 * @module
 */
import type { WSGIEnvironment } from "../types.ts";

/** What a response is validated by: its entity tag and modification time. */
export interface Validators {
  /** The strong entity tag, quotes included: `"1a-17f3c"`. */
  readonly etag: string;
  /** The modification time, in whole seconds since the epoch (as `Last-Modified` says). */
  readonly lastModified: number;
}

/** What the preconditions decided: go on, answer `304 Not Modified`, or `412 Precondition Failed`. */
export type Precondition = "proceed" | "not-modified" | "failed";

/** One entity tag of a list: `W/"x"` is weak, `"x"` strong. */
interface EntityTag {
  readonly weak: boolean;
  readonly tag: string;
}

/** An entity tag (RFC 9110 §8.8.3): optional `W/`, then `etagc` characters in quotes. */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/;

/**
 * Parses an `If-Match`/`If-None-Match` value: `"*"`, or the entity tags of the list, or
 * `undefined` when it does not parse (then no tag can match).
 */
function parseEntityTags(value: string): "*" | EntityTag[] | undefined {
  const rest = value.trim();
  if (rest === "*") return "*";
  const tags: EntityTag[] = [];
  let i = 0;
  while (i < rest.length) {
    const ch = rest[i];
    if (ch === "," || ch === " " || ch === "\t") {
      i++;
      continue;
    }
    const match = ENTITY_TAG.exec(rest.slice(i));
    if (!match) return undefined;
    tags.push({ weak: match[1] !== undefined, tag: match[2] as string });
    i += match[0].length;
    if (i < rest.length && !/^[ \t]*(,|$)/.test(rest.slice(i))) return undefined;
  }
  return tags;
}

/** Our tag without its quotes. */
function opaque(etag: string): string {
  return etag.slice(1, -1);
}

/** Strong comparison (RFC 9110 §8.8.3.2): neither weak, same characters. */
function strongMatch(tag: EntityTag, etag: string): boolean {
  return !tag.weak && tag.tag === opaque(etag);
}

/** Weak comparison: the same characters, weak or not. */
function weakMatch(tag: EntityTag, etag: string): boolean {
  return tag.tag === opaque(etag);
}

const DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun";
const LONG_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH = MONTHS.join("|");
const TIME = "([0-9]{2}):([0-9]{2}):([0-9]{2})";
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^(?:${DAYS}), ([0-9]{2}) (${MONTH}) ([0-9]{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete) */
const RFC850_DATE = new RegExp(`^(?:${LONG_DAYS}), ([0-9]{2})-(${MONTH})-([0-9]{2}) ${TIME} GMT$`);
/** `Sun Nov  6 08:49:37 1994` (obsolete, C's asctime) */
const ASCTIME_DATE = new RegExp(`^(?:${DAYS}) (${MONTH}) ([ 0-9][0-9]) ${TIME} ([0-9]{4})$`);

/**
 * Parses an HTTP date in any of the three forms recipients must accept (RFC 9110 §5.6.7)
 * into seconds since the epoch, or `undefined` when it is not one (`Date.parse` is far too
 * lenient for this). A two-digit year more than 50 years ahead is taken as last century.
 *
 * @example parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT") // 784111777
 */
export function parseHttpDate(value: string): number | undefined {
  const parts = dateParts(value);
  if (parts === undefined) return undefined;
  const [year, month, day, hours, minutes, seconds] = parts;
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
  const ms = Date.UTC(year, MONTHS.indexOf(month), day, hours, minutes, seconds);
  // Date.UTC rolls 31 Feb over into March; such a date is not a date (a leap second is).
  if (new Date(ms).getUTCDate() !== day && seconds !== 60) return undefined;
  return ms / 1000;
}

/** Year, month name, day, hours, minutes, seconds of an HTTP date in one of its forms. */
type DateParts = [number, string, number, number, number, number];

/** Takes an HTTP date apart, whichever of the three forms it has. */
function dateParts(value: string): DateParts | undefined {
  const imf = IMF_FIXDATE.exec(value);
  if (imf) return [Number(imf[3]), imf[2]!, Number(imf[1]), ...clock(imf, 4)];
  const rfc850 = RFC850_DATE.exec(value);
  if (rfc850) {
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(rfc850[3]);
    if (year > thisYear + 50) year -= 100;
    return [year, rfc850[2]!, Number(rfc850[1]), ...clock(rfc850, 4)];
  }
  const asctime = ASCTIME_DATE.exec(value);
  if (asctime) {
    return [Number(asctime[6]), asctime[1]!, Number(asctime[2]!.trim()), ...clock(asctime, 3)];
  }
  return undefined;
}

/** The hours, minutes and seconds captured from group `first` on. */
function clock(match: RegExpExecArray, first: number): [number, number, number] {
  return [Number(match[first]), Number(match[first + 1]), Number(match[first + 2])];
}

/** A request header from the environ, if it is there. */
function header(environ: WSGIEnvironment, name: `HTTP_${string}`): string | undefined {
  const value = environ[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Evaluates the request's preconditions against the current representation, in RFC 9110
 * §13.2.2's order: `If-Match` (strong comparison), else `If-Unmodified-Since`, fail with
 * 412; then `If-None-Match` (weak comparison), else `If-Modified-Since` (only for `GET`
 * and `HEAD`, and ignored when the date is in the future or does not parse), answer 304.
 * `If-None-Match` takes precedence over `If-Modified-Since`, as the RFC requires.
 *
 * @param now the current time in seconds, for future `If-Modified-Since` dates
 */
export function evaluatePreconditions(
  environ: WSGIEnvironment,
  validators: Validators,
  now: number = Date.now() / 1000,
): Precondition {
  const ifMatch = header(environ, "HTTP_IF_MATCH");
  if (ifMatch !== undefined) {
    const tags = parseEntityTags(ifMatch);
    if (tags !== "*" && !tags?.some((tag) => strongMatch(tag, validators.etag))) return "failed";
  } else {
    const since = header(environ, "HTTP_IF_UNMODIFIED_SINCE");
    const date = since === undefined ? undefined : parseHttpDate(since);
    if (date !== undefined && validators.lastModified > date) return "failed";
  }
  const method = environ.REQUEST_METHOD;
  const safe = method === "GET" || method === "HEAD";
  const ifNoneMatch = header(environ, "HTTP_IF_NONE_MATCH");
  if (ifNoneMatch !== undefined) {
    const tags = parseEntityTags(ifNoneMatch);
    const matched = tags === "*" || tags?.some((tag) => weakMatch(tag, validators.etag));
    if (matched) return safe ? "not-modified" : "failed";
  } else if (safe) {
    const since = header(environ, "HTTP_IF_MODIFIED_SINCE");
    const date = since === undefined ? undefined : parseHttpDate(since);
    if (date !== undefined && date <= now && validators.lastModified <= date) {
      return "not-modified";
    }
  }
  return "proceed";
}

/**
 * Whether a `Range` may be honoured given the request's `If-Range` (RFC 9110 §13.1.5):
 * yes without one; with an entity tag, only if it strongly matches; with a date, only if
 * it equals `Last-Modified` exactly and that is a strong validator (at least a second
 * older than now). Anything else means "send the whole representation".
 */
export function ifRangeAllows(
  environ: WSGIEnvironment,
  validators: Validators,
  now: number = Date.now() / 1000,
): boolean {
  const value = header(environ, "HTTP_IF_RANGE")?.trim();
  if (value === undefined) return true;
  if (value.startsWith('"') || value.startsWith("W/")) {
    const tags = parseEntityTags(value);
    return Array.isArray(tags) && tags.length === 1 && strongMatch(tags[0]!, validators.etag);
  }
  const date = parseHttpDate(value);
  return date === validators.lastModified && validators.lastModified <= Math.floor(now) - 1;
}
