import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { serve as honoServe } from "@hono/node-server";
import { Hono } from "hono";
import { mount } from "hono/mount";
import { stream } from "hono/streaming";
import { fromFetchHandler, toFetchHandler } from "../src/fetch.ts";
import { toNodeListener } from "../src/node.ts";
import { BufferedErrorStream } from "../src/streams.ts";
import { call } from "../src/testing.ts";
import type { WSGIApplication, WSGIEnvironment } from "../src/types.ts";
import { requestUri } from "../src/util.ts";
import { validator } from "../src/validate.ts";

const plain = (): [string, string][] => [["Content-Type", "text/plain"]];
const quiet = () => ({ errors: new BufferedErrorStream() });

/** Replies with the environ keys named in `keys`, as JSON. */
function environEcho(keys: string[]): WSGIApplication {
  return (environ, startResponse) => {
    startResponse("200 OK", [["Content-Type", "application/json"]]);
    return [Buffer.from(JSON.stringify(Object.fromEntries(keys.map((k) => [k, environ[k]]))))];
  };
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe("toFetchHandler", () => {
  it("takes the server's name, port and scheme from the URL", async () => {
    const handler = toFetchHandler(
      environEcho(["SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme", "HTTP_HOST"]),
    );
    const response = await handler(new Request("https://[::1]:8443/x"));
    assert.deepEqual(await response.json(), {
      SERVER_NAME: "::1",
      SERVER_PORT: "8443",
      "wsgi.url_scheme": "https",
      HTTP_HOST: "[::1]:8443",
    });
  });

  it("uses the scheme's default port when the URL names none", async () => {
    const handler = toFetchHandler(environEcho(["SERVER_PORT"]));
    const response = await handler(new Request("https://example.org/"));
    assert.deepEqual(await response.json(), { SERVER_PORT: "443" });
  });

  it("mounts the application at scriptName", async () => {
    const handler = toFetchHandler(environEcho(["SCRIPT_NAME", "PATH_INFO"]), {
      scriptName: "/wsgi/",
    });
    const deep = await handler(new Request("http://h/wsgi/a/b"));
    assert.deepEqual(await deep.json(), { SCRIPT_NAME: "/wsgi", PATH_INFO: "/a/b" });
    const root = await handler(new Request("http://h/wsgi"));
    assert.deepEqual(await root.json(), { SCRIPT_NAME: "/wsgi", PATH_INFO: "" });
  });

  it("answers 404 outside scriptName without calling the application", async () => {
    let called = false;
    const handler = toFetchHandler(
      () => {
        called = true;
        return [];
      },
      { scriptName: "/wsgi" },
    );
    const response = await handler(new Request("http://h/wsgiother"));
    assert.equal(response.status, 404);
    assert.equal(called, false);
  });

  it("drops header names with an underscore unless asked to keep them", async () => {
    const app = environEcho(["HTTP_X_FORWARDED_FOR"]);
    const request = () => new Request("http://h/", { headers: { x_forwarded_for: "evil" } });
    assert.deepEqual(await (await toFetchHandler(app)(request())).json(), {});
    const kept = await toFetchHandler(app, { keepUnderscoreHeaders: true })(request());
    assert.deepEqual(await kept.json(), { HTTP_X_FORWARDED_FOR: "evil" });
  });

  it("adds the environ keys the platform supplies", async () => {
    const handler = toFetchHandler(environEcho(["REMOTE_ADDR"]), {
      environ: () => ({ REMOTE_ADDR: "192.0.2.1" }),
    });
    assert.deepEqual(await (await handler(new Request("http://h/"))).json(), {
      REMOTE_ADDR: "192.0.2.1",
    });
  });

  it("reads the request body only when the application reads wsgi.input", async () => {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls += 1;
          controller.enqueue(new Uint8Array(10));
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const request = new Request("http://h/", {
      method: "POST",
      body,
      duplex: "half",
    } as RequestInit);
    const ignoring = toFetchHandler((_e, startResponse) => {
      startResponse("200 OK", plain());
      return [];
    });
    await (await ignoring(request)).arrayBuffer();
    assert.equal(pulls, 0);
  });

  it("keeps the reason phrase and repeated Set-Cookie headers", async () => {
    const handler = toFetchHandler((_e, startResponse) => {
      startResponse("299 Quite Fine", [...plain(), ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]);
      return [Buffer.from("ok")];
    });
    const response = await handler(new Request("http://h/"));
    assert.equal(response.status, 299);
    assert.equal(response.statusText, "Quite Fine");
    assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
  });

  it("lets a slow reader hold the application back: one chunk at a time", async () => {
    let made = 0;
    const handler = toFetchHandler((_e, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return (function* () {
        for (;;) {
          made += 1;
          yield new Uint8Array(1024);
        }
      })();
    });
    const response = await handler(new Request("http://h/"));
    const reader = response.body!.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    await tick(20);
    assert.ok(made <= 4, `the application made ${made} chunks for 3 reads`);
    await reader.cancel();
  });

  it("closes the body once the reader reached its end", async () => {
    let closed = 0;
    const handler = toFetchHandler((_e, startResponse) => {
      startResponse("200 OK", plain());
      return Object.assign([Buffer.from("a"), Buffer.from("b")], {
        close: () => {
          closed += 1;
        },
      });
    });
    const response = await handler(new Request("http://h/"));
    assert.equal(await response.text(), "ab");
    await tick();
    assert.equal(closed, 1);
  });

  it("treats an aborted request.signal as a hang-up: a waiting write() rejects", async () => {
    const controller = new AbortController();
    let code: unknown;
    const handler = toFetchHandler(async (_e, startResponse) => {
      const write = startResponse("200 OK", plain());
      try {
        for (;;) await write(Buffer.from("tick"));
      } catch (error) {
        code = (error as { code?: unknown }).code;
      }
      return [];
    });
    const response = await handler(new Request("http://h/", { signal: controller.signal }));
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await tick(10);
    assert.equal(code, "ECONNRESET");
  });

  it("rejects the Response promise when the request is aborted before the headers", async () => {
    const controller = new AbortController();
    const handler = toFetchHandler(async (environ, startResponse) => {
      await environ["wsgi.input"].read();
      startResponse("200 OK", plain());
      return [];
    });
    const body = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    const pending = handler(
      new Request("http://h/", {
        method: "POST",
        body,
        duplex: "half",
        signal: controller.signal,
      } as RequestInit),
    );
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
  });

  it("runs inside Hono, mounted with hono/mount, served by @hono/node-server over HTTP", async () => {
    const wsgi: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", plain());
      return [Buffer.from(`wsgi saw ${requestUri(environ)}`)];
    };
    const hono = new Hono();
    hono.get("/", (c) => c.text("hono root"));
    hono.all(
      "/wsgi/*",
      mount(toFetchHandler(validator(wsgi), { scriptName: "/wsgi" }), {
        replaceRequest: (request) => request,
      }),
    );
    const server = honoServe({ fetch: hono.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const root = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(await root.text(), "hono root");
      const mounted = await fetch(`http://127.0.0.1:${port}/wsgi/a%20b?x=1`);
      assert.equal(mounted.status, 200);
      assert.equal(await mounted.text(), `wsgi saw http://127.0.0.1:${port}/wsgi/a%20b?x=1`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("toFetchHandler: ctx.waitUntil", () => {
  it("hands the run to waitUntil, which settles once the body's close() ran", async () => {
    let closed = 0;
    const waited: Promise<unknown>[] = [];
    const handler = toFetchHandler((_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return Object.assign([Buffer.from("hi")], { close: () => void closed++ });
    });
    const response = await handler(
      new Request("http://h/"),
      {},
      {
        waitUntil: (promise) => waited.push(promise),
      },
    );
    assert.equal(await response.text(), "hi");
    assert.equal(waited.length, 1);
    await waited[0];
    assert.equal(closed, 1);
  });
});

describe("toFetchHandler: repeated Cookie lines", () => {
  it("joins them with '; ' as the server does, though Fetch's Headers joined them with ', '", async () => {
    let cookie: unknown;
    const handler = toFetchHandler((environ, startResponse) => {
      cookie = environ.HTTP_COOKIE;
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [];
    });
    const headers = new Headers();
    headers.append("Cookie", "a=1");
    headers.append("Cookie", "b=2; c=3");
    await handler(new Request("http://h/", { headers }));
    assert.equal(cookie, "a=1; b=2; c=3");
  });
});

describe("toFetchHandler: maxBodySize", () => {
  let called = 0;
  const reader: WSGIApplication = async (environ, startResponse) => {
    called++;
    const body = await environ["wsgi.input"].read();
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [Buffer.from(String(body.length))];
  };

  it("answers 413 to a declared Content-Length past it, without calling the app", async () => {
    called = 0;
    const handler = toFetchHandler(reader, { maxBodySize: 10 });
    const response = await handler(
      new Request("http://h/", {
        method: "POST",
        body: "x".repeat(11),
        headers: { "Content-Length": "11" }, // as a server puts it from the wire
      }),
    );
    assert.equal(response.status, 413);
    assert.match(await response.text(), /ERR_BODY_TOO_LARGE/);
    assert.equal(called, 0);
  });

  it("answers 413 when a streamed body grows past it, and streams below it", async () => {
    const chunked = (size: number) =>
      new Request("http://h/", {
        method: "POST",
        duplex: "half",
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < size; i += 4) controller.enqueue(new Uint8Array(4));
            controller.close();
          },
        }),
      } as RequestInit);
    const handler = toFetchHandler(reader, { maxBodySize: 16, errors: new BufferedErrorStream() });
    assert.equal((await handler(chunked(16))).status, 200);
    const refused = await handler(chunked(64));
    assert.equal(refused.status, 413);
  });
});

describe("fromFetchHandler", () => {
  it("rebuilds the Request: URL, method, headers and body", async () => {
    let seen: Record<string, unknown> = {};
    const app = fromFetchHandler(async (request) => {
      seen = {
        url: request.url,
        method: request.method,
        type: request.headers.get("content-type"),
        custom: request.headers.get("x-custom"),
        connection: request.headers.get("connection"),
        body: await request.text(),
      };
      return new Response("ok", { headers: { "Content-Type": "text/plain" } });
    });
    await call(app, {
      method: "POST",
      path: "/app/caf%C3%A9?q=1",
      scriptName: "/app",
      headers: { "Content-Type": "text/plain", "X-Custom": "yes", Connection: "close" },
      body: "hello",
    });
    assert.deepEqual(seen, {
      url: "http://localhost/app/caf%C3%A9?q=1",
      method: "POST",
      type: "text/plain",
      custom: "yes",
      connection: null,
      body: "hello",
    });
  });

  it("gives the handler the environ as its second argument (Hono's c.env)", async () => {
    const hono = new Hono<{ Bindings: WSGIEnvironment }>();
    hono.get("/", (c) => c.text(String(c.env.REMOTE_ADDR)));
    const response = await call(fromFetchHandler(hono.fetch), {
      environ: { REMOTE_ADDR: "198.51.100.7" },
    });
    assert.equal(response.text(), "198.51.100.7");
  });

  it("uses the standard reason phrase when the Response has none", async () => {
    const app = fromFetchHandler(
      () => new Response("made", { status: 201, headers: { "Content-Type": "text/plain" } }),
    );
    assert.equal((await call(app)).statusLine, "201 Created");
  });

  it("keeps the Response's own reason phrase", async () => {
    const app = fromFetchHandler(
      () =>
        new Response(null, {
          status: 200,
          statusText: "Fine",
          headers: { "Content-Type": "text/plain" },
        }),
    );
    assert.equal((await call(app)).statusLine, "200 Fine");
  });

  it("drops hop-by-hop response headers and keeps each Set-Cookie", async () => {
    const headers = new Headers({
      "Content-Type": "text/plain",
      Connection: "close",
      "Keep-Alive": "5",
    });
    headers.append("Set-Cookie", "a=1");
    headers.append("Set-Cookie", "b=2");
    const response = await call(fromFetchHandler(() => new Response("x", { headers })));
    assert.deepEqual(response.headers.items(), [
      ["content-type", "text/plain"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]);
  });

  it("does not read wsgi.input unless the handler reads the body", async () => {
    let reads = 0;
    async function* body() {
      reads += 1;
      yield Buffer.from("never wanted");
    }
    const app = fromFetchHandler(
      () => new Response("ok", { headers: { "Content-Type": "text/plain" } }),
    );
    await call(app, { method: "POST", body: body() });
    assert.equal(reads, 0);
  });

  it("answers 501 for methods a Fetch Request cannot carry", async () => {
    const app = fromFetchHandler(() => new Response("unreachable"));
    const response = await call(app, { method: "TRACE" });
    assert.equal(response.status, 501);
  });

  it("fails like any application when the handler returns no Response", async () => {
    const app = fromFetchHandler(() => "nope" as unknown as Response);
    const response = await call(app, {}, { catchErrors: true });
    assert.equal(response.status, 500);
    assert.match(String(response.error), /must return a Response, got string/);
  });

  it("aborts request.signal when reading the body finds the client gone", async () => {
    const controller = new AbortController();
    let reason: unknown;
    const app = fromFetchHandler(async (request) => {
      request.signal.addEventListener("abort", () => {
        reason = request.signal.reason;
      });
      await request.text().catch(() => {});
      return new Response("late", { headers: { "Content-Type": "text/plain" } });
    });
    async function* stalled() {
      yield Buffer.from("part");
      await new Promise(() => {});
    }
    setTimeout(() => controller.abort(), 10);
    const response = await call(
      app,
      { method: "POST", body: stalled() },
      { signal: controller.signal },
    );
    await response.done;
    assert.equal((reason as { code?: unknown }).code, "ECONNRESET");
  });

  it("serves a Hono app on a WSGI server over real HTTP (toNodeListener under node:http)", async () => {
    const hono = new Hono();
    hono.get("/hello/:name", (c) => c.text(`Hello ${c.req.param("name")}`));
    hono.post("/echo", async (c) => c.json({ got: await c.req.json() }, 201));
    hono.get("/stream", (c) => {
      // Without it the validator rightly refuses the response: stream() sets no Content-Type.
      c.header("Content-Type", "text/plain");
      return stream(c, async (s) => {
        for (let i = 0; i < 3; i++) await s.write(`chunk ${i};`);
      });
    });
    const server = createServer(toNodeListener(validator(fromFetchHandler(hono.fetch)), quiet()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const hello = await fetch(`${base}/hello/world`);
      assert.equal(hello.status, 200);
      assert.match(String(hello.headers.get("content-type")), /^text\/plain; ?charset=utf-8$/i);
      assert.equal(await hello.text(), "Hello world");
      const echoed = await fetch(`${base}/echo`, { method: "POST", body: '{"a":1}' });
      assert.equal(echoed.status, 201);
      assert.deepEqual(await echoed.json(), { got: { a: 1 } });
      const streamed = await fetch(`${base}/stream`);
      assert.equal(await streamed.text(), "chunk 0;chunk 1;chunk 2;");
      const head = await fetch(`${base}/hello/x`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), "");
      const missing = await fetch(`${base}/nowhere`);
      assert.equal(missing.status, 404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("passes the validator with a Hono app in the test client", async () => {
    const hono = new Hono();
    hono.get("/", (c) => c.json({ ok: true }));
    const response = await call(fromFetchHandler(hono.fetch));
    assert.deepEqual(response.json(), { ok: true });
    assert.deepEqual(response.warnings, []);
  });
});
