/**
 * The architecture's import rules, checked on the import graph of src/ (every static
 * `import`/`export … from` and every `import()`): the HTTP core does no I/O, the reference
 * modules do not depend on the servers, and nothing depends on the command line.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Each source file (relative to src/, `/`-separated) with what it imports: `node:x` or a src/ path. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    const targets: string[] = [];
    for (const match of text.matchAll(pattern)) {
      const specifier = (match[1] ?? match[2]) as string;
      targets.push(
        specifier.startsWith(".")
          ? relative(SRC, resolve(dirname(file), specifier))
              .split("\\")
              .join("/")
          : specifier,
      );
    }
    graph.set(relative(SRC, file).split("\\").join("/"), targets);
  }
  return graph;
}

const graph = importGraph();

/** The imports of files under `prefixes` that `forbidden` matches, as `file -> target` lines. */
function violations(prefixes: string[], forbidden: (target: string) => boolean): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    if (!prefixes.some((p) => file === p || file.startsWith(p))) continue;
    for (const target of targets) if (forbidden(target)) out.push(`${file} -> ${target}`);
  }
  return out;
}

describe("import rules", () => {
  it("reads a graph that covers src/", () => {
    assert.ok(graph.size > 50, `only ${graph.size} files`);
    assert.ok(graph.get("handlers/base.ts")?.includes("types.ts"));
  });

  it("src/http/ imports no socket, timer, stream, file, node:http or handler", () => {
    const io =
      /^node:(net|tls|http|https|http2|stream|timers|fs|dgram|cluster|child_process|worker_threads)(\/|$)/;
    const layers = /^(handlers|server|simple-server|bridges|testing|middleware|cli)(\/|\.ts$)/;
    assert.deepEqual(
      violations(["http/"], (t) => io.test(t) || layers.test(t)),
      [],
    );
  });

  it("the reference modules and the bridges import nothing from the servers", () => {
    const servers = /^(server|simple-server)(\/|\.ts$)/;
    assert.deepEqual(
      violations(
        [
          "types.ts",
          "util.ts",
          "util/",
          "headers.ts",
          "validate.ts",
          "handlers/",
          "bridges/",
          "testing/",
        ],
        (t) => servers.test(t),
      ),
      [],
    );
  });

  it("nothing imports the command line", () => {
    assert.deepEqual(
      violations([""], (t) => /^cli(\/|\.ts$)/.test(t)).filter((v) => !v.startsWith("cli")),
      [],
    );
  });
});
