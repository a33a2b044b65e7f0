/**
 * Reading a CGI environment into PEP 3333 native strings (`read_environ`).
 *
 * @module
 */

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

/**
 * Copies an environment (by default `process.env`) into a new object, turning the
 * variables that come from the HTTP request into PEP 3333 native strings: Node decoded
 * them as UTF-8, so they are encoded back to bytes and each byte becomes one char.
 * Other variables are copied as they are.
 */
export function readEnviron(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const environ: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    environ[key] = needsTranscode(key) ? Buffer.from(value, "utf8").toString("latin1") : value;
  }
  return environ;
}
