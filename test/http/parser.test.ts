import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError } from "../../src/http/errors.ts";
import { resolveLimits } from "../../src/http/limits.ts";
import { HeadParser, type RequestHead } from "../../src/http/parser.ts";
import { bytes } from "./helpers.ts";

/** Parses one complete head, asserting it is complete. */
function parse(raw: string, parser = new HeadParser()): RequestHead {
  const head = parser.parse(bytes(raw), 0);
  assert.ok(head !== null, "head should be complete");
  return head;
}

/** The ProtocolError code a head raises. */
function codeOf(raw: string, parser = new HeadParser()): string {
  try {
    parser.parse(bytes(raw), 0);
  } catch (e) {
    assert.ok(e instanceof ProtocolError);
    return e.code;
  }
  return "none";
}

const BROWSER_GET =
  "GET /search?q=wsgi&lang=en HTTP/1.1\r\n" +
  "Host: example.com\r\n" +
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n" +
  "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\n" +
  "Accept-Language: en-US,en;q=0.5\r\n" +
  "Accept-Encoding: gzip, deflate, br\r\n" +
  "Connection: keep-alive\r\n" +
  "Cookie: a=1; b=2\r\n" +
  "Upgrade-Insecure-Requests: 1\r\n" +
  "\r\n";

describe("HeadParser: request line", () => {
  it("parses method, target, path, query and version", () => {
    const head = parse(BROWSER_GET);
    assert.equal(head.method, "GET");
    assert.equal(head.target, "/search?q=wsgi&lang=en");
    assert.equal(head.form, "origin");
    assert.equal(head.path, "/search");
    assert.equal(head.query, "q=wsgi&lang=en");
    assert.equal(head.version, "HTTP/1.1");
  });

  it("gives an empty query for a target without ?", () => {
    assert.equal(parse("GET /a/b HTTP/1.1\r\nHost: a\r\n\r\n").query, "");
  });

  it("gives an empty query for a target ending in ?", () => {
    const head = parse("GET /a? HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(head.path, "/a");
    assert.equal(head.query, "");
  });

  it("keeps percent-encoding in the path", () => {
    assert.equal(parse("GET /caf%C3%A9 HTTP/1.1\r\nHost: a\r\n\r\n").path, "/caf%C3%A9");
  });

  it("accepts any token as method, case-sensitively", () => {
    assert.equal(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n").method, "get");
    assert.equal(
      parse("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n".replace("*", "/")).method,
      "M-SEARCH",
    );
  });

  it("treats HTTP/1.2 as HTTP/1.1 (RFC 9110 §2.5)", () => {
    const head = parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n");
    assert.equal(head.version, "HTTP/1.1");
    assert.equal(head.keepAlive, true);
  });

  it("parses OPTIONS * as asterisk-form", () => {
    const head = parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(head.form, "asterisk");
    assert.equal(head.path, "*");
  });

  it("parses an absolute-form target, taking the host from it (RFC 9112 §3.2.2)", () => {
    const head = parse(
      "GET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: other.example\r\n\r\n",
    );
    assert.equal(head.form, "absolute");
    assert.equal(head.host, "example.com:8080");
    assert.equal(head.path, "/a/b");
    assert.equal(head.query, "c=d");
  });

  it("gives path / for an absolute-form target without a path", () => {
    const head = parse("GET HTTPS://example.com?x HTTP/1.1\r\nHost: example.com\r\n\r\n");
    assert.equal(head.path, "/");
    assert.equal(head.query, "x");
    assert.equal(head.host, "example.com");
  });

  it("skips empty lines before the request line (RFC 9112 §2.2)", () => {
    const parser = new HeadParser();
    const raw = bytes("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const head = parser.parse(raw, 0);
    assert.equal(head?.method, "GET");
    assert.equal(parser.consumed, raw.length);
  });

  it("accepts a request line exactly at maxRequestLineLength and rejects one byte more", () => {
    const limits = resolveLimits({ maxRequestLineLength: 30 });
    const line = `GET /${"a".repeat(30 - 14)} HTTP/1.1`;
    assert.equal(line.length, 30);
    assert.equal(parse(`${line}\r\nHost: a\r\n\r\n`, new HeadParser(limits)).method, "GET");
    assert.equal(
      codeOf(`GET /a${line.slice(5)}\r\nHost: a\r\n\r\n`, new HeadParser(limits)),
      "ERR_URI_TOO_LONG",
    );
  });

  it("rejects an over-long request line before it is complete", () => {
    const parser = new HeadParser(resolveLimits({ maxRequestLineLength: 100 }));
    assert.throws(() => parser.parse(bytes(`GET /${"a".repeat(200)}`), 0), {
      code: "ERR_URI_TOO_LONG",
    });
  });

  it("answers a method as long as the limit with 501, not 414: the target is just / (RFC 9112 §3)", () => {
    const limits = resolveLimits({ maxRequestLineLength: 30 });
    const method = "M".repeat(30);
    assert.equal(
      codeOf(`${method} / HTTP/1.1\r\nHost: a\r\n\r\n`, new HeadParser(limits)),
      "ERR_METHOD_TOO_LONG",
    );
    assert.throws(() => new HeadParser(limits).parse(bytes(method.repeat(2)), 0), {
      code: "ERR_METHOD_TOO_LONG",
      status: 501,
    });
    assert.equal(
      codeOf(`${"M".repeat(29)} / HTTP/1.1\r\nHost: a\r\n\r\n`, new HeadParser(limits)),
      "ERR_URI_TOO_LONG",
      "a shorter method with the target past the limit is still 414",
    );
  });
});

describe("HeadParser: header section", () => {
  it("returns fields as a flat array with names as received and values trimmed", () => {
    const head = parse("GET / HTTP/1.1\r\nHost:  a \r\nX-Mixed-CASE:\tv  w\t\r\nEmpty:\r\n\r\n");
    assert.deepEqual(head.headers, ["Host", "a", "X-Mixed-CASE", "v  w", "Empty", ""]);
  });

  it("keeps obs-text bytes as latin-1 characters", () => {
    assert.deepEqual(
      parse("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n").headers.slice(2),
      ["X", "caf\xc3\xa9"],
    );
  });

  it("finds Host case-insensitively", () => {
    assert.equal(parse("GET / HTTP/1.1\r\nhOsT: example.com\r\n\r\n").host, "example.com");
  });

  it("allows HTTP/1.0 without Host", () => {
    assert.equal(parse("GET / HTTP/1.0\r\n\r\n").host, null);
  });

  it("accepts an empty Host (RFC 9110 §7.2)", () => {
    assert.equal(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n").host, "");
  });

  it("flags field names containing _", () => {
    assert.equal(
      parse("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded_For: 1\r\n\r\n").underscoreNames,
      true,
    );
    assert.equal(parse(BROWSER_GET).underscoreNames, false);
  });

  it("accepts exactly maxHeaderCount fields and rejects one more", () => {
    const limits = resolveLimits({ maxHeaderCount: 3 });
    assert.equal(
      parse("GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\n\r\n", new HeadParser(limits)).headers
        .length,
      6,
    );
    assert.equal(
      codeOf("GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\nD: 3\r\n\r\n", new HeadParser(limits)),
      "ERR_TOO_MANY_HEADERS",
    );
  });

  it("keeps all of the default 100 fields, whose table grows as they come, also across reads", () => {
    const lines = Array.from({ length: 99 }, (_, i) => `X-Field-${i}: value ${i}\r\n`);
    const raw = bytes(`GET / HTTP/1.1\r\nHost: a\r\n${lines.join("")}\r\n`);
    const expected = ["Host", "a", ...lines.flatMap((_, i) => [`X-Field-${i}`, `value ${i}`])];
    assert.deepEqual(parse(raw.toString("latin1")).headers, expected);
    const parser = new HeadParser();
    assert.equal(parser.parse(raw.subarray(0, 700), 0), null);
    assert.deepEqual(parser.parse(raw, 0)?.headers, expected);
  });

  it("accepts a header section of exactly maxHeaderBytes and rejects one byte more", () => {
    const limits = resolveLimits({ maxHeaderBytes: 20 });
    // "Host: a\r\n" (9) + "X: 12345678\r\n" (13) = 22 bytes; with 9 + 11 = 20 it fits.
    assert.equal(
      parse("GET / HTTP/1.1\r\nHost: a\r\nX: 123456\r\n\r\n", new HeadParser(limits)).host,
      "a",
    );
    assert.equal(
      codeOf("GET / HTTP/1.1\r\nHost: a\r\nX: 1234567\r\n\r\n", new HeadParser(limits)),
      "ERR_HEADERS_TOO_LARGE",
    );
  });

  it("rejects an oversized header section before it is complete", () => {
    const parser = new HeadParser(resolveLimits({ maxHeaderBytes: 100 }));
    assert.throws(() => parser.parse(bytes(`GET / HTTP/1.1\r\nCookie: ${"c".repeat(200)}`), 0), {
      code: "ERR_HEADERS_TOO_LARGE",
    });
  });
});

describe("HeadParser: one parser per connection", () => {
  it("checks every request's Host, though it checks a repeated valid one only once", () => {
    const parser = new HeadParser();
    const get = (host: string) => `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    assert.equal(parse(get("example.com:8080"), parser).host, "example.com:8080");
    assert.equal(parse(get("example.com:8080"), parser).host, "example.com:8080");
    assert.equal(codeOf(get("example.com:80:80"), parser), "ERR_INVALID_HOST");
    assert.equal(codeOf(get("exa mple.com"), new HeadParser()), "ERR_INVALID_HOST");
    assert.equal(parse(get("example.com:8080"), new HeadParser()).host, "example.com:8080");
  });
});

describe("HeadParser: framing facts", () => {
  it("reads Content-Length", () => {
    const head = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n");
    assert.equal(head.contentLength, 42);
    assert.equal(head.chunked, false);
    assert.equal(head.hasBody, true);
  });

  it("accepts leading zeros in Content-Length", () => {
    assert.equal(
      parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n").contentLength,
      7,
    );
  });

  it("says a Content-Length of 0 has no body", () => {
    assert.equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").hasBody, false);
  });

  it("gives no body and a null Content-Length when neither field is there", () => {
    const head = parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(head.contentLength, null);
    assert.equal(head.hasBody, false);
  });

  it("reads Transfer-Encoding: chunked case-insensitively, with OWS and empty list members", () => {
    for (const value of ["chunked", "Chunked", "  CHUNKED  ", ", chunked", "chunked ,"]) {
      const head = parse(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${value}\r\n\r\n`);
      assert.equal(head.chunked, true, value);
      assert.equal(head.hasBody, true, value);
    }
  });

  it("rejects a Content-Length above maxBodySize with 413 before the body", () => {
    const parser = new HeadParser(resolveLimits({ maxBodySize: 10 }));
    assert.equal(
      codeOf("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", parser),
      "ERR_BODY_TOO_LARGE",
    );
  });
});

describe("HeadParser: persistence, expectations, upgrade", () => {
  const cases: [string, string, boolean][] = [
    ["HTTP/1.1", "", true],
    ["HTTP/1.1", "Connection: close\r\n", false],
    ["HTTP/1.1", "Connection: Close\r\n", false],
    ["HTTP/1.1", "Connection: keep-alive, close\r\n", false],
    ["HTTP/1.1", "Connection: te\r\nConnection: close\r\n", false],
    ["HTTP/1.1", "Connection: closed\r\n", true],
    ["HTTP/1.0", "", false],
    ["HTTP/1.0", "Connection: keep-alive\r\n", true],
    ["HTTP/1.0", "Connection: Keep-Alive\r\n", true],
    ["HTTP/1.0", "Connection: foo, keep-alive\r\n", true],
    ["HTTP/1.0", "Connection: keep-alive, close\r\n", false],
  ];
  for (const [version, fields, keepAlive] of cases) {
    it(`${version} with ${JSON.stringify(fields)} -> keepAlive ${keepAlive} (RFC 9112 §9.3)`, () => {
      assert.equal(parse(`GET / ${version}\r\nHost: a\r\n${fields}\r\n`).keepAlive, keepAlive);
    });
  }

  it("sees Expect: 100-continue case-insensitively", () => {
    assert.equal(
      parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")
        .expectContinue,
      true,
    );
  });

  it("ignores Expect in HTTP/1.0 (RFC 9110 §10.1.1)", () => {
    assert.equal(
      parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").expectContinue,
      false,
    );
    assert.equal(parse("POST / HTTP/1.0\r\nExpect: other\r\n\r\n").expectContinue, false);
  });

  it("exposes Upgrade when Connection lists upgrade", () => {
    const head = parse(
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    assert.equal(head.upgrade, "websocket");
  });

  it("ignores Upgrade without Connection: upgrade", () => {
    assert.equal(parse("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").upgrade, null);
  });

  it("ignores Upgrade in HTTP/1.0 (RFC 9110 §7.8)", () => {
    assert.equal(
      parse("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n").upgrade,
      null,
    );
  });
});

describe("HeadParser: incremental parsing", () => {
  it("returns null until the head is complete, then the same head as in one piece", () => {
    const raw = bytes(BROWSER_GET);
    const whole = new HeadParser().parse(raw, 0);
    for (let cut = 1; cut < raw.length; cut++) {
      const parser = new HeadParser();
      assert.equal(parser.parse(raw.subarray(0, cut), 0), null, `cut at ${cut}`);
      assert.deepEqual(parser.parse(raw, 0), whole, `cut at ${cut}`);
    }
  });

  it("parses a head arriving one byte at a time", () => {
    const raw = bytes(BROWSER_GET);
    const parser = new HeadParser();
    let head: RequestHead | null = null;
    for (let end = 1; end <= raw.length && head === null; end++)
      head = parser.parse(raw.subarray(0, end), 0);
    assert.deepEqual(head, new HeadParser().parse(raw, 0));
  });

  it("reports how many bytes the head used and leaves the rest", () => {
    const parser = new HeadParser();
    const raw = bytes("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(parser.parse(raw, 0)?.target, "/1");
    assert.equal(parser.consumed, raw.length / 2);
    assert.equal(parser.parse(raw, parser.consumed)?.target, "/2");
  });

  it("detects a bare CR in a line that is still incomplete", () => {
    const parser = new HeadParser();
    assert.equal(parser.parse(bytes("GET / HTTP/1.1\r\nX: a"), 0), null);
    assert.throws(() => parser.parse(bytes("GET / HTTP/1.1\r\nX: a\rbc"), 0), {
      code: "ERR_BARE_CR",
    });
  });

  it("says a head is in progress after a partial one", () => {
    const parser = new HeadParser();
    parser.parse(bytes("GET / HT"), 0);
    assert.equal(parser.inProgress, true);
    parser.reset();
    assert.equal(parser.inProgress, false);
  });
});

describe("HeadParser: errors name the offending input", () => {
  it("escapes control bytes in the message", () => {
    assert.throws(
      () => new HeadParser().parse(bytes("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n"), 0),
      (e: unknown) => {
        assert.ok(e instanceof ProtocolError);
        assert.equal(e.code, "ERR_INVALID_HEADER_VALUE");
        assert.match(e.message, /0x01/);
        assert.match(e.message, /"X"/);
        return true;
      },
    );
  });

  it("truncates long values in the message", () => {
    assert.throws(
      () =>
        new HeadParser().parse(
          bytes(`GET / HTTP/1.1\r\nHost: a\r\nContent-Length: ${"9".repeat(300)}x\r\n\r\n`),
          0,
        ),
      (e: unknown) => {
        assert.ok(e instanceof ProtocolError);
        assert.ok(e.message.length < 200, e.message);
        return true;
      },
    );
  });

  it("carries status, reason and RFC clause", () => {
    assert.throws(() => new HeadParser().parse(bytes("GET / HTTP/2.0\r\n\r\n"), 0), {
      code: "ERR_UNSUPPORTED_VERSION",
      status: 505,
      reason: "HTTP Version Not Supported",
      rfc: "RFC 9110 §15.6.6",
      name: "ProtocolError",
    });
  });
});
