/**
 * `fromFetchHandler(toFetchHandler(app))` is `app`: the same responses for a corpus of
 * requests, both sides under the validator, and 10 MiB each way with bounded memory.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { fromFetchHandler, toFetchHandler } from "../src/fetch.ts";
import { BufferedErrorStream } from "../src/streams.ts";
import { type CallOptions, call, type TestRequest, type TestResponse } from "../src/testing.ts";
import type { WSGIApplication } from "../src/types.ts";
import { requestUri } from "../src/util.ts";
import { validator } from "../src/validate.ts";

const plain = (): [string, string][] => [["Content-Type", "text/plain"]];
const bytes = (s: string) => Buffer.from(s, "latin1");

/** One application with a route per behaviour the corpus exercises. */
const corpusApp: WSGIApplication = async (environ, startResponse) => {
  const path = environ.PATH_INFO;
  switch (path) {
    case "/":
      startResponse("200 OK", plain());
      return [bytes("hello")];
    case "/query":
      startResponse("200 OK", plain());
      return [bytes(`query=${environ.QUERY_STRING}`)];
    case "/echo": {
      const body = await environ["wsgi.input"].read();
      startResponse("200 OK", [
        ["Content-Type", environ.CONTENT_TYPE ?? "application/octet-stream"],
      ]);
      return [bytes(`${environ.REQUEST_METHOD} ${environ.CONTENT_LENGTH ?? "-"} `), body];
    }
    case "/headers": {
      const keys = Object.keys(environ)
        .filter((k) => k.startsWith("HTTP_"))
        .sort();
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return [bytes(JSON.stringify(keys.map((k) => [k, environ[k]])))];
    }
    case "/length":
      startResponse("200 OK", [...plain(), ["Content-Length", "6"]]);
      return [bytes("sized!")];
    case "/nocontent":
      startResponse("204 No Content", [["X-Done", "yes"]]);
      return [];
    case "/notmodified":
      startResponse("304 Not Modified", [["ETag", '"abc"']]);
      return [];
    case "/cookies":
      startResponse("200 OK", [...plain(), ["Set-Cookie", "a=1; Path=/"], ["Set-Cookie", "b=2"]]);
      return [bytes("cookies")];
    case "/multi":
      startResponse("200 OK", [...plain(), ["X-Multi", "one"], ["X-Multi", "two"]]);
      return [bytes("multi")];
    case "/write": {
      const write = startResponse("200 OK", plain());
      await write(bytes("written "));
      return (function* () {
        yield bytes("then ");
        yield bytes("iterated");
      })();
    }
    case "/reason":
      startResponse("299 Custom Reason", plain());
      return [bytes("custom")];
    case "/error":
      throw new Error("the corpus fails on purpose");
    case "/late-error":
      startResponse("200 OK", plain());
      return (function* () {
        yield bytes("partial");
        throw new Error("the corpus fails late on purpose");
      })();
    default:
      startResponse("404 Not Found", plain());
      return [bytes(`no route for ${requestUri(environ)} (SCRIPT_NAME=${environ.SCRIPT_NAME})`)];
  }
};

async function* streamedBody() {
  yield bytes("streamed ");
  yield bytes("in ");
  yield bytes("pieces");
}

const corpus: Array<{ name: string; request: () => TestRequest; todo?: string }> = [
  { name: "GET /", request: () => ({ path: "/" }) },
  {
    name: "HEAD /",
    request: () => ({ method: "HEAD", path: "/" }),
  },
  { name: "a query", request: () => ({ path: "/query?a=1&b=%20&c" }) },
  { name: "JSON body", request: () => ({ method: "POST", path: "/echo", json: { x: [1, 2] } }) },
  {
    name: "a streamed body",
    request: () => ({ method: "PUT", path: "/echo", body: streamedBody() }),
  },
  {
    name: "request headers",
    request: () => ({
      path: "/headers",
      headers: [
        ["Accept", "text/html"],
        ["X-Rep", "a"],
        ["X-Rep", "b"],
        ["Cookie", "k=v"],
      ],
    }),
  },
  { name: "a Content-Length", request: () => ({ path: "/length" }) },
  { name: "HEAD with a Content-Length", request: () => ({ method: "HEAD", path: "/length" }) },
  { name: "204", request: () => ({ method: "DELETE", path: "/nocontent" }) },
  { name: "304", request: () => ({ path: "/notmodified", headers: { "If-None-Match": '"abc"' } }) },
  { name: "Set-Cookie twice", request: () => ({ path: "/cookies" }) },
  { name: "a repeated header", request: () => ({ path: "/multi" }) },
  { name: "write() then an iterable", request: () => ({ path: "/write" }) },
  { name: "a custom reason", request: () => ({ path: "/reason" }) },
  { name: "a 404 with a UTF-8 path", request: () => ({ path: "/caf%C3%A9/x?y" }) },
  { name: "a mount prefix", request: () => ({ path: "/mnt/caf%C3%A9", scriptName: "/mnt" }) },
  { name: "an error before the headers", request: () => ({ path: "/error" }) },
  { name: "an error after the headers", request: () => ({ path: "/late-error" }) },
];

/**
 * `app` behind both bridges, its own error log kept quiet. A URL does not say where the
 * mount prefix ends, so the inner bridge is told (`scriptName`), as a mounted app would be.
 */
function roundTrip(app: WSGIApplication, scriptName?: string): WSGIApplication {
  const options = { errors: new BufferedErrorStream(), ...(scriptName ? { scriptName } : {}) };
  return fromFetchHandler(toFetchHandler(app, options));
}

/**
 * What must be equal. Header names are compared lower-cased and sorted, with repeats
 * joined by ", " (except Set-Cookie): that is how a Fetch `Headers` carries them.
 */
function comparable(response: TestResponse) {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of response.headers) {
    const key = name.toLowerCase();
    grouped.set(key, [...(grouped.get(key) ?? []), value]);
  }
  const headers = [...grouped.entries()]
    .flatMap(([name, values]) =>
      name === "set-cookie" ? values.map((v) => [name, v]) : [[name, values.join(", ")]],
    )
    .sort(([a], [b]) => String(a).localeCompare(String(b)));
  return {
    status: response.statusLine,
    headers,
    body: Buffer.from(response.body).toString("latin1"),
    complete: response.complete,
    warnings: response.warnings.map(String),
  };
}

describe("fromFetchHandler(toFetchHandler(app))", () => {
  const options: CallOptions = { catchErrors: true };
  for (const { name, request, todo } of corpus) {
    it(`answers like the application itself: ${name}`, todo ? { todo } : {}, async () => {
      const direct = await call(corpusApp, request(), options);
      const bridged = await call(
        roundTrip(validator(corpusApp), request().scriptName),
        request(),
        options,
      );
      assert.deepEqual(comparable(bridged), comparable(direct));
    });
  }
});

const MiB = 1024 * 1024;
const SIZE = 10 * MiB;
const CHUNK = 64 * 1024;

/** A collectable heap: `gc()` where the test needs a true measure of what is retained. */
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Retained array-buffer bytes after a full collection. */
function retained(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

/** The baseline: collected twice, with a turn between for finalizers of earlier tests. */
async function baselineRetained(): Promise<number> {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  return retained();
}

/** The chunk `i` of a 10 MiB body, made on demand. */
const chunkAt = (i: number) => Buffer.alloc(CHUNK, i % 251);

function expectedDigest(): string {
  const hash = createHash("sha256");
  for (let i = 0; i < SIZE / CHUNK; i++) hash.update(chunkAt(i));
  return hash.digest("hex");
}

describe("10 MiB through both bridges", () => {
  it("streams a 10 MiB download lazily, chunk by chunk, with bounded memory", async () => {
    let made = 0;
    let taken = 0;
    let maxAhead = 0;
    let maxRetained = 0;
    const download: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return (function* () {
        for (let i = 0; i < SIZE / CHUNK; i++) {
          made += CHUNK;
          yield chunkAt(i);
        }
      })();
    };
    const hash = createHash("sha256");
    const baseline = await baselineRetained();
    const response = await call(
      roundTrip(validator(download)),
      {},
      {
        onChunk(chunk) {
          taken += chunk.length;
          hash.update(chunk);
          maxAhead = Math.max(maxAhead, made - taken);
          if (taken % (2 * MiB) === 0) maxRetained = Math.max(maxRetained, retained() - baseline);
        },
      },
    );
    assert.equal(response.status, 200);
    assert.equal(taken, SIZE);
    assert.equal(hash.digest("hex"), expectedDigest());
    assert.ok(maxAhead <= 4 * CHUNK, `the application ran ${maxAhead} bytes ahead of the reader`);
    assert.ok(maxRetained < SIZE / 4, `${maxRetained} bytes of buffers were retained`);
  });

  it("streams a 10 MiB upload lazily into wsgi.input, with bounded memory", async () => {
    let sent = 0;
    let read = 0;
    let maxAhead = 0;
    let maxRetained = 0;
    const baseline = await baselineRetained();
    const upload: WSGIApplication = async (environ, startResponse) => {
      const hash = createHash("sha256");
      for (;;) {
        const chunk = await environ["wsgi.input"].read(CHUNK);
        if (chunk.length === 0) break;
        read += chunk.length;
        hash.update(chunk);
        maxAhead = Math.max(maxAhead, sent - read);
        if (read % (2 * MiB) === 0) maxRetained = Math.max(maxRetained, retained() - baseline);
      }
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [bytes(`${read} ${hash.digest("hex")}`)];
    };
    async function* body() {
      for (let i = 0; i < SIZE / CHUNK; i++) {
        sent += CHUNK;
        yield chunkAt(i);
      }
    }
    const response = await call(roundTrip(validator(upload)), { method: "PUT", body: body() });
    assert.equal(response.text(), `${SIZE} ${expectedDigest()}`);
    assert.ok(maxAhead <= 4 * CHUNK, `the client ran ${maxAhead} bytes ahead of the application`);
    assert.ok(maxRetained < SIZE / 4, `${maxRetained} bytes of buffers were retained`);
  });
});
