import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { CliError, loadApp } from "../../src/cli/load-app.ts";
import { CLI, TSX } from "../helpers/cli.ts";

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "wsgiref-load-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const APP =
  "export const app = (_e: unknown, sr: (s: string, h: [string, string][]) => void) => { sr('200 OK', []); return []; };\n";
writeFileSync(join(dir, "ok.ts"), APP);
writeFileSync(
  join(dir, "syntax.ts"),
  "export const x = 1;\nexport function f(a: number) {\n  return [1].map((v) => v * (a + 2);\n}\n",
);
writeFileSync(
  join(dir, "syntax.mjs"),
  "const a = 1;\nexport const app = (e, sr) => { sr('200 OK', []) return [] };\n",
);
writeFileSync(
  join(dir, "throws.ts"),
  'function connect(): never {\n  throw new Error("database is down");\n}\nconnect();\nexport const app = () => [];\n',
);
writeFileSync(join(dir, "enum.ts"), `export enum Mode { Plain }\n${APP}`);
mkdirSync(join(dir, "colon:dir"));
writeFileSync(join(dir, "colon:dir", "app.mjs"), "export const app = () => [];\n");

/** The CliError message `loadApp(spec)` rejects with. */
async function failure(spec: string): Promise<CliError> {
  try {
    await loadApp(spec, dir);
  } catch (error) {
    assert.ok(error instanceof CliError, String(error));
    return error;
  }
  throw new Error(`${spec} loaded`);
}

describe("cli: load errors say where and why", () => {
  it("gives a TypeScript syntax error's file:line:column and reason, exit status 2", async () => {
    const error = await failure("syntax.ts");
    assert.equal(
      error.message,
      'cannot load "syntax.ts": syntax.ts:3:35: Expected ")" but found ";"',
    );
    assert.equal(error.exitCode, 2);
  });

  it("gives a JavaScript syntax error's file:line:column from Node's own parser", async () => {
    const error = await failure("syntax.mjs");
    assert.equal(
      error.message,
      "cannot load \"syntax.mjs\": syntax.mjs:2:50: Unexpected token 'return'",
    );
  });

  it("shows an import-time throw with the app's stack frames, not the loader's", async () => {
    const lines = (await failure("throws.ts")).message.split("\n");
    assert.equal(lines[0], 'cannot load "throws.ts": it threw Error: database is down');
    assert.match(lines[1] ?? "", /^ {4}at connect \(.*throws\.ts:2:\d+\)$/);
    assert.ok(lines.length <= 7, lines.join("\n"));
    assert.ok(!lines.some((l) => /load-app|tsx[\\/]dist|node:internal/.test(l)), lines.join("\n"));
  });

  it("loads syntax type stripping cannot handle (an enum) through tsx", async () => {
    assert.equal(typeof (await loadApp("enum.ts", dir)), "function");
  });

  it("takes a colon as part of the file name when the part before it is not a file", async () => {
    assert.equal(typeof (await loadApp("colon:dir/app.mjs", dir)), "function");
    assert.equal(typeof (await loadApp("colon:dir/app.mjs:app", dir)), "function");
    assert.match(
      (await failure("colon:nothing.mjs")).message,
      /cannot find the application file "colon"/,
    );
  });

  for (const [command, args] of [
    ["serve", ["serve", "throws.ts", "--port", "0"]],
    ["call", ["call", "throws.ts", "GET", "/"]],
  ] as const) {
    it(`${command}: prints the reason and stack in a few lines and exits 2`, async () => {
      const result = await exec(process.execPath, ["--import", TSX, CLI, ...args], {
        cwd: dir,
        timeout: 10_000,
      }).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal(result.code, 2);
      const lines = result.stderr.trimEnd().split("\n");
      assert.equal(
        lines[0],
        'wsgiref: error: cannot load "throws.ts": it threw Error: database is down',
      );
      assert.ok(lines.length <= 7, result.stderr);
    });
  }
});

describe("cli: loadApp takes a Fetch application object", () => {
  writeFileSync(
    join(dir, "fetch.mjs"),
    "export default { fetch: () => new Response('hi') };\nexport const handler = () => new Response('hi');\nexport const nothing = null;\n",
  );

  it("returns an export with a fetch method as it is (a Hono app, export default { fetch })", async () => {
    const app = await loadApp("fetch.mjs", dir);
    assert.equal(typeof app, "object");
    assert.equal(typeof (app as { fetch?: unknown }).fetch, "function");
  });

  it("takes a bare function for a WSGI app, whatever it returns", async () => {
    assert.equal(typeof (await loadApp("fetch.mjs:handler", dir)), "function");
  });

  it("names what it found when the export is neither", async () => {
    assert.match(
      (await failure("fetch.mjs:nothing")).message,
      /export "nothing" of "fetch.mjs" is null, not a WSGI application function nor an object with a fetch method/,
    );
  });
});
