import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
};

describe("package: one subpath per module", () => {
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === "string") continue;
    const name = subpath === "." ? "index" : subpath.slice(2);
    it(`${subpath} is built from src/${name}.ts and re-exports real values`, async () => {
      assert.equal(target.default, `./dist/${name}.js`);
      assert.equal(target.types, `./dist/${name}.d.ts`);
      const source = new URL(`../src/${name}.ts`, import.meta.url);
      assert.ok(existsSync(source), `src/${name}.ts exists`);
      const module = (await import(source.href)) as Record<string, unknown>;
      if (name !== "types")
        assert.ok(Object.keys(module).length > 0, `${subpath} exports something`);
    });
  }

  it("the root entry re-exports the reference names", async () => {
    const root = (await import("../src/index.ts")) as Record<string, unknown>;
    for (const name of [
      "guessScheme",
      "requestUri",
      "applicationUri",
      "shiftPathInfo",
      "setupTestingDefaults",
      "isHopByHop",
      "FileWrapper",
      "Headers",
      "BaseHandler",
      "SimpleHandler",
      "BaseCGIHandler",
      "CGIHandler",
      "IISCGIHandler",
      "readEnviron",
      "formatDateTime",
      "validator",
      "WSGIWarning",
      "makeServer",
      "demoApp",
      "WSGIServer",
      "WSGIRequestHandler",
      "ServerHandler",
      "serve",
    ]) {
      assert.equal(typeof root[name], "function", name);
    }
  });

  it("has a wsgiref command", () => {
    assert.equal(pkg.bin.wsgiref, "bin/wsgiref.js");
    assert.ok(existsSync(new URL("../bin/wsgiref.js", import.meta.url)));
  });
});
