/**
 * The package as a consumer gets it: `npm pack` (which builds in `prepack`) in a copy of
 * the sources, `npm install` of the tarball into an empty project, then every subpath
 * export imported from plain JavaScript, the `wsgiref` command run, and a small consumer
 * type-checked under tsc --init's `"types": []`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  exports: Record<string, unknown>;
};

/** Runs a command; resolves with its exit code and output, whatever the code. */
async function run(file: string, args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await exec(file, args, { cwd, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const APP_JS =
  'export const app = (_e, sr) => { sr("200 OK", [["Content-Type", "text/plain"]]); return [new TextEncoder().encode("hi")]; };\n';
const APP_TS =
  'export const app = (_e: unknown, sr: (s: string, h: [string, string][]) => void) => { sr("200 OK", [["Content-Type", "text/plain"]]); return [new TextEncoder().encode("hi")]; };\n';

describe("package: the packed tarball, installed", () => {
  const tmp = mkdtempSync(join(tmpdir(), "wsgiref-pack-"));
  const source = join(tmp, "source");
  const project = join(tmp, "project");
  let tarball = "";
  let files: string[] = [];
  after(() => rmSync(tmp, { recursive: true, force: true }));

  before(async () => {
    // Pack a copy, so the build does not rewrite our dist/ under other running tests.
    mkdirSync(source);
    for (const name of [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      "README.md",
      "LICENSE",
    ]) {
      cpSync(join(ROOT, name), join(source, name));
    }
    for (const dir of ["src", "bin", "docs", "scripts"]) {
      cpSync(join(ROOT, dir), join(source, dir), { recursive: true });
    }
    symlinkSync(join(ROOT, "node_modules"), join(source, "node_modules"), "dir");
    const packed = await run(NPM, ["pack", "--json", "--pack-destination", tmp], source);
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    tarball = join(tmp, (info as { filename: string }).filename);
    files = (info as { files: Array<{ path: string }> }).files.map((f) => f.path);

    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      '{ "name": "consumer", "private": true, "type": "module" }\n',
    );
    const installed = await run(
      NPM,
      ["install", "--offline", "--no-audit", "--no-fund", tarball],
      project,
    );
    assert.equal(installed.code, 0, installed.stderr);
    writeFileSync(join(project, "app.mjs"), APP_JS);
    writeFileSync(join(project, "app.ts"), APP_TS);
  });

  it("ships the build, the command, the docs and the license, and no tests", () => {
    for (const file of [
      "LICENSE",
      "README.md",
      "bin/wsgiref.js",
      "dist/index.js",
      "dist/index.d.ts",
      "docs/options.md",
    ]) {
      assert.ok(files.includes(file), `${file} is not in the tarball`);
    }
    assert.ok(!files.some((f) => f.startsWith("test/")), "tests are in the tarball");
  });

  it("installs no runtime dependency: no tsx, no esbuild, no install script", () => {
    assert.ok(existsSync(join(project, "node_modules", "wsgiref", "dist", "index.js")));
    assert.equal(existsSync(join(project, "node_modules", "tsx")), false);
    assert.equal(existsSync(join(project, "node_modules", "esbuild")), false);
  });

  it("imports every subpath export from plain JavaScript", async () => {
    const subpaths = Object.keys(pkg.exports).filter((s) => s !== "./package.json");
    const lines = subpaths.map(
      (s, i) =>
        `import * as m${i} from ${JSON.stringify(`wsgiref${s.slice(1)}`)};\nif (Object.keys(m${i}).length === 0 && ${JSON.stringify(s)} !== "./types") throw new Error("empty: ${s}");`,
    );
    writeFileSync(
      join(project, "imports.mjs"),
      `${lines.join("\n")}\nconsole.log("ok ${subpaths.length}");\n`,
    );
    const result = await run(process.execPath, ["imports.mjs"], project);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `ok ${subpaths.length}\n`);
  });

  it("runs node_modules/.bin/wsgiref: --help, --version, and a .js app", async () => {
    const bin = join(project, "node_modules", ".bin", "wsgiref");
    const help = await run(bin, ["--help"], project);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage:\n/);
    assert.equal((await run(bin, ["--version"], project)).stdout, `wsgiref ${pkg.version}\n`);
    const call = await run(bin, ["call", "app.mjs", "GET", "/"], project);
    assert.equal(call.code, 0, call.stderr);
    assert.match(call.stdout, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhi$/);
  });

  it("loads a .ts app with Node's type stripping, or says which of tsx or Node >= 22.6 to use", async () => {
    const bin = join(project, "node_modules", ".bin", "wsgiref");
    const result = await run(bin, ["call", "app.ts", "GET", "/"], project);
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
    if (major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)) {
      assert.equal(result.code, 0, result.stderr);
    } else {
      assert.equal(result.code, 2);
      assert.match(result.stderr, /^wsgiref: error: cannot load "app\.ts": .*install tsx.*Node/);
      assert.equal(result.stderr.split("\n").length, 2, result.stderr);
    }
  });

  it('type-checks a consumer under "types": [] with nodenext and bundler resolution', async () => {
    const types = join(project, "node_modules", "@types");
    mkdirSync(types, { recursive: true });
    symlinkSync(join(ROOT, "node_modules", "@types", "node"), join(types, "node"), "dir");
    symlinkSync(
      join(ROOT, "node_modules", "undici-types"),
      join(project, "node_modules", "undici-types"),
      "dir",
    );
    writeFileSync(
      join(project, "consumer.ts"),
      `import { serve } from "wsgiref/server";
import { toFetchHandler } from "wsgiref/fetch";
import type { WSGIApplication } from "wsgiref/types";
import { Headers } from "wsgiref/headers";

const app: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", new Headers([["Content-Type", "text/plain"]]).items());
  // Buffer is a Node type: under "types": [] it exists only if our declarations bring
  // @types/node in, as they must since they use it.
  return [Buffer.from("hi")];
};
export const handler = toFetchHandler(app);
export const start = () => serve(app, { port: 0 });
`,
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    // As tsc --init writes it: skipLibCheck on, so what counts is what the consumer sees.
    const checks = [
      { module: "nodenext", moduleResolution: "nodenext", skipLibCheck: true },
      { module: "esnext", moduleResolution: "bundler", skipLibCheck: true },
    ];
    const results = await Promise.all(
      checks.map((options) => {
        const name = `tsconfig.${options.moduleResolution}.json`;
        const compilerOptions = {
          ...options,
          target: "es2022",
          strict: true,
          types: [],
          noEmit: true,
        };
        writeFileSync(
          join(project, name),
          JSON.stringify({ compilerOptions, files: ["consumer.ts"] }),
        );
        return run(process.execPath, [tsc, "-p", name], project);
      }),
    );
    results.forEach((result, i) => {
      assert.equal(result.code, 0, `${checks[i]?.moduleResolution}: ${result.stdout}`);
    });
  });
});
