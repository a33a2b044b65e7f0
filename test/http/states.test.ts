import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  REQUEST_NEXT,
  REQUEST_STATE_NAMES,
  REQUEST_STATES,
  RESPONSE_NEXT,
  RESPONSE_STATE_NAMES,
  RESPONSE_STATES,
  TRIGGER_NAMES,
  TRIGGERS,
} from "../../src/http/states.ts";

describe("state tables", () => {
  it("compile the request side's transitions exactly", () => {
    REQUEST_STATE_NAMES.forEach((state, i) => {
      TRIGGER_NAMES.forEach((trigger, j) => {
        const to = REQUEST_NEXT[i * TRIGGERS + j]!;
        assert.equal(
          to < 0 ? undefined : REQUEST_STATE_NAMES[to],
          REQUEST_STATES[state][trigger],
          `${state} ${trigger}`,
        );
      });
    });
  });

  it("compile the response side's transitions exactly", () => {
    RESPONSE_STATE_NAMES.forEach((state, i) => {
      TRIGGER_NAMES.forEach((trigger, j) => {
        const to = RESPONSE_NEXT[i * TRIGGERS + j]!;
        assert.equal(
          to < 0 ? undefined : RESPONSE_STATE_NAMES[to],
          RESPONSE_STATES[state][trigger],
          `${state} ${trigger}`,
        );
      });
    });
  });

  it("list every state of the tables, in index order", () => {
    assert.deepEqual([...REQUEST_STATE_NAMES].sort(), Object.keys(REQUEST_STATES).sort());
    assert.deepEqual([...RESPONSE_STATE_NAMES].sort(), Object.keys(RESPONSE_STATES).sort());
  });

  it("make ERROR reachable from every state but SWITCHED, and final", () => {
    for (const [state, next] of Object.entries(REQUEST_STATES)) {
      if (state !== "SWITCHED") assert.equal(next.error, "ERROR", state);
    }
    assert.deepEqual(Object.values(REQUEST_STATES.ERROR), ["ERROR"]);
    assert.deepEqual(Object.values(RESPONSE_STATES.ERROR), ["ERROR"]);
  });
});
