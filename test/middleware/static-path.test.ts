import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHiddenPath, isInside, requestSegments } from "../../src/middleware/static-path.ts";
import { encodeNative } from "../../src/util.ts";

describe("requestSegments: clean paths", () => {
  const cases: [string, string[], boolean][] = [
    ["", [], false],
    ["/", [], true],
    ["/a.txt", ["a.txt"], false],
    ["/dir/", ["dir"], true],
    ["/dir/a.txt", ["dir", "a.txt"], false],
    ["/%2e%2e", ["%2e%2e"], false],
    ["/a..b", ["a..b"], false],
    [encodeNative("/café/ü.txt"), ["café", "ü.txt"], false],
    ["/.well-known/", [".well-known"], true],
    ["/.well-known/acme-challenge/t0k3n", [".well-known", "acme-challenge", "t0k3n"], false],
  ];
  for (const [pathInfo, segments, trailingSlash] of cases) {
    it(`splits ${JSON.stringify(pathInfo)}`, () => {
      assert.deepEqual(requestSegments(pathInfo, false), { segments, trailingSlash });
    });
  }
});

describe("requestSegments: refused paths", () => {
  const refused: string[] = [
    "a.txt",
    "/..",
    "/../x",
    "/a/../x",
    "/./x",
    "/a/.",
    "//x",
    "/a//x",
    "/a\\x",
    "/\0",
    "/a\x7f",
    "/a\tb",
    "/.env",
    "/a/.git/config",
    "/.well-known/.htpasswd",
    "/a/.well-known/x",
    "/.Well-Known/x",
    encodeNative("/\uff0ewell-known/x"),
    encodeNative("/\u2025/x"),
    encodeNative("/\uff0e\uff0e/x"),
    encodeNative("/a\uff0fb"),
    encodeNative("/a\uff3cb"),
    encodeNative("/\uff0eenv"),
    "/\xc0\xae\xc0\xae",
    "/\xff",
  ];
  for (const pathInfo of refused) {
    it(`refuses ${JSON.stringify(pathInfo)}`, () => {
      assert.equal(requestSegments(pathInfo, false), undefined);
    });
  }

  it("allows dot files with dotfiles true, but never . or ..", () => {
    assert.deepEqual(requestSegments("/.env", true), { segments: [".env"], trailingSlash: false });
    assert.equal(requestSegments("/../x", true), undefined);
    assert.equal(requestSegments("/./x", true), undefined);
  });
});

describe("isHiddenPath: the real path of a located file", () => {
  const cases: [string, boolean][] = [
    ["/srv/www", false],
    ["/srv/www/a.txt", false],
    ["/srv/www/.env", true],
    ["/srv/www/sub/.git/config", true],
    ["/srv/www/.well-known/security.txt", false],
    ["/srv/www/.well-known/.secret", true],
    ["/srv/www/sub/.well-known/x", true],
  ];
  for (const [path, hidden] of cases) {
    it(`${path} is ${hidden ? "" : "not "}hidden under /srv/www`, () => {
      assert.equal(isHiddenPath("/srv/www", path), hidden);
    });
  }

  it("looks only below the root: a root inside a dot directory hides nothing", () => {
    assert.equal(isHiddenPath("/home/u/.site", "/home/u/.site/a.txt"), false);
  });
});

describe("isInside", () => {
  const cases: [string, string, boolean][] = [
    ["/srv/www", "/srv/www", true],
    ["/srv/www", "/srv/www/a", true],
    ["/srv/www", "/srv/www2/a", false],
    ["/srv/www", "/srv", false],
    ["/", "/etc/passwd", true],
  ];
  for (const [root, path, expected] of cases) {
    it(`${path} is ${expected ? "" : "not "}inside ${root}`, () => {
      assert.equal(isInside(root, path), expected);
    });
  }
});
