/**
 * The contract every surface that runs a WSGI application honours: the reference server,
 * the production server, both bridges and the test client (STYLE.md point 9). Cases are
 * data; a surface is a few lines that send a request and hang up on demand. The rule for
 * disconnects is docs/disconnects.md.
 *
 * Adding a surface:
 *
 *     const mine: Surface = { name: "my server", request: ..., disconnect: ... };
 *     describe(mine.name, () => {
 *       for (const c of cases) it(c.name, caseOptions(mine, c), () => runCase(mine, c));
 *     });
 *
 * (`httpSurface(name, start)` in surfaces.ts makes the whole object for an HTTP server.)
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fromFetchHandler } from "../../src/fetch.ts";
import type { WSGIApplication } from "../../src/types.ts";
import { validator } from "../../src/validate.ts";
import { Probe, probeBody, WAIT_MS } from "./probe.ts";

/** A request as the contract sends it. */
export interface ContractRequest {
  /** The method (default GET). */
  method?: string;
  /** The request target (default `/`). */
  path?: string;
  /** Headers, in order. */
  headers?: Array<[string, string]>;
  /** The body: bytes (sent with Content-Length), or a factory of chunks (sent chunked unless `headers` give a Content-Length). */
  body?: Uint8Array | (() => AsyncIterable<Uint8Array>);
}

/** A response as the client saw it. */
export interface ContractResponse {
  /** The status code. */
  status: number;
  /** The reason phrase. */
  statusText: string;
  /** The headers, names lower-cased, in order. */
  headers: Array<[string, string]>;
  /** The body bytes received. */
  body: Uint8Array;
  /** False when the body was cut short. */
  complete: boolean;
}

/** One way to run an application: a server, a bridge, the test client. */
export interface Surface {
  /** Shown in test names. */
  name: string;
  /** Sends `request` to `app` and resolves with the whole response; never rejects for a cut-short body. */
  request(app: WSGIApplication, request: ContractRequest): Promise<ContractResponse>;
  /** Sends `request`, reads at least `after` body bytes (0: just the headers), then hangs up. */
  disconnect(app: WSGIApplication, request: ContractRequest, after: number): Promise<void>;
  /** Cases this surface is known to fail, by name: what is missing. They run as `todo`. */
  todo?: Readonly<Record<string, string>>;
  /** Cases that cannot apply to this surface, by name: why. They are skipped. */
  skip?: Readonly<Record<string, string>>;
}

/** One behaviour of the contract. */
export interface ContractCase {
  /** The behaviour, as a test name. */
  name: string;
  /** Set while the behaviour is known to be missing: why, and what fixes it. */
  todo?: string;
  /** Run the application without the validator, to test what the gateway itself checks. */
  unvalidated?: boolean;
  /** The request to send. */
  request: ContractRequest;
  /** Hang up after this many body bytes instead of reading the whole response. */
  disconnectAfter?: number;
  /** The application, observing through `probe`. */
  app(probe: Probe): WSGIApplication;
  /** Checks the response (absent when the client hung up) and what the application saw. */
  check(response: ContractResponse | undefined, probe: Probe): void | Promise<void>;
}

const KiB = 1024;
/** A fresh header list each time: the handler may add to the list it is given. */
const plain = (): Array<[string, string]> => [["Content-Type", "text/plain"]];
const ERROR_BODY = "A server error occurred.  Please contact the administrator.";

const bytes = (text: string) => Buffer.from(text, "latin1");
const text = (body: Uint8Array) => Buffer.from(body).toString("latin1");
const sha256 = (body: Uint8Array) => createHash("sha256").update(body).digest("hex");

/** The value of a header (comma-joined repeats), or undefined. */
export function header(response: ContractResponse, name: string): string | undefined {
  const values = response.headers.filter(([n]) => n === name).map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(", ");
}

/** Deterministic pseudo-random bytes: `size` of them, made in chunks of at most `chunk`. */
export function* patternChunks(size: number, chunk = 64 * KiB, seed = 1): Generator<Uint8Array> {
  let state = seed;
  for (let at = 0; at < size; at += chunk) {
    const out = Buffer.allocUnsafe(Math.min(chunk, size - at));
    for (let i = 0; i < out.length; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      out[i] = state >>> 24;
    }
    yield out;
  }
}

/** The hash and length of what `patternChunks` makes, computed once. */
function patternDigest(size: number, chunk?: number): { sha256: string; length: number } {
  const hash = createHash("sha256");
  for (const part of patternChunks(size, chunk)) hash.update(part);
  return { sha256: hash.digest("hex"), length: size };
}

/** An async iterable of the pattern, made lazily. */
async function* patternStream(size: number): AsyncGenerator<Uint8Array> {
  yield* patternChunks(size, 16 * KiB);
}

/** An application that hashes the request body it reads in `size`-byte reads. */
function hashingApp(probe: Probe, size: number): WSGIApplication {
  return async (environ, startResponse) => {
    const hash = createHash("sha256");
    let length = 0;
    for (;;) {
      const chunk = await environ["wsgi.input"].read(size);
      if (chunk.length === 0) break;
      hash.update(chunk);
      length += chunk.length;
    }
    startResponse("200 OK", [["Content-Type", "application/json"]]);
    probe.finish();
    return [bytes(JSON.stringify({ sha256: hash.digest("hex"), length }))];
  };
}

const LARGE = 4 * 1024 * KiB;
const UPLOAD = 2 * 1024 * KiB;

/** The cases, in the order they run. */
export const cases: ContractCase[] = [
  {
    name: "a GET gets the status, headers and body the application gave",
    request: { path: "/" },
    app: () => (_environ, startResponse) => {
      startResponse("200 OK", [...plain(), ["X-Custom", "yes"]]);
      return [bytes("hello")];
    },
    check(response) {
      assert.ok(response);
      assert.equal(response.status, 200);
      assert.equal(response.statusText, "OK");
      assert.equal(header(response, "content-type"), "text/plain");
      assert.equal(header(response, "x-custom"), "yes");
      assert.equal(text(response.body), "hello");
      assert.equal(response.complete, true);
    },
  },
  {
    name: "the environ describes the request: paths decoded as latin-1, query raw, headers as HTTP_*",
    request: {
      method: "POST",
      path: "/caf%C3%A9/a%20b?q=1&r=%20",
      headers: [
        ["Content-Type", "text/plain"],
        ["X-Repeat", "1"],
        ["X-Repeat", "2"],
      ],
      body: bytes("abc"),
    },
    app: () => (environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      const keys = [
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "HTTP_X_REPEAT",
        "SERVER_PROTOCOL",
        "wsgi.url_scheme",
        "wsgi.input_terminated",
      ];
      return [bytes(JSON.stringify(Object.fromEntries(keys.map((k) => [k, environ[k]]))))];
    },
    check(response) {
      assert.ok(response);
      const seen = JSON.parse(text(response.body)) as Record<string, unknown>;
      const { HTTP_X_REPEAT: repeat, ...rest } = seen;
      assert.deepEqual(rest, {
        REQUEST_METHOD: "POST",
        SCRIPT_NAME: "",
        PATH_INFO: "/cafÃ©/a b",
        QUERY_STRING: "q=1&r=%20",
        CONTENT_TYPE: "text/plain",
        CONTENT_LENGTH: "3",
        SERVER_PROTOCOL: "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input_terminated": true,
      });
      // Repeats are comma-joined; a Fetch `Headers` joins them with ", " before we see them.
      assert.match(String(repeat), /^1, ?2$/);
    },
  },
  {
    name: "HEAD gets the headers a GET would get and no body",
    request: { method: "HEAD", path: "/" },
    app: () => (_environ, startResponse) => {
      startResponse("200 OK", [...plain(), ["Content-Length", "5"]]);
      return [bytes("hello")];
    },
    check(response) {
      assert.ok(response);
      assert.equal(response.status, 200);
      assert.equal(header(response, "content-length"), "5");
      assert.equal(header(response, "content-type"), "text/plain");
      assert.equal(response.body.length, 0);
    },
  },
  {
    name: "a 204 has no body and no Content-Length, even if the application yields bytes",
    request: { method: "DELETE", path: "/thing" },
    app: (probe) => (_environ, startResponse) => {
      startResponse("204 No Content", [["X-Done", "1"]]);
      return probeBody(probe, (i) => (i === 0 ? bytes("ignored") : null), "sync");
    },
    async check(response, probe) {
      assert.ok(response);
      assert.equal(response.status, 204);
      assert.equal(header(response, "x-done"), "1");
      assert.equal(header(response, "content-length"), undefined);
      assert.equal(response.body.length, 0);
      await probe.waitDone("close() of the 204 body");
      assert.equal(probe.closes, 1);
    },
  },
  {
    name: "a 304 keeps its validators and has no body",
    request: { path: "/doc", headers: [["If-None-Match", '"v1"']] },
    app: () => (_environ, startResponse) => {
      startResponse("304 Not Modified", [["ETag", '"v1"']]);
      return [];
    },
    check(response) {
      assert.ok(response);
      assert.equal(response.status, 304);
      assert.equal(header(response, "etag"), '"v1"');
      assert.equal(header(response, "content-length"), undefined);
      assert.equal(response.body.length, 0);
    },
  },
  {
    name: "a request body the application never reads does not hurt the response",
    request: { method: "POST", path: "/", body: Buffer.alloc(256 * KiB, 0x61) },
    app: () => (_environ, startResponse) => {
      startResponse("200 OK", plain());
      return [bytes("ignored your body")];
    },
    check(response) {
      assert.ok(response);
      assert.equal(response.status, 200);
      assert.equal(text(response.body), "ignored your body");
    },
  },
  {
    name: "the request body arrives whole through read(n) and readline()",
    request: {
      method: "PUT",
      path: "/",
      headers: [["Content-Type", "text/plain"]],
      body: bytes("line one\nline two\nrest without newline"),
    },
    app: () => async (environ, startResponse) => {
      const input = environ["wsgi.input"];
      const first = await input.readline();
      const some = await input.read(5);
      const rest = await input.read();
      const after = await input.read();
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      const parts = [first, some, rest, after].map(text);
      return [bytes(JSON.stringify(parts))];
    },
    check(response) {
      assert.ok(response);
      assert.deepEqual(JSON.parse(text(response.body)), [
        "line one\n",
        "line ",
        "two\nrest without newline",
        "",
      ]);
    },
  },
  {
    name: "a request body of unknown length is read to its end",
    request: { method: "POST", path: "/upload", body: () => patternStream(300 * KiB) },
    app: (probe) => hashingApp(probe, 10_000),
    check(response) {
      assert.ok(response);
      assert.deepEqual(JSON.parse(text(response.body)), patternDigest(300 * KiB, 16 * KiB));
    },
  },
  {
    name: "an error before the headers gets the 500 page",
    request: { path: "/" },
    app: () => () => {
      throw new Error("boom before anything");
    },
    check(response) {
      assert.ok(response);
      assert.equal(response.status, 500);
      assert.equal(response.statusText, "Internal Server Error");
      assert.equal(header(response, "content-type"), "text/plain");
      assert.equal(text(response.body), ERROR_BODY);
    },
  },
  {
    name: "an error in the body before its first chunk gets the 500 page and closes the body",
    request: { path: "/" },
    app: (probe) => (_environ, startResponse) => {
      startResponse("200 OK", plain());
      return probeBody(probe, () => {
        throw new Error("boom in the first chunk");
      });
    },
    async check(response, probe) {
      assert.ok(response);
      assert.equal(response.status, 500);
      assert.equal(text(response.body), ERROR_BODY);
      await probe.waitDone("close() after the error");
      assert.equal(probe.closes, 1);
    },
  },
  {
    name: "an error after the headers cuts the body short and closes it",
    request: { path: "/" },
    app: (probe) => (_environ, startResponse) => {
      startResponse("200 OK", plain());
      return probeBody(probe, (i) => {
        if (i < 2) return bytes(`part ${i};`);
        throw new Error("boom after the headers");
      });
    },
    async check(response, probe) {
      assert.ok(response);
      assert.equal(response.status, 200);
      assert.equal(response.complete, false);
      assert.ok(text(response.body).startsWith("part 0;"), text(response.body));
      await probe.waitDone("close() after the error");
      assert.equal(probe.closes, 1);
    },
  },
  {
    name: "the gateway does not change the header list the application gave",
    request: { path: "/" },
    app: (probe) => (_environ, startResponse) => {
      const headers: Array<[string, string]> = [["Content-Type", "text/plain"]];
      probe.seen.headers = headers;
      startResponse("200 OK", headers);
      return [];
    },
    check(response, probe) {
      assert.ok(response);
      assert.deepEqual(probe.seen.headers, [["Content-Type", "text/plain"]]);
    },
  },
  {
    name: "write() sends its chunks before those of the returned body",
    request: { path: "/" },
    app: () => async (_environ, startResponse) => {
      const write = startResponse("200 OK", plain());
      await write(bytes("a"));
      await write(bytes("b"));
      return [bytes("c"), bytes("d")];
    },
    check(response) {
      assert.ok(response);
      assert.equal(text(response.body), "abcd");
      assert.equal(response.complete, true);
    },
  },
  {
    name: "a large body streamed from a synchronous iterable arrives whole",
    request: { path: "/big" },
    app: (probe) => (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      const chunks = patternChunks(LARGE);
      return probeBody(probe, () => chunks.next().value ?? null, "sync");
    },
    async check(response, probe) {
      assert.ok(response);
      assert.equal(response.body.length, LARGE);
      assert.equal(sha256(response.body), patternDigest(LARGE).sha256);
      await probe.waitDone("close() at the end");
      assert.equal(probe.closes, 1);
    },
  },
  {
    name: "a large upload with a Content-Length streams to the application",
    request: {
      method: "POST",
      path: "/upload",
      headers: [["Content-Length", String(UPLOAD)]],
      body: () => patternStream(UPLOAD),
    },
    app: (probe) => hashingApp(probe, 64 * KiB),
    check(response) {
      assert.ok(response);
      assert.deepEqual(JSON.parse(text(response.body)), patternDigest(UPLOAD, 16 * KiB));
    },
  },
  {
    name: "a hang-up mid-body closes the body exactly once and stops asking for chunks",
    request: { path: "/forever" },
    disconnectAfter: 64 * KiB,
    app: (probe) => (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return probeBody(probe, () => Buffer.alloc(16 * KiB, 0x62), "sync");
    },
    async check(_response, probe) {
      await probe.waitDone("close() after the hang-up");
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(probe.closes, 1);
      assert.equal(probe.nextAfterClose, 0);
    },
  },
  {
    name: "a hang-up while the application computes a chunk closes the body after that chunk",
    request: { path: "/slow" },
    disconnectAfter: 8,
    app: (probe) => (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return probeBody(probe, async (i) => {
        if (i === 0) return bytes("12345678");
        if (i === 1) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          return bytes("late chunk");
        }
        probe.seen.askedForThird = true;
        // Ends the body late, so a server that missed the hang-up still finishes.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return null;
      });
    },
    async check(_response, probe) {
      await probe.waitDone("close() after the next chunk");
      assert.equal(probe.closes, 1);
      assert.equal(probe.seen.askedForThird, undefined);
    },
  },
  {
    name: "a hang-up while the body waits between chunks closes it at once, exactly once",
    request: { path: "/events" },
    disconnectAfter: 8,
    app: (probe) => (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/event-stream"]]);
      return probeBody(probe, async (i) => {
        if (i === 0) return bytes("data: 1\n");
        // An idle event stream: its next event would come long after the test gave up.
        await new Promise((resolve) => setTimeout(resolve, 2 * WAIT_MS).unref());
        probe.seen.producedAfterHangUp = true;
        return bytes("data: 2\n");
      });
    },
    async check(_response, probe) {
      await probe.waitDone("close() while the body waited for its next event");
      assert.equal(probe.closes, 1);
      assert.equal(probe.seen.producedAfterHangUp, undefined);
    },
  },
  {
    name: "a hang-up while an async generator body waits runs its finally block, not its next yield",
    request: { path: "/generator" },
    disconnectAfter: 8,
    app: (probe) => (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/event-stream"]]);
      return (async function* () {
        try {
          yield bytes("data: 1\n");
          await new Promise((resolve) => setTimeout(resolve, 300));
          yield bytes("data: 2\n");
          probe.seen.resumedAfterHangUp = true;
          await new Promise((resolve) => setTimeout(resolve, 2 * WAIT_MS).unref());
          yield bytes("data: 3\n");
        } finally {
          probe.finish();
        }
      })();
    },
    async check(_response, probe) {
      await probe.waitDone("the generator's finally block");
      assert.equal(probe.seen.resumedAfterHangUp, undefined);
    },
  },
  {
    name: "after a hang-up, write() and wsgi.input reads reject with ECONNRESET",
    request: { method: "POST", path: "/", body: bytes("unread body") },
    disconnectAfter: 32 * KiB,
    app: (probe) => async (environ, startResponse) => {
      const write = startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      try {
        for (;;) await write(Buffer.alloc(16 * KiB, 0x63));
      } catch (error) {
        probe.seen.write = (error as { code?: unknown }).code;
      }
      try {
        await environ["wsgi.input"].read();
        probe.seen.read = "resolved";
      } catch (error) {
        probe.seen.read = (error as { code?: unknown }).code;
      }
      probe.finish();
      return [];
    },
    async check(_response, probe) {
      await probe.waitDone("the failed write and read");
      assert.deepEqual(probe.seen, { write: "ECONNRESET", read: "ECONNRESET" });
    },
  },
  {
    name: "a Fetch handler's request.signal aborts when the client hangs up",
    request: { path: "/events" },
    disconnectAfter: 32 * KiB,
    app: (probe) =>
      fromFetchHandler((request) => {
        request.signal.addEventListener("abort", () => {
          probe.seen.aborted = (request.signal.reason as { code?: unknown }).code;
          if (probe.seen.cancelled) probe.finish();
        });
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(new Uint8Array(8 * KiB));
          },
          cancel() {
            probe.seen.cancelled = true;
            if (probe.seen.aborted) probe.finish();
          },
        });
        return new Response(stream, { headers: { "Content-Type": "text/event-stream" } });
      }),
    async check(_response, probe) {
      await probe.waitDone("request.signal to abort and the stream to be cancelled");
      assert.deepEqual(probe.seen, { aborted: "ECONNRESET", cancelled: true });
    },
  },
  ...badHeadCases(),
];

/**
 * Heads `startResponse` must refuse because no HTTP/1.1 response can carry them: each gets
 * the 500 page on every surface (nothing was sent, so the connection is still in sync),
 * and the application sees the refusal as an error it could catch.
 */
function badHeadCases(): ContractCase[] {
  const heads: Array<[what: string, status: string, headers: Array<[string, string]>]> = [
    ["a header value with a control byte", "200 OK", [["X-Bad", "a\x01b"]]],
    ["a header value with ESC", "200 OK", [["X-Bad", "a\x1b[31mb"]]],
    ["a header value with DEL", "200 OK", [["X-Bad", "a\x7fb"]]],
    ["a header name that is not a token", "200 OK", [["X Bad", "1"]]],
    ["a Content-Length that is not a number", "200 OK", [["Content-Length", "abc"]]],
    [
      "two different Content-Lengths",
      "200 OK",
      [
        ["Content-Length", "2"],
        ["Content-Length", "3"],
      ],
    ],
    ["a reason phrase with a control byte", "200 O\x01K", []],
    ["a status below 100", "099 X", []],
    ["a status above 599", "600 X", []],
    ["an informational status as the final one", "103 Early Hints", []],
  ];
  return heads.map<ContractCase>(([what, status, extra]) => ({
    name: `${what} gets the 500 page, refused by startResponse`,
    unvalidated: true,
    request: { path: "/" },
    app: (probe) => (_environ, startResponse) => {
      try {
        startResponse(status, [...plain(), ...extra]);
      } catch (error) {
        probe.seen.refused = (error as Error).name;
        throw error;
      }
      return [bytes("ok")];
    },
    check(response, probe) {
      assert.ok(response);
      assert.equal(response.status, 500);
      assert.equal(text(response.body), ERROR_BODY);
      assert.equal(probe.seen.refused, "AssertionError");
    },
  }));
}

/** The `node:test` options of a case on a surface: `skip` or `todo` with the reason, if any. */
export function caseOptions(
  surface: Surface,
  contractCase: ContractCase,
): { skip?: string; todo?: string } {
  const skip = surface.skip?.[contractCase.name];
  if (skip !== undefined) return { skip };
  const todo = surface.todo?.[contractCase.name] ?? contractCase.todo;
  return todo === undefined ? {} : { todo };
}

/**
 * Runs one case on one surface: the application under the validator, the validator's
 * warnings collected (there must be none), then the case's checks.
 */
export async function runCase(surface: Surface, contractCase: ContractCase): Promise<void> {
  const probe = new Probe();
  const app = contractCase.unvalidated
    ? contractCase.app(probe)
    : validator(contractCase.app(probe), {
        onWarning: (warning) => probe.warnings.push(warning),
      });
  let response: ContractResponse | undefined;
  if (contractCase.disconnectAfter === undefined) {
    response = await surface.request(app, contractCase.request);
  } else {
    await surface.disconnect(app, contractCase.request, contractCase.disconnectAfter);
  }
  await contractCase.check(response, probe);
  assert.deepEqual(probe.warnings.map(String), [], "the validator warned");
}
