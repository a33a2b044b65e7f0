/**
 * `staticFiles`: serve the files under a directory, safely, with validators, conditional
 * requests and byte ranges; after werkzeug's `SharedDataMiddleware` and common web servers.
 *
 * @module
 */
import type { BigIntStats } from "node:fs";
import { constants, type FileHandle, open } from "node:fs/promises";
import { formatDateTime } from "../handlers/date.ts";
import type {
  FileLike,
  HeaderTuple,
  ResponseBody,
  StartResponse,
  WSGIApplication,
  WSGIEnvironment,
} from "../types.ts";
import { FileWrapper } from "../util/file-wrapper.ts";
import { evaluatePreconditions, ifRangeAllows, type Validators } from "./conditional.ts";
import { FileSlice } from "./file-slice.ts";
import { contentTypeFor } from "./mime.ts";
import { parseRange } from "./range.ts";
import { plainResponse } from "./respond.ts";
import { type Located, locate, realRoot, requestSegments } from "./static-path.ts";

/** Options of `staticFiles`. */
export interface StaticFilesOptions {
  /**
   * The application for every request `staticFiles` does not answer with a file: a path
   * with no file (or a refused one), a method other than `GET` and `HEAD`. Without it
   * those get `404 Not Found` and `405 Method Not Allowed`.
   */
  fallback?: WSGIApplication;
  /** Seconds a response may be cached: adds `Cache-Control: public, max-age=N`. */
  maxAge?: number;
  /** The file served for a directory requested with a trailing `/`; `false` for none. Default `index.html`. */
  index?: string | false;
  /**
   * Whether names starting with `.` may be served. Default `false`: `.env`, `.git/config`,
   * `.htpasswd` and friends are answered as missing, as most servers do, since such files
   * are rarely meant to be public even when they sit under the root. Both the request path
   * and the file's real path are checked, so a symlink `envlink.txt -> .env` is refused
   * too. `/.well-known/` (RFC 8615: ACME challenges, `security.txt`) is served either way;
   * dot files inside it are not.
   */
  dotfiles?: boolean;
}

/** The size of each read of a file body. */
const BLOCK_SIZE = 64 * 1024;

/** Where no symlink may be followed when opening the (already resolved) file. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/** Bytes a `Location` path may hold as they are; the rest is percent-encoded. */
const LOCATION_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/** Percent-encodes a native (latin-1) path for a `Location` header. */
function quotePath(path: string): string {
  let out = "";
  for (const ch of path) {
    out += LOCATION_SAFE.test(ch)
      ? ch
      : `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * The validators of a file: a strong `ETag` from its size and modification time in
 * nanoseconds, both in hex (`"<size>-<mtime>"`), and its `Last-Modified` second.
 */
function validatorsOf(stats: BigIntStats): Validators {
  return {
    etag: `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`,
    lastModified: Number(stats.mtimeMs / 1000n),
  };
}

/** `StaticFilesOptions` checked, with the defaults filled in. */
interface CheckedOptions {
  readonly fallback: WSGIApplication | undefined;
  readonly maxAge: number | undefined;
  readonly index: string | false;
  readonly dotfiles: boolean;
}

/** Checks the options and fills in the defaults. */
function checkOptions(options: StaticFilesOptions): CheckedOptions {
  const { maxAge, index = "index.html", dotfiles = false, fallback } = options;
  if (maxAge !== undefined && (!Number.isSafeInteger(maxAge) || maxAge < 0)) {
    throw new RangeError(`staticFiles: maxAge must be a non-negative integer, got ${maxAge}`);
  }
  if (index !== false && (typeof index !== "string" || index === "" || /[/\\]/.test(index))) {
    throw new TypeError(`staticFiles: index must be a file name or false, got ${String(index)}`);
  }
  if (fallback !== undefined && typeof fallback !== "function") {
    throw new TypeError("staticFiles: fallback is not a function");
  }
  return { fallback, maxAge, index, dotfiles };
}

/**
 * An application that serves the files under `root`; with `{ fallback: app }`, a
 * middleware that serves files and passes every other request to `app`.
 *
 * It answers `GET` and `HEAD` (`405` with `Allow: GET, HEAD` for other methods), with
 * `Content-Type` from the file's extension (`; charset=utf-8` for text), `Content-Length`,
 * `Last-Modified`, `ETag`, `Accept-Ranges: bytes`, `X-Content-Type-Options: nosniff`, and
 * `Cache-Control` when `maxAge` is given. A directory requested without a trailing slash
 * is redirected (`301`) to the same path with one; with one, its `index.html` is served.
 * There are no directory listings.
 *
 * Conditional requests follow RFC 9110 §13.2.2: `If-Match` and `If-Unmodified-Since` fail
 * with `412`; `If-None-Match` (which takes precedence) and `If-Modified-Since` answer
 * `304`. A single `Range: bytes=` range (`a-b`, `a-`, `-n`) gets `206` with
 * `Content-Range`, unless an `If-Range` does not match; an unsatisfiable one `416` with
 * `Content-Range: bytes *\/size`; several ranges get the whole file with `200`.
 *
 * The `ETag` is a strong validator made of the size and the modification time in
 * nanoseconds. A file rewritten in place, within one tick of the file system's clock, to
 * the same size, would keep its tag: deploy by writing new files and renaming them.
 *
 * The body goes through `environ["wsgi.file_wrapper"]` when the server offers one (the
 * whole file as a `FileHandle`, so its fast path applies; a range as a `FileSlice` that
 * reads only those bytes), else through a `FileWrapper`.
 *
 * Security: nothing outside `root` is ever served, nor is its existence revealed: `..`
 * and `.` segments, empty segments (`//etc/passwd`), backslashes, NUL and other control
 * characters, Unicode look-alikes of dots and slashes, non-UTF-8 bytes, dot files (unless
 * `dotfiles`; by request path or by real path; `/.well-known/` is served), and symlinks
 * whose real path is outside the root all get the same `404`
 * as a missing file. `PATH_INFO` is never percent-decoded a second time, so `%252e%252e`
 * is a literal name, not `..`. Redirects use a path-only `Location`, never the `Host`
 * header. The checks assume nobody hostile can write inside the root; a symlink swapped
 * in between the check and the open is caught by `O_NOFOLLOW` and an inode comparison.
 *
 * @param root the directory to serve (resolved with `realpath` on each request, so a
 *   symlink to the current release is followed)
 * @throws RangeError or TypeError for bad options; a request fails with an error (500)
 *   when `root` is missing or not a directory.
 * @example
 * const app = staticFiles("./public", { maxAge: 3600, fallback: siteApp });
 */
export function staticFiles(root: string, options: StaticFilesOptions = {}): WSGIApplication {
  if (typeof root !== "string" || root === "") {
    throw new TypeError("staticFiles: root must be a directory path");
  }
  const { fallback, maxAge, index, dotfiles } = checkOptions(options);
  const cacheHeaders: HeaderTuple[] =
    maxAge === undefined ? [] : [["Cache-Control", `public, max-age=${maxAge}`]];

  const notFound = (environ: WSGIEnvironment, startResponse: StartResponse) =>
    fallback
      ? fallback(environ, startResponse)
      : plainResponse(environ, startResponse, "404 Not Found", "Not Found");

  return async (environ, startResponse) => {
    const method = environ.REQUEST_METHOD;
    if (method !== "GET" && method !== "HEAD") {
      if (fallback) return fallback(environ, startResponse);
      return plainResponse(environ, startResponse, "405 Method Not Allowed", "Method Not Allowed", [
        ["Allow", "GET, HEAD"],
      ]);
    }
    const pathInfo = typeof environ.PATH_INFO === "string" ? environ.PATH_INFO : "";
    const request = requestSegments(pathInfo, dotfiles);
    if (request === undefined) return notFound(environ, startResponse);
    const rootPath = await realRoot(root);
    let found = await locate(rootPath, request.segments, dotfiles);
    if (found === undefined) return notFound(environ, startResponse);

    if (found.stats.isDirectory()) {
      if (!request.trailingSlash) return redirectToDirectory(environ, startResponse);
      if (index === false) return notFound(environ, startResponse);
      found = await locate(rootPath, [...request.segments, index], dotfiles);
      if (found === undefined) return notFound(environ, startResponse);
    } else if (request.trailingSlash) {
      // "/file.txt/" names a directory that is not there.
      return notFound(environ, startResponse);
    }
    if (!found.stats.isFile()) return notFound(environ, startResponse);
    return serveFile(environ, startResponse, found, cacheHeaders, notFound);
  };
}

/** Redirects `/dir` to `/dir/` with a path-only `Location`, keeping the query string. */
function redirectToDirectory(environ: WSGIEnvironment, startResponse: StartResponse): ResponseBody {
  const script = typeof environ.SCRIPT_NAME === "string" ? environ.SCRIPT_NAME : "";
  // One leading slash only: "//host/" would be a protocol-relative URL to another site.
  let location = quotePath(`${script}${environ.PATH_INFO ?? ""}/`).replace(/^\/+/, "/");
  const query = environ.QUERY_STRING;
  if (typeof query === "string" && query !== "" && /^[\x21-\x7e]*$/.test(query)) {
    location += `?${query}`;
  }
  return plainResponse(environ, startResponse, "301 Moved Permanently", "Moved Permanently", [
    ["Location", location],
  ]);
}

/** Answers with the located file, or with a 304, 412 or 416 about it. */
async function serveFile(
  environ: WSGIEnvironment,
  startResponse: StartResponse,
  found: Located,
  cacheHeaders: HeaderTuple[],
  notFound: WSGIApplication,
): Promise<ResponseBody> {
  const isGet = environ.REQUEST_METHOD === "GET";
  let handle: FileHandle | undefined;
  let stats = found.stats;
  if (isGet) {
    try {
      handle = await open(found.path, OPEN_FLAGS);
      stats = await handle.stat({ bigint: true });
    } catch {
      await handle?.close();
      return notFound(environ, startResponse);
    }
    // What was opened must be what was checked: a swapped-in file is treated as missing.
    if (!stats.isFile() || stats.ino !== found.stats.ino || stats.dev !== found.stats.dev) {
      await handle.close();
      return notFound(environ, startResponse);
    }
  }

  const validators = validatorsOf(stats);
  const size = Number(stats.size);
  const validatorHeaders: HeaderTuple[] = [
    ["ETag", validators.etag],
    ["Last-Modified", formatDateTime(validators.lastModified)],
    ...cacheHeaders,
  ];
  const precondition = evaluatePreconditions(environ, validators);
  // Range applies to GET only (RFC 9110 §14.2), and not when If-Range says it changed.
  const rangeHeader = environ.HTTP_RANGE;
  const range =
    isGet && rangeHeader !== undefined && ifRangeAllows(environ, validators)
      ? parseRange(rangeHeader, size)
      : undefined;
  if (precondition !== "proceed" || range?.kind === "unsatisfiable") {
    await handle?.close();
    if (precondition === "not-modified") {
      startResponse("304 Not Modified", validatorHeaders);
      return [];
    }
    if (precondition === "failed") {
      return plainResponse(
        environ,
        startResponse,
        "412 Precondition Failed",
        "Precondition Failed",
      );
    }
    return plainResponse(
      environ,
      startResponse,
      "416 Range Not Satisfiable",
      "Range Not Satisfiable",
      [
        ["Content-Range", `bytes */${size}`],
        ["Accept-Ranges", "bytes"],
      ],
    );
  }

  const partial = range?.kind === "partial" ? range : undefined;
  const start = partial ? partial.start : 0;
  const length = partial ? partial.end - partial.start + 1 : size;
  const headers: HeaderTuple[] = [
    ["Content-Type", contentTypeFor(found.path)],
    ["Content-Length", String(length)],
    ...validatorHeaders,
    ["Accept-Ranges", "bytes"],
    ["X-Content-Type-Options", "nosniff"],
  ];
  if (partial) headers.push(["Content-Range", `bytes ${partial.start}-${partial.end}/${size}`]);
  try {
    startResponse(partial ? "206 Partial Content" : "200 OK", headers);
    if (handle === undefined) return [];
    const factory = environ["wsgi.file_wrapper"];
    if (typeof factory === "function") {
      const file: FileLike | FileHandle = partial ? new FileSlice(handle, start, length) : handle;
      return factory(file, BLOCK_SIZE);
    }
    // Without a server's wrapper, read exactly the bytes announced even if the file grows.
    return new FileWrapper(new FileSlice(handle, start, length), BLOCK_SIZE);
  } catch (error) {
    await handle?.close();
    throw error;
  }
}
