/**
 * Reading a CGI environment into PEP 3333 native strings (`read_environ`).
 *
 * @module
 */
import { latin1Bytes, latin1Text, utf8Bytes, utf8Text } from "../bytes.ts";
import { nodeBuiltin } from "../runtime.ts";

const REQUEST_VARIABLES = new Set([
  "SCRIPT_NAME",
  "PATH_INFO",
  "QUERY_STRING",
  "REQUEST_METHOD",
  "AUTH_TYPE",
  "CONTENT_TYPE",
  "CONTENT_LENGTH",
  "HTTPS",
  "REMOTE_USER",
  "REMOTE_IDENT",
]);

/** True for variables that carry request bytes and so must be transcoded (CPython's `_needs_transcode`). */
function needsTranscode(key: string): boolean {
  return (
    REQUEST_VARIABLES.has(key) ||
    key.startsWith("HTTP_") ||
    key.startsWith("SSL_") ||
    (key.startsWith("REDIRECT_") && needsTranscode(key.slice(9)))
  );
}

let startupEnviron: Map<string, string> | null | undefined;

/** Node's `process` where the runtime has one (not workerd without `nodejs_compat`). */
const nodeProcess = (
  globalThis as { process?: { env: Readonly<Record<string, string | undefined>> } }
).process;

/**
 * The environment the process started with, byte for byte, each byte one char, where the
 * platform shows it (Linux's `/proc/self/environ`); null elsewhere.
 */
function rawStartupEnviron(): Map<string, string> | null {
  if (startupEnviron !== undefined) return startupEnviron;
  try {
    // Loaded lazily so that this module imports nothing from Node (`wsgiref/fetch` uses it).
    const fs = nodeBuiltin<typeof import("node:fs")>("node:fs");
    if (fs === undefined) throw new Error("no node:fs");
    startupEnviron = new Map();
    for (const entry of latin1Text(fs.readFileSync("/proc/self/environ")).split("\0")) {
      const eq = entry.indexOf("=");
      if (eq > 0) startupEnviron.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
  } catch {
    startupEnviron = null;
  }
  return startupEnviron;
}

/** A `process.env` value as the bytes the process was given, one char per byte. */
function nativeValue(key: string, value: string, raw: Map<string, string> | null): string {
  // Node decoded the bytes as UTF-8, turning invalid ones into U+FFFD. Where the startup
  // bytes are known and the variable was not changed since, they are the exact value.
  const original = raw?.get(key);
  if (original !== undefined && utf8Text(latin1Bytes(original)) === value) {
    return original;
  }
  return latin1Text(utf8Bytes(value));
}

/**
 * Copies an environment (by default `process.env`, or nothing where there is no
 * `process`) into a new object, turning the
 * variables that come from the HTTP request into PEP 3333 native strings: Node decoded
 * them as UTF-8, so they are encoded back to bytes and each byte becomes one char.
 * Other variables are copied as they are.
 *
 * Bytes that are not UTF-8 (a path with `%E9`) do not survive Node's decoding; for
 * `process.env` on Linux they are read back from `/proc/self/environ`, so such a
 * variable arrives exactly as CPython's `read_environ` gives it.
 */
export function readEnviron(
  env: Readonly<Record<string, string | undefined>> = nodeProcess?.env ?? {},
): Record<string, string> {
  const raw = env === nodeProcess?.env ? rawStartupEnviron() : null;
  const environ: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    environ[key] = needsTranscode(key) ? nativeValue(key, value, raw) : value;
  }
  return environ;
}
