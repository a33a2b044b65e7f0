import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { environKey, hasUnderscore } from "../../src/http/environ-key.ts";
import {
  AUTHORITY_CHAR,
  FIELD_VALUE_BYTE,
  HEX_VALUE,
  isChunkExtensions,
  isFieldValue,
  isToken,
  isValidAuthority,
  quotedStringEnd,
  skipClass,
  TARGET_BYTE,
  TCHAR,
  VCHAR,
} from "../../src/http/grammar.ts";
import { bytes } from "./helpers.ts";

/** The bytes a table marks, as a latin-1 string. */
function members(table: Uint8Array): string {
  let out = "";
  for (let b = 0; b < 256; b++) if (table[b] === 1) out += String.fromCharCode(b);
  return out;
}

const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i)).join("");

describe("byte tables", () => {
  it("TCHAR is exactly the token characters of RFC 9110 §5.6.2", () => {
    assert.equal(members(TCHAR), [..."!#$%&'*+-.^_`|~", ...ALNUM].sort().join(""));
  });

  it("FIELD_VALUE_BYTE is HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5)", () => {
    assert.equal(members(FIELD_VALUE_BYTE), `\t${range(0x20, 0x7e)}${range(0x80, 0xff)}`);
  });

  it("FIELD_VALUE_BYTE excludes NUL, CR, LF, other controls and DEL", () => {
    for (const b of [0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b, 0x1f, 0x7f]) {
      assert.equal(FIELD_VALUE_BYTE[b], 0, `0x${b.toString(16)}`);
    }
  });

  it("VCHAR is 0x21-0x7E", () => {
    assert.equal(members(VCHAR), range(0x21, 0x7e));
  });

  it("TARGET_BYTE is VCHAR without #", () => {
    assert.equal(members(TARGET_BYTE), range(0x21, 0x7e).replace("#", ""));
  });

  it("AUTHORITY_CHAR has no @, /, ?, # or comma", () => {
    for (const c of "@/?# ,") assert.equal(AUTHORITY_CHAR[c.charCodeAt(0)], 0, c);
  });

  it("HEX_VALUE maps hex digits of either case and nothing else", () => {
    assert.equal(HEX_VALUE["0".charCodeAt(0)], 0);
    assert.equal(HEX_VALUE["9".charCodeAt(0)], 9);
    assert.equal(HEX_VALUE["a".charCodeAt(0)], 10);
    assert.equal(HEX_VALUE["F".charCodeAt(0)], 15);
    for (const c of "gGxX+- \t") assert.equal(HEX_VALUE[c.charCodeAt(0)], -1, c);
  });
});

describe("skipClass", () => {
  it("stops at the first byte outside the class, in the unrolled part or the tail", () => {
    const value = bytes("abcdefghijklmnopqrstuvwxyz\r\n");
    for (let stop = 0; stop < 26; stop++) {
      const copy = Buffer.from(value);
      copy[stop] = 0x00;
      assert.equal(skipClass(FIELD_VALUE_BYTE, copy, 0, copy.length), stop);
    }
  });

  it("returns end when every byte belongs", () => {
    assert.equal(skipClass(TCHAR, bytes("token-token-token"), 2, 17), 17);
  });
});

describe("isChunkExtensions (RFC 9112 §7.1.1)", () => {
  const valid = ["", ";a", ";a=b", ";a=b;c", ' ; a = "quoted \\" value"', ";a=b ;c=d", ';name=""'];
  const invalid = [
    ";",
    "a",
    ";a=",
    ";=b",
    ";a b",
    ";a=b c",
    ';a="unterminated',
    ";a=\x01",
    ";a\rb",
    " ",
  ];
  for (const ext of valid) {
    it(`accepts ${JSON.stringify(ext)}`, () => {
      const b = bytes(ext);
      assert.equal(isChunkExtensions(b, 0, b.length), true);
    });
  }
  for (const ext of invalid) {
    it(`rejects ${JSON.stringify(ext)}`, () => {
      const b = bytes(ext);
      assert.equal(isChunkExtensions(b, 0, b.length), false);
    });
  }
});

describe("quotedStringEnd (RFC 9110 §5.6.4)", () => {
  it("finds the closing quote after escaped quotes", () => {
    const b = bytes('"a\\"b"rest');
    assert.equal(quotedStringEnd(b, 0, b.length), 6);
  });

  it("rejects a control character inside", () => {
    const b = bytes('"a\x00b"');
    assert.equal(quotedStringEnd(b, 0, b.length), -1);
  });
});

describe("isValidAuthority (RFC 9112 §3.2, RFC 9110 §7.2)", () => {
  const valid = [
    "example.com",
    "example.com:8080",
    "127.0.0.1:80",
    "[::1]",
    "[::1]:8000",
    "",
    "a-b_c~d.e",
    "xn--bcher-kva.example",
    "ex%41mple",
  ];
  const invalid = [
    "a b",
    "a,b",
    "user@host",
    "host/path",
    "host?q",
    "host:port",
    "[::1",
    "[::1]x",
    "ex%zz",
    "caf\xe9",
    "host:80:81",
  ];
  for (const value of valid)
    it(`accepts ${JSON.stringify(value)}`, () => assert.equal(isValidAuthority(value), true));
  for (const value of invalid)
    it(`rejects ${JSON.stringify(value)}`, () => assert.equal(isValidAuthority(value), false));
});

describe("isToken and isFieldValue", () => {
  it("isToken accepts a field name and rejects separators", () => {
    assert.equal(isToken("X-Custom_Name"), true);
    assert.equal(isToken("X Custom"), false);
    assert.equal(isToken("X:Custom"), false);
    assert.equal(isToken(""), false);
  });

  it("isFieldValue rejects CR, LF, NUL and characters above 0xFF", () => {
    assert.equal(isFieldValue("text/plain; charset=utf-8"), true);
    assert.equal(isFieldValue("caf\xe9"), true);
    for (const bad of ["a\rb", "a\nb", "a\x00b", "\u20ac"])
      assert.equal(isFieldValue(bad), false, bad);
  });
});

describe("environKey", () => {
  const cases: [string, string][] = [
    ["User-Agent", "HTTP_USER_AGENT"],
    ["user-agent", "HTTP_USER_AGENT"],
    ["X-Forwarded-For", "HTTP_X_FORWARDED_FOR"],
    ["Content-Type", "CONTENT_TYPE"],
    ["content-length", "CONTENT_LENGTH"],
    ["X-Rare-Header-Name", "HTTP_X_RARE_HEADER_NAME"],
    ["Host", "HTTP_HOST"],
  ];
  for (const [name, key] of cases)
    it(`${name} -> ${key}`, () => assert.equal(environKey(name), key));

  it("maps underscore and dash spellings to the same key, which hasUnderscore tells apart", () => {
    assert.equal(environKey("X-Forwarded_For"), environKey("X-Forwarded-For"));
    assert.equal(hasUnderscore("X-Forwarded_For"), true);
    assert.equal(hasUnderscore("X-Forwarded-For"), false);
  });

  it("keeps answering for many distinct names (the cache is bounded)", () => {
    for (let i = 0; i < 2000; i++) assert.equal(environKey(`X-N${i}`), `HTTP_X_N${i}`);
  });
});
