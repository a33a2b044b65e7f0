/**
 * The few Python string behaviours the reference server's output depends on: `repr()`
 * (for `demoApp` and the `%r` in `http.server`'s error messages), `str.split()` and
 * `str.strip()` with Python's idea of whitespace, and `%`-formatting for log lines.
 *
 * Strings here are PEP 3333 native strings or ordinary text; nothing does I/O.
 *
 * @module
 */

/**
 * Python's `str.isspace()` for the chars a latin-1 request can hold: `\t\n\v\f\r`,
 * `\x1c`-`\x1f`, space, `\x85` and `\xa0`, plus the Unicode spaces above U+00FF.
 */
const PY_SPACE_RE =
  /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const PY_SPACE_RUN =
  /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** True if `ch` is whitespace to Python's `str.isspace()`. */
export function isPySpace(ch: string): boolean {
  return PY_SPACE_RE.test(ch) && ch.length === 1;
}

/** Python's `s.split()`: splits on runs of whitespace and drops empty words. */
export function pySplit(s: string): string[] {
  return s.split(PY_SPACE_RUN).filter((word) => word !== "");
}

/** Python's `s.strip()`: removes leading and trailing whitespace (as `str.isspace()` sees it). */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isPySpace(s[start] as string)) start++;
  while (end > start && isPySpace(s[end - 1] as string)) end--;
  return s.slice(start, end);
}

/** Chars Python's `str.isprintable()` rejects: controls, format chars, separators but space, unassigned. */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

const hex = (code: number, width: number) => code.toString(16).padStart(width, "0");

/** Python's `repr()` of a `str`: quotes chosen as Python chooses them, escapes as Python writes them. */
export function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (code < 0x7f) out += ch;
    else if (ch !== " " && NOT_PRINTABLE.test(ch)) {
      if (code <= 0xff) out += `\\x${hex(code, 2)}`;
      else if (code <= 0xffff) out += `\\u${hex(code, 4)}`;
      else out += `\\U${hex(code, 8)}`;
    } else out += ch;
  }
  return out + quote;
}

/** Python's `repr()` of `bytes`: `b'...'` with printable ASCII as is and `\xNN` for the rest. */
export function reprBytes(data: Uint8Array): string {
  const hasSingle = data.includes(0x27);
  const quote = hasSingle && !data.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const byte of data) {
    const ch = String.fromCharCode(byte);
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${hex(byte, 2)}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's `repr()` of a `float`: shortest round-trip digits, exponent below 1e-4 and from 1e16. */
function reprFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const [mantissa = "0", expText = "0"] = x.toExponential().split("e");
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const fraction = digits.slice(exp + 1);
  return `${sign}${whole}.${fraction || "0"}`;
}

/**
 * Python's `repr()` of a value, as `demoApp` prints the environ: strings, `bytes`
 * (`Uint8Array`), `True`/`False`, `None` (for `null` and `undefined`), ints and floats
 * (an integral number prints as an int), arrays as tuples (the environ's one array,
 * `wsgi.version`, is the tuple `(1, 0)` in Python), plain objects as dicts, functions as
 * `<function name>`, and any other object as `<ClassName object>` (Python adds the module
 * and an address, which have no equivalent here).
 */
export function pyRepr(value: unknown, seen: Set<object> = new Set()): string {
  switch (typeof value) {
    case "string":
      return reprString(value);
    case "boolean":
      return value ? "True" : "False";
    case "bigint":
      return String(value);
    case "number":
      return Number.isInteger(value) ? String(value) : reprFloat(value);
    case "undefined":
      return "None";
    case "symbol":
      return `<symbol ${reprString(value.description ?? "")}>`;
    case "function":
      return `<function ${value.name || "<anonymous>"}>`;
  }
  if (value === null) return "None";
  const object = value as object;
  if (object instanceof Uint8Array) return reprBytes(object);
  if (seen.has(object)) return Array.isArray(object) ? "(...)" : "{...}";
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const items = object.map((item) => pyRepr(item, seen));
      return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
    }
    const proto: unknown = Object.getPrototypeOf(object);
    if (proto === Object.prototype || proto === null) {
      const entries = Object.entries(object).map(
        ([key, item]) => `${reprString(key)}: ${pyRepr(item, seen)}`,
      );
      return `{${entries.join(", ")}}`;
    }
    const name = (object as { constructor?: { name?: unknown } }).constructor?.name;
    return `<${typeof name === "string" && name ? name : "object"} object>`;
  } finally {
    seen.delete(object);
  }
}

/**
 * Python's `format % args` for the conversions `http.server` log formats use: `%s`
 * (`str()`), `%d` (an integer), `%r` (`repr()`) and `%%`.
 */
export function pyFormat(format: string, args: readonly unknown[]): string {
  let i = 0;
  return format.replace(/%([sdr%])/g, (_match, conversion: string) => {
    if (conversion === "%") return "%";
    const arg = args[i++];
    if (conversion === "r") return pyRepr(arg);
    if (conversion === "d") return String(Math.trunc(Number(arg)));
    return typeof arg === "string" ? arg : pyStr(arg);
  });
}

/** Python's `str()` of a value: strings as they are, everything else as `repr()`. */
export function pyStr(value: unknown): string {
  return typeof value === "string" ? value : pyRepr(value);
}
