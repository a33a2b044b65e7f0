import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { optionsPage } from "../../scripts/options-doc.ts";
import {
  DEFAULTS,
  OPTIONS,
  OptionError,
  type OptionSpec,
  parseOption,
  resolveOptions,
} from "../../src/server/options.ts";

const spec = (name: string) => OPTIONS.find((o) => o.name === name) as OptionSpec;

describe("options: the one table", () => {
  it("declares every option once, each with a flag, a variable, help and a reason", () => {
    const names = OPTIONS.map((o) => o.name);
    assert.equal(new Set(names).size, names.length);
    for (const o of OPTIONS) {
      assert.match(o.flag, /^--[a-z-]+$/, o.name);
      assert.match(o.env, /^WSGIREF_[A-Z_]+$/, o.name);
      assert.ok(o.doc.length > 10 && o.why.length > 10, o.name);
    }
  });

  it("docs/options.md is generated from it and up to date (npm run docs:options)", () => {
    const page = readFileSync(new URL("../../docs/options.md", import.meta.url), "utf8");
    assert.equal(page, optionsPage());
  });
});

describe("options: reading text forms", () => {
  const cases: Array<[string, string, unknown]> = [
    ["port", "8080", 8080],
    ["maxBodySize", "1m", 1024 * 1024],
    ["maxBodySize", "16k", 16 * 1024],
    ["maxHeaderBytes", "2048", 2048],
    ["keepAliveTimeout", "5", 5000],
    ["keepAliveTimeout", "500ms", 500],
    ["keepAliveTimeout", "2m", 120_000],
    ["keepUnderscoreHeaders", "true", true],
    ["keepUnderscoreHeaders", "0", false],
    ["accessLogFormat", "combined", "combined"],
  ];
  for (const [name, text, expected] of cases) {
    it(`reads ${name} from ${JSON.stringify(text)}`, () => {
      assert.equal(parseOption(spec(name), text), expected);
    });
  }

  const bad: Array<[string, string, RegExp]> = [
    ["port", "eighty", /--port: expected a whole number, got "eighty"/],
    ["port", "80.5", /--port: expected a whole number/],
    ["maxBodySize", "1x", /--max-body-size: expected a size/],
    ["keepAliveTimeout", "soon", /--keep-alive: expected a duration/],
    ["accessLogFormat", "xml", /expected one of common, combined/],
    ["keepUnderscoreHeaders", "maybe", /expected true or false/],
  ];
  for (const [name, text, message] of bad) {
    it(`rejects ${name} = ${JSON.stringify(text)} naming the flag and the value`, () => {
      assert.throws(() => parseOption(spec(name), text), message);
    });
  }
});

describe("options: resolving", () => {
  it("takes defaults, then WSGIREF_* variables, then explicit options", () => {
    const options = resolveOptions({ port: 9000 }, { WSGIREF_PORT: "7000", WSGIREF_WORKERS: "3" });
    assert.equal(options.port, 9000);
    assert.equal(options.workers, 3);
    assert.equal(options.maxHeaders, DEFAULTS.maxHeaders);
  });

  it("rejects out-of-range and inconsistent values with an OptionError", () => {
    assert.throws(() => resolveOptions({ port: 70000 }, {}), OptionError);
    assert.throws(() => resolveOptions({ workers: 0 }, {}), /workers must be at least 1, got 0/);
    assert.throws(() => resolveOptions({ key: "k.pem" }, {}), /key and cert go together/);
    assert.throws(
      () => resolveOptions({}, { WSGIREF_PORT: "x" }),
      /--port: expected a whole number/,
    );
  });
});
