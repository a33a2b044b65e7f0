/**
 * Every ```ts block of README.md and docs/*.md is type-checked as its own module against
 * src/ (with `wsgiref/...` imports mapped to the sources), so no example can rot. A block
 * that is deliberately a fragment (a signature, a snippet that needs surrounding code) is
 * marked ```ts fragment and skipped; keep those rare.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";

const exec = promisify(execFile);

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DOCS = ["README.md", ...readdirSync(join(ROOT, "docs")).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith(".md"),
);

/** One fenced code block. */
interface Block {
  /** Where it is: `docs/x.md:LINE`. */
  where: string;
  /** The info string after the fence, e.g. `ts` or `ts fragment`. */
  info: string;
  /** The code. */
  code: string;
}

/** The fenced blocks of a Markdown file, with the line each starts on. */
export function codeBlocks(file: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S.*)?$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i] as string);
    blocks.push({
      where: `${file}:${start + 1}`,
      info: (open[1] ?? "").trim(),
      code: body.join("\n"),
    });
  }
  return blocks;
}

const blocks = DOCS.flatMap((file) =>
  codeBlocks(file, readFileSync(join(ROOT, file), "utf8")).filter((b) => /^ts\b/.test(b.info)),
);
const checked = blocks.filter((b) => !/\bfragment\b/.test(b.info));
/** Blocks that start a server, run a test suite or wait for a request: type-checked, not run. */
const LISTENS = /\bserve\(|makeServer\(|\.listen\(|serveForever|\.run\(|\btest\(|process\.stdin/;

describe("docs: every TypeScript example type-checks, and the complete ones run", () => {
  // Inside node_modules/ so that `express`, `hono` and @types/node resolve as from the repo.
  const dir = join(ROOT, "node_modules", ".cache", `wsgiref-docs-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // The user's own modules that examples import: an app, as the README's first block.
  const APP = `import type { WSGIApplication } from "wsgiref/types";
export const app: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from("hi")];
};
export const myApp = app;
export const simpleApp: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-type", "text/plain"]]);
  return Buffer.from("Hello world!") as unknown as Uint8Array[];
};
`;
  mkdirSync(join(dir, "examples"));
  mkdirSync(join(dir, "src"));
  for (const stub of ["examples/app.ts", "examples/my-app.ts", "src/app.ts"]) {
    writeFileSync(join(dir, stub), APP);
  }
  const files = checked.map((block, i) => {
    const path = join(dir, "examples", `block${i}.mts`);
    // The docs of internal modules import them from the repository root (./src/...).
    const src = relative(join(dir, "examples"), join(ROOT, "src"));
    const code = block.code.replaceAll('from "./src/', `from "${src}/`);
    // Each block is its own module; `export {}` keeps one without imports from being a script.
    writeFileSync(path, `${code}\nexport {};\n`);
    return { block, path };
  });
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  assert.ok(config);
  const program = ts.createProgram(
    files.map((f) => f.path),
    {
      ...config.options,
      noEmit: true,
      // The examples may leave a variable unused; they must not be wrong.
      noUnusedLocals: false,
      paths: {
        wsgiref: [join(ROOT, "src/index.ts")],
        "wsgiref/*": [join(ROOT, "src/*.ts")],
      },
    },
  );

  it("has examples to check, and few skipped as fragments", () => {
    assert.ok(checked.length >= 25, `only ${checked.length} blocks`);
    assert.ok(blocks.length - checked.length <= 5, `${blocks.length - checked.length} fragments`);
  });

  for (const { block, path } of files) {
    it(`${block.where} type-checks`, () => {
      const source = program.getSourceFile(path);
      assert.ok(source);
      const diagnostics = [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ];
      const messages = diagnostics.map((d) => {
        const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
        return `line ${line + 1} of the block: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      });
      assert.deepEqual(messages, [], `${block.where}\n${block.code}`);
    });
  }

  // The complete programs that neither listen nor wait for input run too, all in one
  // process, with `wsgiref/...` mapped to src/ by a resolve hook as the type-check maps it.
  const runnable = files.filter(({ block }) => !LISTENS.test(block.code));
  const results = new Map<string, string>();
  before(async () => {
    writeFileSync(
      join(dir, "hooks.mjs"),
      `import { pathToFileURL } from "node:url";
export async function resolve(specifier, context, next) {
  const m = /^wsgiref(?:\\/(.+))?$/.exec(specifier);
  if (!m) return next(specifier, context);
  return next(pathToFileURL(${JSON.stringify(join(ROOT, "src"))} + "/" + (m[1] ?? "index") + ".ts").href, context);
}
`,
    );
    writeFileSync(
      join(dir, "run.mjs"),
      `import { register } from "node:module";
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
register("./hooks.mjs", import.meta.url);
const results = {};
for (const file of process.argv.slice(2)) {
  try {
    await import(pathToFileURL(file).href);
    results[file] = "";
  } catch (error) {
    results[file] = String(error?.stack ?? error);
  }
}
writeFileSync(new URL("./results.json", import.meta.url), JSON.stringify(results));
`,
    );
    await exec(
      process.execPath,
      ["--import", "tsx", join(dir, "run.mjs"), ...runnable.map((f) => f.path)],
      { cwd: dir, timeout: 60_000 },
    );
    const json = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as Record<
      string,
      string
    >;
    for (const [file, error] of Object.entries(json)) results.set(file, error);
  });

  for (const { block, path } of runnable) {
    it(`${block.where} runs`, () => {
      assert.equal(results.get(path), "", `${block.where} threw:\n${results.get(path)}`);
    });
  }
});
