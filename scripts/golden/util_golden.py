#!/usr/bin/env python3
"""Record what CPython's wsgiref.util does, as golden data for test/util.test.ts.

Run from anywhere with CPython 3.11+:

    python3 scripts/golden/util_golden.py

It writes test/fixtures/util-golden.json. Every environ in ENVIRONS goes through every
environ function (guess_scheme, application_uri, request_uri with and without the query,
successive shift_path_info calls, setup_testing_defaults on a copy); is_hop_by_hop runs
over HOP_NAMES. Each call is recorded as an outcome: {"value": ...} or
{"error": "KeyError", "key": "SERVER_NAME"} (any other exception: just its type name).

Conventions in the JSON:
- Absent keys are simply absent from an environ.
- {"$sentinel": "x"} in an environ stands for a unique object the test creates; in a
  setup_testing_defaults result it means that very object is still there.
- {"$new": "BytesIO"} / {"$new": "StringIO"} in a setup_testing_defaults result means a
  fresh wsgi.input / wsgi.errors stream was put there (TypeScript: an empty
  BodyInputStream / a TextErrorStream).
- Tuples become lists. Strings are written with ensure_ascii, so every non-ASCII char is
  a \\uXXXX escape and the file is byte-for-byte stable.
"""

import json
import platform
from io import BytesIO, StringIO
from pathlib import Path

from wsgiref import util

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "util-golden.json"

# How many shift_path_info calls to record at most per environ.
MAX_SHIFTS = 8


class Sentinel:
    def __init__(self, name):
        self.name = name


def base(scheme="http", name="example.org", port="80", script="", path="/", **extra):
    """An environ with the URL keys set; pass None to leave a key out."""
    env = {
        "wsgi.url_scheme": scheme,
        "SERVER_NAME": name,
        "SERVER_PORT": port,
        "SCRIPT_NAME": script,
        "PATH_INFO": path,
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def path(script, path_info):
    """A shift_path_info environ: only SCRIPT_NAME and PATH_INFO (None leaves one out)."""
    return {
        k: v for k, v in (("SCRIPT_NAME", script), ("PATH_INFO", path_info)) if v is not None
    }


ENVIRONS = [
    # --- scheme, host and port ---
    ("http, default port 80", base()),
    ("http, port 8080", base(port="8080")),
    ("http, port 443 is not default for http", base(port="443")),
    ("http, port written 080", base(port="080")),
    ("https, default port 443", base(scheme="https", port="443")),
    ("https, port 80 is not default for https", base(scheme="https", port="80")),
    ("https, port 8443", base(scheme="https", port="8443")),
    ("other scheme ftp, port 21", base(scheme="ftp", port="21")),
    ("other scheme ftp, port 80", base(scheme="ftp", port="80")),
    ("HTTP_HOST wins over SERVER_NAME and port", base(port="8080", HTTP_HOST="example.com")),
    ("HTTP_HOST with port is used verbatim", base(HTTP_HOST="example.com:8000")),
    ("HTTP_HOST on https", base(scheme="https", port="443", HTTP_HOST="secure.example")),
    ("empty HTTP_HOST falls back to SERVER_NAME", base(port="81", HTTP_HOST="")),
    ("HTTP_HOST present, SERVER_NAME and PORT absent",
     base(name=None, port=None, HTTP_HOST="h.example")),
    ("SERVER_PORT absent without HTTP_HOST", base(port=None)),
    ("SERVER_NAME absent without HTTP_HOST", base(name=None)),
    ("wsgi.url_scheme absent", base(scheme=None)),
    # --- SCRIPT_NAME ---
    ("SCRIPT_NAME and PATH_INFO both empty", base(path="")),
    ("SCRIPT_NAME and PATH_INFO both absent", base(script=None, path=None)),
    ("SCRIPT_NAME absent, PATH_INFO /x", base(script=None, path="/x")),
    ("SCRIPT_NAME /app, PATH_INFO /x", base(script="/app", path="/x")),
    ("SCRIPT_NAME /app, PATH_INFO empty", base(script="/app", path="")),
    ("SCRIPT_NAME /app/ with trailing slash", base(script="/app/", path="/x")),
    ("SCRIPT_NAME / with PATH_INFO /x", base(script="/", path="/x")),
    ("SCRIPT_NAME with space ; = , is quoted", base(script="/my app;v=1,2", path="/x;y=1,2")),
    ("SCRIPT_NAME with latin-1 char", base(script="/\xe9cole", path="/x")),
    ("SCRIPT_NAME without leading slash", base(script="app", path="/x")),
    # --- PATH_INFO quoting ---
    ("PATH_INFO with spaces", base(path="/a b/c d")),
    ("PATH_INFO with percent signs", base(path="/100%/x%2Fy")),
    ("PATH_INFO with question mark", base(path="/what?/x", QUERY_STRING="q=1")),
    ("PATH_INFO with ; = , kept", base(path="/a;b=c,d")),
    ("PATH_INFO with unreserved -._~", base(path="/a-b.c_d~e")),
    ("PATH_INFO with other reserved chars", base(path="/!$&'()*+:@[]#|\\^`{}<>\"")),
    ("PATH_INFO as native UTF-8 (caf\xc3\xa9)", base(path="/caf\xc3\xa9")),
    ("PATH_INFO with latin-1 chars", base(path="/\xe9t\xe9/\xff")),
    ("PATH_INFO with control chars", base(path="/\x00\x01\x1f\x7f\x80\x9f")),
    ("PATH_INFO with a char outside latin-1", base(path="/\u20ac")),
    ("SCRIPT_NAME with a char outside latin-1", base(script="/\u20ac", path="/x")),
    ("PATH_INFO with a lone surrogate", base(path="/\udc80")),
    ("PATH_INFO without leading slash", base(path="x")),
    ("PATH_INFO x/y without leading slash", base(path="x/y")),
    # --- QUERY_STRING ---
    ("QUERY_STRING a=1&b=2", base(path="/p", QUERY_STRING="a=1&b=2")),
    ("QUERY_STRING empty", base(path="/p", QUERY_STRING="")),
    ("QUERY_STRING is not quoted", base(path="/p", QUERY_STRING="q=a b&c=%20\xe9#f")),
    ("QUERY_STRING with SCRIPT_NAME", base(script="/app", path="", QUERY_STRING="x")),
    # --- HTTPS and guess_scheme ---
    ("HTTPS=1", {"HTTPS": "1"}),
    ("HTTPS=yes", {"HTTPS": "yes"}),
    ("HTTPS=on", {"HTTPS": "on"}),
    ("HTTPS=off", {"HTTPS": "off"}),
    ("HTTPS=ON (case matters)", {"HTTPS": "ON"}),
    ("HTTPS=Yes (case matters)", {"HTTPS": "Yes"}),
    ("HTTPS=true", {"HTTPS": "true"}),
    ("HTTPS=0", {"HTTPS": "0"}),
    ("HTTPS empty", {"HTTPS": ""}),
    ("HTTPS=' on' with space", {"HTTPS": " on"}),
    ("HTTPS absent", {}),
    ("HTTPS=on with SERVER_PORT 8443", {"HTTPS": "on", "SERVER_PORT": "8443"}),
    ("HTTPS=on with wsgi.url_scheme http", {"HTTPS": "on", "wsgi.url_scheme": "http"}),
    # --- shift_path_info ---
    ("shift: the documented /foo + /bar/baz", path("/foo", "/bar/baz")),
    ("shift: PATH_INFO /", path("", "/")),
    ("shift: PATH_INFO empty", path("", "")),
    ("shift: PATH_INFO absent", path("/app", None)),
    ("shift: SCRIPT_NAME absent", path(None, "/a/b")),
    ("shift: //x", path("", "//x")),
    ("shift: ///x", path("", "///x")),
    ("shift: /x/", path("", "/x/")),
    ("shift: /x//y//", path("", "/x//y//")),
    ("shift: /a/b/c/ until None", path("", "/a/b/c/")),
    ("shift: /a/./b", path("", "/a/./b")),
    ("shift: /a/../b", path("", "/a/../b")),
    ("shift: /./x", path("", "/./x")),
    ("shift: /.", path("", "/.")),
    ("shift: /./", path("", "/./")),
    ("shift: /x/.", path("", "/x/.")),
    ("shift: /x/..", path("", "/x/..")),
    ("shift: /.. from the root", path("", "/..")),
    ("shift: /.. from /foo/bar", path("/foo/bar", "/..")),
    ("shift: /../a from /foo", path("/foo", "/../a")),
    ("shift: /../.. from /a/b/c", path("/a/b/c", "/../..")),
    ("shift: /.x, /..x and /...", path("", "/.x/..x/...")),
    ("shift: / from SCRIPT_NAME /", path("/", "/")),
    ("shift: /x from SCRIPT_NAME //", path("//", "/x")),
    ("shift: / from SCRIPT_NAME //", path("//", "/")),
    ("shift: SCRIPT_NAME without leading slash", path("foo", "/x")),
    ("shift: SCRIPT_NAME /a/.. is normalised", path("/a/..", "/x")),
    ("shift: PATH_INFO x without slash", path("", "x")),
    ("shift: PATH_INFO x/y without leading slash", path("", "x/y")),
    ("shift: encoded chars stay as they are", path("/app", "/a%2Fb/c d/\xe9;p=1")),
    ("shift: NUL in a segment", path("", "/a\x00b/c")),
    # --- setup_testing_defaults on partial environs ---
    ("defaults: empty environ", {}),
    ("defaults: SERVER_NAME given, HTTP_HOST copies it", {"SERVER_NAME": "example.org"}),
    ("defaults: HTTP_HOST given", {"HTTP_HOST": "h.example:81"}),
    ("defaults: only SCRIPT_NAME given", {"SCRIPT_NAME": "/app"}),
    ("defaults: only PATH_INFO given", {"PATH_INFO": "/x"}),
    ("defaults: wsgi.url_scheme https", {"wsgi.url_scheme": "https"}),
    ("defaults: wsgi.url_scheme ftp gets no port", {"wsgi.url_scheme": "ftp"}),
    ("defaults: method and protocol given",
     {"REQUEST_METHOD": "POST", "SERVER_PROTOCOL": "HTTP/1.1"}),
    ("defaults: nothing overwritten in a full environ", {
        "SERVER_NAME": "s.example", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "h.example",
        "REQUEST_METHOD": "PUT", "SCRIPT_NAME": "/s", "PATH_INFO": "/p",
        "wsgi.version": [9, 9], "wsgi.run_once": True, "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.input": {"$sentinel": "input"},
        "wsgi.errors": {"$sentinel": "errors"}, "wsgi.url_scheme": "https",
        "SERVER_PORT": "8443",
    }),
    ("defaults: empty strings are kept", {
        "SERVER_NAME": "", "HTTP_HOST": "", "REQUEST_METHOD": "", "SCRIPT_NAME": "",
        "PATH_INFO": "", "wsgi.url_scheme": "", "SERVER_PORT": "",
    }),
    ("defaults: extra keys are left alone", {"HTTP_X_CUSTOM": "1", "QUERY_STRING": "a=b"}),
]

HOP_NAMES = [
    "Connection", "connection", "CONNECTION", "Keep-Alive", "keep-alive", "KEEP-ALIVE",
    "Proxy-Authenticate", "proxy-authorization", "TE", "te", "Trailers", "trailers",
    "Trailer", "Transfer-Encoding", "transfer-encoding", "Upgrade", "UPGRADE",
    "Proxy-Connection", "Content-Length", "Content-Type", "Host", "Set-Cookie",
    "X-Connection", "Connection ", " connection", "Keep_Alive", "", "\u212aeep-alive",
    "Transfer-Encoding\x00",
]


def from_json(value):
    if isinstance(value, dict) and "$sentinel" in value:
        return Sentinel(value["$sentinel"])
    if isinstance(value, list):
        return tuple(value)
    return value


def to_json(value):
    if isinstance(value, Sentinel):
        return {"$sentinel": value.name}
    if isinstance(value, BytesIO):
        return {"$new": "BytesIO"}
    if isinstance(value, StringIO):
        return {"$new": "StringIO"}
    if isinstance(value, tuple):
        return list(value)
    return value


def outcome(call):
    try:
        return {"value": to_json(call())}
    except KeyError as e:
        return {"error": "KeyError", "key": e.args[0]}
    except Exception as e:  # noqa: BLE001 - any exception is an observation
        return {"error": type(e).__name__}


def live(environ):
    return {k: from_json(v) for k, v in environ.items()}


def shifts(environ):
    env = live(environ)
    steps = []
    for _ in range(MAX_SHIFTS):
        before = dict(env)
        step = outcome(lambda: util.shift_path_info(env))
        for key in ("SCRIPT_NAME", "PATH_INFO"):
            if key in env:
                step[key] = env[key]
        steps.append(step)
        if "error" in step or (step["value"] is None and env == before):
            break
    return steps


def defaults(environ):
    env = live(environ)
    util.setup_testing_defaults(env)
    return [[k, to_json(v)] for k, v in env.items()]


def record(name, environ):
    return {
        "name": name,
        "environ": environ,
        "guess_scheme": outcome(lambda: util.guess_scheme(live(environ))),
        "application_uri": outcome(lambda: util.application_uri(live(environ))),
        "request_uri": outcome(lambda: util.request_uri(live(environ))),
        "request_uri_no_query": outcome(lambda: util.request_uri(live(environ), False)),
        "shift_path_info": shifts(environ),
        "setup_testing_defaults": outcome(lambda: defaults(environ)),
    }


def main():
    names = [name for name, _ in ENVIRONS]
    assert len(names) == len(set(names)), "case names must be unique"
    data = {
        "generator": "scripts/golden/util_golden.py",
        "python": platform.python_version(),
        "environs": [record(name, environ) for name, environ in ENVIRONS],
        "is_hop_by_hop": [
            {"name": n, **outcome(lambda n=n: util.is_hop_by_hop(n))} for n in HOP_NAMES
        ],
    }
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=True) + "\n", encoding="ascii")
    print(f"wrote {OUT} ({len(ENVIRONS)} environs, {len(HOP_NAMES)} header names)")


if __name__ == "__main__":
    main()
