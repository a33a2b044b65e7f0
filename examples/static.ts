/**
 * Small wsgiref based web server. Takes a path to serve from and an optional port number
 * (defaults to 8000), then tries to serve files. MIME types come from a small table;
 * 404 errors are raised if the file is not found.
 *
 * Two fixes over the Python example it follows:
 * - it never serves a file outside its root: `..` segments (also sent as `%2e%2e` or with
 *   `%2f` slashes, which the server decodes into PATH_INFO), backslashes, NUL bytes, paths
 *   that are not UTF-8, and symbolic links leading out of the root all get 404;
 * - it never serves a dot file (`/.env`, `/%2eenv`, `/.git/config`, or a symbolic link
 *   whose target is one): 404;
 * - every file goes out with its `Content-Type` and `Content-Length`.
 *
 * Files are sent with `environ["wsgi.file_wrapper"]`, over a file descriptor. A directory
 * serves its `index.html`.
 *
 * It listens on 127.0.0.1 only, unless HOST says otherwise (`0.0.0.0` or `::` for every
 * interface): a directory is easily shared by mistake.
 *
 * Run: node --import tsx examples/static.ts [DIR] [PORT] [HOST]   (port 0 picks a free port)
 */
import { close as closeCallback, constants, fstat, open as openCallback } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { makeServer } from "../src/simple-server.ts";
import type {
  ResponseBody,
  StartResponse,
  WSGIApplication,
  WSGIEnvironment,
} from "../src/types.ts";
import { decodeNative, FileWrapper } from "../src/util.ts";

const openFd = promisify(openCallback);
const fstatFd = promisify(fstat);
const closeFd = promisify(closeCallback);

/** The media type of each extension served; anything else is `application/octet-stream`. */
const MIME_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".xml": "application/xml",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".pdf": "application/pdf",
  ".wasm": "application/wasm",
  ".mp3": "audio/mpeg",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
};

/** The `Content-Type` for a file name. */
function mimeType(fileName: string): string {
  return MIME_TYPES[extname(fileName).toLowerCase()] ?? "application/octet-stream";
}

/** True if `path` is `root` or inside it (both real paths). */
function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real path of the file `pathInfo` names under `root` (itself a real path), or
 * `undefined` when it must not be served: not UTF-8, a `..` segment, a backslash or NUL,
 * nothing there, or a real path (symbolic links resolved) outside the root.
 */
async function resolveFile(root: string, pathInfo: string): Promise<string | undefined> {
  let text: string;
  try {
    text = decodeNative(pathInfo);
  } catch {
    return undefined;
  }
  const segments = text.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.some((s) => s === ".." || s.includes("\\") || s.includes("\0"))) return undefined;
  // Dot files (.env, .git/config) are private, also when a symlink with a plain name leads there.
  if (segments.some((s) => s.startsWith("."))) return undefined;
  try {
    let real = await realpath(join(root, ...segments));
    if ((await stat(real)).isDirectory()) real = await realpath(join(real, "index.html"));
    if (
      !inside(root, real) ||
      relative(root, real)
        .split(sep)
        .some((s) => s.startsWith("."))
    ) {
      return undefined;
    }
    return real;
  } catch {
    return undefined;
  }
}

/** The static file application for `root` (a real path). */
function staticApp(root: string): WSGIApplication {
  return async (environ: WSGIEnvironment, respond: StartResponse): Promise<ResponseBody> => {
    // Get the file name, and open it if it may be served
    const file = await resolveFile(root, environ.PATH_INFO);
    const fd = file === undefined ? undefined : await openRegularFile(file);

    // Return 200 OK if the file exists (inside the root), otherwise 404 Not Found
    if (file === undefined || fd === undefined) {
      respond("404 Not Found", [["Content-Type", "text/plain"]]);
      return [Buffer.from("not found")];
    }
    respond("200 OK", [
      ["Content-Type", mimeType(file)],
      ["Content-Length", String(fd.size)],
    ]);
    return environ["wsgi.file_wrapper"]?.(fd.fd) ?? new FileWrapper(fd.fd);
  };
}

/** Opens a regular file (not following a last symbolic link) and gives its descriptor and size. */
async function openRegularFile(file: string): Promise<{ fd: number; size: number } | undefined> {
  let fd: number;
  try {
    fd = await openFd(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  const info = await fstatFd(fd);
  if (info.isFile()) return { fd, size: info.size };
  await closeFd(fd);
  return undefined;
}

// Get the path and port from command-line arguments
const root = process.argv[2] ?? process.cwd();
const path = await realpath(root).catch((): never => {
  console.error(`static.ts: no such directory: ${root}`);
  process.exit(2);
});
const port = process.argv[3] === undefined ? 8000 : Number(process.argv[3]);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`static.ts: not a port number: ${process.argv[3]}`);
  process.exit(2);
}

// Listen on the loopback interface only, unless another address is given ("" or 0.0.0.0: all)
const host = process.argv[4] ?? "127.0.0.1";

// Make and start the server until control-C
const httpd = await makeServer(host, port, staticApp(path));
console.log(
  `Serving ${path} at ${host || "every interface"} on port ${httpd.serverPort}, control-C to stop`,
);
const stop = () => {
  console.log("Shutting down.");
  void httpd.shutdown();
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
await httpd.serveForever();
await httpd.close();
