#!/usr/bin/env python3
"""Record what CPython's wsgiref.headers.Headers does, as golden data for test/headers.test.ts.

Run from anywhere with CPython 3.11+:

    python3 scripts/golden/headers_golden.py

It writes test/fixtures/headers-golden.json: a list of cases, each a header list to start
from ("init"; null means Headers() with no argument) and a sequence of operations. Each
operation is recorded with its outcome ({"value": ...} or {"error": "<exception type>"})
and "list": a snapshot of the wrapped Python list after it ran, which shows that the
Headers object and the list it wraps see each other's changes.

Operations (Python spelling -> what the TypeScript test calls):
  len -> .length            set -> .set()            delete -> .delete()
  get -> .get()             getitem (h[name]) -> .get()
  contains -> .has()        get_all -> .getAll()     keys/values/items -> same
  setdefault -> .setDefault()
  add_header [name, value, [[param, value], ...]] -> .addHeader(name, value, {param: value})
  str -> .toString()        bytes -> .toBytes(), recorded as {"hex": "..."}
  list_append [name, value] -> push onto the wrapped list directly
  list_clear -> empty the wrapped list directly

"formatparam" records Python's _formatparam(param, value, quote) for formatParam.

A case with "init_error" checks construction only. Strings are written with ensure_ascii,
so every non-ASCII char is a \\uXXXX escape and the file is byte-for-byte stable.
"""

import json
import platform
from pathlib import Path

from wsgiref.headers import Headers, _formatparam

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "headers-golden.json"

CT = ["Content-Type", "text/plain"]
DUPES = [["Content-Type", "text/plain"], ["Set-Cookie", "a=1"], ["set-cookie", "b=2"]]

CASES = [
    ("an empty Headers", None, [
        ["len"], ["str"], ["bytes"], ["items"], ["keys"], ["values"],
        ["get", "X"], ["getitem", "X"], ["contains", "X"], ["get_all", "X"],
    ]),
    ("an empty list", [], [["len"], ["str"]]),
    ("duplicates are counted and kept in order", DUPES, [
        ["len"], ["keys"], ["values"], ["items"], ["str"], ["bytes"],
    ]),
    ("names are case-insensitive", DUPES, [
        ["get", "SET-COOKIE"], ["get", "set-cookie"], ["getitem", "content-type"],
        ["contains", "CONTENT-TYPE"], ["get_all", "Set-Cookie"], ["get_all", "SET-cookie"],
    ]),
    ("get returns the first value, or the default", DUPES, [
        ["get", "Set-Cookie"], ["get", "Missing"], ["get", "Missing", "fallback"],
        ["get", "Set-Cookie", "fallback"], ["getitem", "Missing"],
    ]),
    ("set replaces every occurrence and appends at the end",
     [["A", "1"], ["B", "2"], ["a", "3"], ["C", "4"]], [
        ["set", "a", "new"], ["items"], ["len"], ["str"],
    ]),
    ("set of a new name appends", [CT], [
        ["set", "X-New", "1"], ["items"], ["set", "X-New", "2"], ["items"],
    ]),
    ("set with the same name in other case renames it", [["x-a", "1"]], [
        ["set", "X-A", "2"], ["keys"],
    ]),
    ("delete removes every occurrence", DUPES, [
        ["delete", "SET-COOKIE"], ["len"], ["items"], ["contains", "Set-Cookie"],
    ]),
    ("delete of an absent name is not an error", [CT], [
        ["delete", "X-Missing"], ["len"], ["items"],
    ]),
    ("delete everything", [CT], [["delete", "content-type"], ["len"], ["str"]]),
    ("deleted and re-added fields go to the end", [["A", "1"], ["B", "2"]], [
        ["delete", "A"], ["list_append", "A", "3"], ["keys"], ["get_all", "A"],
    ]),
    ("contains is true for an empty value", [["X-Empty", ""]], [
        ["contains", "X-Empty"], ["get", "X-Empty"], ["get", "X-Empty", "d"], ["str"],
    ]),
    ("get_all of an absent name is empty", [CT], [["get_all", "X"]]),
    ("setdefault adds an absent header", [CT], [
        ["setdefault", "X-A", "1"], ["items"],
    ]),
    ("setdefault keeps a present header", [["X-A", "1"], ["x-a", "2"]], [
        ["setdefault", "X-A", "other"], ["items"], ["setdefault", "x-A", "again"], ["len"],
    ]),
    ("setdefault keeps a present empty value", [["X-A", ""]], [
        ["setdefault", "X-A", "other"], ["items"],
    ]),
    ("add_header with a parameter", None, [
        ["add_header", "content-disposition", "attachment", [["filename", "bud.gif"]]],
        ["items"], ["str"],
    ]),
    ("add_header turns _ into - in parameter names", None, [
        ["add_header", "X-A", "v", [["foo_bar", "1"], ["a__b_", "2"]]], ["items"],
    ]),
    ("add_header with a None parameter writes the bare name", None, [
        ["add_header", "Set-Cookie", "a=1", [["secure", None], ["http_only", None]]],
        ["items"],
    ]),
    ("add_header with a None value", None, [
        ["add_header", "X-A", None, [["a", "b"]]], ["items"],
    ]),
    ("add_header with a None value and no parameters", None, [
        ["add_header", "X-A", None, []], ["items"], ["str"],
    ]),
    ("add_header with no parameters", None, [
        ["add_header", "X-A", "plain", []], ["items"],
    ]),
    ("add_header with an empty value keeps the separator", None, [
        ["add_header", "X-A", "", [["a", "b"]]], ["items"],
    ]),
    ("add_header with an empty parameter value writes the bare name", None, [
        ["add_header", "X-A", "v", [["a", ""]]], ["items"],
    ]),
    ("add_header always quotes parameter values", None, [
        ["add_header", "X-A", "v", [["plain", "token"], ["num", "42"]]], ["items"],
    ]),
    ("add_header quotes values with spaces and tspecials", None, [
        ["add_header", "X-A", "v", [["sp", "a b"], ["specials", "()<>@,;:/[]?="]]],
        ["items"],
    ]),
    ("add_header escapes quotes and backslashes", None, [
        ["add_header", "X-A", "v", [["q", 'say "hi"'], ["b", "back\\slash"],
                                    ["both", '\\"']]],
        ["items"], ["str"],
    ]),
    ("add_header keeps parameter order", None, [
        ["add_header", "X-A", "v", [["z", "1"], ["a", "2"], ["m", None], ["b_c", "3"]]],
        ["items"],
    ]),
    ("add_header appends and never replaces", [["X-A", "old"]], [
        ["add_header", "X-A", "new", []], ["get_all", "X-A"], ["len"],
    ]),
    ("add_header with latin-1 and tab in values", None, [
        ["add_header", "X-A", "caf\xe9", [["n", "\xe9t\xe9\tx"]]], ["items"], ["bytes"],
    ]),
    ("str and bytes with latin-1 values", [["X-Name", "caf\xe9 \xff"]], [
        ["str"], ["bytes"],
    ]),
    ("bytes fails for a value outside latin-1", [["X-Euro", "\u20ac"]], [
        ["str"], ["bytes"],
    ]),
    ("an empty value serialises as name, colon, space", [["X-Empty", ""]], [
        ["str"], ["bytes"],
    ]),
    ("keys, values and items keep the given case and order",
     [["b", "2"], ["A", "1"], ["c-C", "3"], ["A", "0"]], [
        ["keys"], ["values"], ["items"],
    ]),
    ("changes to the wrapped list show through", [CT], [
        ["list_append", "X-A", "1"], ["len"], ["get", "x-a"], ["items"],
        ["list_clear"], ["len"], ["str"],
    ]),
    ("changes through Headers show in the wrapped list", [CT, ["X-A", "1"]], [
        ["set", "X-B", "2"], ["delete", "content-type"], ["setdefault", "X-C", "3"],
        ["add_header", "X-D", "4", [["p", "q"]]],
    ]),
    ("set rejects a non-string value", [CT], [["set", "X-A", 1], ["len"]]),
    ("set rejects a non-string name", [CT], [["set", 1, "v"]]),
    ("setdefault rejects a non-string value", [CT], [["setdefault", "X-A", None]]),
    ("add_header rejects a non-string value", None, [["add_header", "X-A", 1, []]]),
    ("add_header rejects a non-string parameter value", None, [
        ["add_header", "X-A", "v", [["p", 1]]], ["len"],
    ]),
]

# _formatparam(param, value, quote): add_header always passes quote=1; with quote=0 only
# a value holding a tspecials character is quoted.
FORMATPARAM = [
    ["filename", "bud.gif", 1], ["filename", 'a "b"\\c', 1], ["secure", None, 1],
    ["empty", "", 1], ["empty", "", 0], ["secure", None, 0], ["charset", "utf-8", 0],
    ["n", "token!#$%&'*+-.^_`|~", 0], ["n", "caf\xe9", 0], ["n", "a\tb", 0],
] + [["n", f"a{ch}b", 0] for ch in ' ()<>@,;:\\"/[]?=']

INIT_ERRORS = [
    ("a string is not a header list", "Content-Type: text/plain"),
    ("a non-string value in the list", [["X-A", 1]]),
    ("a non-string name in the list", [[1, "v"]]),
    ("a one-element tuple in the list", [["X-A"]]),
    ("a three-element tuple in the list", [["X-A", "1", "2"]]),
]


def outcome(call):
    try:
        value = call()
    except Exception as e:  # noqa: BLE001 - any exception is an observation
        return {"error": type(e).__name__}
    if isinstance(value, bytes):
        return {"value": {"hex": value.hex()}}
    if isinstance(value, list):
        return {"value": [list(v) if isinstance(v, tuple) else v for v in value]}
    return {"value": value}


def run(h, lst, op, args):
    if op == "len":
        return len(h)
    if op == "set":
        h[args[0]] = args[1]
        return None
    if op == "delete":
        del h[args[0]]
        return None
    if op == "get":
        return h.get(*args)
    if op == "getitem":
        return h[args[0]]
    if op == "contains":
        return args[0] in h
    if op == "get_all":
        return h.get_all(args[0])
    if op in ("keys", "values", "items"):
        return getattr(h, op)()
    if op == "setdefault":
        return h.setdefault(args[0], args[1])
    if op == "add_header":
        name, value, params = args
        return h.add_header(name, value, **dict(params))
    if op == "str":
        return str(h)
    if op == "bytes":
        return bytes(h)
    if op == "list_append":
        lst.append((args[0], args[1]))
        return None
    if op == "list_clear":
        del lst[:]
        return None
    raise ValueError(f"unknown op {op}")


def record(name, init, ops):
    lst = [tuple(kv) for kv in init] if init is not None else None
    h = Headers(lst) if lst is not None else Headers()
    lst = h._headers  # the wrapped list (the one Headers() made, when init is None)
    steps = []
    for op, *args in ops:
        step = {"op": op, "args": args, **outcome(lambda: run(h, lst, op, args))}
        step["list"] = [list(kv) for kv in lst]
        steps.append(step)
    return {"name": name, "init": init, "ops": steps}


def record_init_error(name, init):
    value = [tuple(kv) for kv in init] if isinstance(init, list) else init
    result = outcome(lambda: Headers(value))
    assert "error" in result, name
    return {"name": name, "init": init, "init_error": result["error"]}


def main():
    names = [c[0] for c in CASES] + [c[0] for c in INIT_ERRORS]
    assert len(names) == len(set(names)), "case names must be unique"
    data = {
        "generator": "scripts/golden/headers_golden.py",
        "python": platform.python_version(),
        "cases": [record(*case) for case in CASES]
        + [record_init_error(*case) for case in INIT_ERRORS],
        "formatparam": [
            {"args": args, **outcome(lambda args=args: _formatparam(*args))} for args in FORMATPARAM
        ],
    }
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=True) + "\n", encoding="ascii")
    print(f"wrote {OUT} ({len(names)} cases)")


if __name__ == "__main__":
    main()
