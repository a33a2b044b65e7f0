import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  escapeBytes,
  LocalProtocolError,
  PROTOCOL_ERRORS,
  ProtocolError,
} from "../../src/http/errors.ts";
import { DEFAULT_LIMITS, LIMITS, resolveLimits } from "../../src/http/limits.ts";

const docs = readFileSync(new URL("../../docs/http-core.md", import.meta.url), "utf8");

/** A Markdown table row starting with these cells, however the formatter padded them. */
function tableRow(...cells: string[]): RegExp {
  const literal = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\|${cells.map((c) => ` *${literal(c)} *\\|`).join("")}`, "m");
}

describe("PROTOCOL_ERRORS", () => {
  it("gives every code a 4xx or 5xx status, a reason, an RFC clause and a summary", () => {
    for (const [code, info] of Object.entries(PROTOCOL_ERRORS)) {
      assert.ok(info.status >= 400 && info.status < 600, code);
      assert.ok(info.reason.length > 0 && info.summary.length > 0, code);
      assert.match(info.rfc, /^RFC \d+ §/, code);
    }
  });

  it("is documented row by row in docs/http-core.md", () => {
    for (const [code, info] of Object.entries(PROTOCOL_ERRORS)) {
      assert.match(docs, tableRow(`\`${code}\``, `${info.status} ${info.reason}`, info.rfc), code);
    }
  });
});

describe("ProtocolError", () => {
  it("carries code, status, reason and RFC clause from the table", () => {
    const e = new ProtocolError("ERR_BODY_TOO_LARGE", "too big");
    assert.equal(e.code, "ERR_BODY_TOO_LARGE");
    assert.equal(e.status, 413);
    assert.equal(e.reason, "Content Too Large");
    assert.equal(e.rfc, "RFC 9110 §15.5.14");
    assert.equal(e.message, "too big");
    assert.equal(e.name, "ProtocolError");
    assert.ok(e instanceof Error);
  });
});

describe("LocalProtocolError", () => {
  it("carries its code and a name", () => {
    const e = new LocalProtocolError("ERR_INVALID_STATE", "x");
    assert.equal(e.code, "ERR_INVALID_STATE");
    assert.equal(e.name, "LocalProtocolError");
  });
});

describe("escapeBytes", () => {
  it("escapes line breaks, tabs, backslashes and non-printable bytes", () => {
    assert.equal(escapeBytes("a\r\n\t\\\x00\x7f\xe9"), "a\\r\\n\\t\\\\\\x00\\x7f\\xe9");
  });

  it("truncates long input with an ellipsis", () => {
    assert.equal(escapeBytes("x".repeat(100), 8), "xxxxxxxx...");
  });

  it("accepts bytes", () => {
    assert.equal(escapeBytes(new Uint8Array([0x41, 0x0a])), "A\\n");
  });
});

describe("limits", () => {
  it("has a documented default for every limit", () => {
    for (const limit of LIMITS) {
      assert.equal(DEFAULT_LIMITS[limit.name], limit.default);
      assert.match(docs, tableRow(`\`${limit.name}\``), limit.name);
    }
  });

  it("fills in defaults for the limits not given", () => {
    const limits = resolveLimits({ maxHeaderCount: 5 });
    assert.equal(limits.maxHeaderCount, 5);
    assert.equal(limits.maxHeaderBytes, DEFAULT_LIMITS.maxHeaderBytes);
  });

  it("rejects negative, NaN and unknown limits", () => {
    assert.throws(() => resolveLimits({ maxBodySize: -1 }), RangeError);
    assert.throws(() => resolveLimits({ maxBodySize: Number.NaN }), RangeError);
    assert.throws(() => resolveLimits({ maxBodyBytes: 1 } as never), RangeError);
  });
});
