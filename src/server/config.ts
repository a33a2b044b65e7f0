/**
 * Config files, after gunicorn's `gunicorn.conf.py`: a JS or TS module whose default export
 * holds `serve()` options by name (sizes and durations may be given as text, `"16k"`,
 * `"5s"`) and server hooks. The options are layered: command line over `WSGIREF_*`
 * environment over the file over the defaults, and each keeps where it came from, for
 * `--print-config`.
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { HOOK_NAMES, type ServerHooks } from "./hooks.ts";
import {
  checkOptions,
  DEFAULTS,
  OPTIONS,
  OptionError,
  type OptionSpec,
  parseOption,
  type ServerOptions,
} from "./options.ts";

/** A config file that cannot be used: the message names the file and what is wrong (exit 2). */
export class ConfigError extends OptionError {
  override name = "ConfigError";
}

/** What a config file gives. */
export interface ServerConfig {
  /** The file, as given. */
  readonly file: string;
  /** Its options. */
  readonly options: Partial<ServerOptions>;
  /** Its hooks. */
  readonly hooks: ServerHooks;
}

/** Where an effective option's value came from. */
export type OptionSource = "flag" | "environment" | "config" | "default";

const BY_NAME = new Map<string, OptionSpec>(OPTIONS.map((o) => [o.name, o]));
const HOOKS = new Set<string>(HOOK_NAMES);

/** Imports a config module and checks its default export's names and hook types. */
export async function loadConfig(file: string, cwd = process.cwd()): Promise<ServerConfig> {
  const path = resolve(cwd, file);
  const name = JSON.stringify(file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new ConfigError(`--config: cannot find the config file ${name}`);
  }
  let module: Record<string, unknown>;
  try {
    const url = pathToFileURL(path).href;
    if ([".ts", ".mts", ".cts"].includes(extname(path))) {
      const { tsImport } = await import("tsx/esm/api");
      module = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    } else {
      module = (await import(url)) as Record<string, unknown>;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError(`--config: cannot load ${name}: ${reason}`);
  }
  let exported = module.default;
  // A CommonJS or tsx-wrapped module may nest the default export once more.
  if (exported && typeof exported === "object" && "default" in exported) {
    exported = (exported as { default: unknown }).default;
  }
  if (exported === null || typeof exported !== "object") {
    throw new ConfigError(`--config: ${name} must export default an object of options and hooks`);
  }
  const options: Record<string, unknown> = {};
  const hooks: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exported)) {
    if (HOOKS.has(key)) {
      if (typeof value !== "function") {
        throw new ConfigError(`--config: ${name}: hook ${key} must be a function`);
      }
      hooks[key] = value;
      continue;
    }
    const spec = BY_NAME.get(key);
    if (spec === undefined) {
      throw new ConfigError(
        `--config: ${name}: unknown option ${JSON.stringify(key)} (options are serve()'s names, such as maxBodySize; hooks are ${HOOK_NAMES.join(", ")})`,
      );
    }
    try {
      options[key] =
        typeof value === "string" && spec.type !== "string" ? parseOption(spec, value) : value;
    } catch (error) {
      throw new ConfigError(`--config: ${name}: ${key}: ${(error as Error).message}`);
    }
  }
  return { file, options: options as Partial<ServerOptions>, hooks: hooks as ServerHooks };
}

/** The effective options, and where each came from. */
export interface LayeredOptions {
  /** The checked options. */
  readonly options: ServerOptions;
  /** Where each option's value came from. */
  readonly sources: Readonly<Record<keyof ServerOptions, OptionSource>>;
}

/**
 * Layers the options: `flags` (the command line) over the `WSGIREF_*` variables of `env`
 * over `file` (a config file's) over the defaults; checks the result.
 */
export function layerOptions(
  flags: Partial<ServerOptions>,
  env: Readonly<Record<string, string | undefined>>,
  file: Partial<ServerOptions> = {},
): LayeredOptions {
  const options: Record<string, unknown> = { ...DEFAULTS };
  const sources: Record<string, OptionSource> = {};
  for (const spec of OPTIONS) {
    sources[spec.name] = "default";
    const fromFile = file[spec.name];
    if (fromFile !== undefined) {
      options[spec.name] = fromFile;
      sources[spec.name] = "config";
    }
    const text = env[spec.env];
    if (text !== undefined) {
      options[spec.name] = parseOption(spec, text);
      sources[spec.name] = "environment";
    }
    const flag = flags[spec.name];
    if (flag !== undefined) {
      options[spec.name] = flag;
      sources[spec.name] = "flag";
    }
  }
  const checked = options as unknown as ServerOptions;
  checkOptions(checked);
  return { options: checked, sources: sources as Record<keyof ServerOptions, OptionSource> };
}

/**
 * `--print-config`: one line per option, `name = value  # source`, where source names the
 * flag, the variable or the config file.
 */
export function formatConfig(layered: LayeredOptions, configFile?: string): string {
  const lines = OPTIONS.map((spec) => {
    const source = layered.sources[spec.name];
    const where =
      source === "flag"
        ? `flag ${spec.flag}`
        : source === "environment"
          ? `environment ${spec.env}`
          : source === "config"
            ? `config ${configFile ?? ""}`.trimEnd()
            : "default";
    const value = layered.options[spec.name];
    return `${spec.name} = ${value === undefined ? "undefined" : JSON.stringify(value)}  # ${where}`;
  });
  return `${lines.join("\n")}\n`;
}
