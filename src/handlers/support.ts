/**
 * Small helpers the WSGI algorithm and its gateways share: describing a value in an error
 * message, telling promises apart, closing a body, formatting a traceback.
 *
 * @module
 */

/** A short, safe description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 80));
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return `${typeof value} ${String(value)}`;
}

/** True if `value` is a promise or another thenable. */
export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Calls the body's `close()` if it has one, and waits for it. */
export function closeBody(body: unknown): void | Promise<void> {
  const close = (body as { close?: unknown } | null | undefined)?.close;
  if (typeof close !== "function") return;
  const closing: unknown = close.call(body);
  if (isPromiseLike<void>(closing)) return Promise.resolve(closing);
}

/** Formats an error like a traceback: its stack, cut to `limit` frames when given. */
export function formatError(error: unknown, limit?: number): string {
  if (!(error instanceof Error)) return `Uncaught ${describe(error)}`;
  const stack = error.stack ?? `${error.name}: ${error.message}`;
  if (limit === undefined) return stack;
  const lines = stack.split("\n");
  const head = lines.filter((line) => !/^\s+at /.test(line));
  const frames = lines.filter((line) => /^\s+at /.test(line)).slice(0, Math.max(0, limit));
  return [...head, ...frames].join("\n");
}
