import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PROXY_FIX_ORIGINAL, type ProxyFixOptions, proxyFix } from "../../src/middleware.ts";
import type { WSGIEnvironment } from "../../src/types.ts";
import { call, echo } from "./harness.ts";

const KEYS = [
  "REMOTE_ADDR",
  "wsgi.url_scheme",
  "HTTPS",
  "HTTP_HOST",
  "SERVER_NAME",
  "SERVER_PORT",
  "SCRIPT_NAME",
];

/** Runs one request through proxyFix and returns the environ the app saw. */
async function seen(
  options: ProxyFixOptions | undefined,
  environ: Record<string, string>,
): Promise<WSGIEnvironment> {
  const app = echo(KEYS);
  const response = await call(proxyFix(app, options), {
    REMOTE_ADDR: "10.0.0.1",
    HTTP_HOST: "internal:8000",
    SERVER_NAME: "internal",
    SERVER_PORT: "8000",
    ...environ,
  });
  assert.equal(response.status, "200 OK");
  const env = app.seen[0];
  assert.ok(env);
  return env;
}

describe("proxyFix: X-Forwarded-For", () => {
  const cases: [string, ProxyFixOptions | undefined, string, string][] = [
    ["one trusted hop takes the right-most value", undefined, "1.1.1.1", "1.1.1.1"],
    [
      "one trusted hop ignores values a client prepended",
      { for: 1 },
      "6.6.6.6, 1.1.1.1",
      "1.1.1.1",
    ],
    [
      "two trusted hops take the second from the right",
      { for: 2 },
      "6.6.6.6, 1.1.1.1, 2.2.2.2",
      "1.1.1.1",
    ],
    ["fewer values than trusted hops are ignored", { for: 3 }, "1.1.1.1, 2.2.2.2", "10.0.0.1"],
    ["zero hops ignore the header", { for: 0 }, "1.1.1.1", "10.0.0.1"],
    ["empty list elements do not count", { for: 2 }, "1.1.1.1, , 2.2.2.2", "1.1.1.1"],
    ["whitespace around values is trimmed", undefined, "  1.1.1.1\t", "1.1.1.1"],
    ["an IPv6 address is accepted", undefined, "2001:db8::1", "2001:db8::1"],
    ["a bracketed IPv6 address loses its brackets", undefined, "[2001:db8::1]", "2001:db8::1"],
    ["a bracketed IPv6 address with a port loses both", undefined, "[::1]:4711", "::1"],
    ["an IPv4 address with a port loses the port", undefined, "1.1.1.1:4711", "1.1.1.1"],
    ["a value that is not an address is ignored", undefined, "unknown", "10.0.0.1"],
    ["markup is ignored", undefined, "<script>", "10.0.0.1"],
    ["an invalid IPv4 address is ignored", undefined, "1.1.1.256", "10.0.0.1"],
    ["an IPv4 address with a bad port is ignored", undefined, "1.1.1.1:99999", "10.0.0.1"],
  ];
  for (const [name, options, header, expected] of cases) {
    it(name, async () => {
      const env = await seen(options, { HTTP_X_FORWARDED_FOR: header });
      assert.equal(env.REMOTE_ADDR, expected);
    });
  }
});

describe("proxyFix: X-Forwarded-Proto", () => {
  it("https sets wsgi.url_scheme and HTTPS", async () => {
    const env = await seen(undefined, { HTTP_X_FORWARDED_PROTO: "https" });
    assert.equal(env["wsgi.url_scheme"], "https");
    assert.equal(env.HTTPS, "on");
  });

  it("http sets wsgi.url_scheme and removes HTTPS", async () => {
    const env = await seen(undefined, { HTTPS: "on", HTTP_X_FORWARDED_PROTO: "http" });
    assert.equal(env["wsgi.url_scheme"], "http");
    assert.equal(env.HTTPS, undefined);
  });

  it("the scheme is compared without regard to case", async () => {
    const env = await seen(undefined, { HTTP_X_FORWARDED_PROTO: "HTTPS" });
    assert.equal(env["wsgi.url_scheme"], "https");
  });

  for (const bad of ["ftp", "javascript", "https ://", "wss", "http\\"]) {
    it(`a scheme other than http/https is ignored: ${JSON.stringify(bad)}`, async () => {
      const env = await seen(undefined, { HTTP_X_FORWARDED_PROTO: bad });
      assert.equal(env["wsgi.url_scheme"], "http");
      assert.equal(env.HTTPS, undefined);
    });
  }

  it("two trusted hops take the second scheme from the right", async () => {
    const env = await seen({ proto: 2 }, { HTTP_X_FORWARDED_PROTO: "http, https, http" });
    assert.equal(env["wsgi.url_scheme"], "https");
  });
});

describe("proxyFix: X-Forwarded-Host", () => {
  it("is ignored by default", async () => {
    const env = await seen(undefined, { HTTP_X_FORWARDED_HOST: "example.com" });
    assert.equal(env.HTTP_HOST, "internal:8000");
    assert.equal(env.SERVER_NAME, "internal");
  });

  const cases: [string, Record<string, string>, Record<string, string>][] = [
    [
      "a host without a port gets the scheme's default port",
      { HTTP_X_FORWARDED_HOST: "example.com" },
      { HTTP_HOST: "example.com", SERVER_NAME: "example.com", SERVER_PORT: "80" },
    ],
    [
      "a host under https gets port 443",
      { HTTP_X_FORWARDED_HOST: "example.com", HTTP_X_FORWARDED_PROTO: "https" },
      { HTTP_HOST: "example.com", SERVER_NAME: "example.com", SERVER_PORT: "443" },
    ],
    [
      "a host with a port sets SERVER_PORT",
      { HTTP_X_FORWARDED_HOST: "example.com:8443" },
      { HTTP_HOST: "example.com:8443", SERVER_NAME: "example.com", SERVER_PORT: "8443" },
    ],
    [
      "an IPv6 host keeps its brackets in SERVER_NAME",
      { HTTP_X_FORWARDED_HOST: "[2001:db8::1]:8080" },
      { HTTP_HOST: "[2001:db8::1]:8080", SERVER_NAME: "[2001:db8::1]", SERVER_PORT: "8080" },
    ],
    [
      "the trusted hop is counted from the right",
      { HTTP_X_FORWARDED_HOST: "evil.example, example.com" },
      { HTTP_HOST: "example.com", SERVER_NAME: "example.com" },
    ],
  ];
  for (const [name, headers, expected] of cases) {
    it(name, async () => {
      const env = await seen({ host: 1 }, headers);
      for (const [key, value] of Object.entries(expected)) assert.equal(env[key], value, key);
    });
  }

  const bad = [
    "exa mple.com",
    "example.com\r\nX-Evil: 1",
    "example.com\n",
    "example.com/path",
    "user@example.com",
    "example.com:99999",
    "example.com:0",
    "example.com:",
    "example.com:80a",
    "[not-ipv6]",
    "[::1",
    "example.com?x",
    "example.com#x",
    "exämple.com",
  ];
  for (const value of bad) {
    it(`an invalid host is ignored: ${JSON.stringify(value)}`, async () => {
      const env = await seen({ host: 1 }, { HTTP_X_FORWARDED_HOST: value });
      assert.equal(env.HTTP_HOST, "internal:8000");
      assert.equal(env.SERVER_NAME, "internal");
      assert.equal(env.SERVER_PORT, "8000");
    });
  }
});

describe("proxyFix: X-Forwarded-Port", () => {
  it("sets SERVER_PORT and replaces the port in HTTP_HOST", async () => {
    const env = await seen({ port: 1 }, { HTTP_X_FORWARDED_PORT: "8443" });
    assert.equal(env.SERVER_PORT, "8443");
    assert.equal(env.HTTP_HOST, "internal:8443");
  });

  it("adds a port to a HTTP_HOST without one", async () => {
    const env = await seen(
      { port: 1 },
      { HTTP_HOST: "example.com", HTTP_X_FORWARDED_PORT: "8080" },
    );
    assert.equal(env.HTTP_HOST, "example.com:8080");
  });

  it("leaves the scheme's default port out of HTTP_HOST", async () => {
    const env = await seen(
      { port: 1 },
      { HTTP_X_FORWARDED_PORT: "443", HTTP_X_FORWARDED_PROTO: "https" },
    );
    assert.equal(env.SERVER_PORT, "443");
    assert.equal(env.HTTP_HOST, "internal");
  });

  it("applies after X-Forwarded-Host", async () => {
    const env = await seen(
      { host: 1, port: 1 },
      { HTTP_X_FORWARDED_HOST: "example.com:1234", HTTP_X_FORWARDED_PORT: "8080" },
    );
    assert.equal(env.HTTP_HOST, "example.com:8080");
    assert.equal(env.SERVER_NAME, "example.com");
    assert.equal(env.SERVER_PORT, "8080");
  });

  it("replaces the port of an IPv6 host", async () => {
    const env = await seen({ port: 1 }, { HTTP_HOST: "[::1]:8000", HTTP_X_FORWARDED_PORT: "9000" });
    assert.equal(env.HTTP_HOST, "[::1]:9000");
  });

  it("normalises leading zeros", async () => {
    const env = await seen({ port: 1 }, { HTTP_X_FORWARDED_PORT: "08080" });
    assert.equal(env.SERVER_PORT, "8080");
  });

  for (const value of ["0", "65536", "-1", "80 80", "http", "+80", "123456"]) {
    it(`an invalid port is ignored: ${JSON.stringify(value)}`, async () => {
      const env = await seen({ port: 1 }, { HTTP_X_FORWARDED_PORT: value });
      assert.equal(env.SERVER_PORT, "8000");
      assert.equal(env.HTTP_HOST, "internal:8000");
    });
  }
});

describe("proxyFix: X-Forwarded-Prefix", () => {
  const cases: [string, string, string][] = [
    ["a prefix sets SCRIPT_NAME", "/app", "/app"],
    ["a nested prefix is kept whole", "/a/b", "/a/b"],
    ["trailing slashes are removed", "/app/", "/app"],
    ["a lone slash means the root", "/", ""],
    ["the prefix is percent-decoded as latin-1", "/my%20app/caf%C3%A9", "/my app/caf\u00c3\u00a9"],
  ];
  for (const [name, header, expected] of cases) {
    it(name, async () => {
      const env = await seen({ prefix: 1 }, { HTTP_X_FORWARDED_PREFIX: header });
      assert.equal(env.SCRIPT_NAME, expected);
    });
  }

  const bad = [
    "app",
    "/a/../b",
    "/a/./b",
    "/%2e%2e/b",
    "//evil.example",
    "/a//b",
    "/%2F/evil.example",
    "/%zz",
    "/%0d%0aX: y",
    "/a b",
    "/a\\b",
    "/a?b",
    "/a#b",
  ];
  for (const value of bad) {
    it(`an invalid prefix is ignored: ${JSON.stringify(value)}`, async () => {
      const env = await seen(
        { prefix: 1 },
        { SCRIPT_NAME: "/orig", PATH_INFO: "/x", HTTP_X_FORWARDED_PREFIX: value },
      );
      assert.equal(env.SCRIPT_NAME, "/orig");
    });
  }
});

describe("proxyFix: originals and options", () => {
  it("keeps the original values under wsgiref.proxy_fix.orig", async () => {
    const env = await seen(
      { for: 1, proto: 1, host: 1, prefix: 1 },
      {
        HTTP_X_FORWARDED_FOR: "1.1.1.1",
        HTTP_X_FORWARDED_PROTO: "https",
        HTTP_X_FORWARDED_HOST: "example.com",
        HTTP_X_FORWARDED_PREFIX: "/app",
      },
    );
    assert.equal(PROXY_FIX_ORIGINAL, "wsgiref.proxy_fix.orig");
    assert.deepEqual(env[PROXY_FIX_ORIGINAL], {
      REMOTE_ADDR: "10.0.0.1",
      "wsgi.url_scheme": "http",
      HTTPS: undefined,
      HTTP_HOST: "internal:8000",
      SERVER_NAME: "internal",
      SERVER_PORT: "8000",
      SCRIPT_NAME: "",
    });
  });

  it("changes nothing without forwarded headers", async () => {
    const env = await seen({ for: 1, proto: 1, host: 1, port: 1, prefix: 1 }, {});
    assert.equal(env.REMOTE_ADDR, "10.0.0.1");
    assert.equal(env["wsgi.url_scheme"], "http");
    assert.equal(env.HTTP_HOST, "internal:8000");
    assert.equal(env.SERVER_NAME, "internal");
    assert.equal(env.SERVER_PORT, "8000");
    assert.equal(env.SCRIPT_NAME, "");
  });

  it("changes the environ in place, as werkzeug does", async () => {
    const environ: Partial<WSGIEnvironment> = { HTTP_X_FORWARDED_FOR: "1.1.1.1" };
    await call(proxyFix(echo([])), environ);
    assert.equal(environ.REMOTE_ADDR, "1.1.1.1");
  });

  for (const [name, value] of [
    ["for", -1],
    ["proto", 1.5],
    ["host", Number.NaN],
    ["port", Number.POSITIVE_INFINITY],
  ] as const) {
    it(`refuses a hop count that is not a non-negative integer: ${name}=${value}`, () => {
      assert.throws(() => proxyFix(echo([]), { [name]: value }), RangeError);
    });
  }
});
