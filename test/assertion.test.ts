import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AssertionError } from "../src/assertion.ts";

/** src/assertion.ts loaded afresh while `process.getBuiltinModule` is gone, as on workerd. */
async function loadWithoutNode(): Promise<typeof AssertionError> {
  const saved = process.getBuiltinModule;
  // @ts-expect-error: removed for the import only.
  delete process.getBuiltinModule;
  try {
    const fresh = await import(`../src/assertion.ts?no-node=${Date.now()}`);
    return (fresh as { AssertionError: typeof AssertionError }).AssertionError;
  } finally {
    process.getBuiltinModule = saved;
  }
}

describe("AssertionError", () => {
  it("is node:assert's own class on Node", () => {
    assert.equal(AssertionError, assert.AssertionError);
  });

  it("is a stand-in with the same name, code and message without node:assert", async () => {
    const StandIn = await loadWithoutNode();
    assert.notEqual(StandIn, assert.AssertionError);
    const error = new StandIn({ message: "write() before start_response()" });
    assert.ok(error instanceof Error);
    assert.equal(error.name, "AssertionError");
    assert.equal(error.code, "ERR_ASSERTION");
    assert.equal(error.message, "write() before start_response()");
  });
});
