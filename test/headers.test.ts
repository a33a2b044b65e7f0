import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import fc from "fast-check";
import { formatParam, Headers } from "../src/headers.ts";
import type { HeaderTuple } from "../src/types.ts";

// ---------------------------------------------------------------------------------------
// Golden cases recorded from CPython by scripts/golden/headers_golden.py
// ---------------------------------------------------------------------------------------

interface Op {
  op: string;
  args: unknown[];
  value?: unknown;
  error?: string;
  /** The wrapped list after the operation. */
  list: HeaderTuple[];
}
interface Case {
  name: string;
  init: unknown;
  ops?: Op[];
  init_error?: string;
}
interface HeadersGolden {
  python: string;
  cases: Case[];
  formatparam: { args: [string, string | null, 0 | 1]; value: string }[];
}

const golden: HeadersGolden = JSON.parse(
  readFileSync(new URL("./fixtures/headers-golden.json", import.meta.url), "utf8"),
);

/** Runs one recorded operation the TypeScript way. Arguments are passed on unchecked. */
function run(headers: Headers, list: HeaderTuple[] | undefined, { op, args }: Op): unknown {
  const [a, b, c] = args as [string, string, [string, string | null][]];
  switch (op) {
    case "len":
      return headers.length;
    case "set":
      return headers.set(a, b);
    case "delete":
      return headers.delete(a);
    case "get":
      return args.length === 2 ? headers.get(a, b) : headers.get(a);
    case "getitem":
      return headers.get(a);
    case "contains":
      return headers.has(a);
    case "get_all":
      return headers.getAll(a);
    case "keys":
      return headers.keys();
    case "values":
      return headers.values();
    case "items":
      return headers.items();
    case "setdefault":
      return headers.setDefault(a, b);
    case "add_header":
      return headers.addHeader(a, b, Object.fromEntries(c));
    case "str":
      return headers.toString();
    case "bytes":
      return { hex: Buffer.from(headers.toBytes()).toString("hex") };
    case "list_append":
      assert.ok(list, "the case wraps a list");
      list.push([a, b]);
      return undefined;
    case "list_clear":
      assert.ok(list, "the case wraps a list");
      list.length = 0;
      return undefined;
    default:
      throw new Error(`unknown op ${op}`);
  }
}

describe(`Headers matches CPython ${golden.python}`, () => {
  for (const c of golden.cases) {
    if (c.init_error !== undefined) {
      it(`${c.name}: construction throws (${c.init_error} in CPython)`, () => {
        assert.throws(() => new Headers(structuredClone(c.init) as HeaderTuple[]), TypeError);
      });
      continue;
    }
    it(c.name, () => {
      const list =
        c.init === null ? undefined : (structuredClone(c.init) as HeaderTuple[] | undefined);
      const headers = list === undefined ? new Headers() : new Headers(list);
      (c.ops ?? []).forEach((op, i) => {
        const label = `op #${i + 1} ${op.op}(${JSON.stringify(op.args).slice(1, -1)})`;
        if (op.error !== undefined) {
          assert.throws(() => run(headers, list, op), TypeError, `${label} throws`);
        } else {
          const expected = op.value === null ? undefined : op.value;
          assert.deepEqual(run(headers, list, op), expected, label);
        }
        assert.deepEqual(list ?? headers.items(), op.list, `the list after ${label}`);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------
// Behaviour the golden data cannot show
// ---------------------------------------------------------------------------------------

describe("Headers wraps the list it is given", () => {
  it("shows changes to the list, and the list shows its changes", () => {
    const list: HeaderTuple[] = [["Content-Type", "text/plain"]];
    const headers = new Headers(list);
    list.push(["X-Pushed", "1"]);
    assert.equal(headers.get("x-pushed"), "1");
    headers.set("X-Set", "2");
    headers.delete("content-type");
    assert.deepEqual(list, [
      ["X-Pushed", "1"],
      ["X-Set", "2"],
    ]);
  });

  it("hands out copies from items(), and iterates the wrapped list itself", () => {
    const list: HeaderTuple[] = [["A", "1"]];
    const headers = new Headers(list);
    const [first] = [...headers];
    assert.equal(first, list[0]);
    assert.notEqual(headers.items()[0], list[0]);
  });

  it("still refuses to serialise a tuple changed to hold CR/LF behind its back", () => {
    const headers = new Headers([["A", "1"]]);
    for (const tuple of headers) tuple[1] = "1\r\nInjected: yes";
    assert.throws(() => headers.toString(), TypeError);
  });

  it("iterates over [name, value] tuples in order", () => {
    const headers = new Headers([
      ["A", "1"],
      ["B", "2"],
    ]);
    assert.deepEqual(Array.from(headers), [
      ["A", "1"],
      ["B", "2"],
    ]);
  });

  it("shows as Headers([...]) in util.inspect and as its list in JSON", () => {
    const headers = new Headers([["A", "1"]]);
    assert.equal(inspect(headers), "Headers([ [ 'A', '1' ] ])");
    assert.equal(JSON.stringify(headers), '[["A","1"]]');
  });

  it("compares names ignoring case, as Python's str.lower() does, Unicode included", () => {
    const list: HeaderTuple[] = [["Content-Type", "text/plain"]];
    const headers = new Headers(list);
    assert.equal(headers.get("CONTENT-type"), "text/plain");
    assert.equal(headers.get("Content-Typ"), undefined);
    assert.equal(headers.get("Content_Type"), undefined);
    // Names pushed onto the wrapped list skip the checks; lookups still follow Python.
    list.push(["İ", "dotted"], ["Straße", "sharp"]);
    assert.equal(headers.get("i\u0307"), "dotted", '"İ".lower() is "i̇" (two code units)');
    assert.equal(headers.get("STRASSE"), undefined, '"Straße".lower() is not "strasse"');
    assert.equal(headers.get("STRAßE"), "sharp");
    headers.delete("content-TYPE");
    assert.deepEqual(headers.keys(), ["İ", "Straße"]);
  });

  it("get() with a default returns it for a missing name", () => {
    const fallback: string | number = new Headers().get("X", 0);
    assert.equal(fallback, 0);
  });
});

describe("Headers refuses what could split a response", () => {
  const cases: [label: string, act: () => unknown, message: string][] = [
    [
      "a CR LF value on construction",
      () => new Headers([["X-A", "a\r\nb"]]),
      'Header value for "X-A" contains CR/LF/NUL: "a\\r\\nb"',
    ],
    [
      "a name that is not a token on construction",
      () => new Headers([["X A", "v"]]),
      'Header name "X A" is not a valid token (RFC 9110 §5.6.2)',
    ],
    [
      "a tuple that is not a pair on construction",
      () => new Headers([["X-A"]] as unknown as HeaderTuple[]),
      "Header #0 must be a [name, value] tuple, got [ 'X-A' ]",
    ],
    [
      "a string instead of a list",
      () => new Headers("X-A: v" as unknown as HeaderTuple[]),
      "Headers must be a list of [name, value] tuples, got a string",
    ],
    [
      "an LF in set()",
      () => new Headers().set("X-A", "a\nb"),
      'Header value for "X-A" contains CR/LF/NUL: "a\\nb"',
    ],
    [
      "a lone CR in set()",
      () => new Headers().set("X-A", "a\rb"),
      'Header value for "X-A" contains CR/LF/NUL: "a\\rb"',
    ],
    [
      "a NUL in set()",
      () => new Headers().set("X-A", "a\0b"),
      'Header value for "X-A" contains CR/LF/NUL: "a\\u0000b"',
    ],
    [
      "a CR LF in a name",
      () => new Headers().set("X-A\r\nX-B", "v"),
      'Header name "X-A\\r\\nX-B" is not a valid token (RFC 9110 §5.6.2)',
    ],
    [
      "an empty name",
      () => new Headers().set("", "v"),
      'Header name "" is not a valid token (RFC 9110 §5.6.2)',
    ],
    [
      "a colon in a name",
      () => new Headers().set("X-A:", "v"),
      'Header name "X-A:" is not a valid token (RFC 9110 §5.6.2)',
    ],
    [
      "a non-ASCII name",
      () => new Headers().set("Näme", "v"),
      'Header name "Näme" is not a valid token (RFC 9110 §5.6.2)',
    ],
    [
      "a number as value",
      () => new Headers().set("X-A", 1 as unknown as string),
      'Header value for "X-A" must be a string, got number (1)',
    ],
    [
      "a number as name",
      () => new Headers().set(1 as unknown as string, "v"),
      "Header name must be a string, got number (1)",
    ],
    [
      "a CR LF value in setDefault()",
      () => new Headers().setDefault("X-A", "a\r\nb"),
      'Header value for "X-A" contains CR/LF/NUL: "a\\r\\nb"',
    ],
    [
      "a CR LF value in addHeader()",
      () => new Headers().addHeader("X-A", "a\r\nb"),
      'Header value for "X-A" contains CR/LF/NUL: "a\\r\\nb"',
    ],
    [
      "a bad name in addHeader()",
      () => new Headers().addHeader("X A", "v"),
      'Header name "X A" is not a valid token (RFC 9110 §5.6.2)',
    ],
    [
      "a CR LF parameter value in addHeader()",
      () => new Headers().addHeader("X-A", "v", { filename: "a\r\nSet-Cookie: x" }),
      'Header parameter "filename" for "X-A" contains CR/LF/NUL: "a\\r\\nSet-Cookie: x"',
    ],
    [
      "a parameter name that is not a token in addHeader()",
      () => new Headers().addHeader("X-A", "v", { "a\r\nb": "1" }),
      'Header parameter name "a\\r\\nb" for "X-A" is not a valid token',
    ],
    [
      "a number as parameter value in addHeader()",
      () => new Headers().addHeader("X-A", "v", { p: 1 as unknown as string }),
      'Header parameter "p" for "X-A" must be a string, got number (1)',
    ],
  ];
  for (const [label, act, message] of cases) {
    it(`rejects ${label}`, () => {
      assert.throws(act, { name: "TypeError", message });
    });
  }

  it("leaves the headers as they were when set() is refused", () => {
    // CPython deletes the old header before it checks the new value; we check first.
    const headers = new Headers([["X-A", "old"]]);
    assert.throws(() => headers.set("X-A", "a\r\nb"), TypeError);
    assert.deepEqual(headers.items(), [["X-A", "old"]]);
  });

  it("leaves the headers as they were when addHeader() is refused", () => {
    const headers = new Headers();
    assert.throws(() => headers.addHeader("X-A", "v", { ok: "1", bad: "\n" }), TypeError);
    assert.equal(headers.length, 0);
  });

  it("refuses to render a bad header pushed onto the wrapped list", () => {
    const list: HeaderTuple[] = [];
    const headers = new Headers(list);
    list.push(["X-A", "a\r\nSet-Cookie: evil=1"]);
    const message = 'Header value for "X-A" contains CR/LF/NUL: "a\\r\\nSet-Cookie: evil=1"';
    assert.throws(() => headers.toString(), { name: "TypeError", message });
    assert.throws(() => headers.toBytes(), { name: "TypeError", message });
  });

  it("rejects a value outside latin-1 in toBytes(), naming the header", () => {
    assert.throws(() => new Headers([["X-Price", "5 €"]]).toBytes(), {
      name: "TypeError",
      message: 'Header value for "X-Price" is not latin-1: "€" in "5 €"',
    });
  });

  it("accepts tabs, latin-1 and other control characters in values, as CPython does", () => {
    const headers = new Headers([["X-A", "a\tb\u00e9\u0001"]]);
    assert.equal(Buffer.from(headers.toBytes()).toString("hex"), "582d413a20610962e9010d0a0d0a");
  });

  it("never renders more lines than it has headers, whatever it is given", () => {
    // Mostly well-formed names, with the characters an attacker would use mixed in.
    const tricky = fc.constantFrom("a", "Z", "-", " ", ":", "\r", "\n", "\0", "\t", "é", "€");
    const anyString = fc.oneof(
      fc.string({ unit: tricky, maxLength: 8 }),
      fc.string({ unit: "binary", maxLength: 8 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(anyString, anyString, anyString), { maxLength: 5 }),
        (entries) => {
          const headers = new Headers();
          for (const [name, value, param] of entries) {
            const attempts = [
              () => headers.set(name, value),
              () => headers.setDefault(name, value),
              () => headers.addHeader(name, value, { [param]: value, q: param }),
            ];
            for (const attempt of attempts) {
              try {
                attempt();
              } catch (error) {
                assert.ok(error instanceof TypeError);
              }
            }
          }
          const lines = headers.toString().split("\r\n");
          assert.equal(lines.length, headers.length + 2);
          assert.ok(lines.slice(0, -2).every((line) => !/[\r\n\0]/.test(line)));
        },
      ),
    );
  });
});

describe(`formatParam matches CPython ${golden.python}'s _formatparam`, () => {
  for (const { args, value } of golden.formatparam) {
    const [name, paramValue, quote] = args;
    it(`(${JSON.stringify(args).slice(1, -1)}) → ${JSON.stringify(value)}`, () => {
      assert.equal(formatParam(name, paramValue, quote === 1), value);
    });
  }
});
