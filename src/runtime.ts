/**
 * What the runtime can do, for the entry points that need more than the Fetch standard.
 * `wsgiref/server` and `wsgiref/simple-server` listen on TCP sockets: on workerd, whose
 * `node:net` accepts `listen()` but never receives a connection, they fail at import with
 * `UnsupportedRuntimeError` instead of serving nothing in silence.
 *
 * @module
 */

/**
 * A Node built-in module (`"node:fs"`) where the runtime has one, through
 * `process.getBuiltinModule` (Node 20.16+, Bun, Deno), so that the caller imports nothing
 * from Node; undefined elsewhere (workerd without its Node compatibility).
 *
 * @example
 * const fs = nodeBuiltin<typeof import("node:fs")>("node:fs");
 */
export function nodeBuiltin<T>(id: `node:${string}`): T | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process;
  return process?.getBuiltinModule?.(id) as T | undefined;
}

/** Thrown at import by a module the runtime cannot run; `code` is `ERR_UNSUPPORTED_RUNTIME`. */
export class UnsupportedRuntimeError extends Error {
  /** A stable code for the error. */
  readonly code = "ERR_UNSUPPORTED_RUNTIME";
  override name = "UnsupportedRuntimeError";
}

/** The user agent workerd (and so Cloudflare Workers) reports in `navigator.userAgent`. */
const WORKERD_USER_AGENT = "Cloudflare-Workers";

/** True on workerd and Cloudflare Workers. */
export function isWorkerd(): boolean {
  const navigator = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  return navigator?.userAgent === WORKERD_USER_AGENT;
}

/**
 * Throws `UnsupportedRuntimeError` naming `module` where the runtime cannot listen on
 * sockets (workerd); does nothing on Node, Bun and Deno.
 *
 * @example
 * requireListeningSockets("wsgiref/server"); // first thing in the module's entry file
 */
export function requireListeningSockets(module: string): void {
  if (!isWorkerd()) return;
  throw new UnsupportedRuntimeError(
    `${module} listens on TCP sockets, which workerd does not offer (its node:net only ` +
      "pretends to listen): serve the application with toFetchHandler from wsgiref/fetch",
  );
}
