import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contentTypeFor } from "../../src/middleware.ts";

describe("contentTypeFor", () => {
  const cases: [string, string][] = [
    ["index.html", "text/html; charset=utf-8"],
    ["APP.JS", "text/javascript; charset=utf-8"],
    ["a/b/logo.svg", "image/svg+xml"],
    ["data.json", "application/json"],
    ["archive.tar.gz", "application/gzip"],
    ["no-extension", "application/octet-stream"],
    [".bashrc", "application/octet-stream"],
    ["dir.html/file", "application/octet-stream"],
    ["file.unknownext", "application/octet-stream"],
  ];
  for (const [name, type] of cases) {
    it(`${name} is ${type}`, () => {
      assert.equal(contentTypeFor(name), type);
    });
  }
});
