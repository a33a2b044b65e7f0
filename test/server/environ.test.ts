import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitHost } from "../../src/http/host.ts";
import { HeadParser } from "../../src/http/parser.ts";
import { ServerContext } from "../../src/server/context.ts";
import { buildCgiVars, HeaderKeys } from "../../src/server/environ.ts";
import { resolveOptions } from "../../src/server/options.ts";

const app = () => [];
const ctx = new ServerContext(app, resolveOptions({ port: 0, errorLog: "/dev/null" }), false);
const peer = { address: "10.0.0.7", port: "51000" };

/** The CGI variables of one raw request head, parsed by a connection's parser. */
function varsOf(raw: string, keys = new HeaderKeys(), parser = new HeadParser()) {
  const head = parser.parse(Buffer.from(raw, "latin1"), 0);
  assert.ok(head !== null);
  return buildCgiVars(head, peer, keys, ctx);
}

describe("buildCgiVars: the CGI variables of a request", () => {
  it("has the request line, the server from Host, the peer, and HTTP_* keys", () => {
    const vars = varsOf(
      "GET /caf%C3%A9?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nContent-Type: text/plain\r\nUser-Agent: t\r\n\r\n",
    );
    assert.deepEqual(vars, {
      REQUEST_METHOD: "GET",
      SCRIPT_NAME: "",
      PATH_INFO: "/caf\u00c3\u00a9",
      QUERY_STRING: "q=1",
      SERVER_NAME: "example.com",
      SERVER_PORT: "8080",
      SERVER_PROTOCOL: "HTTP/1.1",
      REMOTE_ADDR: "10.0.0.7",
      REMOTE_PORT: "51000",
      RAW_URI: "/caf%C3%A9?q=1",
      HTTP_HOST: "example.com:8080",
      CONTENT_TYPE: "text/plain",
      HTTP_USER_AGENT: "t",
    });
  });

  it("joins repeated fields with commas and drops names with underscores", () => {
    const vars = varsOf(
      "GET / HTTP/1.1\r\nHost: a\r\nAccept: x\r\nX-Forwarded_For: 6.6.6.6\r\naccept: y\r\n\r\n",
    );
    assert.equal(vars.HTTP_ACCEPT, "x,y");
    assert.equal(vars.HTTP_X_FORWARDED_FOR, undefined);
  });

  it("joins repeated Cookie lines with `; ` (RFC 9113 §8.2.3), other fields with commas", () => {
    const vars = varsOf(
      "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nAccept: x\r\ncookie: b=2\r\nAccept: y\r\n\r\n",
    );
    assert.equal(vars.HTTP_COOKIE, "a=1; b=2");
    assert.equal(vars.HTTP_ACCEPT, "x,y");
  });

  it("keeps each request's own keys when a connection's names change from one to the next", () => {
    const keys = new HeaderKeys();
    const parser = new HeadParser();
    const first = varsOf(
      "GET / HTTP/1.1\r\nHost: a\r\nAccept: x\r\nCookie: c\r\n\r\n",
      keys,
      parser,
    );
    const same = varsOf(
      "GET / HTTP/1.1\r\nHost: a\r\nAccept: y\r\nCookie: d\r\n\r\n",
      keys,
      parser,
    );
    const other = varsOf(
      "GET / HTTP/1.1\r\nHost: a\r\nCookie: e\r\nAccept: z\r\n\r\n",
      keys,
      parser,
    );
    assert.deepEqual([first.HTTP_ACCEPT, first.HTTP_COOKIE], ["x", "c"]);
    assert.deepEqual([same.HTTP_ACCEPT, same.HTTP_COOKIE], ["y", "d"]);
    assert.deepEqual([other.HTTP_ACCEPT, other.HTTP_COOKIE], ["z", "e"]);
  });

  it("uses the scheme's default port when Host has none", () => {
    assert.equal(varsOf("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").SERVER_PORT, "80");
    assert.equal(varsOf("GET / HTTP/1.1\r\nHost: [::1]:9000\r\n\r\n").SERVER_NAME, "::1");
  });

  it("takes HTTP_HOST from an absolute-form target, not the Host field (RFC 9112 §3.2.2)", () => {
    const vars = varsOf("GET http://a.example:8080/x HTTP/1.1\r\nHost: b.example\r\n\r\n");
    assert.equal(vars.HTTP_HOST, "a.example:8080");
    assert.equal(vars.SERVER_NAME, "a.example");
    assert.equal(vars.SERVER_PORT, "8080");
    assert.equal(vars.PATH_INFO, "/x");
  });

  it("gives an HTTP/1.0 absolute-form request without Host the target's HTTP_HOST", () => {
    assert.equal(varsOf("GET http://a.example/ HTTP/1.0\r\n\r\n").HTTP_HOST, "a.example");
  });
});

describe("splitHost", () => {
  it("splits a name or an IPv6 literal from its port", () => {
    assert.deepEqual(splitHost("example.com:8080"), ["example.com", "8080"]);
    assert.deepEqual(splitHost("example.com"), ["example.com", undefined]);
    assert.deepEqual(splitHost("[::1]:8080"), ["::1", "8080"]);
    assert.deepEqual(splitHost("[::1]"), ["::1", undefined]);
  });
});
