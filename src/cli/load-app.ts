/**
 * Loading an application from `FILE[:NAME]`, the way gunicorn loads `module:app`.
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type FetchApplication, isFetchApplication } from "../bridges/fetch-application.ts";
import type { WSGIApplication } from "../types.ts";
import { describeLoadError } from "./load-error.ts";

/** A command-line mistake: printed as one line, exit status 2 (usage) or 1 (runtime). */
export class CliError extends Error {
  override name = "CliError";
  /** The process exit status this error maps to. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** How many fresh imports were made: each gets a URL of its own. */
let reloads = 0;

const EXTENSIONS = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"]);

/** Splits `FILE[:NAME]` (a Windows drive letter's colon is not a separator). */
export function parseAppSpec(spec: string): { file: string; name: string | undefined } {
  const at = spec.lastIndexOf(":");
  if (at > 1 || (at === 1 && !/^[A-Za-z]:[\\/]/.test(spec))) {
    return { file: spec.slice(0, at), name: spec.slice(at + 1) || undefined };
  }
  return { file: spec, name: undefined };
}

/** True for the extensions Node may strip types from and tsx transforms. */
const isTypeScript = (ext: string) => ext === ".ts" || ext === ".mts" || ext === ".cts";

/** Errors of a native `import()` that mean "Node cannot run this TypeScript itself". */
const NOT_STRIPPABLE = new Set(["ERR_UNKNOWN_FILE_EXTENSION", "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX"]);

/** Whether this Node can strip types at all (22.6 and later, behind a flag before 23.6). */
function nodeStripsTypes(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 6);
}

/**
 * Imports a TypeScript file: with Node's own type stripping first (Node >= 22.6, or a
 * loader such as `--import tsx` already in the process), else with tsx, which is an
 * optional peer dependency. Throws a one-line `CliError` saying which of the two to use
 * when neither can load it.
 */
async function importTypeScript(
  url: string,
  file: string,
  fresh: boolean,
): Promise<Record<string, unknown>> {
  if (fresh) {
    // tsx's tsImport loads a module anew each time, ESM or CommonJS alike; Node's own
    // import() caches a CommonJS-typed file by path, whatever the URL's query says.
    const tsx = await import("tsx/esm/api").catch(() => undefined);
    if (tsx) return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  let native: unknown;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== "string" || !NOT_STRIPPABLE.has(code)) throw error;
    native = error;
  }
  let tsx: typeof import("tsx/esm/api");
  try {
    tsx = await import("tsx/esm/api");
  } catch {
    const code = (native as { code: string }).code;
    const advice =
      code === "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX"
        ? `it uses TypeScript syntax Node cannot strip (${(native as Error).message.split("\n")[0]}): install tsx (npm install --save-dev tsx)`
        : nodeStripsTypes()
          ? "this Node strips types only with --experimental-strip-types (on by default from 22.18 and 23.6): pass that flag, use a newer Node, or install tsx (npm install --save-dev tsx)"
          : `Node ${process.versions.node} cannot run TypeScript itself: install tsx (npm install --save-dev tsx), or use Node >= 22.6`;
    throw new CliError(`cannot load ${JSON.stringify(file)}: ${advice}`);
  }
  return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
}

/**
 * Finds the file of `FILE[:NAME]`. A colon may also belong to the file name: when the part
 * before the last colon is not a file but the whole argument is, the whole is the file.
 */
function locate(
  spec: string,
  cwd: string,
): { file: string; name: string | undefined; path: string } {
  const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
  const { file, name } = parseAppSpec(spec);
  const path = resolve(cwd, file);
  if (isFile(path)) return { file, name, path };
  const whole = resolve(cwd, spec);
  if (name !== undefined && isFile(whole)) return { file: spec, name: undefined, path: whole };
  throw new CliError(`cannot find the application file ${JSON.stringify(file)}`);
}

/**
 * Imports the module `FILE` (TypeScript or JavaScript) and returns its export `NAME`, by
 * default `app`, else the default export: a WSGI application (a function) or a Fetch
 * application (an object with a `fetch` method, such as a Hono app). Every failure is a `CliError` (exit status 2)
 * naming the file or export; a file that does not load adds where (a syntax error's
 * `file:line:column: reason`) or what it threw, with the first frames of its stack.
 * With `fresh`, the file is imported again even if it was before (a SIGHUP reload).
 */
export async function loadApp(
  spec: string,
  cwd = process.cwd(),
  { fresh = false }: { fresh?: boolean } = {},
): Promise<WSGIApplication | FetchApplication> {
  const { file, name, path } = locate(spec, cwd);
  const ext = extname(path);
  if (!EXTENSIONS.has(ext)) {
    throw new CliError(`${JSON.stringify(file)} is not a .ts, .mts, .js or .mjs file`);
  }
  let module: Record<string, unknown>;
  try {
    // A reload imports the file as a new module (its own imports stay cached).
    const url = pathToFileURL(path).href + (fresh ? `?wsgiref-reload=${++reloads}` : "");
    module = isTypeScript(ext)
      ? await importTypeScript(url, file, fresh)
      : ((await import(url)) as Record<string, unknown>);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      `cannot load ${JSON.stringify(file)}: ${describeLoadError(error, path, cwd)}`,
    );
  }
  const exportName = name ?? ("app" in module ? "app" : "default");
  let app = module[exportName];
  // A CommonJS or tsx-wrapped module may nest the default export once more.
  if (exportName === "default" && app && typeof app === "object" && "default" in app) {
    app = (app as { default: unknown }).default;
  }
  if (app === undefined) {
    const available = Object.keys(module).filter((k) => k !== "__esModule");
    throw new CliError(
      `${JSON.stringify(file)} has no export ${JSON.stringify(name ?? "app")}${name ? "" : " and no default export"} (it exports: ${available.join(", ") || "nothing"})`,
    );
  }
  if (isFetchApplication(app)) return app;
  if (typeof app !== "function") {
    throw new CliError(
      `export ${JSON.stringify(exportName)} of ${JSON.stringify(file)} is ${app === null ? "null" : `a ${typeof app}`}, not a WSGI application function nor an object with a fetch method`,
    );
  }
  return app as WSGIApplication;
}
