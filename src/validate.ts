/**
 * A WSGI conformance checker: wrap an application with `validator` and every call through
 * it checks both sides, the server's environ and streams and the application's status,
 * headers and body.
 *
 * This mirrors Python's `wsgiref.validate` (after Ian Bicking's `paste.lint`). A violation
 * throws an `AssertionError` from `node:assert`; behaviour that is questionable but not
 * forbidden by PEP 3333 emits a `WSGIWarning` through `process.emitWarning`. The absence of
 * errors does not prove conformance, but an error almost certainly means that either the
 * server or the application is not compliant.
 *
 * @module
 */
import { AssertionError } from "node:assert";
import { inspect } from "node:util";
import { statusForbidsBody } from "./http/status.ts";
import type {
  ErrorStream,
  HeaderTuple,
  InputStream,
  ResponseBody,
  StartResponse,
  WriteCallable,
  WSGIApplication,
  WSGIEnvironment,
} from "./types.ts";
import { WRAPPED_CHUNKS } from "./types.ts";

/**
 * A warning about WSGI behaviour that is questionable but not forbidden, such as an unknown
 * request method or a status without a reason phrase. The validator emits it through
 * `process.emitWarning`, so it reaches `process.on("warning")` listeners and stderr.
 */
export class WSGIWarning extends Error {
  override name = "WSGIWarning";
}

/** Options of `validator`. */
export interface ValidatorOptions {
  /**
   * Receives each `WSGIWarning` instead of `process.emitWarning`, so a harness can collect
   * the warnings of one call without listening to the whole process.
   */
  onWarning?: (warning: WSGIWarning) => void;
}

/**
 * Wrap `app` in a WSGI application that forwards every request to it and checks that both
 * the application and the server calling it follow PEP 3333. A violation throws an
 * `AssertionError`; questionable behaviour emits a `WSGIWarning`.
 *
 * @example
 * const app = validator((environ, startResponse) => {
 *   startResponse("200 OK", [["Content-Type", "text/plain"]]);
 *   return [Buffer.from("Hello World")];
 * });
 */
export function validator(app: WSGIApplication, options: ValidatorOptions = {}): WSGIApplication {
  const report = options.onWarning ?? emitWarning;
  const warn: Warn = (message) => report(new WSGIWarning(message));
  return function validatedApp(...args: unknown[]): ResponseBody | Promise<ResponseBody> {
    if (args.length !== 2) fail(`Two arguments required (got ${args.length})`);
    const [environ, startResponse] = args;
    checkEnviron(environ, warn);
    if (typeof startResponse !== "function") {
      fail(`start_response must be a function (got ${repr(startResponse)})`);
    }
    const state: RequestState = {
      warn,
      started: false,
      bodyClosed: false,
      where: `${environ.REQUEST_METHOD} ${environ.SCRIPT_NAME ?? ""}${environ.PATH_INFO ?? ""}`,
    };
    environ["wsgi.input"] = new InputWrapper(environ["wsgi.input"]);
    environ["wsgi.errors"] = new ErrorWrapper(environ["wsgi.errors"]);
    const result = app(environ, startResponseWrapper(startResponse as StartResponse, state));
    if (isThenable(result)) return result.then((body) => wrapBody(body, state));
    return wrapBody(result, state);
  };
}

/** What one request's checks share: whether `startResponse` ran and the body was closed. */
interface RequestState {
  /** Reports a questionable but legal behaviour. */
  readonly warn: Warn;
  started: boolean;
  bodyClosed: boolean;
  /** The request, for the report of a body that was never closed. */
  readonly where: string;
}

// ---------------------------------------------------------------------------------------
// Failures, warnings and how values are shown in them

function fail(message: string): never {
  throw new AssertionError({ message, stackStartFn: fail });
}

/** Where a validator's warnings go. */
type Warn = (message: string) => void;

/** The default: `process.emitWarning`, so they reach `process.on("warning")` and stderr. */
function emitWarning(warning: WSGIWarning): void {
  process.emitWarning(warning);
}

/** Shows a value the way a message should name it, like Python's `repr()`. */
function repr(value: unknown): string {
  return inspect(value, {
    depth: 2,
    breakLength: Number.POSITIVE_INFINITY,
    maxArrayLength: 20,
    maxStringLength: 200,
  });
}

/** The type of a value as a message names it, like Python's `type()`. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return Object.getPrototypeOf(value)?.constructor?.name ?? "Object";
}

function checkStringType(value: unknown, title: string): asserts value is string {
  if (typeof value !== "string") fail(`${title} must be of type string (got ${repr(value)})`);
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

// ---------------------------------------------------------------------------------------
// The environ (the server's side)

const REQUIRED_KEYS = [
  "REQUEST_METHOD",
  "SERVER_NAME",
  "SERVER_PORT",
  "wsgi.version",
  "wsgi.input",
  "wsgi.errors",
  "wsgi.multithread",
  "wsgi.multiprocess",
  "wsgi.run_once",
] as const;

const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "OPTIONS",
  "PATCH",
  "PUT",
  "DELETE",
  "TRACE",
]);

/** The characters Python's `str.split()` and `int()` treat as whitespace. */
const PY_SPACE =
  "\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/** What Python's `int()` accepts for a decimal integer. */
const PY_INT = new RegExp(`^[${PY_SPACE}]*([+-]?)([0-9](?:_?[0-9])*)[${PY_SPACE}]*$`);
/** The first whitespace-separated word, as `s.split(None, 1)[0]` finds it. */
const FIRST_WORD = new RegExp(`^[${PY_SPACE}]*([^${PY_SPACE}]*)`);
/** A character a native string (bytes as latin-1) cannot hold. */
const NOT_LATIN1 = /[\u0100-\uffff]/;
/** A control character, forbidden in header values and the status line. */
const CONTROL_CHAR = /[\u0000-\u001f]/;
const HEADER_NAME = /^[a-zA-Z][a-zA-Z0-9\-_]*$/;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkEnviron(environ: unknown, warn: Warn): asserts environ is WSGIEnvironment {
  if (typeof environ !== "object" || environ === null || !isPlainObject(environ)) {
    fail(
      `Environment is not of the right type: ${typeName(environ)} (environment: ${repr(environ)})`,
    );
  }
  const env = environ as Record<string, unknown>;
  for (const key of REQUIRED_KEYS) {
    if (!(key in env)) fail(`Environment missing required key: ${repr(key)}`);
  }
  for (const key of ["HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"]) {
    if (key in env) {
      fail(`Environment should not have the key: ${key} (use ${key.slice(5)} instead)`);
    }
  }
  if (!("QUERY_STRING" in env)) {
    warn(
      "QUERY_STRING is not in the WSGI environment; applications that parse the query " +
        "string may act unpredictably when this variable is missing, so application errors " +
        "are more likely",
    );
  }
  for (const key of Object.keys(env)) {
    // Extensions (keys with a dot) may hold anything; CGI variables are native strings.
    if (key.includes(".")) continue;
    const value = env[key];
    if (typeof value !== "string") {
      fail(
        `Environmental variable ${key} is not a string: ${typeName(value)} (value: ${repr(value)})`,
      );
    }
    const bad = NOT_LATIN1.exec(value);
    if (bad) {
      fail(
        `Environmental variable ${key} is not a native string (bytes as latin-1): ` +
          `${repr(value)} (bad char: ${repr(bad[0])})`,
      );
    }
  }
  if (!Array.isArray(env["wsgi.version"])) {
    fail(`wsgi.version should be an array such as [1, 0] (${repr(env["wsgi.version"])})`);
  }
  const scheme = env["wsgi.url_scheme"];
  if (scheme !== "http" && scheme !== "https") fail(`wsgi.url_scheme unknown: ${repr(scheme)}`);
  checkInput(env["wsgi.input"]);
  checkErrors(env["wsgi.errors"]);

  const method = env.REQUEST_METHOD as string;
  if (!KNOWN_METHODS.has(method)) warn(`Unknown REQUEST_METHOD: ${repr(method)}`);

  const script = env.SCRIPT_NAME as string | undefined;
  const path = env.PATH_INFO as string | undefined;
  if (script && !script.startsWith("/")) {
    fail(`SCRIPT_NAME doesn't start with /: ${repr(script)}`);
  }
  if (path && !path.startsWith("/")) fail(`PATH_INFO doesn't start with /: ${repr(path)}`);
  const length = env.CONTENT_LENGTH as string | undefined;
  if (length) {
    const match = PY_INT.exec(length);
    if (!match || (match[1] === "-" && /[1-9]/.test(match[2] ?? ""))) {
      fail(`Invalid CONTENT_LENGTH: ${repr(length)}`);
    }
  }
  if (!script && !("PATH_INFO" in env)) {
    fail(
      "One of SCRIPT_NAME or PATH_INFO are required (PATH_INFO should at least be '/' " +
        "if SCRIPT_NAME is empty)",
    );
  }
  if (script === "/") {
    fail("SCRIPT_NAME cannot be '/'; it should instead be '', and PATH_INFO should be '/'");
  }
}

function hasMethod(value: unknown, name: PropertyKey): boolean {
  return (
    value !== null &&
    value !== undefined &&
    typeof (value as Record<PropertyKey, unknown>)[name] === "function"
  );
}

function attributeName(name: PropertyKey): string {
  return typeof name === "symbol" ? `[${name.description}]` : String(name);
}

function checkInput(input: unknown): void {
  for (const name of ["read", "readline", "readlines", Symbol.asyncIterator]) {
    if (!hasMethod(input, name)) {
      fail(`wsgi.input (${repr(input)}) doesn't have the method ${attributeName(name)}`);
    }
  }
}

function checkErrors(errors: unknown): void {
  for (const name of ["flush", "write", "writelines"]) {
    if (!hasMethod(errors, name)) {
      fail(`wsgi.errors (${repr(errors)}) doesn't have the method ${name}`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// start_response (the application's side)

function startResponseWrapper(startResponse: StartResponse, state: RequestState): StartResponse {
  return (...args: unknown[]): WriteCallable => {
    if (args.length !== 2 && args.length !== 3) {
      fail(`Invalid number of arguments to start_response: ${args.length} (${repr(args)})`);
    }
    const [status, headers, excInfo] = args;
    const code = checkStatus(status, state.warn);
    checkHeaders(headers);
    checkContentType(code, headers);
    checkExcInfo(excInfo);
    if (state.started && excInfo === undefined) {
      fail(
        "start_response was called a second time without excInfo; it may be called again " +
          "only with the error that made the application change the response",
      );
    }
    state.started = true;
    const write: unknown = Reflect.apply(startResponse, undefined, args);
    if (typeof write !== "function") {
      fail(`start_response must return a write() function (got ${repr(write)})`);
    }
    return writeWrapper(write as WriteCallable, state);
  };
}

/** Checks the status line and returns its code. */
function checkStatus(status: unknown, warn: Warn): number {
  checkStringType(status, "Status");
  const statusCode = FIRST_WORD.exec(status)?.[1] ?? "";
  if (statusCode === "") fail(`Status has no status code: ${repr(status)}`);
  if (statusCode.length !== 3) {
    fail(`Status codes must be three characters: ${repr(statusCode)}`);
  }
  if (!/^[0-9]{3}$/.test(statusCode)) fail(`Status code must be an integer: ${repr(statusCode)}`);
  const code = Number(statusCode);
  if (code < 100) fail(`Status code is invalid: ${code}`);
  const bad = CONTROL_CHAR.exec(status) ?? NOT_LATIN1.exec(status);
  if (bad) {
    fail(
      `Bad status: ${repr(status)} (bad char: ${repr(bad[0])}); a status must be latin-1 ` +
        "text without control characters",
    );
  }
  if (status.length < 4 || status[3] !== " ") {
    warn(
      `The status string (${repr(status)}) should be a three-digit integer followed by a ` +
        "single space and a status explanation",
    );
  }
  return code;
}

function checkHeaders(headers: unknown): asserts headers is HeaderTuple[] {
  if (!Array.isArray(headers)) {
    fail(`Headers (${repr(headers)}) must be of type Array: ${typeName(headers)}`);
  }
  for (const item of headers as unknown[]) {
    if (!Array.isArray(item)) {
      fail(`Individual headers (${repr(item)}) must be [name, value] arrays: ${typeName(item)}`);
    }
    if (item.length !== 2) {
      fail(`Individual headers (${repr(item)}) must have exactly 2 items, a name and a value`);
    }
    const [name, value]: unknown[] = item;
    checkStringType(name, "Header name");
    checkStringType(value, "Header value");
    if (name.toLowerCase() === "status") {
      fail(
        "The Status header cannot be used; it conflicts with CGI script, and HTTP status " +
          `is not given through headers (value: ${repr(value)}).`,
      );
    }
    if (name.includes("\n") || name.includes(":")) {
      fail(`Header names may not contain ':' or '\\n': ${repr(name)}`);
    }
    if (!HEADER_NAME.test(name)) fail(`Bad header name: ${repr(name)}`);
    if (name.endsWith("-") || name.endsWith("_")) {
      fail(`Names may not end in '-' or '_': ${repr(name)}`);
    }
    const control = CONTROL_CHAR.exec(value);
    if (control) fail(`Bad header value: ${repr(value)} (bad char: ${repr(control[0])})`);
    const wide = NOT_LATIN1.exec(value);
    if (wide) {
      fail(`Header value is not latin-1: ${repr(value)} (bad char: ${repr(wide[0])})`);
    }
  }
}

/**
 * A Content-Type is required unless the status forbids a body: 204 and 304 as in CPython,
 * and also 1xx (RFC 9110 §15.2), which CPython forgets.
 */
function checkContentType(code: number, headers: HeaderTuple[]): void {
  for (const [name] of headers) {
    if (name.toLowerCase() === "content-type") {
      if (!statusForbidsBody(code)) return;
      fail(`Content-Type header found in a ${code} response, which must not return content.`);
    }
  }
  if (!statusForbidsBody(code)) {
    fail(`No Content-Type header found in headers (${repr(headers)})`);
  }
}

function isErrorLike(value: unknown): boolean {
  return (
    value instanceof Error ||
    (typeof value === "object" &&
      value !== null &&
      typeof (value as { message?: unknown }).message === "string")
  );
}

function checkExcInfo(excInfo: unknown): void {
  if (excInfo !== undefined && !isErrorLike(excInfo)) {
    fail(`excInfo (${repr(excInfo)}) is not an Error: ${typeName(excInfo)}`);
  }
}

function writeWrapper(write: WriteCallable, state: RequestState): WriteCallable {
  return (data: Uint8Array) => {
    if (!(data instanceof Uint8Array)) {
      fail(`write() argument must be a Uint8Array (bytes), got ${typeName(data)}: ${repr(data)}`);
    }
    if (state.bodyClosed) fail("write() called after the application's body was closed");
    return write(data);
  };
}

// ---------------------------------------------------------------------------------------
// wsgi.input and wsgi.errors, as the application sees them

function checkSizeArgs(method: string, args: unknown[]): void {
  if (args.length > 1) {
    fail(`wsgi.input.${method}() takes at most one argument (got ${args.length}: ${repr(args)})`);
  }
  const size = args[0];
  if (size !== undefined && !Number.isInteger(size)) {
    fail(`wsgi.input.${method}() size must be an integer (got ${repr(size)})`);
  }
}

function checkBytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    fail(`${what} must return a Uint8Array (got ${typeName(value)}: ${repr(value)})`);
  }
  return value;
}

/** `wsgi.input` under the validator: checks the arguments the application passes and the bytes the server returns. */
class InputWrapper implements InputStream {
  readonly #input: InputStream;

  constructor(input: InputStream) {
    this.#input = input;
  }

  async read(...args: unknown[]): Promise<Uint8Array> {
    checkSizeArgs("read", args);
    const data: unknown = await Reflect.apply(this.#input.read, this.#input, args);
    return checkBytes(data, "wsgi.input.read()");
  }

  /** Present when the server's stream has it; PEP 3333 does not define `read1`. */
  async read1(...args: unknown[]): Promise<Uint8Array> {
    checkSizeArgs("read1", args);
    const read1 = this.#input.read1;
    if (typeof read1 !== "function") {
      fail("wsgi.input.read1() is not offered by this server (it is not in PEP 3333)");
    }
    const data: unknown = await Reflect.apply(read1, this.#input, args);
    return checkBytes(data, "wsgi.input.read1()");
  }

  /** Present when the server's stream has it; PEP 3333 does not define `readinto`. */
  readinto(...args: unknown[]): Promise<number> {
    return this.#readinto("readinto", args);
  }

  /** Present when the server's stream has it; PEP 3333 does not define `readinto1`. */
  readinto1(...args: unknown[]): Promise<number> {
    return this.#readinto("readinto1", args);
  }

  async #readinto(method: "readinto" | "readinto1", args: unknown[]): Promise<number> {
    if (args.length !== 1) {
      fail(`wsgi.input.${method}() takes exactly one argument (got ${args.length})`);
    }
    if (!(args[0] instanceof Uint8Array)) {
      fail(
        `wsgi.input.${method}() takes a Uint8Array to fill (got ${typeName(args[0])}: ${repr(args[0])})`,
      );
    }
    const readinto = this.#input[method];
    if (typeof readinto !== "function") {
      fail(`wsgi.input.${method}() is not offered by this server (it is not in PEP 3333)`);
    }
    const target = args[0];
    const n: unknown = await Reflect.apply(readinto, this.#input, [target]);
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > target.length) {
      fail(
        `wsgi.input.${method}() must return a count from 0 to ${target.length} (got ${repr(n)})`,
      );
    }
    return n as number;
  }

  async readline(...args: unknown[]): Promise<Uint8Array> {
    checkSizeArgs("readline", args);
    const line: unknown = await Reflect.apply(this.#input.readline, this.#input, args);
    return checkBytes(line, "wsgi.input.readline()");
  }

  async readlines(...args: unknown[]): Promise<Uint8Array[]> {
    checkSizeArgs("readlines", args);
    const lines: unknown = await Reflect.apply(this.#input.readlines, this.#input, args);
    if (!Array.isArray(lines)) {
      fail(`wsgi.input.readlines() must return an Array (got ${typeName(lines)}: ${repr(lines)})`);
    }
    for (const line of lines) checkBytes(line, "each line of wsgi.input.readlines()");
    return lines;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for await (const line of this.#input) yield checkBytes(line, "iterating wsgi.input");
  }

  close(): never {
    fail("input.close() must not be called");
  }
}

/** `wsgi.errors` under the validator: only strings may be written, and it must not be closed. */
class ErrorWrapper implements ErrorStream {
  readonly #errors: ErrorStream;

  constructor(errors: ErrorStream) {
    this.#errors = errors;
  }

  write(s: string): void {
    if (typeof s !== "string") {
      fail(`wsgi.errors.write() takes a string (got ${typeName(s)}: ${repr(s)})`);
    }
    this.#errors.write(s);
  }

  writelines(lines: Iterable<string>): void {
    if (!hasMethod(lines, Symbol.iterator)) {
      fail(`wsgi.errors.writelines() takes an iterable of strings (got ${repr(lines)})`);
    }
    const all: string[] = [];
    for (const line of lines) {
      if (typeof line !== "string") {
        fail(`wsgi.errors.writelines() takes strings (got ${typeName(line)}: ${repr(line)})`);
      }
      all.push(line);
    }
    this.#errors.writelines(all);
  }

  flush(): void {
    this.#errors.flush();
  }

  close(): never {
    fail("errors.close() must not be called");
  }
}

// ---------------------------------------------------------------------------------------
// The response body

/**
 * Reports a body that was garbage-collected without `close()`. Nothing can be thrown at
 * that point, so, as CPython prints it from `__del__`, the AssertionError becomes a
 * process warning.
 */
const unclosedBodies = new FinalizationRegistry<string>((where) => {
  process.emitWarning(
    new AssertionError({ message: `Iterator garbage collected without being closed (${where})` }),
  );
});

function wrapBody(body: unknown, state: RequestState): ResponseBody {
  if (body === null || body === undefined || body === false) {
    fail("The application must return an iterator, if only an empty list");
  }
  if (typeof body === "string") {
    fail(
      "You should not return a string as your application iterator, instead return a " +
        `single-item array containing a Uint8Array (got ${repr(body)})`,
    );
  }
  if (body instanceof Uint8Array) {
    fail(
      "You should not return a bytes object (Uint8Array) as your application iterator, " +
        "instead return a single-item array containing a bytestring " +
        `(got ${repr(body)})`,
    );
  }
  const sync = hasMethod(body, Symbol.iterator);
  const async = hasMethod(body, Symbol.asyncIterator);
  if (sync && async) return new DualCheckedBody(body as ResponseBody, state);
  if (sync) return new SyncCheckedBody(body as ResponseBody, state);
  if (async) return new AsyncCheckedBody(body as ResponseBody, state);
  fail(
    "The application must return an iterable of Uint8Array (sync or async), " +
      `got ${typeName(body)}: ${repr(body)}`,
  );
}

/**
 * The body the server gets: checks each chunk, that iteration starts only after
 * `startResponse`, and that `close()` is called exactly once, then never read after.
 */
class CheckedBody {
  readonly original: ResponseBody;
  readonly state: RequestState;
  /** Whether the first chunk (or the end) is still to come: `startResponse` is checked there. */
  firstPending = true;

  constructor(original: ResponseBody, state: RequestState) {
    this.original = original;
    this.state = state;
    unclosedBodies.register(this, state.where, this);
  }

  /** The list the application returned, if it was one: its length is known up front. */
  get [WRAPPED_CHUNKS](): readonly unknown[] | undefined {
    return Array.isArray(this.original) ? this.original : undefined;
  }

  checkOpen(): void {
    if (this.state.bodyClosed) fail("Iterator read after closed");
  }

  checkChunk(value: unknown): void {
    if (!(value instanceof Uint8Array)) {
      fail(`Iterator yielded non-bytestring (${typeName(value)}: ${repr(value)})`);
    }
    if (this.firstPending) {
      if (!this.state.started) {
        fail(
          "The application returns and we started iterating over its body, but " +
            "start_response has not yet been called",
        );
      }
      this.firstPending = false;
    }
  }

  checkEnd(): void {
    if (this.firstPending && !this.state.started) {
      fail("The application's body ended, but start_response has not yet been called");
    }
  }

  close(): void | Promise<void> {
    if (this.state.bodyClosed) {
      fail("close() was called twice on the application's body; call it exactly once");
    }
    this.state.bodyClosed = true;
    unclosedBodies.unregister(this);
    return this.original.close?.();
  }
}

class SyncCheckedIterator implements IterableIterator<Uint8Array, undefined, undefined> {
  readonly #body: CheckedBody;
  readonly #inner: Iterator<unknown>;

  constructor(body: CheckedBody, inner: Iterator<unknown>) {
    this.#body = body;
    this.#inner = inner;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Uint8Array, undefined> {
    this.#body.checkOpen();
    const step = this.#inner.next();
    if (step.done) {
      this.#body.checkEnd();
      return { done: true, value: undefined };
    }
    this.#body.checkChunk(step.value);
    return step as IteratorYieldResult<Uint8Array>;
  }

  return(): IteratorResult<Uint8Array, undefined> {
    this.#inner.return?.();
    return { done: true, value: undefined };
  }
}

class AsyncCheckedIterator implements AsyncIterableIterator<Uint8Array, undefined, undefined> {
  readonly #body: CheckedBody;
  readonly #inner: AsyncIterator<unknown>;

  constructor(body: CheckedBody, inner: AsyncIterator<unknown>) {
    this.#body = body;
    this.#inner = inner;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array, undefined>> {
    this.#body.checkOpen();
    const step = await this.#inner.next();
    if (step.done) {
      this.#body.checkEnd();
      return { done: true, value: undefined };
    }
    this.#body.checkChunk(step.value);
    return step as IteratorYieldResult<Uint8Array>;
  }

  async return(): Promise<IteratorResult<Uint8Array, undefined>> {
    await this.#inner.return?.();
    return { done: true, value: undefined };
  }
}

/** Starts a checked async iteration of the original body. */
function checkedAsyncIterator(body: CheckedBody): AsyncCheckedIterator {
  body.checkOpen();
  const inner = (body.original as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  return new AsyncCheckedIterator(body, inner);
}

class SyncCheckedBody extends CheckedBody implements Iterable<Uint8Array> {
  [Symbol.iterator](): SyncCheckedIterator {
    this.checkOpen();
    return new SyncCheckedIterator(this, (this.original as Iterable<unknown>)[Symbol.iterator]());
  }
}

class AsyncCheckedBody extends CheckedBody implements AsyncIterable<Uint8Array> {
  [Symbol.asyncIterator](): AsyncCheckedIterator {
    return checkedAsyncIterator(this);
  }
}

/** A body that is both iterable and async-iterable keeps both, so the server may choose. */
class DualCheckedBody extends SyncCheckedBody implements AsyncIterable<Uint8Array> {
  [Symbol.asyncIterator](): AsyncCheckedIterator {
    return checkedAsyncIterator(this);
  }
}
