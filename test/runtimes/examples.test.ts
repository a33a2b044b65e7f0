/**
 * The per-runtime examples of docs/bridges-and-testing.md, run as they are: examples/bun.ts
 * on Bun, examples/deno.ts on Deno, examples/worker.ts bundled for workerd and served with
 * examples/worker.capnp; and the check
 * that `wsgiref/fetch` bundles for a runtime without Node.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { build } from "esbuild";
import { missing, ROOT, type RuntimeProcess, startScript, startWorker } from "./runtimes.ts";

/** Starts `start()`, checks that `GET /hello` gets the example's greeting, stops it. */
async function greets(start: () => Promise<RuntimeProcess>, runtime: string): Promise<void> {
  const program = await start();
  try {
    const response = await fetch(`http://127.0.0.1:${program.port}/hello`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await response.text(), `Hello from /hello on ${runtime}\n`);
  } finally {
    await program.stop();
  }
}

/** The `node:` modules that `src/fetch.ts`'s bundle still imports, by importing file. */
async function nodeImportsOfFetch(): Promise<string[]> {
  const result = await build({
    entryPoints: [`${ROOT}src/fetch.ts`],
    bundle: true,
    platform: "neutral",
    format: "esm",
    external: ["node:*"],
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  return Object.entries(result.metafile.inputs).flatMap(([file, input]) =>
    input.imports.filter((i) => i.path.startsWith("node:")).map((i) => `${file}: ${i.path}`),
  );
}

describe("examples/bun.ts", { skip: missing("bun") }, () => {
  it("serves its WSGI app with Bun.serve", () =>
    greets(() => startScript("bun", "examples/bun.ts", ["0"]), "Bun"));
});

describe("examples/deno.ts", { skip: missing("deno") }, () => {
  it("serves its WSGI app with Deno.serve", () =>
    greets(() => startScript("deno", "examples/deno.ts", ["0"]), "Deno"));
});

describe("examples/worker.ts", { skip: missing("workerd") }, () => {
  it("serves its WSGI app with examples/worker.capnp (Node compatibility on)", () =>
    greets(
      () => startWorker("examples/worker.ts", { config: "examples/worker.capnp" }),
      "workerd",
    ));

  it("serves its WSGI app on workerd without Node compatibility (before 2026-08-04)", () =>
    greets(() => startWorker("examples/worker.ts", { date: "2026-08-03" }), "workerd"));
});

/** An example file as the docs show it: without its header comment, importing `wsgiref/*`. */
function shown(file: string): string {
  const text = readFileSync(`${ROOT}${file}`, "utf8");
  return text
    .slice(text.indexOf(" */\n") + 4)
    .replace(/"\.\.\/src\/([a-z-]+)\.ts"/g, '"wsgiref/$1"')
    .trimEnd();
}

describe("docs/bridges-and-testing.md", () => {
  it("shows examples/bun.ts, deno.ts and worker.ts as they are", () => {
    const docs = readFileSync(`${ROOT}docs/bridges-and-testing.md`, "utf8");
    for (const file of ["examples/bun.ts", "examples/deno.ts", "examples/worker.ts"]) {
      assert.ok(
        docs.includes(`\`\`\`ts\n${shown(file)}\n\`\`\`\n`),
        `${file} is not shown as it is`,
      );
    }
  });
});

describe("wsgiref/fetch for a runtime without Node", () => {
  it("bundles with no node: import", async () => {
    assert.deepEqual(await nodeImportsOfFetch(), []);
  });
});
