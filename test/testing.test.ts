import { AssertionError } from "node:assert";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { toNodeListener } from "../src/node.ts";
import { BufferedErrorStream } from "../src/streams.ts";
import { Client, call, replay, type ServeFunction, type TestResponse } from "../src/testing.ts";
import type { WSGIApplication, WSGIEnvironment } from "../src/types.ts";
import { requestUri } from "../src/util.ts";
import { WSGIWarning } from "../src/validate.ts";

/** A fresh header list each time: the handler may add to the list it is given. */
const plain = (): [string, string][] => [["Content-Type", "text/plain"]];

const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", plain());
  return [Buffer.from("Hello")];
};

/** Echoes the environ keys a test asks about, and the body, as JSON. */
const echo: WSGIApplication = async (environ, startResponse) => {
  const body = await environ["wsgi.input"].read();
  const keys = Object.keys(environ).filter((k) => /^[A-Z_]+$/.test(k));
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  const seen = Object.fromEntries(keys.map((k) => [k, environ[k]]));
  return [Buffer.from(JSON.stringify({ ...seen, body: Buffer.from(body).toString("latin1") }))];
};

type Echoed = Record<string, string> & { body: string };

describe("call", () => {
  it("returns the status, reason, headers and body", async () => {
    const response = await call(hello);
    assert.equal(response.status, 200);
    assert.equal(response.statusText, "OK");
    assert.equal(response.statusLine, "200 OK");
    assert.equal(response.headers.get("content-type"), "text/plain");
    assert.equal(response.text(), "Hello");
    assert.equal(response.complete, true);
    assert.equal(response.disconnected, false);
  });

  it("builds the environ a server would build from the same request", async () => {
    const response = await call(echo, {
      method: "POST",
      path: "/caf%C3%A9/x?q=1",
      headers: { Host: "example.org:8080", "X-Many": ["a", "b"] },
      body: "hi",
    });
    const seen = response.json<Echoed>();
    assert.equal(seen.REQUEST_METHOD, "POST");
    assert.equal(seen.SCRIPT_NAME, "");
    assert.equal(seen.PATH_INFO, "/cafÃ©/x");
    assert.equal(seen.QUERY_STRING, "q=1");
    assert.equal(seen.SERVER_NAME, "example.org");
    assert.equal(seen.SERVER_PORT, "8080");
    assert.equal(seen.SERVER_PROTOCOL, "HTTP/1.1");
    assert.equal(seen.HTTP_X_MANY, "a,b");
    assert.equal(seen.CONTENT_LENGTH, "2");
    assert.equal(seen.body, "hi");
  });

  it("sends non-ASCII text in the path as UTF-8 bytes", async () => {
    const seen = (await call(echo, { path: "/café" })).json<Echoed>();
    assert.equal(seen.PATH_INFO, "/cafÃ©");
  });

  it("sends json with a Content-Type and a Content-Length", async () => {
    const seen = (await call(echo, { method: "POST", json: { a: "é" } })).json<Echoed>();
    assert.equal(seen.CONTENT_TYPE, "application/json");
    assert.equal(seen.CONTENT_LENGTH, String(Buffer.byteLength('{"a":"é"}')));
    assert.equal(Buffer.from(seen.body, "latin1").toString("utf8"), '{"a":"é"}');
  });

  it("mounts the application at scriptName", async () => {
    const seen = (await call(echo, { path: "/app/x", scriptName: "/app" })).json<Echoed>();
    assert.equal(seen.SCRIPT_NAME, "/app");
    assert.equal(seen.PATH_INFO, "/x");
  });

  it("rejects a path outside scriptName", async () => {
    await assert.rejects(call(echo, { path: "/other", scriptName: "/app" }), TypeError);
  });

  it("rejects a header value that is not latin-1", async () => {
    await assert.rejects(call(echo, { headers: { "X-Euro": "€" } }), /not latin-1/);
  });

  it("drops header names with an underscore unless asked to keep them", async () => {
    const request = { headers: { X_Forwarded_For: "evil" } };
    assert.equal((await call(echo, request)).json<Echoed>().HTTP_X_FORWARDED_FOR, undefined);
    const kept = await call(echo, request, { keepUnderscoreHeaders: true });
    assert.equal(kept.json<Echoed>().HTTP_X_FORWARDED_FOR, "evil");
  });

  it("adds the test's environ keys", async () => {
    const seen = (await call(echo, { environ: { REMOTE_ADDR: "10.0.0.1" } })).json<Echoed>();
    assert.equal(seen.REMOTE_ADDR, "10.0.0.1");
  });

  it("gives HEAD no body", async () => {
    const response = await call(hello, { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.equal(response.body.length, 0);
  });

  it("rejects with the validator's AssertionError when the application breaks the protocol", async () => {
    const sloppy: WSGIApplication = (_e, startResponse) => {
      startResponse("200 OK", []);
      return [Buffer.from("x")];
    };
    await assert.rejects(call(sloppy), (error: unknown) => {
      assert.ok(error instanceof AssertionError);
      assert.match(error.message, /No Content-Type header/);
      return true;
    });
  });

  it("does not validate with validate: false", async () => {
    const sloppy: WSGIApplication = (_e, startResponse) => {
      startResponse("200 OK", []);
      return [Buffer.from("x")];
    };
    assert.equal((await call(sloppy, {}, { validate: false })).text(), "x");
  });

  it("rejects with the application's error by default", async () => {
    const broken: WSGIApplication = () => {
      throw new RangeError("kaput");
    };
    await assert.rejects(call(broken), RangeError);
  });

  it("answers the 500 page and keeps the error and traceback with catchErrors", async () => {
    const broken: WSGIApplication = () => {
      throw new RangeError("kaput");
    };
    const response = await call(broken, {}, { catchErrors: true });
    assert.equal(response.status, 500);
    assert.ok(response.error instanceof RangeError);
    assert.match(response.errors, /RangeError: kaput/);
  });

  it("collects the validator's warnings in the response instead of emitting them", async () => {
    const emitted: Error[] = [];
    const listener = (warning: Error) => emitted.push(warning);
    process.on("warning", listener);
    try {
      const response = await call(hello, { method: "FROB" });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(response.warnings.length, 1);
      assert.ok(response.warnings[0] instanceof WSGIWarning);
      assert.match(String(response.warnings[0]), /Unknown REQUEST_METHOD: 'FROB'/);
      assert.deepEqual(emitted, []);
    } finally {
      process.off("warning", listener);
    }
  });

  it("keeps the warnings of concurrent calls apart, also in async continuations", async () => {
    const warnsLater =
      (message: string, ms: number): WSGIApplication =>
      async (_e, startResponse) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        process.emitWarning(new WSGIWarning(message));
        startResponse("200 OK", plain());
        return [];
      };
    const [a, b, c] = await Promise.all([
      call(warnsLater("late a", 10)),
      call(warnsLater("late b", 5)),
      call(hello),
    ]);
    assert.deepEqual(
      [a, b, c].map((r) => r.warnings.map((w) => w.message)),
      [["late a"], ["late b"], []],
    );
  });

  it("renders the response as the server would frame it, Date aside", async () => {
    const response = await call(hello);
    assert.equal(
      Buffer.from(response.toBytes()).toString("latin1"),
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nHello",
    );
    assert.equal(
      Buffer.from(response.toBytes({ server: "wsgiref" })).toString("latin1"),
      "HTTP/1.1 200 OK\r\nServer: wsgiref\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nHello",
    );
  });
});

describe("call as a hostile client", () => {
  it("delivers the request body a byte at a time, and it still reads whole", async () => {
    const sizes: number[] = [];
    const lines: WSGIApplication = async (environ, startResponse) => {
      const got: string[] = [];
      for await (const line of environ["wsgi.input"]) {
        got.push(Buffer.from(line).toString());
        sizes.push(line.length);
      }
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return [Buffer.from(JSON.stringify(got))];
    };
    const response = await call(
      lines,
      { method: "POST", body: "one\ntwo\nthree" },
      { bodyChunkSize: 1 },
    );
    assert.deepEqual(response.json(), ["one\n", "two\n", "three"]);
  });

  it("delivers a streamed body in pieces of bodyChunkSize", async () => {
    let reads = 0;
    const counting: WSGIApplication = async (environ, startResponse) => {
      let total = 0;
      for (;;) {
        const chunk = await environ["wsgi.input"].read(1000);
        if (chunk.length === 0) break;
        reads += 1;
        total += chunk.length;
      }
      startResponse("200 OK", plain());
      return [Buffer.from(String(total))];
    };
    async function* body() {
      yield Buffer.alloc(2500, 1);
    }
    const response = await call(counting, { method: "PUT", body: body() }, { bodyChunkSize: 700 });
    assert.equal(response.text(), "2500");
    assert.equal(reads, 3);
  });

  it("makes write() wait for a slow reader (readDelayMs)", async () => {
    const times: number[] = [];
    const writer: WSGIApplication = async (_e, startResponse) => {
      const write = startResponse("200 OK", plain());
      for (let i = 0; i < 3; i++) {
        await write(Buffer.from(String(i)));
        times.push(Date.now());
      }
      return [];
    };
    const started = Date.now();
    const response = await call(writer, {}, { readDelayMs: 30 });
    assert.equal(response.text(), "012");
    assert.ok((times[2] as number) - started >= 85, `took ${(times[2] as number) - started} ms`);
  });

  it("hands chunks to a pull-based reader, the next one only after it is done", async () => {
    const order: string[] = [];
    const twoChunks: WSGIApplication = (_e, startResponse) => {
      startResponse("200 OK", plain());
      return (function* () {
        order.push("make a");
        yield Buffer.from("a");
        order.push("make b");
        yield Buffer.from("b");
      })();
    };
    const response = await call(
      twoChunks,
      {},
      {
        async onChunk(chunk) {
          order.push(`take ${Buffer.from(chunk).toString()}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push(`done ${Buffer.from(chunk).toString()}`);
        },
      },
    );
    assert.deepEqual(order, ["make a", "take a", "done a", "make b", "take b", "done b"]);
    assert.equal(response.body.length, 0);
  });

  it("hangs up after disconnectAfter bytes and says so", async () => {
    let closed = 0;
    const endless: WSGIApplication = (_e, startResponse) => {
      startResponse("200 OK", plain());
      return Object.assign(
        (function* () {
          for (;;) yield Buffer.from("0123456789");
        })(),
        {
          close: () => {
            closed += 1;
          },
        },
      );
    };
    const response = await call(endless, {}, { disconnectAfter: 25 });
    await response.done;
    assert.equal(response.text(), "0123456789012345678901234");
    assert.equal(response.disconnected, true);
    assert.equal(response.complete, false);
    assert.equal(closed, 1);
  });

  it("hangs up when the signal aborts, even before the headers", async () => {
    const controller = new AbortController();
    let readError: unknown;
    const waiting: WSGIApplication = async (environ, startResponse) => {
      try {
        await environ["wsgi.input"].read();
      } catch (error) {
        readError = error;
        throw error;
      }
      startResponse("200 OK", plain());
      return [];
    };
    async function* never() {
      yield Buffer.from("x");
      await new Promise(() => {});
    }
    setTimeout(() => controller.abort(), 10);
    const response = await call(
      waiting,
      { method: "POST", body: never() },
      { signal: controller.signal },
    );
    await response.done;
    assert.equal(response.status, 0);
    assert.equal(response.disconnected, true);
    assert.equal((readError as { code?: string }).code, "ECONNRESET");
  });
});

describe("Client", () => {
  it("adds its default headers and lets a request's own header win", async () => {
    const client = new Client(echo, { headers: { Accept: "text/html", "X-A": "1" } });
    const seen = (
      await client.get("/", { headers: { accept: "application/json" } })
    ).json<Echoed>();
    assert.equal(seen.HTTP_ACCEPT, "application/json");
    assert.equal(seen.HTTP_X_A, "1");
  });

  it("has a method per HTTP method", async () => {
    const client = new Client(echo);
    const methods: string[] = [];
    for (const send of [
      client.get,
      client.head,
      client.post,
      client.put,
      client.patch,
      client.delete,
      client.options,
    ]) {
      const response = await send.call(client, "/");
      if (response.body.length > 0) methods.push(String(response.json<Echoed>().REQUEST_METHOD));
      else methods.push("(no body)");
    }
    assert.deepEqual(methods, ["GET", "(no body)", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
  });

  it("passes its call options, overridable per request", async () => {
    const sloppy: WSGIApplication = (_e, startResponse) => {
      startResponse("200 OK", []);
      return [Buffer.from("x")];
    };
    const client = new Client(sloppy, { validate: false });
    assert.equal((await client.get("/")).text(), "x");
    await assert.rejects(client.get("/", {}, { validate: true }), AssertionError);
  });
});

/** A stand-in for wsgiref/server's `serve`: toNodeListener under node:http. */
const nodeServe: ServeFunction = async (app, { port, host }) => {
  const server = createServer(toNodeListener(app, { errors: new BufferedErrorStream() }));
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    address: server.address() as AddressInfo,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** What must match between the in-process and the wire answer. */
function essentials(response: TestResponse) {
  const skip = new Set(["date", "server", "content-length"]);
  return {
    status: response.statusLine,
    headers: response.headers
      .items()
      .filter(([name]) => !skip.has(name.toLowerCase()))
      .map(([n, v]) => [n.toLowerCase(), v]),
    body: Buffer.from(response.body).toString("latin1"),
  };
}

describe("replay", () => {
  const uriApp: WSGIApplication = async (environ: WSGIEnvironment, startResponse) => {
    const body = await environ["wsgi.input"].read();
    startResponse("201 Created", [
      ["Content-Type", "text/plain"],
      ["Set-Cookie", "a=1"],
      ["Set-Cookie", "b=2"],
    ]);
    return [Buffer.from(`${requestUri(environ, false)} ${environ.QUERY_STRING} ${body.length}`)];
  };

  it("gets over a loopback socket the answer call gets in-process", async () => {
    const request = {
      method: "POST",
      path: "/a%20b?x=1",
      headers: { Host: "example.org" },
      body: "payload",
    };
    const local = await call(uriApp, request);
    const wire = await replay(uriApp, request, { serve: nodeServe });
    assert.deepEqual(essentials(wire), essentials(local));
    assert.equal(wire.text(), "http://example.org/a%20b x=1 7");
  });

  it("collects the warnings of the served application", async () => {
    const warns: WSGIApplication = (_e, startResponse) => {
      process.emitWarning(new WSGIWarning("from the app"));
      startResponse("200 OK", plain());
      return [];
    };
    const wire = await replay(warns, {}, { serve: nodeServe });
    assert.deepEqual(
      wire.warnings.map((w) => w.message),
      ["from the app"],
    );
  });

  it("gets from the production server the answer call gets in-process", async () => {
    const request = { method: "POST", path: "/a%20b?x=1", body: "payload" };
    const local = await call(uriApp, request);
    const wire = await replay(uriApp, request);
    assert.deepEqual(essentials(wire), essentials(local));
  });
});
