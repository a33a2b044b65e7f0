import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHttpDate } from "../../src/middleware/conditional.ts";

describe("parseHttpDate", () => {
  const good: [string, string, number][] = [
    ["IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", 784111777],
    ["RFC 850", "Sunday, 06-Nov-94 08:49:37 GMT", 784111777],
    ["asctime", "Sun Nov  6 08:49:37 1994", 784111777],
    ["asctime with a two-digit day", "Thu Jan 16 00:00:00 2020", 1579132800],
    ["the epoch", "Thu, 01 Jan 1970 00:00:00 GMT", 0],
  ];
  for (const [name, value, seconds] of good) {
    it(`parses ${name}: ${value}`, () => {
      assert.equal(parseHttpDate(value), seconds);
    });
  }

  const bad = [
    "",
    "yesterday",
    "1",
    "Sun, 06 Nov 1994 08:49:37 UTC",
    "Sun, 6 Nov 1994 08:49:37 GMT",
    "sun, 06 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 24:00:00 GMT",
    "Sun, 06 Nov 1994 08:60:00 GMT",
    "Sun, 31 Feb 1994 08:49:37 GMT",
    " Sun, 06 Nov 1994 08:49:37 GMT",
    "1994-11-06T08:49:37Z",
  ];
  for (const value of bad) {
    it(`refuses ${JSON.stringify(value)}`, () => {
      assert.equal(parseHttpDate(value), undefined);
    });
  }
});
