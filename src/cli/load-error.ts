/**
 * Turning an application file's load failure into a few readable lines: where a syntax
 * error is (`file:line:column: reason`), or what an import-time throw said and the stack
 * frames that lead to it.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** How many stack frames an import-time throw shows. */
const FRAMES = 6;
/** A stack frame of the loader itself (ours or tsx's): the frames below it are not the app's. */
const LOADER_FRAME = /\b(?:importTypeScript|loadApp)\b|[\\/]tsx[\\/]dist[\\/]/;
/** How many syntax errors of one transform are shown. */
const SYNTAX_ERRORS = 3;

/** A path as the user would type it: relative to `cwd` when it is under it. */
function display(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}

/**
 * The `file:line:column: reason` lines of an esbuild/tsx "Transform failed" error, or
 * undefined when the error is not one.
 */
function transformErrors(message: string, cwd: string): string[] | undefined {
  if (!message.startsWith("Transform failed")) return undefined;
  const found: string[] = [];
  for (const line of message.split("\n").slice(1)) {
    const m = /^(.+?):(\d+):(\d+): ERROR: (.*)$/.exec(line);
    if (m) found.push(`${display(m[1] as string, cwd)}:${m[2]}:${m[3]}: ${m[4]}`);
  }
  return found.length > 0 ? found.slice(0, SYNTAX_ERRORS) : undefined;
}

/**
 * `file:line[:column]` from Node's "arrow" decoration of a SyntaxError: a first line
 * `FILE:LINE`, then the source line, then a caret under the column. Node adds it to the
 * stack of a type-stripping error; `node --check` prints it for plain JavaScript.
 */
function arrowLocation(text: string, cwd: string): string | undefined {
  const lines = text.split("\n");
  const m = /^(file:\/\/\S+|\/\S*|[A-Za-z]:\\\S*):(\d+)$/.exec(lines[0] ?? "");
  if (!m) return undefined;
  const file = (m[1] as string).startsWith("file:")
    ? fileURLToPath(m[1] as string)
    : (m[1] as string);
  const caret = (lines[2] ?? "").indexOf("^");
  return `${display(file, cwd)}:${m[2]}${caret >= 0 ? `:${caret + 1}` : ""}`;
}

/**
 * Where Node's own parser stops in a JavaScript file: the SyntaxError thrown by
 * `import()` carries no location on Node 20, so `node --check` is asked (only on this
 * failure path).
 */
function checkLocation(path: string, cwd: string): string | undefined {
  const check = spawnSync(process.execPath, ["--check", path], {
    encoding: "utf8",
    timeout: 10_000,
  });
  const text = check.stderr ?? "";
  const at = text.split("\n").findIndex((line) => /:\d+$/.test(line));
  return at < 0 ? undefined : arrowLocation(text.split("\n").slice(at).join("\n"), cwd);
}

/** Shows `file://` URLs as paths, and rewrites a tsx CommonJS frame (a `data:` URL of the compiled code) to the file it came from. */
function cleanFrame(frame: string): string {
  return frame
    .replace(/file:\/\/[^\s)]+/, (url) => {
      try {
        return fileURLToPath(url.replace(/:\d+(:\d+)?$/, "")) + (/(:\d+)+$/.exec(url)?.[0] ?? "");
      } catch {
        return url;
      }
    })
    .replace(/data:text\/javascript,\S*?\?filePath=([^\s:)]+)\S*?(?=\)|$)/, (_, enc) =>
      decodeURIComponent(enc as string).replace(/\?namespace=.*$/, ""),
    );
}

/**
 * The message lines for an application file that failed to load: a syntax error as
 * `file:line:column: reason`, any other throw as its `Name: message` and first stack frames
 * (Node's internal frames left out).
 *
 * @param error what `import()` (or tsx) threw
 * @param path the absolute path of the application file
 * @param cwd the directory paths are shown relative to
 */
export function describeLoadError(error: unknown, path: string, cwd: string): string {
  if (!(error instanceof Error)) return `it threw ${String(error)}`;
  const transform = transformErrors(error.message, cwd);
  if (transform) return transform.join("\n");
  const code = (error as { code?: unknown }).code;
  if (error.name === "SyntaxError") {
    // Node's parser (and from 22.6 its type stripping): the location is in the stack's
    // decoration, or, for JavaScript on Node 20, only in what `node --check` prints.
    const where =
      arrowLocation(error.stack ?? "", cwd) ??
      (/\.[cm]?js$/.test(path) ? checkLocation(path, cwd) : undefined);
    return `${where ?? display(path, cwd)}: ${error.message.split("\n")[0]}`;
  }
  if (typeof code === "string" && code.startsWith("ERR_") && code.includes("TYPESCRIPT")) {
    return error.message.split("\n").slice(0, 8).join("\n");
  }
  const lines = (error.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line));
  // The frames from our loader (or tsx's) down are how it was imported, not why it threw.
  const ours = lines.findIndex((line) => LOADER_FRAME.test(line));
  const frames = lines
    .slice(0, ours < 0 ? undefined : ours)
    .filter((line) => !/\(node:|at node:/.test(line))
    .slice(0, FRAMES)
    .map((line) => `    ${cleanFrame(line.trim())}`);
  return [`it threw ${error.name}: ${error.message.split("\n")[0]}`, ...frames].join("\n");
}
