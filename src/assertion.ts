/**
 * `AssertionError`, as the WSGI algorithm and the validator throw it (CPython raises
 * `AssertionError` for a broken protocol): Node's own class from `node:assert` where the
 * runtime has one, so `instanceof` and `code: "ERR_ASSERTION"` hold there, and a
 * stand-in with the same name, code and message elsewhere (workerd without its Node
 * compatibility). Reached lazily, so `wsgiref/fetch` imports nothing from Node.
 *
 * @module
 */
import type { AssertionError as NodeAssertionError } from "node:assert";
import { nodeBuiltin } from "./runtime.ts";

/** What `new AssertionError(options)` takes here. */
interface AssertionOptions {
  /** The message. */
  message?: string;
  /** Frames above this function are left out of the stack (Node only). */
  stackStartFn?: (...args: never[]) => unknown;
}

/** The stand-in where there is no `node:assert`. */
class StandInAssertionError extends Error {
  /** As Node's. */
  readonly code = "ERR_ASSERTION";
  override name = "AssertionError";

  constructor(options: AssertionOptions) {
    super(options.message);
  }
}

/** Node's `assert.AssertionError`, or a stand-in with the same name and code. */
export const AssertionError: new (options: AssertionOptions) => NodeAssertionError =
  nodeBuiltin<typeof import("node:assert")>("node:assert")?.AssertionError ??
  (StandInAssertionError as unknown as new (
    options: AssertionOptions,
  ) => NodeAssertionError);
