import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { formatDateTime } from "../../src/handlers/date.ts";
import { FileSlice, type StaticFilesOptions, staticFiles } from "../../src/middleware.ts";
import type {
  FileLike,
  FileWrapperFactory,
  WSGIApplication,
  WSGIEnvironment,
} from "../../src/types.ts";
import { encodeNative, FileWrapper, setupTestingDefaults } from "../../src/util.ts";
import { call, echo, type Response } from "./harness.ts";

let tmp = "";
let root = "";
/** The fixed modification time of every fixture file: 2020-01-02 03:04:05 UTC. */
const MTIME = Date.UTC(2020, 0, 2, 3, 4, 5) / 1000;
const LAST_MODIFIED = "Thu, 02 Jan 2020 03:04:05 GMT";
const DATA = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
const BIG = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256));

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "wsgiref-static-"));
  root = join(tmp, "root");
  const files: [string, string | Buffer][] = [
    ["root/hello.txt", "Hello, world!\n"],
    ["root/data.bin", DATA],
    ["root/big.bin", BIG],
    ["root/empty.txt", ""],
    ["root/style.css", "body { color: red }\n"],
    ["root/sub/index.html", "<h1>sub</h1>\n"],
    ["root/noindex/a.txt", "a\n"],
    ["root/.env", "SECRET=dotfile\n"],
    ["root/caf\u00e9.txt", "coffee\n"],
    ["outside/secret.txt", "TOP SECRET outside\n"],
    ["secret.txt", "TOP SECRET beside\n"],
  ];
  for (const [name, content] of files) {
    const path = join(tmp, name);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, content);
    await utimes(path, MTIME, MTIME);
  }
  await symlink(join(tmp, "outside", "secret.txt"), join(root, "link-out"));
  await symlink("../outside", join(root, "dirlink-out"));
  await symlink("hello.txt", join(root, "link-in"));
  await symlink("sub", join(root, "dirlink-in"));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Requests `pathInfo` from `staticFiles(root, options)`. */
function get(
  pathInfo: string,
  environ: Partial<WSGIEnvironment> = {},
  options: StaticFilesOptions = {},
): Promise<Response> {
  return call(staticFiles(root, options), { SCRIPT_NAME: "", PATH_INFO: pathInfo, ...environ });
}

/** The ETag `staticFiles` gives a file: size and mtime in nanoseconds, in hex. */
async function etagOf(name: string): Promise<string> {
  const stats = await stat(join(root, name), { bigint: true });
  return `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`;
}

describe("staticFiles: serving files", () => {
  it("serves a file with its headers and bytes", async () => {
    const response = await get("/hello.txt");
    assert.equal(response.status, "200 OK");
    assert.deepEqual(response.headers, [
      ["Content-Type", "text/plain; charset=utf-8"],
      ["Content-Length", "14"],
      ["ETag", await etagOf("hello.txt")],
      ["Last-Modified", LAST_MODIFIED],
      ["Accept-Ranges", "bytes"],
      ["X-Content-Type-Options", "nosniff"],
    ]);
    assert.equal(response.body.toString(), "Hello, world!\n");
  });

  it("answers HEAD with the same headers and no body", async () => {
    const head = await get("/hello.txt", { REQUEST_METHOD: "HEAD" });
    const full = await get("/hello.txt");
    assert.equal(head.status, "200 OK");
    assert.deepEqual(head.headers, full.headers);
    assert.equal(head.body.length, 0);
  });

  it("serves a file larger than one read block whole", async () => {
    const response = await get("/big.bin");
    assert.equal(response.header("Content-Length"), String(BIG.length));
    assert.ok(response.body.equals(BIG));
  });

  it("serves an empty file", async () => {
    const response = await get("/empty.txt");
    assert.equal(response.status, "200 OK");
    assert.equal(response.header("Content-Length"), "0");
    assert.equal(response.body.length, 0);
  });

  const types: [string, string][] = [
    ["/hello.txt", "text/plain; charset=utf-8"],
    ["/style.css", "text/css; charset=utf-8"],
    ["/sub/index.html", "text/html; charset=utf-8"],
    ["/data.bin", "application/octet-stream"],
  ];
  for (const [path, type] of types) {
    it(`gives ${path} the Content-Type ${type}`, async () => {
      assert.equal((await get(path)).header("Content-Type"), type);
    });
  }

  it("serves a file whose name is UTF-8 (PATH_INFO as latin-1 bytes)", async () => {
    const response = await get(encodeNative("/caf\u00e9.txt"));
    assert.equal(response.status, "200 OK");
    assert.equal(response.body.toString(), "coffee\n");
  });

  it("follows a symlink that stays inside the root", async () => {
    const response = await get("/link-in");
    assert.equal(response.status, "200 OK");
    assert.equal(response.body.toString(), "Hello, world!\n");
  });

  it("follows a directory symlink that stays inside the root", async () => {
    const response = await get("/dirlink-in/");
    assert.equal(response.body.toString(), "<h1>sub</h1>\n");
  });

  it("adds Cache-Control when maxAge is given", async () => {
    const response = await get("/hello.txt", {}, { maxAge: 3600 });
    assert.equal(response.header("Cache-Control"), "public, max-age=3600");
  });

  it("answers a missing file with 404 text/plain", async () => {
    const response = await get("/missing.txt");
    assert.equal(response.status, "404 Not Found");
    assert.equal(response.header("Content-Type"), "text/plain; charset=utf-8");
    assert.equal(response.body.toString(), "Not Found\n");
  });

  it("answers a file with a trailing slash with 404", async () => {
    assert.equal((await get("/hello.txt/")).status, "404 Not Found");
  });
});

describe("staticFiles: methods", () => {
  for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
    it(`answers ${method} with 405 and Allow: GET, HEAD`, async () => {
      const response = await get("/hello.txt", { REQUEST_METHOD: method });
      assert.equal(response.status, "405 Method Not Allowed");
      assert.equal(response.header("Allow"), "GET, HEAD");
      assert.equal(response.header("Content-Type"), "text/plain; charset=utf-8");
    });
  }
});

describe("staticFiles: directories", () => {
  it("redirects a directory without a trailing slash with 301", async () => {
    const response = await get("/sub");
    assert.equal(response.status, "301 Moved Permanently");
    assert.equal(response.header("Location"), "/sub/");
    assert.equal(response.header("Content-Type"), "text/plain; charset=utf-8");
  });

  it("keeps SCRIPT_NAME and the query string in the redirect", async () => {
    const response = await get("/sub", { SCRIPT_NAME: "/static", QUERY_STRING: "a=1&b=%20" });
    assert.equal(response.header("Location"), "/static/sub/?a=1&b=%20");
  });

  it("redirects the mount point itself to its slash form", async () => {
    const response = await get("", { SCRIPT_NAME: "/static" });
    assert.equal(response.header("Location"), "/static/");
  });

  it("percent-encodes the redirect path", async () => {
    const name = encodeNative("d\u00e9 r");
    await mkdir(join(root, "d\u00e9 r"), { recursive: true });
    const response = await get(`/${name}`);
    assert.equal(response.header("Location"), "/d%C3%A9%20r/");
  });

  it("never redirects to a protocol-relative URL", async () => {
    const response = await get("/sub", { SCRIPT_NAME: "//evil.example" });
    assert.equal(response.header("Location"), "/evil.example/sub/");
  });

  it("serves index.html for a directory with a trailing slash", async () => {
    const response = await get("/sub/");
    assert.equal(response.status, "200 OK");
    assert.equal(response.header("Content-Type"), "text/html; charset=utf-8");
    assert.equal(response.body.toString(), "<h1>sub</h1>\n");
  });

  it("serves the root's index when there is one, and 404 when not", async () => {
    assert.equal((await get("/")).status, "404 Not Found");
  });

  it("answers a directory without an index with 404, not a listing", async () => {
    assert.equal((await get("/noindex/")).status, "404 Not Found");
  });

  it("uses another index file name when asked", async () => {
    const response = await get("/noindex/", {}, { index: "a.txt" });
    assert.equal(response.body.toString(), "a\n");
  });

  it("serves no index with index: false", async () => {
    assert.equal((await get("/sub/", {}, { index: false })).status, "404 Not Found");
  });
});

describe("staticFiles: never outside the root", () => {
  const n = encodeNative;
  const attempts: [string, string][] = [
    ["dot-dot", "/../secret.txt"],
    ["dot-dot into a sibling", "/../outside/secret.txt"],
    ["dot-dot below a directory", "/sub/../../secret.txt"],
    ["dot-dot that stays inside", "/sub/../hello.txt"],
    ["dot-dot alone", "/.."],
    ["dot-dot with a slash", "/../"],
    ["dot segment", "/./hello.txt"],
    ["%2f decoded by the server", "/..%2fsecret.txt".replace("%2f", "/")],
    ["double-encoded %252f", "/..%2fsecret.txt"],
    ["double-encoded %252e%252e", "/%2e%2e/secret.txt"],
    ["double-encoded %252e%252e%252f", "/%2e%2e%2fsecret.txt"],
    ["backslash", "/..\\secret.txt"],
    ["backslashes below a directory", "/sub\\..\\..\\secret.txt"],
    ["double-encoded backslash", "/..%5csecret.txt"],
    ["empty segment: //etc/passwd", "//etc/passwd"],
    ["absolute path as a segment", "/etc/passwd"],
    ["NUL", "/\0"],
    ["NUL between dots", "/.\0./secret.txt"],
    ["NUL before an extension", "/hello.txt\0.png"],
    ["double-encoded NUL", "/.%00./secret.txt"],
    ["CR LF", "/\r\n"],
    ["Tomcat path parameter", "/..;/secret.txt"],
    ["one dot leader twice (NFKC ..)", n("/\u2024\u2024/secret.txt")],
    ["two dot leader (NFKC ..)", n("/\u2025/secret.txt")],
    ["fullwidth full stops (NFKC ..)", n("/\uff0e\uff0e/secret.txt")],
    ["fullwidth solidus (NFKC /)", n("/..\uff0fsecret.txt")],
    ["fullwidth reverse solidus (NFKC \\)", n("/..\uff3csecret.txt")],
    ["overlong UTF-8 dots", "/\xc0\xae\xc0\xae/secret.txt"],
    ["invalid UTF-8", "/\xff\xfe"],
    ["symlink to a file outside", "/link-out"],
    ["symlink to a directory outside", "/dirlink-out/secret.txt"],
    ["dot file", "/.env"],
    ["three dots", "/.../secret.txt"],
    ["windows drive", "/C:\\Windows\\win.ini"],
    ["tilde user", "/~root/.bashrc"],
  ];
  for (const [name, pathInfo] of attempts) {
    it(`answers 404: ${name} (${JSON.stringify(pathInfo)})`, async () => {
      const response = await get(pathInfo);
      assert.equal(response.status, "404 Not Found");
      assert.equal(response.body.toString(), "Not Found\n");
      assert.ok(!response.body.toString().includes("SECRET"));
    });
  }

  it("answers 404: the absolute path of a file outside, with one or two slashes", async () => {
    for (const path of [join(tmp, "secret.txt"), `/${join(tmp, "secret.txt")}`]) {
      assert.equal((await get(path)).status, "404 Not Found", path);
    }
  });

  it("answers 404: a PATH_INFO without a leading slash (called without the validator)", async () => {
    const environ: Partial<WSGIEnvironment> = { SCRIPT_NAME: "/x", PATH_INFO: "hello.txt" };
    setupTestingDefaults(environ);
    let status = "";
    await staticFiles(root)(environ, (s) => {
      status = s;
      return () => {};
    });
    assert.equal(status, "404 Not Found");
  });

  it("answers a refused path exactly like a missing one", async () => {
    const refused = await get("/../secret.txt");
    const missing = await get("/no-such-file");
    assert.deepEqual(refused.headers, missing.headers);
    assert.ok(refused.body.equals(missing.body));
  });

  it("serves dot files with dotfiles: true", async () => {
    const response = await get("/.env", {}, { dotfiles: true });
    assert.equal(response.body.toString(), "SECRET=dotfile\n");
  });

  it("refuses dot-dot even with dotfiles: true", async () => {
    assert.equal((await get("/../secret.txt", {}, { dotfiles: true })).status, "404 Not Found");
  });
});

describe("staticFiles: fallback", () => {
  it("passes a missing file on to the fallback", async () => {
    const fallback = echo(["PATH_INFO"]);
    const response = await get("/missing", {}, { fallback });
    assert.equal(response.body.toString(), '{"PATH_INFO":"/missing"}');
  });

  it("passes a refused path on to the fallback", async () => {
    const fallback = echo(["PATH_INFO"]);
    await get("/../secret.txt", {}, { fallback });
    assert.equal(fallback.seen.length, 1);
  });

  it("passes other methods on to the fallback", async () => {
    const fallback = echo(["REQUEST_METHOD"]);
    const response = await get("/hello.txt", { REQUEST_METHOD: "POST" }, { fallback });
    assert.equal(response.body.toString(), '{"REQUEST_METHOD":"POST"}');
  });

  it("serves an existing file without calling the fallback", async () => {
    const fallback = echo([]);
    const response = await get("/hello.txt", {}, { fallback });
    assert.equal(response.body.toString(), "Hello, world!\n");
    assert.equal(fallback.seen.length, 0);
  });
});

describe("staticFiles: conditional requests", () => {
  const cases: [string, (etag: string) => Partial<WSGIEnvironment>, number][] = [
    ["If-None-Match with the ETag is 304", (e) => ({ HTTP_IF_NONE_MATCH: e }), 304],
    ["If-None-Match compares weakly", (e) => ({ HTTP_IF_NONE_MATCH: `W/${e}` }), 304],
    ["If-None-Match finds the ETag in a list", (e) => ({ HTTP_IF_NONE_MATCH: `"x", ${e}` }), 304],
    ["If-None-Match: * is 304", () => ({ HTTP_IF_NONE_MATCH: "*" }), 304],
    ["If-None-Match with another tag is 200", () => ({ HTTP_IF_NONE_MATCH: '"other"' }), 200],
    ["If-None-Match that does not parse is 200", () => ({ HTTP_IF_NONE_MATCH: "garbage" }), 200],
    [
      "If-None-Match takes precedence over If-Modified-Since",
      () => ({ HTTP_IF_NONE_MATCH: '"other"', HTTP_IF_MODIFIED_SINCE: LAST_MODIFIED }),
      200,
    ],
    [
      "If-Modified-Since equal to Last-Modified is 304",
      () => ({ HTTP_IF_MODIFIED_SINCE: LAST_MODIFIED }),
      304,
    ],
    [
      "If-Modified-Since after Last-Modified is 304",
      () => ({ HTTP_IF_MODIFIED_SINCE: "Fri, 03 Jan 2020 00:00:00 GMT" }),
      304,
    ],
    [
      "If-Modified-Since before Last-Modified is 200",
      () => ({ HTTP_IF_MODIFIED_SINCE: "Thu, 02 Jan 2020 03:04:04 GMT" }),
      200,
    ],
    [
      "If-Modified-Since in the RFC 850 form is understood",
      () => ({ HTTP_IF_MODIFIED_SINCE: "Thursday, 02-Jan-20 03:04:05 GMT" }),
      304,
    ],
    [
      "If-Modified-Since in the asctime form is understood",
      () => ({ HTTP_IF_MODIFIED_SINCE: "Thu Jan  2 03:04:05 2020" }),
      304,
    ],
    [
      "If-Modified-Since that does not parse is ignored",
      () => ({ HTTP_IF_MODIFIED_SINCE: "yesterday" }),
      200,
    ],
    [
      "If-Modified-Since in the future is ignored",
      () => ({ HTTP_IF_MODIFIED_SINCE: formatDateTime(Date.now() / 1000 + 86_400) }),
      200,
    ],
    [
      "If-Modified-Since with an impossible date is ignored",
      () => ({ HTTP_IF_MODIFIED_SINCE: "Mon, 31 Feb 2020 00:00:00 GMT" }),
      200,
    ],
    ["If-Match with the ETag is 200", (e) => ({ HTTP_IF_MATCH: e }), 200],
    ["If-Match: * is 200", () => ({ HTTP_IF_MATCH: "*" }), 200],
    ["If-Match with another tag is 412", () => ({ HTTP_IF_MATCH: '"other"' }), 412],
    ["If-Match compares strongly: a weak tag is 412", (e) => ({ HTTP_IF_MATCH: `W/${e}` }), 412],
    [
      "If-Unmodified-Since before Last-Modified is 412",
      () => ({ HTTP_IF_UNMODIFIED_SINCE: "Thu, 02 Jan 2020 03:04:04 GMT" }),
      412,
    ],
    [
      "If-Unmodified-Since equal to Last-Modified is 200",
      () => ({ HTTP_IF_UNMODIFIED_SINCE: LAST_MODIFIED }),
      200,
    ],
    [
      "If-Match takes precedence over If-Unmodified-Since",
      (e) => ({ HTTP_IF_MATCH: e, HTTP_IF_UNMODIFIED_SINCE: "Thu, 02 Jan 2020 03:04:04 GMT" }),
      200,
    ],
    [
      "If-Match is evaluated before If-None-Match",
      (e) => ({ HTTP_IF_MATCH: '"other"', HTTP_IF_NONE_MATCH: e }),
      412,
    ],
    ["a 304 beats a Range", (e) => ({ HTTP_IF_NONE_MATCH: e, HTTP_RANGE: "bytes=0-1" }), 304],
  ];
  for (const [name, headers, code] of cases) {
    it(name, async () => {
      const response = await get("/hello.txt", headers(await etagOf("hello.txt")));
      assert.equal(response.code, code);
    });
  }

  it("a 304 has the validators and no body or Content-Type", async () => {
    const etag = await etagOf("hello.txt");
    const response = await get("/hello.txt", { HTTP_IF_NONE_MATCH: etag }, { maxAge: 60 });
    assert.equal(response.status, "304 Not Modified");
    assert.deepEqual(response.headers, [
      ["ETag", etag],
      ["Last-Modified", LAST_MODIFIED],
      ["Cache-Control", "public, max-age=60"],
    ]);
    assert.equal(response.body.length, 0);
  });

  it("answers HEAD with 304 too", async () => {
    const response = await get("/hello.txt", {
      REQUEST_METHOD: "HEAD",
      HTTP_IF_NONE_MATCH: await etagOf("hello.txt"),
    });
    assert.equal(response.status, "304 Not Modified");
  });

  it("a 412 is text/plain", async () => {
    const response = await get("/hello.txt", { HTTP_IF_MATCH: '"other"' });
    assert.equal(response.status, "412 Precondition Failed");
    assert.equal(response.header("Content-Type"), "text/plain; charset=utf-8");
    assert.equal(response.body.toString(), "Precondition Failed\n");
  });

  it("the ETag changes when the file changes", async () => {
    const path = join(root, "changing.txt");
    await writeFile(path, "one");
    await utimes(path, MTIME, MTIME);
    const before = (await get("/changing.txt")).header("ETag");
    await writeFile(path, "two!");
    await utimes(path, MTIME, MTIME);
    const afterSize = (await get("/changing.txt")).header("ETag");
    await utimes(path, MTIME + 1, MTIME + 1);
    const afterTime = (await get("/changing.txt")).header("ETag");
    assert.notEqual(before, afterSize);
    assert.notEqual(afterSize, afterTime);
  });
});

describe("staticFiles: ranges", () => {
  const cases: [string, string, number, number][] = [
    ["a first-last range", "bytes=0-99", 0, 99],
    ["a range in the middle", "bytes=100-199", 100, 199],
    ["a one-byte range", "bytes=999-999", 999, 999],
    ["an open range", "bytes=500-", 500, 999],
    ["a suffix range", "bytes=-100", 900, 999],
    ["a last byte past the end is cut", "bytes=990-2000", 990, 999],
    ["a suffix longer than the file is the whole file", "bytes=-2000", 0, 999],
    ["the unit is case-insensitive", "BYTES=0-1", 0, 1],
    ["whitespace around the range is allowed", "bytes= 5-6 ", 5, 6],
    ["a trailing empty list element is ignored", "bytes=5-6,", 5, 6],
  ];
  for (const [name, header, start, end] of cases) {
    it(`${name}: ${header} is 206 with bytes ${start}-${end}`, async () => {
      const response = await get("/data.bin", { HTTP_RANGE: header });
      assert.equal(response.status, "206 Partial Content");
      assert.equal(response.header("Content-Range"), `bytes ${start}-${end}/1000`);
      assert.equal(response.header("Content-Length"), String(end - start + 1));
      assert.equal(response.header("Content-Type"), "application/octet-stream");
      assert.ok(response.body.equals(DATA.subarray(start, end + 1)));
    });
  }

  const whole: [string, string][] = [
    ["several ranges", "bytes=0-1,5-6"],
    ["another unit", "items=0-1"],
    ["last before first", "bytes=5-1"],
    ["not a number", "bytes=abc"],
    ["a negative first byte", "bytes=-5-6"],
    ["no unit", "0-1"],
    ["an empty set", "bytes="],
  ];
  for (const [name, header] of whole) {
    it(`${name} (${header}) is ignored: 200 with the whole file`, async () => {
      const response = await get("/data.bin", { HTTP_RANGE: header });
      assert.equal(response.status, "200 OK");
      assert.equal(response.header("Content-Range"), undefined);
      assert.ok(response.body.equals(DATA));
    });
  }

  const unsatisfiable: [string, string, string][] = [
    ["a first byte at the end", "/data.bin", "bytes=1000-"],
    ["a first byte past the end", "/data.bin", "bytes=5000-6000"],
    ["a huge first byte", "/data.bin", "bytes=99999999999999999999-"],
    ["a zero suffix", "/data.bin", "bytes=-0"],
    ["any range of an empty file", "/empty.txt", "bytes=0-"],
  ];
  for (const [name, path, header] of unsatisfiable) {
    it(`${name} (${header}) is 416 with Content-Range: bytes */size`, async () => {
      const response = await get(path, { HTTP_RANGE: header });
      assert.equal(response.status, "416 Range Not Satisfiable");
      const size = path === "/empty.txt" ? 0 : 1000;
      assert.equal(response.header("Content-Range"), `bytes */${size}`);
      assert.equal(response.header("Content-Type"), "text/plain; charset=utf-8");
    });
  }

  it("a range across read blocks reads exactly that slice", async () => {
    const response = await get("/big.bin", { HTTP_RANGE: "bytes=65000-140000" });
    assert.equal(response.status, "206 Partial Content");
    assert.ok(response.body.equals(BIG.subarray(65000, 140001)));
  });

  it("a range is ignored for HEAD", async () => {
    const response = await get("/data.bin", { REQUEST_METHOD: "HEAD", HTTP_RANGE: "bytes=0-1" });
    assert.equal(response.status, "200 OK");
    assert.equal(response.header("Content-Length"), "1000");
  });

  const ifRange: [string, (etag: string) => string, number][] = [
    ["an If-Range with the ETag allows the range", (e) => e, 206],
    ["an If-Range with another ETag sends the whole file", () => '"other"', 200],
    ["an If-Range with a weak ETag sends the whole file", (e) => `W/${e}`, 200],
    ["an If-Range with the Last-Modified date allows the range", () => LAST_MODIFIED, 206],
    [
      "an If-Range with another date sends the whole file",
      () => "Fri, 03 Jan 2020 00:00:00 GMT",
      200,
    ],
    ["an If-Range that does not parse sends the whole file", () => "garbage", 200],
  ];
  for (const [name, value, code] of ifRange) {
    it(name, async () => {
      const etag = await etagOf("data.bin");
      const response = await get("/data.bin", {
        HTTP_RANGE: "bytes=0-9",
        HTTP_IF_RANGE: value(etag),
      });
      assert.equal(response.code, code);
      assert.ok(response.body.equals(code === 206 ? DATA.subarray(0, 10) : DATA));
    });
  }

  it("an If-Range date is not trusted for a file modified this second", async () => {
    const path = join(root, "fresh.txt");
    await writeFile(path, "fresh content");
    const now = Math.floor(Date.now() / 1000);
    await utimes(path, now, now);
    const response = await get("/fresh.txt", {
      HTTP_RANGE: "bytes=0-1",
      HTTP_IF_RANGE: formatDateTime(now),
    });
    assert.equal(response.status, "200 OK");
  });
});

describe("staticFiles: file bodies", () => {
  /** A wsgi.file_wrapper that records what it was given. */
  function spyWrapper(): FileWrapperFactory & { given: (FileLike | object | number)[] } {
    const given: (FileLike | object | number)[] = [];
    const factory = (filelike: Parameters<FileWrapperFactory>[0], blksize?: number) => {
      given.push(filelike);
      return new FileWrapper(filelike, blksize);
    };
    return Object.assign(factory, { given });
  }

  it("gives the server's file_wrapper a FileHandle for a whole file", async () => {
    const wrapper = spyWrapper();
    const response = await get("/hello.txt", { "wsgi.file_wrapper": wrapper });
    assert.equal(response.body.toString(), "Hello, world!\n");
    const handle = wrapper.given[0] as { fd: number; stat?: unknown };
    assert.equal(typeof handle.stat, "function");
    assert.equal(handle.fd, -1, "the handle is closed with the body");
  });

  it("gives the server's file_wrapper a FileSlice for a range", async () => {
    const wrapper = spyWrapper();
    const response = await get("/data.bin", {
      "wsgi.file_wrapper": wrapper,
      HTTP_RANGE: "bytes=10-19",
    });
    assert.ok(response.body.equals(DATA.subarray(10, 20)));
    assert.ok(wrapper.given[0] instanceof FileSlice);
  });

  it("does not call the file_wrapper for HEAD", async () => {
    const wrapper = spyWrapper();
    await get("/hello.txt", { "wsgi.file_wrapper": wrapper, REQUEST_METHOD: "HEAD" });
    assert.equal(wrapper.given.length, 0);
  });
});

describe("staticFiles: configuration", () => {
  const bad: [string, StaticFilesOptions][] = [
    ["a negative maxAge", { maxAge: -1 }],
    ["a fractional maxAge", { maxAge: 1.5 }],
    ["an index with a slash", { index: "a/index.html" }],
    ["an empty index", { index: "" }],
    ["a fallback that is not a function", { fallback: "x" as unknown as WSGIApplication }],
  ];
  for (const [name, options] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => staticFiles(root, options));
    });
  }

  it("fails the request when the root does not exist", async () => {
    await assert.rejects(
      call(staticFiles(join(tmp, "no-such-root")), { PATH_INFO: "/x", SCRIPT_NAME: "" }),
      /ENOENT/,
    );
  });

  it("fails the request when the root is a file", async () => {
    await assert.rejects(
      call(staticFiles(join(root, "hello.txt")), { PATH_INFO: "/x", SCRIPT_NAME: "" }),
      /not a directory/,
    );
  });
});
