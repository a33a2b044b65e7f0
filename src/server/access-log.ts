/**
 * Access log lines in Common and Combined Log Format, with every printed field escaped
 * so a client cannot forge log lines; and the escaping of error log text.
 *
 * @module
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, "0");

/** What one access log line records. */
export interface AccessRecord {
  /** The client's address. */
  remoteAddr: string;
  /** The request line as received, e.g. `GET /x HTTP/1.1`. */
  requestLine: string;
  /** The response status code. */
  status: number;
  /** Body bytes sent. */
  bytes: number;
  /** When the request arrived. */
  time: Date;
  /** The `Referer` request header, for the combined format. */
  referer?: string | undefined;
  /** The `User-Agent` request header, for the combined format. */
  userAgent?: string | undefined;
  /** The authenticated user (`REMOTE_USER`), if any. */
  user?: string | undefined;
}

/** Escapes quotes, backslashes, control and non-ASCII bytes as `\xNN`, as Apache does. */
export function escapeLogField(value: string): string {
  return value.replace(/[\0-\x1f"\\\x7f-\xff]/g, (c) =>
    c === '"' ? '\\"' : c === "\\" ? "\\\\" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** C0 controls other than HTAB and LF, DEL, and the C1 controls. */
const CONTROL = /[\0-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Escapes the control characters of error log text as `\xNN`, keeping line breaks and tabs:
 * an exception message can carry what a client sent (a path with `%1b` decoded into it),
 * and an ESC or CR reaching the operator's terminal could rewrite what it shows.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** Formats a time as CLF's `[10/Oct/2000:13:55:36 -0700]` (local time). */
export function clfTime(t: Date): string {
  const offset = -t.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `[${pad(t.getDate())}/${MONTHS[t.getMonth()]}/${t.getFullYear()}:${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())} ${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}]`;
}

/** One access log line (with its newline) in the `common` or `combined` format. */
export function formatAccess(record: AccessRecord, format: "common" | "combined"): string {
  const user = record.user ? escapeLogField(record.user) : "-";
  const bytes = record.bytes > 0 ? String(record.bytes) : "-";
  let line = `${escapeLogField(record.remoteAddr)} - ${user} ${clfTime(record.time)} "${escapeLogField(record.requestLine)}" ${record.status} ${bytes}`;
  if (format === "combined") {
    line += ` "${escapeLogField(record.referer ?? "-")}" "${escapeLogField(record.userAgent ?? "-")}"`;
  }
  return `${line}\n`;
}
