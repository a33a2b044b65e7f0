/**
 * Loading an application from `FILE[:NAME]`, the way gunicorn loads `module:app`.
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { WSGIApplication } from "../types.ts";

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

const EXTENSIONS = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"]);

/** Splits `FILE[:NAME]` (a Windows drive letter's colon is not a separator). */
export function parseAppSpec(spec: string): { file: string; name: string | undefined } {
  const at = spec.lastIndexOf(":");
  if (at > 1 || (at === 1 && !/^[A-Za-z]:[\\/]/.test(spec))) {
    return { file: spec.slice(0, at), name: spec.slice(at + 1) || undefined };
  }
  return { file: spec, name: undefined };
}

/**
 * Imports the module `FILE` (TypeScript or JavaScript) and returns its export `NAME`, by
 * default `app`, else the default export. Every failure is a `CliError` naming the file
 * or export.
 */
export async function loadApp(spec: string, cwd = process.cwd()): Promise<WSGIApplication> {
  const { file, name } = parseAppSpec(spec);
  const path = resolve(cwd, file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new CliError(`cannot find the application file ${JSON.stringify(file)}`);
  }
  const ext = extname(path);
  if (!EXTENSIONS.has(ext)) {
    throw new CliError(`${JSON.stringify(file)} is not a .ts, .mts, .js or .mjs file`);
  }
  let module: Record<string, unknown>;
  try {
    const url = pathToFileURL(path).href;
    if (ext === ".ts" || ext === ".mts" || ext === ".cts") {
      const { tsImport } = await import("tsx/esm/api");
      module = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    } else {
      module = (await import(url)) as Record<string, unknown>;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new CliError(`cannot load ${JSON.stringify(file)}: ${reason}`, 1);
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
  if (typeof app !== "function") {
    throw new CliError(
      `export ${JSON.stringify(exportName)} of ${JSON.stringify(file)} is a ${typeof app}, not a WSGI application function`,
    );
  }
  return app as WSGIApplication;
}
