/**
 * Mapping a request path to a file under a root directory, without ever leaving it.
 *
 * Theory of operation: `PATH_INFO` arrives percent-decoded once by the server, as a native
 * (latin-1) string. It is never decoded again, so `%2e%2e` in it (from a request's
 * `%252e%252e`) stays three literal characters. `requestSegments` refuses anything that is
 * not a clean path: control characters (NUL included), backslashes, empty, `.` and `..`
 * segments, segments that Unicode compatibility folding (NFKC) would turn into dots or
 * slashes, bytes that are not UTF-8, and (by default) dot files other than a leading
 * `/.well-known/`. `locate` then joins the segments under the root's real path and
 * resolves symlinks with `realpath`, refusing a result outside the root, and (by default)
 * one whose real path goes through a dot file. Every refusal looks like a missing file, so a client cannot
 * learn what exists outside the root.
 *
 * @module
 */
import type { BigIntStats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { decodeNative } from "../util/native.ts";

/** A request path split into file-name segments (UTF-8 text). */
export interface RequestPath {
  /** The segments, none empty, `.` or `..`. */
  readonly segments: readonly string[];
  /** Whether the path ended with `/` (asks for a directory). */
  readonly trailingSlash: boolean;
}

/** Characters never allowed in a request path: C0 controls, DEL and backslash. */
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

/** What a segment may not become after NFKC folding: dots only, or a path separator in it. */
const FOLDS_TO_DANGER = /^\.{1,2}$|[/\\]/;

/**
 * The one dot directory served even when dot files are not: `/.well-known/` (RFC 8615), for
 * ACME challenges and `security.txt`, as web server setups usually allow it. Only as the
 * first segment, and only spelled exactly so.
 */
const WELL_KNOWN = ".well-known";

/**
 * Whether file names follow Windows rules, where `:` names a drive or a data stream and
 * trailing dots and spaces are dropped (so `".. "` would be `".."`).
 */
const WINDOWS = process.platform === "win32";

/**
 * Splits `PATH_INFO` into segments to look up under the root, or returns `undefined` when
 * it is not a clean path (see the module comment). `""` is the root without a trailing
 * slash, as under a mount point reached without one.
 *
 * @param pathInfo `PATH_INFO`, a native (latin-1) string, already percent-decoded
 * @param dotfiles whether segments starting with `.` (such as `.env`, `.git`) may be served;
 *   a first segment `.well-known` always may
 */
export function requestSegments(pathInfo: string, dotfiles: boolean): RequestPath | undefined {
  if (pathInfo === "") return { segments: [], trailingSlash: false };
  if (!pathInfo.startsWith("/") || FORBIDDEN.test(pathInfo)) return undefined;
  let text: string;
  try {
    text = decodeNative(pathInfo);
  } catch {
    return undefined;
  }
  const parts = text.slice(1).split("/");
  const trailingSlash = parts[parts.length - 1] === "";
  if (trailingSlash) parts.pop();
  for (let i = 0; i < parts.length; i++) {
    const segment = parts[i] as string;
    if (segment === "" || segment === "." || segment === "..") return undefined;
    const folded = segment.normalize("NFKC");
    if (FOLDS_TO_DANGER.test(folded) || FORBIDDEN.test(folded)) return undefined;
    const dotted = segment.startsWith(".") || folded.startsWith(".");
    if (!dotfiles && dotted && !(i === 0 && segment === WELL_KNOWN)) return undefined;
    if (WINDOWS && (folded.includes(":") || /[. ]$/.test(folded))) return undefined;
  }
  return { segments: parts, trailingSlash };
}

/**
 * Whether the real path of a located file, below `root`, goes through a dot file or
 * directory other than a leading `.well-known`: a symlink with an innocent name
 * (`envlink.txt -> .env`) must not serve what its target's name would not.
 */
export function isHiddenPath(root: string, path: string): boolean {
  const below = relative(root, path);
  if (below === "") return false;
  const segments = below.split(sep);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment.startsWith(".") && !(i === 0 && segment === WELL_KNOWN)) return true;
  }
  return false;
}

/** Whether `path` is `root` or below it (both absolute and free of `..`). */
export function isInside(root: string, path: string): boolean {
  if (path === root) return true;
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** A file system entry found under the root. */
export interface Located {
  /** Its real path: symlinks resolved, inside the root. */
  readonly path: string;
  /** Its `stat`, with nanosecond times. */
  readonly stats: BigIntStats;
}

/**
 * The real root directory: `root` with symlinks resolved, resolved on every request so
 * that a root that is itself a symlink (swapped on deploys) is followed.
 *
 * @throws Error when the root is missing or not a directory: that is a configuration
 *   error, not a missing file, and should be seen.
 */
export async function realRoot(root: string): Promise<string> {
  const real = await realpath(root);
  if (!(await stat(real)).isDirectory()) {
    throw new Error(`staticFiles: the root ${JSON.stringify(root)} is not a directory`);
  }
  return real;
}

/**
 * Finds `segments` under `root` (a real path from `realRoot`), or returns `undefined` when
 * there is nothing there, it cannot be read, or its real path is outside the root (a
 * symlink pointing out) or, unless `dotfiles`, names a dot file (`isHiddenPath`). A
 * symlink that stays inside the root is followed.
 */
export async function locate(
  root: string,
  segments: readonly string[],
  dotfiles: boolean,
): Promise<Located | undefined> {
  const candidate = join(root, ...segments);
  if (!isInside(root, candidate)) return undefined;
  try {
    const path = await realpath(candidate);
    if (!isInside(root, path)) return undefined;
    if (!dotfiles && isHiddenPath(root, path)) return undefined;
    return { path, stats: await stat(path, { bigint: true }) };
  } catch {
    return undefined;
  }
}
