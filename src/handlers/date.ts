/**
 * HTTP dates (RFC 9110 §5.6.7, IMF-fixdate), as CPython's `format_date_time` writes them.
 *
 * @module
 */

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * Formats a time in seconds since the epoch (as Python's `time.time()` gives it) as an
 * HTTP date: `formatDateTime(0) === "Thu, 01 Jan 1970 00:00:00 GMT"`.
 */
export function formatDateTime(timestamp: number): string {
  const d = new Date(Math.floor(timestamp) * 1000);
  const year = String(d.getUTCFullYear()).padStart(4, " ");
  return `${WEEKDAYS[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${year} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} GMT`;
}

let cachedSecond = -1;
let cachedDate = "";

/** The current time as an HTTP date, formatted at most once a second. */
export function httpDate(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = formatDateTime(second);
  }
  return cachedDate;
}
