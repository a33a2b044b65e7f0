import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { type RunningServer, type ServeOptions, serve } from "../src/server.ts";
import type { ResponseBody, WSGIApplication } from "../src/types.ts";
import { exchange, open, splitResponses } from "./helpers/wire.ts";

const run = promisify(execFile);
const text = (s: string) => Buffer.from(s, "latin1");

/** Records what the test app saw, per path. */
const seen: Record<string, unknown> = {};
let closes = 0;

/** One app with a route per behaviour under test. */
const app: WSGIApplication = async (environ, startResponse) => {
  const path = environ.PATH_INFO;
  const plain: [string, string][] = [["Content-Type", "text/plain"]];
  switch (path) {
    case "/echo": {
      const body = await environ["wsgi.input"].read();
      startResponse("200 OK", plain);
      return [body];
    }
    case "/environ": {
      seen.environ = { ...environ };
      startResponse("200 OK", plain);
      return [text("ok")];
    }
    case "/stream":
      startResponse("200 OK", plain);
      return (function* () {
        yield text("one,");
        yield text("two,");
        yield text("three");
      })();
    case "/ignore-body":
      startResponse("200 OK", plain);
      return [text("ignored")];
    case "/nothing":
      startResponse("204 No Content", []);
      return [];
    case "/tracked": {
      startResponse("200 OK", plain);
      const body: ResponseBody = {
        async *[Symbol.asyncIterator]() {
          for (let i = 0; i < 10_000; i++) {
            yield new Uint8Array(64 * 1024);
            await new Promise((r) => setImmediate(r));
          }
        },
        close() {
          closes++;
        },
      };
      return body;
    }
    case "/throw":
      throw new Error("app failed");
    case "/bad-head":
      startResponse("200 OK", [...plain, ["X-Bad", "a\x01b"]]);
      return [text("never sent")];
    case "/throw-late":
      startResponse("200 OK", plain);
      return (function* () {
        yield text("partial");
        throw new Error("late failure");
      })();
    case "/slow":
      await new Promise((r) => setTimeout(r, 400));
      startResponse("200 OK", plain);
      return [text("slow")];
    default:
      seen.environ = { ...environ };
      startResponse("200 OK", plain);
      return [text(`hello ${path}`)];
  }
};

async function withServer(
  options: ServeOptions,
  body: (port: number, server: RunningServer) => Promise<void>,
): Promise<void> {
  const server = await serve(app, {
    port: 0,
    host: "127.0.0.1",
    errorLog: "/dev/null",
    ...options,
  });
  try {
    await body((server.address as { port: number }).port, server);
  } finally {
    await server.close();
  }
}

const GET = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe("server: HTTP/1.1 connections", () => {
  it("keeps a connection alive across requests", () =>
    withServer({}, async (port) => {
      const conn = await open(port);
      conn.send(GET("/a"));
      await conn.responses(1);
      conn.send(GET("/b"));
      const [a, b] = splitResponses(await conn.responses(2));
      assert.equal(a?.body, "hello /a");
      assert.equal(b?.body, "hello /b");
      assert.equal(conn.closed, false);
      conn.close();
    }));

  it("answers pipelined requests in order", () =>
    withServer({}, async (port) => {
      const conn = await open(port);
      conn.send(GET("/1") + GET("/2") + GET("/3"));
      const rs = splitResponses(await conn.responses(3));
      assert.deepEqual(
        rs.map((r) => r.body),
        ["hello /1", "hello /2", "hello /3"],
      );
      conn.close();
    }));

  it("answers thousands of pipelined requests to a synchronous app, in order", async () => {
    // A synchronous app finishes each exchange inside the previous one's call stack
    // unless the session loops: 5,000 at once would overflow the stack.
    const sync: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [text(`hello ${environ.PATH_INFO}`)];
    };
    const server = await serve(sync, { port: 0, host: "127.0.0.1", errorLog: "/dev/null" });
    try {
      const conn = await open((server.address as { port: number }).port);
      const n = 5000;
      let all = "";
      for (let i = 0; i < n; i++) all += GET(`/${i}`);
      conn.send(all);
      const count = (r: string) => r.split("HTTP/1.1 200 OK\r\n").length - 1;
      const out = await conn.until((r) => count(r) >= n, 20_000);
      assert.equal(count(out), n);
      assert.ok(out.endsWith(`hello /${n - 1}`), "the last response is the last request's");
      assert.ok(out.includes(`hello /2500HTTP/1.1 200 OK`), "responses come in request order");
      conn.close();
    } finally {
      await server.close();
    }
  });

  it("wsgi.input.read1() streams a large body as it arrives, and ends at its length", async () => {
    const app: WSGIApplication = async (environ, startResponse) => {
      const input = environ["wsgi.input"];
      let total = 0;
      let reads = 0;
      const hash = createHash("sha256");
      for (;;) {
        const chunk = await input.read1!(65536);
        if (chunk.length === 0) break;
        assert.ok(chunk.length <= 65536);
        hash.update(chunk);
        total += chunk.length;
        reads++;
      }
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [text(`${total} ${reads > 1} ${hash.digest("hex")}`)];
    };
    const server = await serve(app, { port: 0, host: "127.0.0.1", errorLog: "/dev/null" });
    try {
      const body = Buffer.alloc(3 * 1024 * 1024 + 7, "abc");
      const conn = await open((server.address as { port: number }).port);
      conn.send(`POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`);
      conn.send(body);
      conn.send(GET("/after"));
      const [first] = splitResponses(await conn.responses(1, 10_000));
      const digest = createHash("sha256").update(body).digest("hex");
      assert.equal(first?.body, `${body.length} true ${digest}`);
      conn.close();
    } finally {
      await server.close();
    }
  });

  it("closes after a response when the client says Connection: close", () =>
    withServer({}, async (port) => {
      const out = await exchange(port, GET("/x", "Connection: close\r\n"));
      assert.match(out, /^HTTP\/1.1 200 OK\r\n/);
      assert.match(out, /\r\nConnection: close\r\n/);
      assert.match(out, /hello \/x$/);
    }));

  it("keeps an HTTP/1.0 connection only when asked with keep-alive", () =>
    withServer({}, async (port) => {
      const closed = await exchange(port, "GET /x HTTP/1.0\r\n\r\n");
      assert.match(closed, /hello \/x$/);
      const conn = await open(port);
      conn.send("GET /y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      const out = await conn.responses(1);
      assert.match(out, /Connection: keep-alive\r\n/i);
      conn.send("GET /z HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      assert.equal(splitResponses(await conn.responses(2))[1]?.body, "hello /z");
      conn.close();
    }));

  it("sends Date and Server headers", () =>
    withServer({ serverHeader: "test-server" }, async (port) => {
      const out = await exchange(port, GET("/", "Connection: close\r\n"));
      assert.match(out, /\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
      assert.match(out, /\r\nServer: test-server\r\n/);
    }));

  it("accepts absolute-form targets and OPTIONS *", () =>
    withServer({}, async (port) => {
      const conn = await open(port);
      conn.send("GET http://example.com:8080/abs?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
      conn.send("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n");
      const [abs, star] = splitResponses(await conn.responses(2));
      assert.equal(abs?.body, "hello /abs");
      assert.equal(star?.body, "hello *");
      conn.close();
    }));
});

describe("server: bodies", () => {
  it("frames a streamed body of unknown length as chunked", () =>
    withServer({}, async (port) => {
      const out = await exchange(port, GET("/stream", "Connection: close\r\n"));
      assert.match(out, /Transfer-Encoding: chunked\r\n/);
      assert.match(out, /\r\n\r\n4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n$/);
    }));

  it("gives an array body a Content-Length, however many chunks", () =>
    withServer({}, async (port) => {
      const out = await exchange(port, GET("/a", "Connection: close\r\n"));
      assert.match(out, /Content-Length: 8\r\n/);
      assert.doesNotMatch(out, /Transfer-Encoding/);
    }));

  it("reads a Content-Length request body", () =>
    withServer({}, async (port) => {
      const out = await exchange(
        port,
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world",
      );
      assert.match(out, /\r\n\r\nhello world$/);
    }));

  it("reads a chunked request body with trailers", () =>
    withServer({}, async (port) => {
      const out = await exchange(
        port,
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n",
      );
      assert.match(out, /\r\n\r\nhello world$/);
    }));

  it("sends no body for HEAD, with the Content-Length a GET gets", () =>
    withServer({}, async (port) => {
      const out = await exchange(port, "HEAD /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      assert.match(out, /Content-Length: 8\r\n/);
      assert.match(out, /\r\n\r\n$/);
    }));

  it("sends no body and no Content-Length for 204", () =>
    withServer({}, async (port) => {
      const out = await exchange(port, GET("/nothing", "Connection: close\r\n"));
      assert.match(out, /^HTTP\/1.1 204 No Content\r\n/);
      assert.doesNotMatch(out, /Content-Length|Transfer-Encoding/);
    }));

  it("discards a small unread body and keeps the connection", () =>
    withServer({}, async (port) => {
      const conn = await open(port);
      conn.send(
        `POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n${"x".repeat(1000)}`,
      );
      conn.send(GET("/after"));
      const rs = splitResponses(await conn.responses(2));
      assert.equal(rs[1]?.body, "hello /after");
      conn.close();
    }));

  it("closes instead of reading a large unread body", () =>
    withServer({ drainLimit: 1024 }, async (port) => {
      const conn = await open(port);
      conn.send("POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
      await conn.until(() => conn.closed);
      assert.match(conn.received, /^HTTP\/1.1 200 OK\r\n/);
      assert.equal(conn.closed, true);
    }));

  it("sends 100 Continue only when the app reads the body", () =>
    withServer({}, async (port) => {
      const conn = await open(port);
      conn.send(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
      );
      await conn.until((r) => r.includes("100 Continue"));
      assert.match(conn.received, /^HTTP\/1.1 100 Continue\r\n\r\n$/);
      conn.send("data");
      await conn.until((r) => r.endsWith("data"));
      conn.close();

      const other = await open(port);
      other.send(
        "POST /ignore-body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
      );
      await other.responses(1);
      assert.doesNotMatch(other.received, /100 Continue/);
      other.close();
    }));
});

describe("server: the environ", () => {
  it("builds the CGI variables from the request", () =>
    withServer({}, async (port) => {
      await exchange(
        port,
        "GET /caf%C3%A9/x%20y?q=%20 HTTP/1.1\r\nHost: example.org:8123\r\nX-Multi: a\r\nX-Multi: b\r\nContent-Type: text/x\r\nConnection: close\r\n\r\n",
      );
      const env = seen.environ as Record<string, unknown>;
      assert.equal(env.PATH_INFO, "/cafÃ©/x y");
      assert.equal(env.QUERY_STRING, "q=%20");
      assert.equal(env.SERVER_NAME, "example.org");
      assert.equal(env.SERVER_PORT, "8123");
      assert.equal(env.SERVER_PROTOCOL, "HTTP/1.1");
      assert.equal(env.HTTP_X_MULTI, "a,b");
      assert.equal(env.CONTENT_TYPE, "text/x");
      assert.equal(env.REMOTE_ADDR, "127.0.0.1");
      assert.equal(env["wsgi.url_scheme"], "http");
      assert.equal(env["wsgi.input_terminated"], true);
      assert.equal(env["wsgi.multiprocess"], false);
      assert.equal(env["wsgi.multithread"], false);
      assert.equal(env["wsgi.run_once"], false);
    }));

  it("drops header names with underscores unless told to keep them", async () => {
    const req = GET(
      "/environ",
      "X-Forwarded_For: evil\r\nX-Forwarded-For: good\r\nConnection: close\r\n",
    );
    await withServer({}, async (port) => {
      await exchange(port, req);
      assert.equal((seen.environ as Record<string, unknown>).HTTP_X_FORWARDED_FOR, "good");
    });
    await withServer({ keepUnderscoreHeaders: true }, async (port) => {
      await exchange(port, req);
      assert.equal((seen.environ as Record<string, unknown>).HTTP_X_FORWARDED_FOR, "evil,good");
    });
  });
});

describe("server: errors and limits", () => {
  it("answers an app that throws before its headers with a 500", () =>
    withServer({}, async (port) => {
      const out = await exchange(port, GET("/throw", "Connection: close\r\n"));
      assert.match(out, /^HTTP\/1.1 500 Internal Server Error\r\n/);
      assert.match(out, /A server error occurred/);
      assert.doesNotMatch(out, /app failed/);
    }));

  it("answers a head it cannot send with the 500 page and keeps the connection in sync", () =>
    withServer({}, async (port) => {
      const conn = await open(port);
      conn.send(GET("/bad-head") + GET("/after"));
      const [bad, next] = splitResponses(await conn.responses(2));
      assert.equal(bad?.status, 500);
      assert.match(bad?.body ?? "", /A server error occurred/);
      assert.equal(next?.status, 200);
      assert.equal(next?.body, "hello /after");
      assert.equal(conn.closed, false);
      conn.close();
    }));

  it("cuts the connection when the app throws after its headers", () =>
    withServer({}, async (port) => {
      const out = await exchange(port, GET("/throw-late"));
      assert.match(out, /^HTTP\/1.1 200 OK\r\n/);
      assert.match(out, /partial\r\n$/);
      assert.doesNotMatch(out, /0\r\n\r\n$/);
    }));

  for (const [name, req, status] of [
    [
      "CL with TE",
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      400,
    ],
    [
      "TE not ending in chunked",
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
      400,
    ],
    [
      "unknown coding",
      "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      501,
    ],
    ["missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
    ["obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400],
    ["bad version", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505],
  ] as const) {
    it(`rejects ${name} with ${status} and closes`, () =>
      withServer({}, async (port) => {
        const out = await exchange(port, req);
        assert.match(out, new RegExp(`^HTTP/1.1 ${status} `));
        assert.match(out, /Connection: close\r\n/);
      }));
  }

  it("answers 414, 431 and 413 past the limits", () =>
    withServer({ maxRequestLine: 100, maxHeaders: 5, maxBodySize: 10 }, async (port) => {
      assert.match(await exchange(port, GET(`/${"a".repeat(200)}`)), /^HTTP\/1.1 414 /);
      const many = Array.from({ length: 10 }, (_, i) => `X-${i}: v\r\n`).join("");
      assert.match(await exchange(port, GET("/", many)), /^HTTP\/1.1 431 /);
      assert.match(
        await exchange(
          port,
          "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world",
        ),
        /^HTTP\/1.1 413 /,
      );
    }));
});

describe("server: disconnects and backpressure", () => {
  it("runs close() when the client goes away mid-download", () =>
    withServer({}, async (port) => {
      const before = closes;
      const conn = await open(port);
      conn.send(GET("/tracked"));
      await conn.until((r) => r.length > 200_000);
      conn.close();
      for (let i = 0; i < 50 && closes === before; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(closes, before + 1);
    }));

  it("keeps serving after a client vanished", () =>
    withServer({}, async (port) => {
      const conn = await open(port);
      conn.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\npart");
      await new Promise((r) => setTimeout(r, 50));
      conn.close();
      assert.match(await exchange(port, GET("/ok", "Connection: close\r\n")), /hello \/ok$/);
    }));
});

describe("server: real clients", () => {
  it("serves curl, with keep-alive across two URLs", () =>
    withServer({}, async (port) => {
      const { stdout, stderr } = await run("curl", [
        "-sv",
        `http://127.0.0.1:${port}/a`,
        `http://127.0.0.1:${port}/b`,
      ]);
      assert.equal(stdout, "hello /ahello /b");
      assert.match(stderr, /Re-using existing connection/);
    }));

  it("serves Python's http.client, including a chunked upload", () =>
    withServer({}, async (port) => {
      const script = `
import http.client
c = http.client.HTTPConnection("127.0.0.1", ${port})
c.request("POST", "/echo", body=iter([b"py", b"thon"]), headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
r = c.getresponse(); print(r.status, r.read().decode())
c.request("GET", "/stream"); r = c.getresponse(); print(r.status, r.read().decode())
`;
      const { stdout } = await run("python3", ["-c", script]);
      assert.equal(stdout, "200 python\n200 one,two,three\n");
    }));

  it("serves undici's fetch", () =>
    withServer({}, async (port) => {
      const { fetch } = await import("undici");
      const res = await fetch(`http://127.0.0.1:${port}/echo`, {
        method: "POST",
        body: "via undici",
      });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "via undici");
    }));
});
