import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkTransferEncoding,
  joinFieldValues,
  listMembers,
  NAME_END,
  parseContentLength,
  parseExpect,
  scanFieldLine,
  UNDERSCORE,
  VALUE_END,
  VALUE_START,
} from "../../src/http/fields.ts";
import { bytes } from "./helpers.ts";

const cl = (value: string) => {
  const b = bytes(value);
  return parseContentLength(b, 0, b.length);
};

describe("parseContentLength (RFC 9110 §8.6)", () => {
  for (const [value, n] of [
    ["0", 0],
    ["42", 42],
    ["007", 7],
    ["9007199254740991", 9007199254740991],
  ] as const) {
    it(`reads ${value}`, () => assert.equal(cl(value), n));
  }
  for (const value of ["", "+1", "-1", "0x1", "1.0", "1 0", "1e3", "9007199254740992", "١"]) {
    it(`rejects ${JSON.stringify(value)} as ERR_INVALID_CONTENT_LENGTH`, () => {
      assert.throws(() => cl(value), { code: "ERR_INVALID_CONTENT_LENGTH" });
    });
  }
  for (const value of ["1,1", "1, 2"]) {
    it(`rejects the list ${JSON.stringify(value)} as ERR_DUPLICATE_CONTENT_LENGTH`, () => {
      assert.throws(() => cl(value), { code: "ERR_DUPLICATE_CONTENT_LENGTH" });
    });
  }
});

describe("checkTransferEncoding (RFC 9112 §6.1, §6.3, §7)", () => {
  for (const values of [["chunked"], ["CHUNKED"], [" chunked "], [", chunked,"], ["", "chunked"]]) {
    it(`accepts ${JSON.stringify(values)}`, () => checkTransferEncoding(values));
  }
  const rejected: [string[], string][] = [
    [[""], "ERR_INVALID_TRANSFER_ENCODING"],
    [["chunked;a=b"], "ERR_INVALID_TRANSFER_ENCODING"],
    [["chun ked"], "ERR_INVALID_TRANSFER_ENCODING"],
    [["chunked", "chunked"], "ERR_TE_CHUNKED_TWICE"],
    [["gzip, chunked, chunked"], "ERR_TE_CHUNKED_TWICE"],
    [["gzip"], "ERR_TE_NOT_FINAL_CHUNKED"],
    [["chunked, identity"], "ERR_TE_NOT_FINAL_CHUNKED"],
    [["xchunked"], "ERR_TE_NOT_FINAL_CHUNKED"],
    [["gzip, chunked"], "ERR_UNKNOWN_TRANSFER_CODING"],
    [["deflate;level=1", "chunked"], "ERR_UNKNOWN_TRANSFER_CODING"],
  ];
  for (const [values, code] of rejected) {
    it(`rejects ${JSON.stringify(values)} as ${code}`, () => {
      assert.throws(() => checkTransferEncoding(values), { code });
    });
  }
});

describe("parseExpect (RFC 9110 §10.1.1)", () => {
  it("recognises 100-continue in any case", () => assert.equal(parseExpect("100-CONTINUE"), true));
  it("ignores an empty list", () => assert.equal(parseExpect(" , "), false));
  it("rejects other expectations", () => {
    assert.throws(() => parseExpect("100-continue, x-other"), {
      code: "ERR_EXPECTATION_FAILED",
      status: 417,
    });
  });
});

describe("joinFieldValues", () => {
  const cases: [name: string, previous: string, value: string, joined: string][] = [
    ["Cookie", "a=1", "b=2", "a=1; b=2"],
    ["cookie", "a=1; b=2", "c=3", "a=1; b=2; c=3"],
    ["COOKIE", "a=x,y", "b=2", "a=x,y; b=2"],
    ["Accept", "text/html", "*/*", "text/html,*/*"],
    ["X-Cookie", "a", "b", "a,b"],
    ["Set-Cookie", "a=1", "b=2", "a=1,b=2"],
  ];
  for (const [name, previous, value, joined] of cases) {
    it(`joins ${name} lines as ${JSON.stringify(joined)}`, () => {
      assert.equal(joinFieldValues(name, previous, value), joined);
    });
  }
});

describe("listMembers", () => {
  it("splits, trims, lower-cases and drops empty members", () => {
    assert.deepEqual(listMembers(" Keep-Alive ,, Upgrade\t"), ["keep-alive", "upgrade"]);
  });
});

describe("scanFieldLine (RFC 9112 §5)", () => {
  it("reports name end, trimmed value and the line end", () => {
    const b = bytes("X-A:  v w \t\r\nrest");
    const out = new Int32Array(4);
    assert.equal(scanFieldLine(b, 0, b.length, out), 13);
    assert.equal(out[NAME_END], 3);
    assert.equal(b.subarray(out[VALUE_START], out[VALUE_END]).toString(), "v w");
    assert.equal(out[UNDERSCORE], 0);
  });

  it("flags an underscore in the name", () => {
    const b = bytes("X_A: 1\r\n");
    const out = new Int32Array(4);
    scanFieldLine(b, 0, b.length, out);
    assert.equal(out[UNDERSCORE], 1);
  });

  it("returns -1 for a line without its LF yet", () => {
    for (const partial of ["X", "X-A", "X-A:", "X-A: v", "X-A: v\r"]) {
      const b = bytes(partial);
      assert.equal(scanFieldLine(b, 0, b.length, new Int32Array(4)), -1, partial);
    }
  });

  const errors: [string, string][] = [
    [" X: 1\r\n", "ERR_OBS_FOLD"],
    ["\tX: 1\r\n", "ERR_OBS_FOLD"],
    [": 1\r\n", "ERR_INVALID_HEADER_NAME"],
    ["X : 1\r\n", "ERR_INVALID_HEADER_NAME"],
    ["X\r\n", "ERR_INVALID_HEADER_NAME"],
    ["X\n", "ERR_BARE_LF"],
    ["X\rY: 1\r\n", "ERR_BARE_CR"],
    ["X: 1\n", "ERR_BARE_LF"],
    ["X: 1\rY\r\n", "ERR_BARE_CR"],
    ["X: \x00\r\n", "ERR_INVALID_HEADER_VALUE"],
    ["X: \x7f\r\n", "ERR_INVALID_HEADER_VALUE"],
  ];
  for (const [line, code] of errors) {
    it(`rejects ${JSON.stringify(line)} as ${code}`, () => {
      const b = bytes(line);
      assert.throws(() => scanFieldLine(b, 0, b.length, new Int32Array(4)), { code });
    });
  }
});
