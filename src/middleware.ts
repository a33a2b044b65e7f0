/**
 * WSGI middleware: trusted proxy headers (`proxyFix`), applications mounted by path
 * prefix (`mount`), and static files (`staticFiles`), after werkzeug's middleware.
 *
 * @module
 */
export { FileSlice } from "./middleware/file-slice.ts";
export { contentTypeFor } from "./middleware/mime.ts";
export { type MountOptions, mount } from "./middleware/mount.ts";
export {
  PROXY_FIX_ORIGINAL,
  type ProxyFixOptions,
  type ProxyFixOriginal,
  proxyFix,
} from "./middleware/proxy-fix.ts";
export { type StaticFilesOptions, staticFiles } from "./middleware/static.ts";
