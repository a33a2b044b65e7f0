/**
 * The lazy `Request` of the Fetch fast path (src/server/lazy-request.ts): what it answers
 * itself (method, URL, headers, signal, body) and what it hands to a standard `Request`
 * built on first need (`clone()`, `formData()`, `cache`, ...).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RequestHead } from "../../src/http/parser.ts";
import { abortRequest, LazyRequest } from "../../src/server/lazy-request.ts";
import { BodyInputStream } from "../../src/streams.ts";

/** A parsed head with these fields (the rest as a plain GET has them). */
function head(fields: Partial<RequestHead>): RequestHead {
  return {
    type: "request",
    method: "GET",
    target: "/",
    form: "origin",
    path: "/",
    query: "",
    version: "HTTP/1.1",
    headers: [],
    host: "example.test",
    contentLength: null,
    chunked: false,
    hasBody: false,
    keepAlive: true,
    expectContinue: false,
    upgrade: null,
    underscoreNames: false,
    ...fields,
  };
}

const lazy = (fields: Partial<RequestHead>, body: string | null = null, keep = false) =>
  new LazyRequest(
    head(fields),
    "http://example.test",
    body === null ? null : BodyInputStream.of(Buffer.from(body)),
    keep,
  ) as unknown as Request;

describe("LazyRequest", () => {
  it("is a Request, with the standard's method normalization and the absolute URL", () => {
    const request = lazy({ method: "patch", path: "/a%2Fb", query: "x=1" });
    assert.ok(request instanceof Request);
    assert.equal(request.method, "PATCH");
    assert.equal(request.url, "http://example.test/a%2Fb?x=1");
    assert.equal(lazy({ method: "PROPFIND" }).method, "PROPFIND");
  });

  it("gives the headers without hop-by-hop ones, and without names with _ unless kept", () => {
    const fields = [
      "Accept",
      "a/b",
      "Connection",
      "x-drop",
      "X_Forwarded",
      "1",
      "X-Forwarded",
      "2",
    ];
    const request = lazy({ headers: fields, underscoreNames: true });
    assert.deepEqual(
      [...request.headers],
      [
        ["accept", "a/b"],
        ["x-forwarded", "2"],
      ],
    );
    const kept = lazy({ headers: fields, underscoreNames: true }, null, true);
    assert.equal(kept.headers.get("x_forwarded"), "1");
  });

  it("reads the body as text, JSON or a stream; a GET has none", async () => {
    assert.equal(await lazy({ method: "POST" }, "héllo").text(), "héllo");
    assert.deepEqual(await lazy({ method: "POST" }, '{"a":1}').json(), { a: 1 });
    const chunks: Uint8Array[] = [];
    for await (const chunk of lazy({ method: "POST" }, "abc").body as ReadableStream<Uint8Array>)
      chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString(), "abc");
    assert.equal(lazy({}).body, null);
  });

  it("refuses a second read of the body, as the standard does", async () => {
    const request = lazy({ method: "POST" }, "once");
    await request.text();
    assert.equal(request.bodyUsed, true);
    await assert.rejects(request.text(), TypeError);
  });

  it("builds the standard Request for the rest: clone(), formData(), cache", async () => {
    const request = lazy(
      { method: "POST", headers: ["Content-Type", "application/x-www-form-urlencoded"] },
      "a=1&b=2",
    );
    assert.equal(request.cache, "default");
    const copy = request.clone();
    assert.equal((await copy.formData()).get("b"), "2");
    assert.equal(await request.text(), "a=1&b=2");
  });

  it("aborts its signal with the reason, even when the signal is first read afterwards", () => {
    const early = lazy({});
    const signal = early.signal;
    const reason = new Error("gone");
    abortRequest(early as unknown as LazyRequest, reason);
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, reason);
    const late = lazy({});
    abortRequest(late as unknown as LazyRequest, reason);
    assert.equal(late.signal.aborted, true);
    assert.equal(late.signal.reason, reason);
  });
});
