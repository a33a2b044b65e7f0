/**
 * Response headers: Python's `wsgiref.headers`.
 *
 * `Headers` wraps a WSGI header list (`[name, value]` tuples) with a case-insensitive,
 * order-keeping API, and renders it as the text of an HTTP header block. Unlike the
 * reference it refuses anything that could split a response; see the class comment.
 *
 * @module
 */
import { latin1Bytes } from "./bytes.ts";
import { isFieldName, isToken } from "./http/grammar.ts";
import { nodeBuiltin } from "./runtime.ts";
import type { HeaderTuple } from "./types.ts";

/**
 * True if `value` holds a character that ends a header line or the string early: CR and LF
 * (RFC 9112 §2.2 and RFC 9110 §5.5 forbid them in a field value) or NUL. A value holding
 * one could smuggle a second header, or a second response, past whoever wrote it.
 */
function hasLineBreaker(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0) return true;
  }
  return false;
}

/**
 * Python's `tspecials` (from `email`): characters that force a parameter value to be
 * quoted when quoting is optional. `addHeader` always quotes, so this only matters to
 * `formatParam(..., false)`.
 */
const TSPECIALS = /[ ()<>@,;:\\"/[\]?=]/;

/** The parameters of `addHeader`: `null` or `undefined` writes the bare name. */
export type HeaderParams = Readonly<Record<string, string | null | undefined>>;

/** How an unexpected value reads in an error message. */
function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value === "string" ? "a string" : `${typeof value} (${String(value)})`;
}

/** Node's `util.inspect`, as it calls an `[INSPECT_CUSTOM]` method. */
type Inspect = (value: unknown, options?: object) => string;

/** The symbol `util.inspect.custom` stands for. */
const INSPECT_CUSTOM = Symbol.for("nodejs.util.inspect.custom");

/** A bad value, for an error message: `util.inspect` where the runtime has it, JSON elsewhere. */
function show(value: unknown): string {
  const util = nodeBuiltin<{ inspect: Inspect }>("node:util");
  if (util !== undefined) return util.inspect(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
/** Throws a TypeError unless `name` is a string that is a valid field name. */
function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string") {
    throw new TypeError(`Header name must be a string, got ${kind(name)}`);
  }
  if (!isFieldName(name)) {
    throw new TypeError(
      `Header name ${JSON.stringify(name)} is not a valid token (RFC 9110 §5.6.2)`,
    );
  }
}

/** Throws a TypeError unless `value` is a string with no CR, LF or NUL. */
function checkValue(name: string, value: unknown, what = "value"): asserts value is string {
  if (typeof value !== "string") {
    throw new TypeError(
      `Header ${what} for ${JSON.stringify(name)} must be a string, got ${kind(value)}`,
    );
  }
  if (hasLineBreaker(value)) {
    throw new TypeError(
      `Header ${what} for ${JSON.stringify(name)} contains CR/LF/NUL: ${JSON.stringify(value)}`,
    );
  }
}

/**
 * Whether two header names are equal ignoring case, as Python compares their `lower()`.
 * ASCII names (all of them, in practice) are compared without making lower-cased copies.
 */
function sameName(a: string, b: string): boolean {
  if (a === b) return true;
  const n = a.length;
  if (n !== b.length) {
    // Only "İ" (U+0130) lower-cases to more code units ("i̇"), so only it can even lengths out.
    return (a.includes("\u0130") || b.includes("\u0130")) && a.toLowerCase() === b.toLowerCase();
  }
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x > 0x7f || y > 0x7f) return a.toLowerCase() === b.toLowerCase();
    if (x !== y && asciiLower(x) !== asciiLower(y)) return false;
  }
  return true;
}

function asciiLower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** Throws a TypeError unless a name used to look headers up is a string. */
function checkLookup(name: unknown): asserts name is string {
  if (typeof name !== "string") {
    throw new TypeError(`Header name must be a string, got ${kind(name)}`);
  }
}

/**
 * Formats one header parameter as Python's `_formatparam` does: `name="value"` with `\`
 * and `"` backslash-escaped; a bare `name` when the value is `null`, `undefined` or empty.
 * With `quote` false, the value is quoted only if it holds a `tspecials` character.
 *
 * @example formatParam("filename", 'a "b".txt') // 'filename="a \\"b\\".txt"'
 */
export function formatParam(name: string, value?: string | null, quote = true): string {
  if (value === undefined || value === null || value.length === 0) return name;
  if (quote || TSPECIALS.test(value)) {
    return `${name}="${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  }
  return `${name}=${value}`;
}

/**
 * A case-insensitive, order-keeping view of a WSGI response header list, as Python's
 * `wsgiref.headers.Headers`. It wraps the list it is given, so changes made through it
 * show in the list and changes to the list show through it. Names compare without regard
 * to case; duplicates are kept and counted.
 *
 * Differences from CPython, for safety: every name and value that goes in (on
 * construction, `set`, `setDefault`, and `addHeader` with its parameters) must be a
 * string; a value may not hold CR, LF or NUL, and a name must be an RFC 9110 token. Anything
 * else throws a `TypeError` naming the header, and the operation changes nothing (CPython
 * raises `AssertionError` for non-strings only, and may have deleted headers by then).
 * `toString()` and `toBytes()` check the list again, as it may have been changed directly,
 * so no header block with a split line can come out of this class.
 *
 * @example
 * const headers = new Headers([["Content-Type", "text/plain"]]);
 * headers.addHeader("Content-Disposition", "attachment", { filename: "bud.gif" });
 * String(headers);
 * // 'Content-Type: text/plain\r\nContent-Disposition: attachment; filename="bud.gif"\r\n\r\n'
 */
export class Headers implements Iterable<HeaderTuple> {
  readonly #headers: HeaderTuple[];

  /**
   * Wraps `headers` (a new empty list by default), checking every tuple in it.
   *
   * @throws TypeError if it is not an array of `[name, value]` string pairs, or a name or
   *   value is unsafe.
   */
  constructor(headers: HeaderTuple[] = []) {
    if (!Array.isArray(headers)) {
      throw new TypeError(`Headers must be a list of [name, value] tuples, got ${kind(headers)}`);
    }
    for (let i = 0; i < headers.length; i++) {
      const tuple: unknown = headers[i];
      if (!Array.isArray(tuple) || tuple.length !== 2) {
        throw new TypeError(`Header #${i} must be a [name, value] tuple, got ${show(tuple)}`);
      }
      checkName(tuple[0]);
      checkValue(tuple[0], tuple[1]);
    }
    this.#headers = headers;
  }

  /** The number of headers, duplicates included. */
  get length(): number {
    return this.#headers.length;
  }

  /** Replaces every header called `name` with one `name: value` at the end of the list. */
  set(name: string, value: string): void {
    checkName(name);
    checkValue(name, value);
    this.delete(name);
    this.#headers.push([name, value]);
  }

  /** Removes every header called `name`; does nothing if there is none. */
  delete(name: string): void {
    checkLookup(name);
    const list = this.#headers;
    let kept = 0;
    for (const tuple of list) {
      if (!sameName(tuple[0], name)) list[kept++] = tuple;
    }
    list.length = kept;
  }

  /** The value of the first header called `name`, or `defaultValue` (`undefined`) if none. */
  get(name: string): string | undefined;
  get<D>(name: string, defaultValue: D): string | D;
  get<D>(name: string, defaultValue?: D): string | D | undefined {
    checkLookup(name);
    for (const [key, value] of this.#headers) {
      if (sameName(key, name)) return value;
    }
    return defaultValue;
  }

  /** Whether there is a header called `name` (Python's `name in headers`). */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The values of every header called `name`, in order; empty if there is none. */
  getAll(name: string): string[] {
    checkLookup(name);
    return this.#headers.filter(([key]) => sameName(key, name)).map(([, value]) => value);
  }

  /** Every header name, in order, duplicates included. */
  keys(): string[] {
    return this.#headers.map(([key]) => key);
  }

  /** Every header value, in order, duplicates included. */
  values(): string[] {
    return this.#headers.map(([, value]) => value);
  }

  /** Every `[name, value]` tuple, in order, as a new list of new tuples. */
  items(): HeaderTuple[] {
    return this.#headers.map(([key, value]) => [key, value]);
  }

  /** Returns the first value of `name`; if there is none, appends `name: value` and returns `value`. */
  setDefault(name: string, value: string): string {
    const existing = this.get(name);
    if (existing !== undefined) return existing;
    checkName(name);
    checkValue(name, value);
    this.#headers.push([name, value]);
    return value;
  }

  /**
   * Appends a header with parameters, as `Content-Disposition` has: `value` (left out when
   * `null` or `undefined`), then `; name="value"` for each parameter in order, each `_` in
   * its name turned into `-`; a `null`, `undefined` or empty parameter value writes the
   * bare name. Values are always quoted, with `\` and `"` escaped. (Parameters named like
   * integers come first: that is how JavaScript orders object keys.)
   *
   * @example
   * headers.addHeader("Content-Disposition", "attachment", { filename: "bud.gif" });
   * // Content-Disposition: attachment; filename="bud.gif"
   */
  addHeader(name: string, value: string | null | undefined, params: HeaderParams = {}): void {
    checkName(name);
    const parts: string[] = [];
    if (value !== null && value !== undefined) {
      checkValue(name, value);
      parts.push(value);
    }
    for (const [key, param] of Object.entries(params)) {
      const paramName = key.replaceAll("_", "-");
      if (!isToken(paramName)) {
        throw new TypeError(
          `Header parameter name ${JSON.stringify(paramName)} for ${JSON.stringify(name)} is not a valid token`,
        );
      }
      if (param === null || param === undefined) {
        parts.push(paramName);
      } else {
        checkValue(name, param, `parameter ${JSON.stringify(paramName)}`);
        parts.push(formatParam(paramName, param));
      }
    }
    this.#headers.push([name, parts.join("; ")]);
  }

  /**
   * Iterates over the `[name, value]` tuples of the wrapped list, in order (without
   * copying: servers walk every response's headers; `items()` gives copies).
   */
  [Symbol.iterator](): IterableIterator<HeaderTuple> {
    return this.#headers[Symbol.iterator]();
  }

  /**
   * The header block as HTTP sends it: `Name: value\r\n` for each header, then `\r\n`.
   *
   * @throws TypeError if the wrapped list was given an unsafe header directly.
   */
  toString(): string {
    let out = "";
    for (const tuple of this.#headers) {
      checkName(tuple[0]);
      checkValue(tuple[0], tuple[1]);
      out += `${tuple[0]}: ${tuple[1]}\r\n`;
    }
    return `${out}\r\n`;
  }

  /**
   * The header block as latin-1 bytes (Python's `bytes(headers)`).
   *
   * @throws TypeError if a header holds a char above U+00FF, or is unsafe.
   */
  toBytes(): Uint8Array {
    const text = this.toString();
    for (const [name, value] of this.#headers) {
      const bad = /[^\0-\xff]/u.exec(value);
      if (bad) {
        throw new TypeError(
          `Header value for ${JSON.stringify(name)} is not latin-1: ${JSON.stringify(bad[0])} in ${JSON.stringify(value)}`,
        );
      }
    }
    return latin1Bytes(text);
  }

  /** The header list, for `JSON.stringify`. */
  toJSON(): HeaderTuple[] {
    return this.items();
  }

  /**
   * Shows `Headers([...])` in `console.log` and `util.inspect`, as Python's repr does.
   * (Keyed by the symbol `util.inspect.custom` stands for, so that this module imports
   * nothing from Node; Node passes its `inspect` as the third argument.)
   */
  [INSPECT_CUSTOM](_depth: number, options: object, inspect: Inspect): string {
    return `Headers(${inspect(this.#headers, options)})`;
  }
}
