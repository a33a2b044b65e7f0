import assert from "node:assert/strict";
import { it } from "node:test";
import {
  mount,
  type ProxyFixOptions,
  proxyFix,
  type StaticFilesOptions,
  staticFiles,
} from "../../src/middleware.ts";
import type { WSGIApplication } from "../../src/types.ts";

// Type-level checks: this file only has to compile (tsc runs over test/).
const app: WSGIApplication = (_environ, startResponse) => {
  startResponse("204 No Content", []);
  return [];
};

it("middleware take and return WSGIApplications, and their options are typed", () => {
  proxyFix(app) satisfies WSGIApplication;
  mount({ "/a": app }) satisfies WSGIApplication;
  mount({ "/a": app }, app) satisfies WSGIApplication;
  staticFiles("/srv") satisfies WSGIApplication;
  ({ for: 1, proto: 0 }) satisfies ProxyFixOptions;
  ({ fallback: app, maxAge: 60, index: false, dotfiles: true }) satisfies StaticFilesOptions;

  // @ts-expect-error hop counts are numbers
  ({ for: "1" }) satisfies ProxyFixOptions;
  // @ts-expect-error there is no x_for: the options are named after the header
  ({ x_for: 1 }) satisfies ProxyFixOptions;
  // @ts-expect-error exactOptionalPropertyTypes: an absent option is left out, not undefined
  ({ maxAge: undefined }) satisfies StaticFilesOptions;
  // @ts-expect-error index is a file name or false, never true
  ({ index: true }) satisfies StaticFilesOptions;
  assert.throws(
    // @ts-expect-error mount points map to applications (and it is checked at run time too)
    () => mount({ "/a": "not an app" }),
    TypeError,
  );
});
