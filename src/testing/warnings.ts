/**
 * Collecting the validator's `WSGIWarning`s per call. The validator emits them through
 * `process.emitWarning`, which is global; this module wraps it once, and a warning
 * emitted while a call runs (in its async context) goes to that call's list instead of
 * stderr. Concurrent calls each get their own warnings. Other warnings, and warnings
 * outside a call, go where they always went.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { WSGIWarning } from "../validate.ts";

const storage = new AsyncLocalStorage<WSGIWarning[]>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const original = process.emitWarning;
  const wrapped = function emitWarning(this: unknown, warning: unknown, ...rest: unknown[]) {
    const sink = storage.getStore();
    if (sink !== undefined && warning instanceof WSGIWarning) {
      sink.push(warning);
      return;
    }
    Reflect.apply(original, process, [warning, ...rest]);
  };
  process.emitWarning = wrapped as typeof process.emitWarning;
}

/** Runs `fn` with the `WSGIWarning`s it emits (also later, in its async continuations) pushed onto `sink`. */
export function collectWarnings<T>(sink: WSGIWarning[], fn: () => T): T {
  install();
  return storage.run(sink, fn);
}
