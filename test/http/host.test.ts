import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isUsableHost } from "../../src/http/host.ts";

/** Hosts a URL can hold: each must be accepted. */
const USABLE = [
  "",
  "a",
  "localhost",
  "localhost:8000",
  "example.com",
  "Example.COM:443",
  "example.com.",
  "example.com:",
  "a-b.example",
  "host-1",
  "127.0.0.1",
  "127.0.0.1:65535",
  "1.2.3",
  "01.2.3.4",
  "1.2.3.4.",
  "0x7f.1",
  "[::1]",
  "[::1]:8080",
  "[2001:db8::7]:0080",
  "a%41",
  "a!b",
  "a_b",
  "xn--caf-dma.example",
  // Node 24's URL parser takes any `xn--` label; Node 20 and 22 refuse a bad one.
  ...(URL.canParse("http://xn--a/") ? ["xn--a"] : []),
];

/** Hosts the RFC 9110 grammar allows but no URL can hold. */
const UNUSABLE = [
  ":80",
  ":",
  "x:99999",
  "x:65536",
  "[v1.x]",
  "[v1.x]:80",
  "[1:2:3]",
  "[::1::2]",
  "[fe80::1%25eth0]",
  "1.2.3.999",
  "1.2.3.4.5",
  "256.1.1.1",
  "1..2.3",
  "a.0xab",
  "a%00",
  "a%2f",
  ...(URL.canParse("http://xn--a/") ? [] : ["xn--a"]),
];

/** Hosts the grammar itself refuses. */
const MALFORMED = ["a b", "a,b c", "user@a", "a/b", "a:http", "a:80:80", "[::1", "%zz"];

describe("isUsableHost", () => {
  for (const host of USABLE) {
    it(`accepts ${JSON.stringify(host)}`, () => assert.equal(isUsableHost(host), true));
  }
  for (const host of [...UNUSABLE, ...MALFORMED]) {
    it(`refuses ${JSON.stringify(host)}`, () => assert.equal(isUsableHost(host), false));
  }

  it("agrees with the WHATWG URL parser on every non-empty host above", () => {
    for (const host of [...USABLE, ...UNUSABLE]) {
      if (host === "") continue;
      assert.equal(isUsableHost(host), URL.canParse(`http://${host}/`), host);
    }
  });
});
