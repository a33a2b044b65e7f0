import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { CliError, loadApp, parseAppSpec } from "../src/cli/load-app.ts";
import { helpText, parseArgs } from "../src/cli.ts";
import { OPTIONS } from "../src/server/options.ts";

const exec = promisify(execFile);
const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;

/** Runs the CLI as a user would; resolves with its exit code and output. */
async function wsgiref(args: string[], timeout = 10_000) {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["--import", "tsx", CLI, ...args], {
      timeout,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const dir = mkdtempSync(join(tmpdir(), "wsgiref-cli-"));
writeFileSync(
  join(dir, "app.ts"),
  `export const app = (_e: unknown, sr: (s: string, h: [string, string][]) => void) => { sr("200 OK", [["Content-Type", "text/plain"]]); return [new TextEncoder().encode("hi")]; };
export default app;
export const notAnApp = 42;\n`,
);
writeFileSync(
  join(dir, "other.mjs"),
  "export default function handler(e, sr) { sr('200 OK', []); return []; }\n",
);
writeFileSync(join(dir, "broken.ts"), "export const app = ;\n");

describe("cli: parsing", () => {
  it("serves the demo app when given nothing", () => {
    assert.deepEqual(parseArgs([]), {
      command: "serve",
      app: undefined,
      server: "production",
      validate: false,
      reload: false,
      reloadInclude: [],
      reloadExclude: [],
      options: {},
      bare: true,
    });
    assert.equal((parseArgs(["serve"]) as { bare?: true }).bare, undefined);
  });

  it("reads serve's flags from the options table, in both --flag value and --flag=value forms", () => {
    const cmd = parseArgs([
      "serve",
      "app.ts:make",
      "--port",
      "9000",
      "--keep-alive=65",
      "--validate",
      "--server",
      "simple",
    ]);
    assert.equal(cmd.command, "serve");
    if (cmd.command !== "serve") return;
    assert.equal(cmd.app, "app.ts:make");
    assert.deepEqual(cmd.options, { port: 9000, keepAliveTimeout: 65_000 });
    assert.equal(cmd.validate, true);
    assert.equal(cmd.server, "simple");
  });

  it("collects repeated --reload-include and --reload-exclude globs", () => {
    const cmd = parseArgs([
      "serve",
      "app.ts",
      "--reload",
      "--reload-include",
      "*.json",
      "--reload-include=*.html",
      "--reload-exclude",
      "dist",
    ]);
    assert.equal(cmd.command, "serve");
    if (cmd.command !== "serve") return;
    assert.deepEqual(cmd.reloadInclude, ["*.json", "*.html"]);
    assert.deepEqual(cmd.reloadExclude, ["dist"]);
  });

  const mistakes: Array<[string[], RegExp]> = [
    [["serve", "--port", "http"], /--port: expected a whole number, got "http"/],
    [["serve", "--port"], /--port needs a value/],
    [["serve", "--bogus"], /unknown option "--bogus"/],
    [["serve", "a.ts", "b.ts"], /unexpected argument "b.ts"/],
    [["serve", "--server", "fast"], /--server: expected production or simple/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["call", "app.ts", "GET"], /usage: wsgiref call/],
    [["call", "app.ts", "GET", "nopath"], /PATH must start with \//],
  ];
  for (const [args, message] of mistakes) {
    it(`rejects ${JSON.stringify(args)} with a one-line usage error`, () => {
      assert.throws(
        () => parseArgs(args),
        (e: unknown) => e instanceof CliError && message.test(e.message) && e.exitCode === 2,
      );
    });
  }

  it("documents every option in --help", () => {
    const help = helpText();
    for (const o of OPTIONS) assert.ok(help.includes(o.flag), `${o.flag} missing from --help`);
    for (const flag of ["--server", "--validate", "--reload", "--reload-include", "--version"])
      assert.ok(help.includes(flag));
  });

  it("lists every option's environment variable in --help, with a space after each flag", () => {
    const help = helpText();
    for (const o of OPTIONS) assert.ok(help.includes(o.env), `${o.env} missing from --help`);
    assert.match(help, /^ {2}--access-log-format common\|combined\|json\n {32}Access log format/m);
    for (const line of help.split("\n")) {
      assert.doesNotMatch(line, /^ {2}--\S+(?: \S+)?[A-Z][a-z]/, `glued: ${line}`);
    }
  });

  it("splits FILE[:NAME]", () => {
    assert.deepEqual(parseAppSpec("app.ts"), { file: "app.ts", name: undefined });
    assert.deepEqual(parseAppSpec("dir/app.ts:make"), { file: "dir/app.ts", name: "make" });
    assert.deepEqual(parseAppSpec("C:\\apps\\app.js"), {
      file: "C:\\apps\\app.js",
      name: undefined,
    });
  });
});

describe("cli: loading apps", () => {
  it("takes the export named app, a named export, or the default", async () => {
    assert.equal(typeof (await loadApp("app.ts", dir)), "function");
    assert.equal(typeof (await loadApp("app.ts:default", dir)), "function");
    assert.equal(typeof (await loadApp("other.mjs", dir)), "function");
  });

  const failures: Array<[string, RegExp]> = [
    ["missing.ts", /cannot find the application file "missing.ts"/],
    ["app.ts:nope", /"app.ts" has no export "nope" \(it exports: /],
    [
      "app.ts:notAnApp",
      /export "notAnApp" of "app.ts" is a number, not a WSGI application function/,
    ],
    ["broken.ts", /cannot load "broken.ts": broken.ts:1:19: Unexpected ";"/],
  ];
  for (const [spec, message] of failures) {
    it(`explains ${spec} in one line`, async () => {
      await assert.rejects(
        loadApp(spec, dir),
        (e: unknown) =>
          e instanceof CliError && message.test(e.message) && !e.message.includes("\n"),
      );
    });
  }
});

describe("cli: as a process", () => {
  it("prints the version and the help", async () => {
    assert.match((await wsgiref(["--version"])).stdout, /^wsgiref \d+\.\d+\.\d+\n$/);
    const help = await wsgiref(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /wsgiref serve FILE\[:NAME\]/);
  });

  it("exits 2 with one line on stderr for a bad argument, never a stack trace", async () => {
    const { code, stderr } = await wsgiref(["serve", "--port", "-1"]);
    assert.equal(code, 2);
    assert.equal(stderr.trim().split("\n").length, 1);
    assert.match(stderr, /^wsgiref: error: /);
  });

  it("exits 2 naming a missing file or export", async () => {
    const missing = await wsgiref(["serve", join(dir, "nope.ts")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot find the application file/);
    const noExport = await wsgiref(["serve", `${join(dir, "app.ts")}:absent`]);
    assert.equal(noExport.code, 2);
    assert.match(noExport.stderr, /has no export "absent"/);
  });

  it("exits 1 with one line when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await wsgiref([
        "serve",
        join(dir, "app.ts"),
        "--port",
        String(port),
      ]);
      assert.equal(code, 1);
      assert.match(stderr, /^wsgiref: error: .*EADDRINUSE.*\n$/);
    } finally {
      blocker.close();
    }
  });
});
