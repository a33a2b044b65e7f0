/**
 * Type-level tests: `npm run typecheck` compiles this file, so each `@ts-expect-error`
 * fails the build if the types stop rejecting what they should.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StartResponse, WSGIApplication, WSGIEnvironment } from "../src/types.ts";

describe("types", () => {
  it("types the environ's PEP 3333 keys, HTTP_* headers and extensions", () => {
    const check = (environ: WSGIEnvironment) => {
      const method: string = environ.REQUEST_METHOD;
      const agent: string | undefined = environ.HTTP_USER_AGENT;
      const version: readonly [number, number] = environ["wsgi.version"];
      const extension: unknown = environ["myframework.user"];
      // @ts-expect-error an HTTP_* header may be absent
      const sure: string = environ.HTTP_ACCEPT;
      // @ts-expect-error wsgi.input is a stream, not a string
      const input: string = environ["wsgi.input"];
      return [method, agent, version, extension, sure, input];
    };
    assert.equal(typeof check, "function");
  });

  it("accepts sync, async, generator and async generator applications", () => {
    const apps: WSGIApplication[] = [
      (_e, sr) => {
        sr("200 OK", [["Content-Type", "text/plain"]]);
        return [new Uint8Array()];
      },
      async (_e, sr) => {
        sr("200 OK", []);
        return [];
      },
      function* gen(_e, sr) {
        sr("200 OK", []);
        yield new Uint8Array();
      } as WSGIApplication,
      async (_e, sr) => {
        sr("200 OK", []);
        return (async function* () {
          yield new Uint8Array();
        })();
      },
    ];
    assert.equal(apps.length, 4);
  });

  it("rejects a string body and malformed headers at compile time", () => {
    // @ts-expect-error a string is not an iterable of Uint8Array chunks
    const stringBody: WSGIApplication = () => "Hello";
    const headers = (sr: StartResponse) => {
      // @ts-expect-error headers are [name, value] pairs
      sr("200 OK", [["Content-Type"]]);
      // @ts-expect-error write() takes bytes
      sr("200 OK", [])("text");
    };
    assert.equal(typeof stringBody, "function");
    assert.equal(typeof headers, "function");
  });
});
