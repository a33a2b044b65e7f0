import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { globMatcher, watchSources } from "../../src/cli/watch.ts";

describe("cli: --reload globs", () => {
  const cases: Array<[string, string, boolean]> = [
    ["*.ts", "app.ts", true],
    ["*.ts", "src/deep/app.ts", true],
    ["*.ts", "app.tsx", false],
    ["*.json", "uploads/data.json", true],
    ["uploads/*", "uploads/data.json", true],
    ["uploads/*", "src/uploads/data.json", false],
    ["src/**/*.ts", "src/a/b/c.ts", true],
    ["src/**/*.ts", "src/c.ts", true],
    ["?.js", "a.js", true],
    ["?.js", "ab.js", false],
    [".*", ".env", true],
  ];
  for (const [glob, path, expected] of cases) {
    it(`${glob} ${expected ? "matches" : "does not match"} ${path}`, () => {
      assert.equal(globMatcher(glob)(path), expected);
    });
  }
});

describe("cli: watching sources", () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-watch-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Watches `dir` while `act` runs; resolves with every batch of changes seen. */
  async function changes(
    act: () => Promise<void>,
    globs: { include?: string[]; exclude?: string[] } = {},
  ): Promise<string[][]> {
    const seen: string[][] = [];
    const watcher = watchSources({ root: dir, ...globs, onChange: (paths) => seen.push(paths) });
    try {
      await act();
      await pause(1500); // longer than one polling interval
    } finally {
      watcher.close();
    }
    return seen;
  }
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  mkdirSync(join(dir, "node_modules", "dep"), { recursive: true });
  mkdirSync(join(dir, "uploads"));
  mkdirSync(join(dir, "generated"));
  writeFileSync(join(dir, "app.ts"), "1");

  it("sees every save by rename, not only the first", async () => {
    const seen = await changes(async () => {
      for (const n of [2, 3, 4]) {
        writeFileSync(join(dir, "app.ts.tmp"), String(n));
        renameSync(join(dir, "app.ts.tmp"), join(dir, "app.ts"));
        await pause(1200);
      }
    });
    assert.deepEqual(seen, [["app.ts"], ["app.ts"], ["app.ts"]]);
  });

  it("ignores data files, node_modules and .git by default", async () => {
    const seen = await changes(async () => {
      writeFileSync(join(dir, "uploads", "data.json"), "{}");
      writeFileSync(join(dir, "access.log"), "GET /\n");
      writeFileSync(join(dir, "node_modules", "dep", "index.js"), "");
    });
    assert.deepEqual(seen, []);
  });

  it("watches --reload-include files and skips --reload-exclude ones", async () => {
    const seen = await changes(
      async () => {
        writeFileSync(join(dir, "config.toml"), "a = 1");
        writeFileSync(join(dir, "generated", "types.ts"), "");
      },
      { include: ["*.toml"], exclude: ["generated"] },
    );
    assert.deepEqual(seen, [["config.toml"]]);
  });
});
