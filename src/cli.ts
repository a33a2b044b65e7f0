/**
 * The `wsgiref` command, in the habits of gunicorn: `wsgiref` alone serves the demo app;
 * `wsgiref serve FILE[:NAME]` serves an application; `wsgiref call` runs one request
 * in-process. Flags come from the options table (src/server/options.ts).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { CliError } from "./cli/load-app.ts";
import { HookError } from "./server/hooks.ts";
import {
  formatDefault,
  OPTIONS,
  OptionError,
  type OptionSpec,
  parseOption,
  type ServerOptions,
} from "./server/options.ts";
import { WorkerStartError } from "./server/workers.ts";

const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

/** What `wsgiref serve` was asked to do. */
export interface ServeCommand {
  /** The subcommand. */
  command: "serve";
  /** `FILE[:NAME]` of the application; undefined serves the demo app. */
  app: string | undefined;
  /** Which server: the production one or the reference `simple` one. */
  server: "production" | "simple";
  /** Wrap the app in the validator. */
  validate: boolean;
  /** Restart when a file changes. */
  reload: boolean;
  /** `--reload-include` globs: more files that restart the server. */
  reloadInclude: string[];
  /** `--reload-exclude` globs: files and directories that never do. */
  reloadExclude: string[];
  /** Options given on the command line (the rest come from WSGIREF_*, the config file and defaults). */
  options: Partial<ServerOptions>;
  /** Set for `wsgiref` without `serve`: the demo app on all interfaces, as `python -m wsgiref.simple_server`. */
  bare?: true;
  /** `--config FILE`: a JS/TS module of options and hooks. */
  config?: string | undefined;
  /** `--print-config`: print the effective options with their sources and exit. */
  printConfig?: boolean;
  /** `--check-config`: load the config and the app, report, exit 0 or 2. */
  checkConfig?: boolean;
}

/** What `wsgiref call` was asked to do. */
export interface CallCommand {
  /** The subcommand. */
  command: "call";
  /** `FILE[:NAME]` of the application. */
  app: string;
  /** The request method. */
  method: string;
  /** The request path, with its query. */
  path: string;
  /** Request headers, `Name: value`. */
  headers: string[];
  /** The request body: text, or `@file`. */
  data: string | undefined;
}

/** A parsed command line. */
export type Command = ServeCommand | CallCommand | { command: "help" } | { command: "version" };

const SERVE_FLAGS: Record<string, string> = {
  "--server production|simple":
    "the production server (default) or the reference one (wsgiref/simple-server)",
  "--validate": "wrap the application in wsgiref/validate's validator",
  "--reload":
    "restart the server when a source file (.ts .tsx .mts .cts .js .jsx .mjs .cjs) under the current directory changes",
  "--reload-include GLOB": "with --reload, also watch files matching GLOB (repeatable)",
  "--reload-exclude GLOB": "with --reload, ignore files and directories matching GLOB (repeatable)",
  "--config FILE":
    "a .ts/.js module whose default export holds options and hooks (see docs/operations.md)",
  "--print-config": "print each effective option and where it came from, then exit",
  "--check-config": "load the config and the app, report problems, exit 0 (ok) or 2",
};

/** The `--help` text, generated from the options table. */
export function helpText(): string {
  const width = 30;
  // A flag too long for its column gets the text on the next line, never glued to it.
  const row = (flag: string, text: string) =>
    flag.length < width - 1
      ? `  ${flag.padEnd(width)}${text}`
      : `  ${flag}\n  ${" ".repeat(width)}${text}`;
  const optionRows = OPTIONS.map((o) => {
    // Every option can come from its variable, with or without a default.
    const def = o.default === undefined ? ` [${o.env}]` : ` [${formatDefault(o)}; ${o.env}]`;
    const arg =
      o.type === "boolean"
        ? ""
        : ` ${o.type === "enum" ? o.values?.join("|") : o.type.toUpperCase()}`;
    return row(`${o.flag}${arg}`, `${o.doc}${def}`);
  });
  return [
    "Usage:",
    "  wsgiref                                serve the demo app on 0.0.0.0:8000",
    "  wsgiref serve FILE[:NAME] [options]    serve the app exported as NAME (default: app,",
    "                                         else the default export) of a .ts/.js file;",
    "                                         without FILE, the demo app on 127.0.0.1",
    "  wsgiref call FILE[:NAME] METHOD PATH [-H 'Name: value'] [-d DATA|@file]",
    "                                         run one request in-process under the validator",
    "                                         and print the response as it would go on the wire",
    "",
    "Options of serve:",
    ...Object.entries(SERVE_FLAGS).map(([flag, text]) => row(flag, text)),
    ...optionRows,
    "",
    "  -h, --help                    show this help",
    "  -V, --version                 print the version",
  ].join("\n");
}

const BY_FLAG = new Map<string, OptionSpec>(OPTIONS.map((o) => [o.flag, o]));

/** Parses the arguments after `wsgiref`; throws a `CliError` (exit 2) for any mistake. */
export function parseArgs(argv: readonly string[]): Command {
  if (argv.includes("-h") || argv.includes("--help")) return { command: "help" };
  if (argv.includes("-V") || argv.includes("--version")) return { command: "version" };
  const [first, ...rest] = argv;
  if (first === "call") return parseCall(rest);
  if (first === undefined || first === "serve" || first.startsWith("-")) {
    if (first === "serve") return parseServe(rest);
    return { ...parseServe(argv), bare: true };
  }
  throw new CliError(`unknown command ${JSON.stringify(first)} (try: wsgiref --help)`);
}

function parseServe(args: readonly string[]): ServeCommand {
  const command: ServeCommand = {
    command: "serve",
    app: undefined,
    server: "production",
    validate: false,
    reload: false,
    reloadInclude: [],
    reloadExclude: [],
    options: {},
  };
  const options: Record<string, unknown> = command.options;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = args[++i];
      if (next === undefined) throw new CliError(`${flag} needs a value`);
      return next;
    };
    if (flag === "--validate") command.validate = true;
    else if (flag === "--reload") command.reload = true;
    else if (flag === "--reload-include") command.reloadInclude.push(value());
    else if (flag === "--reload-exclude") command.reloadExclude.push(value());
    else if (flag === "--config") command.config = value();
    else if (flag === "--print-config") command.printConfig = true;
    else if (flag === "--check-config") command.checkConfig = true;
    else if (flag === "--server") {
      const v = value();
      if (v !== "production" && v !== "simple") {
        throw new CliError(`--server: expected production or simple, got ${JSON.stringify(v)}`);
      }
      command.server = v;
    } else if (BY_FLAG.has(flag)) {
      const spec = BY_FLAG.get(flag) as OptionSpec;
      try {
        const parsed =
          spec.type === "boolean" && inline === undefined ? true : parseOption(spec, value());
        // A list flag repeats: each one adds to it.
        const before = options[spec.name];
        options[spec.name] =
          Array.isArray(before) && Array.isArray(parsed) ? [...before, ...parsed] : parsed;
      } catch (error) {
        if (error instanceof OptionError) throw new CliError(error.message);
        throw error;
      }
    } else if (arg.startsWith("-")) {
      throw new CliError(`unknown option ${JSON.stringify(flag)} (try: wsgiref --help)`);
    } else if (command.app === undefined) {
      command.app = arg;
    } else {
      throw new CliError(`unexpected argument ${JSON.stringify(arg)}: give one FILE[:NAME]`);
    }
  }
  return command;
}

function parseCall(args: readonly string[]): CallCommand {
  const positional: string[] = [];
  const headers: string[] = [];
  let data: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-H" || arg === "--header") {
      const h = args[++i];
      if (h === undefined || !h.includes(":")) {
        throw new CliError(`${arg} needs a header such as 'Accept: text/plain'`);
      }
      headers.push(h);
    } else if (arg === "-d" || arg === "--data") {
      data = args[++i];
      if (data === undefined) throw new CliError(`${arg} needs a value: text or @file`);
    } else if (arg.startsWith("-")) {
      throw new CliError(`unknown option ${JSON.stringify(arg)} for call`);
    } else positional.push(arg);
  }
  const [app, method, path, extra] = positional;
  if (app === undefined || method === undefined || path === undefined || extra !== undefined) {
    throw new CliError(
      "usage: wsgiref call FILE[:NAME] METHOD PATH [-H 'Name: value'] [-d DATA|@file]",
    );
  }
  if (!path.startsWith("/"))
    throw new CliError(`PATH must start with /, got ${JSON.stringify(path)}`);
  return { command: "call", app, method: method.toUpperCase(), path, headers, data };
}

/** Runs the command line; resolves with the exit status. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  try {
    const command = parseArgs(argv);
    switch (command.command) {
      case "help":
        process.stdout.write(`${helpText()}\n`);
        return 0;
      case "version":
        process.stdout.write(`wsgiref ${VERSION}\n`);
        return 0;
      case "call": {
        const { runCall } = await import("./cli/call.ts");
        return await runCall(command);
      }
      case "serve": {
        const { runServe } = await import("./cli/serve.ts");
        return await runServe(command);
      }
    }
  } catch (error) {
    if (error instanceof CliError || error instanceof OptionError) {
      process.stderr.write(`wsgiref: error: ${error.message}\n`);
      return error instanceof CliError ? error.exitCode : 2;
    }
    const code = (error as { code?: string }).code;
    if (
      error instanceof WorkerStartError ||
      error instanceof HookError ||
      code === "EADDRINUSE" ||
      code === "EACCES" ||
      code === "EADDRNOTAVAIL"
    ) {
      process.stderr.write(`wsgiref: error: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}
