/**
 * `mount`: dispatch requests to applications by path prefix, after werkzeug's
 * `DispatcherMiddleware`, moving the prefix from `PATH_INFO` to `SCRIPT_NAME` with
 * `shiftPathInfo`.
 *
 * @module
 */
import type { WSGIApplication, WSGIEnvironment } from "../types.ts";
import { encodeNative } from "../util/native.ts";
import { shiftPathInfo } from "../util.ts";
import { plainResponse } from "./respond.ts";

/** Options of `mount`. */
export interface MountOptions {
  /**
   * Refuse with `400 Bad Request` a request whose path has an encoded slash (`%2F` in
   * `RAW_URI` or `REQUEST_URI`, when the server gives one) or a `.` or `..` segment in
   * `PATH_INFO` (also when sent as `%2e`). Default `false`: such paths are passed on as
   * PEP 3333 and werkzeug do. Turn it on when a proxy in front allows or denies requests by
   * path prefix: `/admin%2fsecret` and `/public/../admin` name `/admin` to the app but
   * not to a rule written for `/admin/`.
   */
  strictPaths?: boolean;
}

/** A `.` or `..` segment: between slashes, or at the end. */
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** An encoded slash in the path part (before any `?`) of a raw request target. */
const ENCODED_SLASH = /^[^?]*%2f/i;

/** Whether `strictPaths` refuses the request: see `MountOptions.strictPaths`. */
function isAmbiguousPath(environ: WSGIEnvironment): boolean {
  const pathInfo = environ.PATH_INFO;
  if (typeof pathInfo === "string" && DOT_SEGMENT.test(pathInfo)) return true;
  const raw = environ.RAW_URI ?? environ.REQUEST_URI;
  return typeof raw === "string" && ENCODED_SLASH.test(raw);
}

/** One path segment's worth of the mount table: the app mounted here, and deeper mounts. */
interface MountNode {
  app: WSGIApplication | undefined;
  readonly children: Map<string, MountNode>;
}

/**
 * The segments of a mount point, as native strings. `""` and `"/"` are the root; one
 * trailing slash is allowed (`"/api/"` is `"/api"`); empty, `.` and `..` segments are not.
 */
function mountSegments(prefix: string): string[] {
  if (prefix === "" || prefix === "/") return [];
  if (!prefix.startsWith("/")) {
    throw new TypeError(
      `mount(): a mount point must start with "/", got ${JSON.stringify(prefix)}`,
    );
  }
  const segments = prefix.slice(1).replace(/\/$/, "").split("/");
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new TypeError(
        `mount(): a mount point may not have empty, "." or ".." segments, got ${JSON.stringify(prefix)}`,
      );
    }
  }
  return segments.map((segment) => encodeNative(segment));
}

/** Builds the segment tree of a mount table, refusing two keys for the same place. */
function buildTree(
  mounts: Readonly<Record<string, WSGIApplication>>,
  fallback: WSGIApplication | undefined,
): MountNode {
  const root: MountNode = { app: fallback, children: new Map() };
  for (const [prefix, app] of Object.entries(mounts)) {
    if (typeof app !== "function") {
      throw new TypeError(`mount(): the app for ${JSON.stringify(prefix)} is not a function`);
    }
    let node = root;
    for (const segment of mountSegments(prefix)) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = { app: undefined, children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    if (node.app !== undefined) {
      const what = node === root && fallback !== undefined ? "the fallback" : "another key";
      throw new TypeError(`mount(): ${JSON.stringify(prefix)} is mounted twice (by ${what})`);
    }
    node.app = app;
  }
  return root;
}

/**
 * An application that sends each request to the app mounted at the longest prefix of its
 * `PATH_INFO`, as werkzeug's `DispatcherMiddleware` does. Prefixes match whole segments
 * only: `/api` takes `/api` and `/api/x` but not `/apix`. The chosen app gets a copy of the
 * environ with the prefix moved from `PATH_INFO` to `SCRIPT_NAME` (segment by segment, by
 * `shiftPathInfo`, so `//api/./x` reaches `/api` as well); the caller's environ is never
 * changed. A request no prefix matches goes to `fallback`, unchanged, or gets a
 * `404 Not Found` `text/plain` answer.
 *
 * Keys are paths as text, not percent-encoded (`"/café"` matches a request for
 * `/caf%C3%A9`). `"/"` (or `""`) mounts an app at the root, which is the same as giving
 * `fallback`; doing both is an error.
 *
 * Paths are taken as the server decoded them, as PEP 3333 says: `/admin%2fsecret` arrives
 * as `PATH_INFO` `/admin/secret` and reaches the `/admin` mount, as with werkzeug; a `..`
 * segment is passed on, not resolved (`/api/../admin` reaches `/api` with `PATH_INFO`
 * `/../admin`). Behind a proxy that filters by path prefix, give `{ strictPaths: true }`
 * to refuse both with `400` instead.
 *
 * @param mounts mount point (`"/api"`, `"/static/v2"`) to application
 * @param fallback the application for requests that match no mount point
 * @param options `strictPaths`: refuse encoded slashes and dot segments with 400
 * @throws TypeError when a key is not a clean absolute path or an app is not a function.
 * @example
 * const app = mount({ "/api": apiApp, "/static": staticFiles("public") }, siteApp);
 * // GET /api/users reaches apiApp with SCRIPT_NAME "/api" and PATH_INFO "/users"
 */
export function mount(
  mounts: Readonly<Record<string, WSGIApplication>>,
  fallback?: WSGIApplication,
  options: MountOptions = {},
): WSGIApplication {
  if (fallback !== undefined && typeof fallback !== "function") {
    throw new TypeError("mount(): the fallback is not a function");
  }
  const strictPaths = options.strictPaths ?? false;
  if (typeof strictPaths !== "boolean") {
    throw new TypeError(`mount(): strictPaths must be a boolean, got ${typeof strictPaths}`);
  }
  const root = buildTree(mounts, fallback);
  return (environ, startResponse) => {
    if (strictPaths && isAmbiguousPath(environ)) {
      return plainResponse(environ, startResponse, "400 Bad Request", "Bad Request");
    }
    const probe = { ...environ };
    let node = root;
    let chosen = root.app;
    let scriptName = environ.SCRIPT_NAME;
    let pathInfo = environ.PATH_INFO;
    // shiftPathInfo only moves segments of a PATH_INFO that starts with "/".
    if (typeof pathInfo !== "string" || pathInfo.startsWith("/")) {
      for (;;) {
        const segment = shiftPathInfo(probe);
        const child = segment === undefined ? undefined : node.children.get(segment);
        if (child === undefined) break;
        node = child;
        if (child.app !== undefined) {
          chosen = child.app;
          scriptName = probe.SCRIPT_NAME;
          pathInfo = probe.PATH_INFO;
        }
      }
    }
    const target: WSGIEnvironment = { ...environ };
    if (scriptName !== undefined) target.SCRIPT_NAME = scriptName;
    if (pathInfo !== undefined) target.PATH_INFO = pathInfo;
    if (chosen === undefined)
      return plainResponse(target, startResponse, "404 Not Found", "Not Found");
    return chosen(target, startResponse);
  };
}
