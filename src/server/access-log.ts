/**
 * Access log lines in Common and Combined Log Format, as JSON records, or in a
 * gunicorn-style format of `%(x)s` atoms, with every printed field escaped so a client
 * cannot forge log lines; and the escaping of error log text.
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
  /** How long the exchange took, in milliseconds, from the request head to the response's end. */
  durationMs?: number | undefined;
  /** The request id of the error log, if known. */
  requestId?: string | undefined;
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

/** One access log line (with its newline) in `common`, `combined`, `json` or a `%(x)s` format. */
export function formatAccess(record: AccessRecord, format: string): string {
  if (format === "json") return formatJson(record);
  if (format !== "common" && format !== "combined") return formatCustom(record, format);
  const user = record.user ? escapeLogField(record.user) : "-";
  const bytes = record.bytes > 0 ? String(record.bytes) : "-";
  let line = `${escapeLogField(record.remoteAddr)} - ${user} ${clfTime(record.time)} "${escapeLogField(record.requestLine)}" ${record.status} ${bytes}`;
  if (format === "combined") {
    line += ` "${escapeLogField(record.referer ?? "-")}" "${escapeLogField(record.userAgent ?? "-")}"`;
  }
  return `${line}\n`;
}

/** The `json` format: one object a line (JSON escapes whatever the client sent). */
function formatJson(record: AccessRecord): string {
  const [method = "", target = "", version = ""] = record.requestLine.split(" ");
  return `${JSON.stringify({
    time: record.time.toISOString(),
    remote_addr: record.remoteAddr,
    user: record.user ?? null,
    method,
    path: target,
    protocol: version,
    status: record.status,
    bytes: record.bytes,
    referer: record.referer ?? null,
    user_agent: record.userAgent ?? null,
    duration_ms: record.durationMs ?? null,
    request_id: record.requestId ?? null,
  })}\n`;
}

/** A gunicorn `access_log_format` atom's value (unknown atoms print `-`). */
function atom(record: AccessRecord, name: string): string {
  const ms = record.durationMs ?? 0;
  const [method = "-", target = "-", version = "-"] = record.requestLine.split(" ");
  switch (name) {
    case "h":
      return record.remoteAddr;
    case "l":
      return "-";
    case "u":
      return record.user || "-";
    case "t":
      return clfTime(record.time);
    case "r":
      return record.requestLine;
    case "m":
      return method;
    case "U":
      return target.split("?")[0] ?? "-";
    case "q":
      return target.includes("?") ? target.slice(target.indexOf("?") + 1) : "";
    case "H":
      return version;
    case "s":
      return String(record.status);
    case "b":
      return record.bytes > 0 ? String(record.bytes) : "-";
    case "B":
      return String(record.bytes);
    case "f":
      return record.referer ?? "-";
    case "a":
      return record.userAgent ?? "-";
    case "D":
      return String(Math.round(ms * 1000));
    case "T":
      return String(Math.floor(ms / 1000));
    case "M":
      return String(Math.round(ms));
    case "L":
      return (ms / 1000).toFixed(6);
    case "p":
      return `<${process.pid}>`;
    case "i":
      return record.requestId ?? "-";
    default:
      return "-";
  }
}

/** A custom format: `%(x)s` (or `%(x)`) atoms replaced by escaped values. */
function formatCustom(record: AccessRecord, format: string): string {
  return `${format.replace(/%\((\w+)\)s?/g, (_all, name: string) => escapeLogField(atom(record, name)))}\n`;
}
