import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afterEach, describe, it } from "node:test";
import {
  isWorkerd,
  nodeBuiltin,
  requireListeningSockets,
  UnsupportedRuntimeError,
} from "../src/runtime.ts";

const original = Object.getOwnPropertyDescriptor(globalThis, "navigator");

/** Makes this process look like workerd, as far as `navigator.userAgent` goes. */
function pretendWorkerd(): void {
  Object.defineProperty(globalThis, "navigator", {
    value: { userAgent: "Cloudflare-Workers" },
    configurable: true,
  });
}

describe("requireListeningSockets", () => {
  afterEach(() => {
    if (original) Object.defineProperty(globalThis, "navigator", original);
    else delete (globalThis as { navigator?: unknown }).navigator;
  });

  it("does nothing on Node", () => {
    assert.equal(isWorkerd(), false);
    requireListeningSockets("wsgiref/server");
  });

  it("throws ERR_UNSUPPORTED_RUNTIME naming the module and wsgiref/fetch on workerd", () => {
    pretendWorkerd();
    assert.equal(isWorkerd(), true);
    assert.throws(
      () => requireListeningSockets("wsgiref/server"),
      (error: unknown) => {
        assert.ok(error instanceof UnsupportedRuntimeError);
        assert.equal(error.code, "ERR_UNSUPPORTED_RUNTIME");
        assert.match(error.message, /^wsgiref\/server listens on TCP sockets/);
        assert.match(error.message, /toFetchHandler from wsgiref\/fetch/);
        return true;
      },
    );
  });
});

describe("nodeBuiltin", () => {
  it("gives Node's own module on Node", () => {
    assert.equal(nodeBuiltin<typeof import("node:fs")>("node:fs")?.readFileSync, readFileSync);
  });

  it("gives undefined for a module Node does not have", () => {
    assert.equal(nodeBuiltin("node:no-such-module"), undefined);
  });
});
