import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mount } from "../../src/middleware.ts";
import type { WSGIApplication, WSGIEnvironment } from "../../src/types.ts";
import { withServer } from "../helpers/servers.ts";
import { exchange } from "../helpers/wire.ts";
import { call, echo } from "./harness.ts";

/** An app that says its name and where it was reached. */
function named(name: string): WSGIApplication {
  return (environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [Buffer.from(`${name} ${environ.SCRIPT_NAME}|${environ.PATH_INFO}`, "latin1")];
  };
}

const app = mount(
  {
    "/api": named("api"),
    "/api/v2": named("v2"),
    "/static/": named("static"),
    "/café": named("cafe"),
  },
  named("site"),
);

describe("mount: dispatch", () => {
  const cases: [string, string, string, string][] = [
    ["the prefix alone", "", "/api", "api /api|"],
    ["the prefix with a trailing slash", "", "/api/", "api /api|/"],
    ["a path below the prefix", "", "/api/users/1", "api /api|/users/1"],
    ["the longest prefix wins", "", "/api/v2/users", "v2 /api/v2|/users"],
    ["a deeper prefix alone", "", "/api/v2", "v2 /api/v2|"],
    ["a sibling of a deeper prefix stays with the shorter", "", "/api/v3", "api /api|/v3"],
    ["prefixes match whole segments only", "", "/apix", "site |/apix"],
    ["a partial deeper segment stays with the shorter", "", "/api/v2x", "api /api|/v2x"],
    ["a mount point's trailing slash is ignored", "", "/static/a.css", "static /static|/a.css"],
    ["an unmatched path goes to the fallback unchanged", "", "/about", "site |/about"],
    ["the root goes to the fallback", "", "/", "site |/"],
    ["an existing SCRIPT_NAME is extended", "/outer", "/api/x", "api /outer/api|/x"],
    ["empty segments are skipped, as shiftPathInfo does", "", "//api//x", "api /api|/x"],
    ["dot segments are skipped, as shiftPathInfo does", "", "/./api/./x", "api /api|/x"],
    ["a dot-dot segment does not match", "", "/../api", "site |/../api"],
    [
      "keys are text, matched against the UTF-8 path",
      "",
      "/caf\u00c3\u00a9/menu",
      "cafe /caf\u00c3\u00a9|/menu",
    ],
    ["matching is case-sensitive", "", "/API", "site |/API"],
  ];
  for (const [name, scriptName, pathInfo, expected] of cases) {
    it(`${name}: ${JSON.stringify(scriptName + pathInfo)}`, async () => {
      const response = await call(app, { SCRIPT_NAME: scriptName, PATH_INFO: pathInfo });
      assert.equal(response.body.toString("latin1"), expected);
    });
  }
});

describe("mount: without a fallback", () => {
  const bare = mount({ "/api": named("api") });

  it("answers an unmatched path with 404 text/plain", async () => {
    const response = await call(bare, { PATH_INFO: "/nope" });
    assert.equal(response.status, "404 Not Found");
    assert.equal(response.header("Content-Type"), "text/plain; charset=utf-8");
    assert.equal(response.header("Content-Length"), "10");
    assert.equal(response.body.toString(), "Not Found\n");
  });

  it("answers HEAD with the headers and no body", async () => {
    const response = await call(bare, { REQUEST_METHOD: "HEAD", PATH_INFO: "/nope" });
    assert.equal(response.status, "404 Not Found");
    assert.equal(response.header("Content-Length"), "10");
    assert.equal(response.body.length, 0);
  });

  it("answers a PATH_INFO that does not start with a slash with 404", async () => {
    const response = await call(bare, { SCRIPT_NAME: "/x", PATH_INFO: "" });
    assert.equal(response.status, "404 Not Found");
  });

  it("a root mount point acts as the fallback", async () => {
    const rooted = mount({ "/": named("root"), "/api": named("api") });
    const response = await call(rooted, { SCRIPT_NAME: "", PATH_INFO: "/other" });
    assert.equal(response.body.toString(), "root |/other");
  });
});

describe("mount: environ isolation", () => {
  it("does not change the caller's environ", async () => {
    const environ: Partial<WSGIEnvironment> = { SCRIPT_NAME: "", PATH_INFO: "/api/x" };
    await call(app, environ);
    assert.equal(environ.SCRIPT_NAME, "");
    assert.equal(environ.PATH_INFO, "/api/x");
  });

  it("gives the mounted app a copy it may change freely", async () => {
    const inner = echo(["SCRIPT_NAME"]);
    const mutating: WSGIApplication = (environ, startResponse) => {
      environ.custom = "set by the app";
      return inner(environ, startResponse);
    };
    const environ: Partial<WSGIEnvironment> = { PATH_INFO: "/api/x" };
    await call(mount({ "/api": mutating }), environ);
    assert.equal(inner.seen[0]?.custom, "set by the app");
    assert.equal(environ.custom, undefined);
  });

  it("passes the other keys on", async () => {
    const inner = echo(["HTTP_X_TEST", "REQUEST_METHOD"]);
    const response = await call(mount({ "/api": inner }), {
      PATH_INFO: "/api",
      REQUEST_METHOD: "POST",
      HTTP_X_TEST: "yes",
    });
    assert.deepEqual(JSON.parse(response.body.toString()), {
      HTTP_X_TEST: "yes",
      REQUEST_METHOD: "POST",
    });
  });
});

describe("mount: configuration", () => {
  const bad: [string, Record<string, WSGIApplication>][] = [
    ["a key without a leading slash", { api: named("x") }],
    ["a key with an empty segment", { "/a//b": named("x") }],
    ["a key with a dot segment", { "/a/./b": named("x") }],
    ["a key with a dot-dot segment", { "/a/../b": named("x") }],
    ["two keys for the same place", { "/a": named("x"), "/a/": named("y") }],
    ["an app that is not a function", { "/a": "nope" as unknown as WSGIApplication }],
  ];
  for (const [name, mounts] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => mount(mounts), TypeError);
    });
  }

  it("refuses a root mount point and a fallback together", () => {
    assert.throws(() => mount({ "/": named("root") }, named("fallback")), TypeError);
  });
});

describe("mount: encoded slashes and dot segments", () => {
  const admin = mount({ "/admin": named("admin"), "/public": named("public") }, named("site"));
  const strict = mount({ "/admin": named("admin"), "/public": named("public") }, named("site"), {
    strictPaths: true,
  });

  it("passes /admin%2fsecret to the /admin mount, decoded by the server (PEP 3333, werkzeug)", async () => {
    const response = await call(admin, { PATH_INFO: "/admin/secret", RAW_URI: "/admin%2fsecret" });
    assert.equal(response.body.toString(), "admin /admin|/secret");
  });

  it("passes a .. segment through unresolved", async () => {
    const response = await call(admin, { PATH_INFO: "/public/../admin/x" });
    assert.equal(response.body.toString(), "public /public|/../admin/x");
  });

  const refused: [string, Partial<WSGIEnvironment>][] = [
    ["an encoded slash in RAW_URI", { PATH_INFO: "/admin/secret", RAW_URI: "/admin%2fsecret" }],
    ["an upper-case %2F", { PATH_INFO: "/admin/secret", RAW_URI: "/admin%2Fsecret?x=1" }],
    ["an encoded slash in REQUEST_URI", { PATH_INFO: "/a/b", REQUEST_URI: "/a%2fb" }],
    ["a .. segment", { PATH_INFO: "/public/../admin/x" }],
    ["a trailing .. segment", { PATH_INFO: "/public/.." }],
    ["a . segment", { PATH_INFO: "/./admin" }],
    ["a trailing . segment", { PATH_INFO: "/admin/." }],
  ];
  for (const [name, environ] of refused) {
    it(`with strictPaths, answers ${name} with 400`, async () => {
      const response = await call(strict, { ...environ });
      assert.equal(response.status, "400 Bad Request");
      assert.equal(response.body.toString(), "Bad Request\n");
    });
  }

  const allowed: [string, Partial<WSGIEnvironment>, string][] = [
    ["a clean path", { PATH_INFO: "/admin/x", RAW_URI: "/admin/x" }, "admin /admin|/x"],
    [
      "%2f in the query only",
      { PATH_INFO: "/admin", RAW_URI: "/admin?next=%2fx" },
      "admin /admin|",
    ],
    [
      "dots inside a name",
      { PATH_INFO: "/public/a..b/.well-known" },
      "public /public|/a..b/.well-known",
    ],
    ["no raw target at all", { PATH_INFO: "/admin/x" }, "admin /admin|/x"],
  ];
  for (const [name, environ, expected] of allowed) {
    it(`with strictPaths, still dispatches ${name}`, async () => {
      const response = await call(strict, { ...environ });
      assert.equal(response.body.toString(), expected);
    });
  }

  it("refuses a strictPaths that is not a boolean", () => {
    assert.throws(
      () => mount({}, undefined, { strictPaths: "yes" as unknown as boolean }),
      TypeError,
    );
  });

  it("on the production server: /admin%2fsecret reaches /admin, and strictPaths refuses it", () =>
    withServer(admin, {}, async ({ port }) => {
      const get = (target: string, p = port) =>
        exchange(p, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      assert.ok((await get("/admin%2fsecret")).endsWith("\r\n\r\nadmin /admin|/secret"));
      assert.ok((await get("/public/../admin/x")).endsWith("\r\n\r\npublic /public|/../admin/x"));
      await withServer(strict, {}, async (t) => {
        assert.match(await get("/admin%2fsecret", t.port), /^HTTP\/1\.1 400 Bad Request\r\n/);
        assert.match(
          await get("/public/%2e%2e/admin/x", t.port),
          /^HTTP\/1\.1 400 Bad Request\r\n/,
        );
        assert.match(await get("/admin/x", t.port), /^HTTP\/1\.1 200 OK\r\n/);
      });
    }));
});
