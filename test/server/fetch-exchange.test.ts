/**
 * The production server's fast path for Fetch applications (src/server/fetch-exchange.ts):
 * `serve({ fetch })` over real sockets. The request as the handler sees it, the response
 * as the client gets it (one write for a known body, a stream with backpressure), errors
 * as 500 pages in the error log, and the close rule: a hang-up aborts `request.signal` and
 * cancels the response stream at once, even while the stream is idle.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { describe, it } from "node:test";
import type { FetchApplication } from "../../src/fetch.ts";
import { sleep, waitFor, withServer } from "../helpers/servers.ts";
import { exchange, open, splitResponses } from "../helpers/wire.ts";

const MiB = 1024 * 1024;
const GET = (path: string, extra = "") =>
  `GET ${path} HTTP/1.1\r\nHost: example.test:8080\r\n${extra}Connection: close\r\n\r\n`;

/** An app from one handler function. */
const fetchApp = (fetch: FetchApplication["fetch"]): FetchApplication => ({ fetch });

describe("serve() with a Fetch application", () => {
  it("hands the handler the request: method, URL, headers, body, and the environ as env", async () => {
    let seen: Record<string, unknown> = {};
    const app = fetchApp(async (request, env) => {
      seen = {
        isRequest: request instanceof Request,
        method: request.method,
        url: request.url,
        accept: request.headers.get("accept"),
        connection: request.headers.get("connection"),
        body: await request.text(),
        remoteAddr: env?.REMOTE_ADDR,
        hasErrors: typeof env?.["wsgi.errors"]?.write === "function",
        scheme: env?.["wsgi.url_scheme"],
      };
      return new Response("ok");
    });
    await withServer(app, {}, async ({ port }) => {
      const raw = await exchange(
        port,
        "POST /a%20b/c?x=1&y=2 HTTP/1.1\r\nHost: example.test:8080\r\nAccept: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
      );
      assert.equal(splitResponses(raw)[0]?.body, "ok");
    });
    assert.deepEqual(seen, {
      isRequest: true,
      method: "POST",
      url: "http://example.test:8080/a%20b/c?x=1&y=2",
      accept: "text/html",
      connection: null,
      body: "hello",
      remoteAddr: "127.0.0.1",
      hasErrors: true,
      scheme: "http",
    });
  });

  it("sends a string body in one response with its Content-Length and the default Content-Type", async () => {
    await withServer(
      fetchApp(() => new Response("Hello, World!")),
      {},
      async ({ port }) => {
        const [response] = splitResponses(await exchange(port, GET("/")));
        assert.equal(response?.status, 200);
        assert.equal(response?.headers["content-length"], "13");
        assert.equal(response?.headers["content-type"], "text/plain;charset=UTF-8");
        assert.equal(response?.body, "Hello, World!");
      },
    );
  });

  it("answers HEAD with the headers only, and keeps the connection for the next request", async () => {
    await withServer(
      fetchApp((request) => new Response(`${request.method} body`)),
      {},
      async ({ port }) => {
        const conn = await open(port);
        conn.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
        const received = await conn.until((r) => r.endsWith("GET body"));
        conn.close();
        assert.match(
          received,
          /^HTTP\/1\.1 200 OK\r\n[\s\S]*Content-Length: 9\r\n\r\nHTTP\/1\.1 200/,
        );
        assert.ok(received.endsWith("\r\n\r\nGET body"));
      },
    );
  });

  it("answers HEAD with a stream's head only, and cancels the stream unread", async () => {
    let cancelled = false;
    const app = fetchApp(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              controller.enqueue(new Uint8Array(1024));
            },
            cancel() {
              cancelled = true;
            },
          }),
        ),
    );
    await withServer(app, {}, async ({ port }) => {
      const raw = await exchange(port, "HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(raw.endsWith("\r\n\r\n"), "no body after the head");
      assert.ok(await waitFor(() => cancelled, 1000), "the stream was not cancelled");
    });
  });

  it("keeps every Set-Cookie apart", async () => {
    const app = fetchApp(() => {
      const headers = new Headers();
      headers.append("Set-Cookie", "a=1; Path=/");
      headers.append("Set-Cookie", "b=2; HttpOnly");
      return new Response(null, { status: 204, headers });
    });
    await withServer(app, {}, async ({ port }) => {
      const raw = await exchange(port, GET("/"));
      assert.match(raw, /^HTTP\/1\.1 204 No Content\r\n/);
      assert.deepEqual(
        raw.split("\r\n").filter((line) => line.toLowerCase().startsWith("set-cookie:")),
        ["set-cookie: a=1; Path=/", "set-cookie: b=2; HttpOnly"],
      );
    });
  });

  it("streams a ReadableStream body at the client's pace, whole", async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let pulls = 0;
    const app = fetchApp(() => {
      let left = 1024;
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            pulls++;
            if (left-- === 0) controller.close();
            else controller.enqueue(chunk);
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(body, { headers: { "Content-Type": "application/octet-stream" } });
    });
    await withServer(app, {}, async ({ port }) => {
      const conn = await open(port);
      conn.socket.pause();
      conn.send(GET("/"));
      await sleep(200);
      // The client reads nothing: the stream is pulled only while the socket takes bytes, so
      // what the server holds stays a few MiB of the 64 MiB (socket buffers, 1 MiB queued).
      const pulledWhilePaused = pulls;
      assert.ok(pulledWhilePaused < 256, `pulled ${pulledWhilePaused} chunks before any read`);
      conn.socket.resume();
      await conn.until(() => conn.closed, 20_000);
      const [response] = splitResponses(conn.received);
      assert.equal(response?.headers["transfer-encoding"], "chunked");
      assert.equal(response?.body.length, 1024 * 64 * 1024);
    });
  });

  it("streams a request body to request.body in pieces, with backpressure", async () => {
    const hash = createHash("sha256");
    const app = fetchApp(async (request) => {
      let bytes = 0;
      const digest = createHash("sha256");
      for await (const piece of request.body as ReadableStream<Uint8Array>) {
        bytes += piece.length;
        digest.update(piece);
      }
      return new Response(`${bytes} ${digest.digest("hex")}`);
    });
    const size = 8 * MiB;
    await withServer(app, {}, async ({ port }) => {
      const reply = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(
          { host: "127.0.0.1", port, method: "PUT", path: "/", agent: false },
          (res) => {
            let text = "";
            res.on("data", (d: Buffer) => {
              text += d.toString();
            });
            res.on("end", () => resolve(text));
          },
        );
        req.on("error", reject);
        let sent = 0;
        const piece = Buffer.alloc(100_000, 0x7a);
        const write = () => {
          while (sent < size) {
            const part = piece.subarray(0, Math.min(piece.length, size - sent));
            sent += part.length;
            hash.update(part);
            if (!req.write(part)) {
              req.once("drain", write);
              return;
            }
          }
          req.end();
        };
        write();
      });
      assert.equal(reply, `${size} ${hash.digest("hex")}`);
    });
  });

  it("aborts request.signal and cancels an idle response stream when the client hangs up", async () => {
    const seen: { aborted?: unknown; cancelled?: unknown } = {};
    const app = fetchApp((request) => {
      request.signal.addEventListener("abort", () => {
        seen.aborted = (request.signal.reason as { code?: unknown }).code;
      });
      // An event stream that sends one event, then waits: nothing is written when the client leaves.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("data: hello\n\n"));
        },
        cancel(reason) {
          seen.cancelled = (reason as { code?: unknown }).code;
        },
      });
      return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
    });
    await withServer(app, {}, async ({ port }) => {
      const conn = await open(port);
      conn.send(GET("/events"));
      await conn.until((r) => r.includes("data: hello"));
      conn.close();
      assert.ok(
        await waitFor(() => seen.aborted !== undefined && seen.cancelled !== undefined, 1000),
      );
      assert.deepEqual(seen, { aborted: "ECONNRESET", cancelled: "ECONNRESET" });
    });
  });

  it("aborts request.signal of a long poll that has not answered yet when the client resets", async () => {
    let aborted = false;
    const app = fetchApp(
      (request) =>
        new Promise<Response>((resolve) => {
          request.signal.addEventListener("abort", () => {
            aborted = true;
            resolve(new Response("too late"));
          });
        }),
    );
    await withServer(app, {}, async ({ port }) => {
      const conn = await open(port);
      conn.send(GET("/poll"));
      await sleep(50);
      // A FIN alone could be a half-close (the client still reads): a reset is a hang-up.
      conn.socket.resetAndDestroy();
      assert.ok(await waitFor(() => aborted, 1000), "request.signal did not abort");
    });
  });

  it("answers a throwing handler with the 500 page and logs the error", async () => {
    const app = fetchApp(() => {
      throw new Error("the handler broke");
    });
    await withServer(app, {}, async ({ port, logged }) => {
      const [response] = splitResponses(await exchange(port, GET("/")));
      assert.equal(response?.status, 500);
      assert.equal(response?.body, "A server error occurred.  Please contact the administrator.");
      assert.match(await logged(/the handler broke/), /Error: the handler broke/);
    });
  });

  it("answers a rejection, or something that is not a Response, with the 500 page", async () => {
    const app = fetchApp(async (request) => {
      if (request.url.endsWith("/reject")) throw new RangeError("rejected");
      return "not a response" as unknown as Response;
    });
    await withServer(app, {}, async ({ port, logged }) => {
      for (const path of ["/reject", "/string"]) {
        const [response] = splitResponses(await exchange(port, GET(path)));
        assert.equal(response?.status, 500, path);
      }
      const log = await logged(/must return a Response/);
      assert.match(log, /RangeError: rejected/);
      assert.match(log, /the Fetch application must return a Response, got string/);
    });
  });

  it("answers a body that contradicts its own Content-Length with the 500 page", async () => {
    const app = fetchApp(() => new Response("abc", { headers: { "Content-Length": "5" } }));
    await withServer(app, {}, async ({ port, logged }) => {
      const [response] = splitResponses(await exchange(port, GET("/")));
      assert.equal(response?.status, 500);
      assert.match(
        await logged(/ERR_RESPONSE_BODY_TOO_SHORT/),
        /body of 3 bytes for a Content-Length of 5/,
      );
    });
  });

  it("answers a Response whose headers cannot be read with the 500 page", async () => {
    const app = fetchApp(async () => {
      // A streamed body, so the server reads `headers` (a string body's are read as given).
      const response = new Response(new ReadableStream());
      Object.defineProperty(response, "headers", {
        get() {
          throw new Error("no headers today");
        },
      });
      return response;
    });
    await withServer(app, {}, async ({ port, logged }) => {
      const [response] = splitResponses(await exchange(port, GET("/")));
      assert.equal(response?.status, 500);
      assert.match(await logged(/no headers today/), /Error: no headers today/);
    });
  });

  it("answers TRACE with 501, as fromFetchHandler does", async () => {
    await withServer(
      fetchApp(() => new Response("never")),
      {},
      async ({ port }) => {
        const raw = await exchange(
          port,
          "TRACE / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        assert.match(raw, /^HTTP\/1\.1 501 Not Implemented\r\n/);
      },
    );
  });

  it("answers a malformed chunked body with 400, not the 500 page", async () => {
    const app = fetchApp(async (request) => new Response(await request.text()));
    await withServer(app, {}, async ({ port }) => {
      const raw = await exchange(
        port,
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      );
      assert.match(raw, /^HTTP\/1\.1 400 /);
    });
  });
});
