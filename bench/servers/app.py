"""Benchmark app for CPython: the routes of common.ts as a plain WSGI app.

``python3 app.py PORT`` serves it with ``wsgiref.simple_server`` (request log silenced, as
in the other servers); ``gunicorn app:app`` serves the same ``app``.
"""
import re
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

HELLO = b"Hello, World!"
CHUNK_SIZE = 64 * 1024
CHUNK = b"x" * CHUNK_SIZE


def chunks(size):
    left = size
    view = memoryview(CHUNK)
    while left > 0:
        yield CHUNK if left >= CHUNK_SIZE else bytes(view[:left])
        left -= CHUNK_SIZE


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/download":
        match = re.search(r"(?:^|&)bytes=(\d+)", environ.get("QUERY_STRING", ""))
        size = int(match.group(1)) if match else 100 * 1024 * 1024
        start_response("200 OK", [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(size)),
        ])
        return chunks(size)
    if path == "/upload":
        stream = environ["wsgi.input"]
        left = int(environ.get("CONTENT_LENGTH") or 0)
        received = 0
        while left > 0:
            data = stream.read(min(CHUNK_SIZE, left))
            if not data:
                break
            received += len(data)
            left -= len(data)
        body = str(received).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))])
    return [HELLO]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


if __name__ == "__main__":
    httpd = make_server("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0, app,
                        handler_class=QuietHandler)
    print(f"LISTENING {httpd.server_port}", flush=True)
    httpd.serve_forever()
