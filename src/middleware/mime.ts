/**
 * A small table of media types for static files, by file extension.
 *
 * Deliberately short: the formats a web site serves. Anything else is
 * `application/octet-stream`, which browsers download rather than render, the safe default
 * for a file whose type is unknown.
 *
 * @module
 */

/** The media type of a file whose extension is not in the table. */
export const DEFAULT_TYPE = "application/octet-stream";

/** Extension (lower case, without the dot) to media type. */
const TYPES: ReadonlyMap<string, string> = new Map([
  ["html", "text/html"],
  ["htm", "text/html"],
  ["css", "text/css"],
  ["js", "text/javascript"],
  ["mjs", "text/javascript"],
  ["cjs", "text/javascript"],
  ["txt", "text/plain"],
  ["text", "text/plain"],
  ["md", "text/markdown"],
  ["csv", "text/csv"],
  ["xml", "text/xml"],
  ["json", "application/json"],
  ["map", "application/json"],
  ["webmanifest", "application/manifest+json"],
  ["wasm", "application/wasm"],
  ["pdf", "application/pdf"],
  ["zip", "application/zip"],
  ["gz", "application/gzip"],
  ["tar", "application/x-tar"],
  ["svg", "image/svg+xml"],
  ["png", "image/png"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["webp", "image/webp"],
  ["avif", "image/avif"],
  ["ico", "image/vnd.microsoft.icon"],
  ["woff", "font/woff"],
  ["woff2", "font/woff2"],
  ["ttf", "font/ttf"],
  ["otf", "font/otf"],
  ["mp3", "audio/mpeg"],
  ["ogg", "audio/ogg"],
  ["wav", "audio/wav"],
  ["mp4", "video/mp4"],
  ["webm", "video/webm"],
]);

/**
 * The media type for a file name, from its extension (case-insensitive), or
 * `application/octet-stream`. Text types get `; charset=utf-8`, so a browser never has to
 * guess the encoding (guessing is how UTF-7 style sniffing attacks worked).
 *
 * @example contentTypeFor("app.JS") // "text/javascript; charset=utf-8"
 */
export function contentTypeFor(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return DEFAULT_TYPE;
  const type = TYPES.get(base.slice(dot + 1).toLowerCase());
  if (type === undefined) return DEFAULT_TYPE;
  return type.startsWith("text/") ? `${type}; charset=utf-8` : type;
}
