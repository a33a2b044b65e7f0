/**
 * Watching an app's source files for `--reload`: which files count (extensions and
 * `--reload-include`/`--reload-exclude` globs, as uvicorn has) and noticing every save,
 * including a save by rename (`sed -i`, vim, "safe write" editors).
 *
 * Node 20's recursive `fs.watch` loses a file once it has been replaced by a rename, so an
 * event only triggers a scan: the files' size, mtime and inode are compared with the last
 * scan, and the watcher is re-armed after each event. A scan also runs every second, which
 * catches whatever a watcher missed (or a file system where `fs.watch` does not work).
 *
 * @module
 */
import { type FSWatcher, readdirSync, statSync, watch } from "node:fs";
import { join, relative, sep } from "node:path";

/** The files a change of which restarts the server by default: source code, not data or logs. */
export const DEFAULT_INCLUDE: readonly string[] = [
  "*.ts",
  "*.tsx",
  "*.jsx",
  "*.mts",
  "*.cts",
  "*.js",
  "*.mjs",
  "*.cjs",
];
/** Directories never watched, whatever the globs say. */
const IGNORED_DIRS = new Set(["node_modules", ".git"]);
/** How often a scan runs without any event, in milliseconds. */
const POLL_INTERVAL = 1000;

/**
 * Compiles a glob to a matcher: `*` is any run of characters but `/`, `**` any run at all
 * (and a `**` directory part also none), `?` one character. A glob without a `/` matches a file's (or directory's) name, one with
 * a `/` its path relative to the watched root, as uvicorn's `--reload-include` does.
 *
 * @example globMatcher("*.ts")("src/app.ts") // true
 */
export function globMatcher(glob: string): (path: string) => boolean {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        source += "(?:.*/)?";
        i++;
      } else source += ".*";
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const re = new RegExp(`^${source}$`);
  const byName = !glob.includes("/");
  return (path) => re.test(byName ? (path.split("/").pop() ?? path) : path);
}

/** What `watchSources` watches and whom it tells. */
export interface WatchOptions {
  /** The directory watched, recursively. */
  root: string;
  /** Globs of files that count, added to `DEFAULT_INCLUDE`. */
  include?: readonly string[];
  /** Globs of files and directories that never count. */
  exclude?: readonly string[];
  /** Called with the changed, added or removed paths (relative to `root`) of one scan. */
  onChange(paths: string[]): void;
}

/**
 * Watches `root` for changes to source files until `close()` is called.
 *
 * @example const w = watchSources({ root: process.cwd(), onChange: (p) => console.log(p) })
 */
export function watchSources(options: WatchOptions): { close(): void } {
  const include = [...DEFAULT_INCLUDE, ...(options.include ?? [])].map(globMatcher);
  const exclude = (options.exclude ?? []).map(globMatcher);
  const counts = (path: string) => include.some((m) => m(path)) && !exclude.some((m) => m(path));

  const scan = (): Map<string, string> => {
    const found = new Map<string, string>();
    const walk = (dir: string) => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // removed while we looked, or unreadable
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        const rel = relative(options.root, full).split(sep).join("/");
        if (entry.isDirectory()) {
          if (!IGNORED_DIRS.has(entry.name) && !exclude.some((m) => m(rel))) walk(full);
        } else if (counts(rel)) {
          try {
            const s = statSync(full);
            found.set(rel, `${s.size}:${s.mtimeMs}:${s.ino}`);
          } catch {
            // gone between readdir and stat: the next scan sees it missing
          }
        }
      }
    };
    walk(options.root);
    return found;
  };

  let last = scan();
  let closed = false;
  const check = () => {
    if (closed) return;
    const now = scan();
    const changed = [...now].filter(([path, sig]) => last.get(path) !== sig).map(([p]) => p);
    for (const path of last.keys()) if (!now.has(path)) changed.push(path);
    last = now;
    if (changed.length > 0) options.onChange(changed);
  };

  let watcher: FSWatcher | undefined;
  let pending: NodeJS.Timeout | undefined;
  const arm = () => {
    watcher?.close();
    watcher = undefined;
    if (closed) return;
    try {
      watcher = watch(options.root, { recursive: true }, (_event, file) => {
        const rel = file ? String(file).split(sep).join("/") : "";
        if (rel.split("/").some((part) => IGNORED_DIRS.has(part))) return;
        clearTimeout(pending);
        // Let a burst of events (write, rename, chmod) settle, then scan once and re-arm,
        // since the watcher may have lost a file that a rename replaced.
        pending = setTimeout(() => {
          check();
          arm();
        }, 50);
      });
      watcher.on("error", () => {
        watcher?.close();
        watcher = undefined; // polling alone from now on
      });
    } catch {
      watcher = undefined; // no recursive fs.watch here: polling alone
    }
  };
  arm();
  const poll = setInterval(check, POLL_INTERVAL);
  poll.unref();
  return {
    close() {
      closed = true;
      clearTimeout(pending);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
