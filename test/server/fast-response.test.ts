/**
 * The light `Response` of the Fetch fast path (src/server/fast-response.ts): installed as
 * `globalThis.Response`, it behaves as the standard says (`instanceof`, `clone()`,
 * `Response.json()`, `Response.redirect()`, the checks of the constructor), while the
 * server reads a string or bytes body without a stream.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  FastResponse,
  fastParts,
  installFastResponse,
  uninstallFastResponse,
} from "../../src/server/fast-response.ts";

const Standard = globalThis.Response;

describe("FastResponse installed as globalThis.Response", () => {
  before(() => installFastResponse());
  after(() => uninstallFastResponse());

  it("is the global Response, and instanceof holds both ways", () => {
    assert.equal(globalThis.Response, FastResponse);
    const light = new Response("hi");
    assert.ok(light instanceof Response);
    assert.ok(light instanceof Standard);
    assert.ok(new Standard("hi") instanceof Response);
    assert.ok(!({} instanceof Response));
  });

  it("answers status, headers and body as the standard does", async () => {
    const response = new Response("héllo", {
      status: 201,
      statusText: "Made",
      headers: { "X-A": "1" },
    });
    assert.equal(response.status, 201);
    assert.equal(response.ok, true);
    assert.equal(response.statusText, "Made");
    assert.equal(response.headers.get("x-a"), "1");
    assert.equal(response.headers.get("content-type"), "text/plain;charset=UTF-8");
    assert.equal(response.bodyUsed, false);
    assert.equal(await response.text(), "héllo");
    assert.equal(response.bodyUsed, true);
    assert.equal(response.type, "default");
  });

  it("clones, and each clone reads the whole body", async () => {
    const response = new Response(new Uint8Array([1, 2, 3]), { status: 202 });
    const copy = response.clone();
    assert.ok(copy instanceof Response);
    assert.equal(copy.status, 202);
    assert.deepEqual(new Uint8Array(await copy.arrayBuffer()), new Uint8Array([1, 2, 3]));
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), new Uint8Array([1, 2, 3]));
  });

  it("Response.json() sets application/json and keeps the init", async () => {
    const response = Response.json({ a: [1, "b"] }, { status: 404, headers: { "X-B": "2" } });
    assert.ok(response instanceof Response);
    assert.equal(response.status, 404);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(response.headers.get("x-b"), "2");
    assert.deepEqual(await response.json(), { a: [1, "b"] });
    assert.throws(() => Response.json(undefined), TypeError);
  });

  it("Response.redirect() and Response.error() are the standard's", () => {
    const redirect = Response.redirect("https://example.test/next", 307);
    assert.ok(redirect instanceof Response);
    assert.equal(redirect.status, 307);
    assert.equal(redirect.headers.get("location"), "https://example.test/next");
    // The types insist on a status; the standard defaults it to 302 and refuses a non-redirect.
    const redirectAny = Response.redirect as (url: string, status?: number) => Response;
    assert.equal(redirectAny("https://example.test/").status, 302);
    assert.throws(() => redirectAny("https://example.test/", 200), RangeError);
    assert.equal(Response.error().type, "error");
  });

  it("throws as the standard does for a bad status or a body on a null-body status", () => {
    assert.throws(() => new Response("x", { status: 600 }), RangeError);
    assert.throws(() => new Response("x", { status: 204 }), TypeError);
    assert.equal(new Response(null, { status: 204 }).status, 204);
  });

  it("takes any other body (a stream, URLSearchParams) through the standard Response", async () => {
    const form = new Response(new URLSearchParams({ q: "a b" }));
    assert.equal(
      form.headers.get("content-type"),
      "application/x-www-form-urlencoded;charset=UTF-8",
    );
    assert.equal(await form.text(), "q=a+b");
    assert.equal(fastParts(form), null);
  });
});

describe("fastParts", () => {
  it("gives a light response's body and headers as they were given", () => {
    const response = new FastResponse("hi", { status: 200, headers: [["X-C", "3"]] });
    assert.deepEqual(fastParts(response as unknown as Response), {
      status: 200,
      statusText: "",
      headers: [["X-C", "3"]],
      body: "hi",
      defaultTextType: true,
    });
  });

  it("gives nothing once the standard Response was built (its body may have been read)", async () => {
    const response = new FastResponse("hi") as unknown as Response;
    await response.text();
    assert.equal(fastParts(response), null);
    assert.equal(fastParts(new Standard("hi")), null);
  });
});

describe("uninstallFastResponse", () => {
  it("puts the standard Response back after the last install", () => {
    installFastResponse();
    installFastResponse();
    uninstallFastResponse();
    assert.equal(globalThis.Response, FastResponse);
    uninstallFastResponse();
    assert.equal(globalThis.Response, Standard);
  });
});
