"""Run CPython's wsgiref.handlers over a table of scripted apps and record the bytes.

Each case describes an application as data (status, headers, chunks returned, chunks
passed to write(), where it raises), so test/handlers.test.ts can build the same app in
TypeScript and compare our handler's output with CPython's, byte for byte.
Writes test/fixtures/handlers-golden.json.  Run: python3 scripts/golden/handlers_golden.py
"""
import io
import json
import os
import re
import sys
from wsgiref.handlers import BaseCGIHandler, SimpleHandler

BASE_ENV = {
    "REQUEST_METHOD": "GET",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.0",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/",
}

CASES = [
    {"name": "one chunk gets a Content-Length", "body": ["hello"]},
    {"name": "two chunks get no Content-Length", "body": ["hello ", "world"]},
    {"name": "empty list gets Content-Length 0", "body": []},
    {"name": "one empty chunk gets Content-Length 0", "body": [""]},
    {"name": "app-set Content-Length is kept", "headers": [["Content-Type", "text/plain"], ["Content-Length", "5"]], "body": ["he", "llo"]},
    {"name": "generator body", "body": ["a", "b", "c"], "kind": "generator"},
    {"name": "generator of one chunk gets no Content-Length", "body": ["abc"], "kind": "generator"},
    {"name": "write() then a body", "write": ["written "], "body": ["returned"]},
    {"name": "write() only", "write": ["only ", "writes"], "body": []},
    {"name": "app-set Date and Server are kept", "headers": [["Date", "Mon, 01 Jan 2001 00:00:00 GMT"], ["Server", "mine"]], "body": ["x"]},
    {"name": "404 with a body", "status": "404 Not Found", "body": ["not found"]},
    {"name": "status with a long reason", "status": "418 I'm a teapot, short and stout", "body": ["tea"]},
    {"name": "repeated headers keep order", "headers": [["Set-Cookie", "a=1"], ["X-A", "1"], ["Set-Cookie", "b=2"]], "body": ["c"]},
    {"name": "raises before start_response", "raise": "before", "body": ["never"]},
    {"name": "raises after start_response, before body", "raise": "after_start", "body": ["never"]},
    {"name": "raises after the first chunk", "raise": "after_first", "body": ["first", "second"], "kind": "generator"},
    {"name": "error status retry with exc_info", "retry": True, "body": ["sorry"]},
    {"name": "hop-by-hop header is an error", "headers": [["Connection", "close"]], "body": ["x"]},
    {"name": "status without a space is an error", "status": "200OK", "body": ["x"]},
    {"name": "status too short is an error", "status": "200", "body": ["x"]},
    {"name": "non-digit status is an error", "status": "2x0 OK", "body": ["x"]},
    {"name": "latin-1 header value", "headers": [["X-Name", "caf\u00e9"]], "body": ["x"]},
    {"name": "HTTP/1.1 request still gets HTTP/1.0 status line", "environ": {"SERVER_PROTOCOL": "HTTP/1.1"}, "body": ["x"]},
    {"name": "HTTP/0.9 client gets no head", "environ": {"SERVER_PROTOCOL": "HTTP/0.9"}, "body": ["x"]},
    {"name": "CGI: Status header", "cgi": True, "body": ["hello"]},
    {"name": "CGI: error page", "cgi": True, "raise": "before", "body": ["x"]},
    {"name": "CGI: redirect", "cgi": True, "status": "302 Found", "headers": [["Location", "/elsewhere"], ["Content-Type", "text/plain"]], "body": []},
    {"name": "CGI: two chunks", "cgi": True, "body": ["a", "b"]},
]


def make_app(case):
    status = case.get("status", "200 OK")
    headers = case.get("headers", [["Content-Type", "text/plain"]])
    body = [c.encode("latin-1") for c in case.get("body", [])]
    writes = [c.encode("latin-1") for c in case.get("write", [])]
    kind = case.get("kind", "list")
    raise_at = case.get("raise")

    def app(environ, start_response):
        if raise_at == "before":
            raise ValueError("boom before")
        if case.get("retry"):
            start_response(status, [tuple(h) for h in headers])
            try:
                raise ValueError("boom")
            except ValueError:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
        else:
            write = start_response(status, [tuple(h) for h in headers])
            for w in writes:
                write(w)
        if raise_at == "after_start":
            raise ValueError("boom after start")
        if kind == "generator":
            def gen():
                for i, c in enumerate(body):
                    if raise_at == "after_first" and i == 1:
                        raise ValueError("boom after first")
                    yield c
            return gen()
        return list(body)

    return app


def run(case):
    env = dict(BASE_ENV)
    env.update(case.get("environ", {}))
    out = io.BytesIO()
    err = io.StringIO()
    cls = BaseCGIHandler if case.get("cgi") else SimpleHandler
    handler = cls(io.BytesIO(b""), out, err, env, multithread=False, multiprocess=False)
    handler.os_environ = {}
    handler.server_software = None if case.get("cgi") else "TestServer/1.0"
    handler.run(make_app(case))
    raw = out.getvalue().decode("latin-1")
    raw = re.sub(r"Date: [^\r]*GMT\r\n", "Date: <date>\r\n", raw)
    errors = err.getvalue()
    return {"output": raw, "logged": "Traceback" in errors, "error_names": re.findall(r"^(\w+Error)", errors, re.M)}


def main():
    results = []
    for case in CASES:
        results.append({"case": case, "expected": run(case)})
    path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "handlers-golden.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"python": sys.version.split()[0], "results": results}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
