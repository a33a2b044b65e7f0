import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { AssertionError } from "../src/assertion.ts";
import { loadWithoutNode } from "./helpers/bare-realm.ts";

describe("AssertionError", () => {
  it("is node:assert's own class on Node", () => {
    assert.equal(AssertionError, assert.AssertionError);
  });

  it("is a stand-in with the same name, code and message without node:assert", async () => {
    const { AssertionError: StandIn } = await loadWithoutNode<{
      AssertionError: typeof AssertionError;
    }>(fileURLToPath(new URL("../src/assertion.ts", import.meta.url)));
    assert.notEqual(StandIn, assert.AssertionError);
    const error = new StandIn({ message: "write() before start_response()" });
    // An Error of its own realm (the context without Node).
    assert.equal(Object.getPrototypeOf(StandIn.prototype).constructor.name, "Error");
    assert.equal(error.name, "AssertionError");
    assert.equal(error.code, "ERR_ASSERTION");
    assert.equal(error.message, "write() before start_response()");
  });
});
