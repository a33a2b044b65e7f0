import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { BodyInputStream, TextErrorStream } from "../src/streams.ts";
import type { WSGIEnvironment } from "../src/types.ts";
import {
  applicationUri,
  guessScheme,
  isHopByHop,
  requestUri,
  setupTestingDefaults,
  shiftPathInfo,
} from "../src/util.ts";

// ---------------------------------------------------------------------------------------
// Golden cases recorded from CPython by scripts/golden/util_golden.py
// ---------------------------------------------------------------------------------------

type Outcome<T> = { value: T } | { error: string; key?: string };
type ShiftStep = Outcome<string | null> & { SCRIPT_NAME?: string; PATH_INFO?: string };
interface EnvironCase {
  name: string;
  environ: Record<string, unknown>;
  guess_scheme: Outcome<string>;
  application_uri: Outcome<string>;
  request_uri: Outcome<string>;
  request_uri_no_query: Outcome<string>;
  shift_path_info: ShiftStep[];
  setup_testing_defaults: Outcome<[string, unknown][]>;
}
interface UtilGolden {
  python: string;
  environs: EnvironCase[];
  is_hop_by_hop: (Outcome<boolean> & { name: string })[];
}

const golden: UtilGolden = JSON.parse(
  readFileSync(new URL("./fixtures/util-golden.json", import.meta.url), "utf8"),
);

/** The fixture's environ as a live object: each {"$sentinel": x} becomes a unique object. */
function liveEnviron(c: EnvironCase): {
  environ: WSGIEnvironment;
  sentinels: Map<string, object>;
} {
  const sentinels = new Map<string, object>();
  const environ: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(c.environ)) {
    if (isTagged(value, "$sentinel")) {
      const sentinel = { sentinel: value.$sentinel };
      sentinels.set(value.$sentinel, sentinel);
      environ[key] = sentinel;
    } else {
      environ[key] = structuredClone(value);
    }
  }
  return { environ: environ as unknown as WSGIEnvironment, sentinels };
}

function isTagged<K extends string>(value: unknown, tag: K): value is Record<K, string> {
  return typeof value === "object" && value !== null && tag in value;
}

/** How a CPython outcome reads in a test name. */
function show(outcome: Outcome<unknown>): string {
  if ("error" in outcome) return `throws (${outcome.error}${outcome.key ? ` ${outcome.key}` : ""})`;
  return outcome.value === null ? "undefined" : JSON.stringify(outcome.value);
}

/** Checks that `run` matches CPython: the same value, or a TypeError where CPython raised. */
function expectOutcome(outcome: Outcome<unknown>, run: () => unknown): void {
  if ("error" in outcome) {
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
      // A KeyError in CPython is a TypeError that names the missing key here.
      if (outcome.key !== undefined) assert.match(error.message, new RegExp(`"${outcome.key}"`));
      return true;
    });
  } else {
    assert.deepEqual(run(), outcome.value === null ? undefined : outcome.value);
  }
}

describe(`guessScheme matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    it(`${c.name} → ${show(c.guess_scheme)}`, () => {
      expectOutcome(c.guess_scheme, () => guessScheme(liveEnviron(c).environ));
    });
  }
});

describe(`applicationUri matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    it(`${c.name} → ${show(c.application_uri)}`, () => {
      expectOutcome(c.application_uri, () => applicationUri(liveEnviron(c).environ));
    });
  }
});

describe(`requestUri matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    it(`${c.name} → ${show(c.request_uri)}`, () => {
      expectOutcome(c.request_uri, () => requestUri(liveEnviron(c).environ));
    });
  }
});

describe(`requestUri(environ, false) matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    it(`${c.name} → ${show(c.request_uri_no_query)}`, () => {
      expectOutcome(c.request_uri_no_query, () => requestUri(liveEnviron(c).environ, false));
    });
  }
});

describe(`shiftPathInfo, called repeatedly, matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    const steps = c.shift_path_info.map(show).join(", ");
    it(`${c.name} → ${steps}`, () => {
      const { environ } = liveEnviron(c);
      c.shift_path_info.forEach((step, i) => {
        expectOutcome(step, () => shiftPathInfo(environ));
        const after = { SCRIPT_NAME: environ.SCRIPT_NAME, PATH_INFO: environ.PATH_INFO };
        const expected = { SCRIPT_NAME: step.SCRIPT_NAME, PATH_INFO: step.PATH_INFO };
        assert.deepEqual(after, expected, `environ after shift #${i + 1}`);
      });
    });
  }
});

/** Keys CPython sets to 0 and we set to false (PEP 3333 calls them booleans). */
const BOOLEAN_KEYS = new Set(["wsgi.run_once", "wsgi.multithread", "wsgi.multiprocess"]);

describe(`setupTestingDefaults matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    const outcome = c.setup_testing_defaults;
    if ("error" in outcome) throw new Error(`CPython's setup_testing_defaults failed: ${c.name}`);
    it(`${c.name} → ${outcome.value.length} keys`, () => {
      const { environ, sentinels } = liveEnviron(c);
      setupTestingDefaults(environ);
      assert.deepEqual(
        Object.keys(environ),
        outcome.value.map(([key]) => key),
        "the same keys in the same order",
      );
      for (const [key, expected] of outcome.value) {
        const actual = environ[key];
        if (isTagged(expected, "$sentinel")) {
          assert.equal(actual, sentinels.get(expected.$sentinel), `${key} is kept`);
        } else if (isTagged(expected, "$new")) {
          const type = expected.$new === "BytesIO" ? BodyInputStream : TextErrorStream;
          assert.ok(actual instanceof type, `${key} is a new ${type.name}`);
        } else if (BOOLEAN_KEYS.has(key) && !(key in c.environ)) {
          assert.equal(actual, Boolean(expected), key);
        } else {
          assert.deepEqual(actual, expected, key);
        }
      }
    });
  }
});

describe(`isHopByHop matches CPython ${golden.python}`, () => {
  for (const c of golden.is_hop_by_hop) {
    it(`${JSON.stringify(c.name)} → ${show(c)}`, () => {
      expectOutcome(c, () => isHopByHop(c.name));
    });
  }
});

// ---------------------------------------------------------------------------------------
// Behaviour the golden data cannot show
// ---------------------------------------------------------------------------------------

describe("the environ functions", () => {
  it("name the missing key in their error", () => {
    const environ = { "wsgi.url_scheme": "http", SERVER_NAME: "h" } as unknown as WSGIEnvironment;
    assert.throws(() => applicationUri(environ), {
      name: "TypeError",
      message: 'applicationUri(): environ["SERVER_PORT"] is missing (a KeyError in CPython)',
    });
  });

  it("reject a key that holds something other than a string", () => {
    const environ = {
      "wsgi.url_scheme": "http",
      SERVER_NAME: "h",
      SERVER_PORT: 80,
    } as unknown as WSGIEnvironment;
    assert.throws(() => applicationUri(environ), {
      name: "TypeError",
      message: 'environ["SERVER_PORT"] must be a string, got number',
    });
  });

  it("name a char outside latin-1 when quoting", () => {
    const environ = { "wsgi.url_scheme": "http", HTTP_HOST: "h", PATH_INFO: "/€" };
    assert.throws(() => requestUri(environ as unknown as WSGIEnvironment), {
      name: "TypeError",
      message: 'environ["PATH_INFO"] is not a latin-1 native string: "€" at index 1',
    });
  });

  it("shiftPathInfo mounts an app: /foo + /bar/baz becomes /foo/bar + /baz", () => {
    const environ = { SCRIPT_NAME: "/foo", PATH_INFO: "/bar/baz" } as WSGIEnvironment;
    assert.equal(shiftPathInfo(environ), "bar");
    assert.deepEqual([environ.SCRIPT_NAME, environ.PATH_INFO], ["/foo/bar", "/baz"]);
  });

  it("guessScheme accepts a plain record such as process.env", () => {
    assert.equal(guessScheme({ HTTPS: "on", PATH: "/bin" }), "https");
  });
});

describe("setupTestingDefaults", () => {
  it("makes a WSGIEnvironment whose wsgi.input is empty", async () => {
    const environ = {};
    setupTestingDefaults(environ);
    // The assertion signature narrows `environ` to a WSGIEnvironment from here on.
    const method: string = environ.REQUEST_METHOD;
    assert.equal(method, "GET");
    assert.equal((await environ["wsgi.input"].read()).length, 0);
    assert.deepEqual(environ["wsgi.version"], [1, 0]);
  });

  it("gives each environ its own streams", () => {
    const a = {};
    const b = {};
    setupTestingDefaults(a);
    setupTestingDefaults(b);
    assert.notEqual(a["wsgi.input"], b["wsgi.input"]);
    assert.notEqual(a["wsgi.errors"], b["wsgi.errors"]);
  });

  it("treats a key holding undefined as absent", () => {
    const environ: Partial<WSGIEnvironment> = { REQUEST_METHOD: undefined as unknown as string };
    setupTestingDefaults(environ);
    assert.equal(environ.REQUEST_METHOD, "GET");
  });
});
