"""The benchmark's transfer client: REPEAT downloads or uploads of BYTES each, in a row, timed.

Usage:
    python3 transfer-client.py download HOST PORT BYTES REPEAT
    python3 transfer-client.py upload HOST PORT BYTES REPEAT

Prints one JSON line, {"bytes": <body bytes moved>, "seconds": <wall time>}; on any
failure (a connection error, a status other than 200, a short body, a wrong count) a
one-line message on stderr and exit status 1.

Why not curl: curl reads a download in 16 KiB recv calls and sends an upload in 64 KiB
pieces, so the client, not the server, set the pace. In the upload the servers sat about
67% idle, and MB/s swung by +-50% from run to run. This client reads with ``recv_into`` a
preallocated 1 MiB buffer and sends with ``sendall`` of 1 MiB pieces, so the server under
test is the bottleneck and the numbers hold still (node:http, writing 64 KiB chunks,
downloads at 1.1-1.2 GB/s in every run).

One request per connection, with ``Connection: close`` (CPython's simple server and gunicorn
sync close anyway): download is ``GET /download?bytes=BYTES``, the body must be exactly
BYTES long (Content-Length too); upload is ``POST /upload`` with a Content-Length body of
zeros, and the answer (read until the server closes) must be the decimal count the server
read, equal to BYTES. Python 3 standard library only.
"""

import json
import socket
import sys
import time

BUFFER_SIZE = 1024 * 1024
HEAD_READ = 64 * 1024


class Failure(Exception):
    """A transfer that did not go as it should."""


def connect(host, port):
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def split_head(data):
    """(status, headers as a lower-cased dict, body bytes after the head) of a response."""
    end = data.find(b"\r\n\r\n")
    lines = bytes(data[:end]).decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise Failure(f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise Failure(f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers, data[end + 4 :]


def dechunk(data):
    """The payload of a whole chunked body (srvx answers a small text that way)."""
    out = bytearray()
    at = 0
    while True:
        eol = data.index(b"\r\n", at)
        length = int(data[at:eol].split(b";")[0], 16)
        if length == 0:
            return bytes(out)
        out += data[eol + 2 : eol + 2 + length]
        at = eol + 2 + length + 2


def read_head(sock):
    """Reads until the end of the response head, which may take several recv calls."""
    data = bytearray()
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(HEAD_READ)
        if not chunk:
            raise Failure(f"connection closed after {len(data)} bytes, in the response head")
        data += chunk
    return split_head(data)


def download(host, port, size, buffer):
    view = memoryview(buffer)
    with connect(host, port) as sock:
        sock.sendall(
            f"GET /download?bytes={size} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Connection: close\r\n\r\n".encode("latin-1")
        )
        status, headers, early = read_head(sock)
        if status != 200:
            raise Failure(f"download: status {status}")
        length = headers.get("content-length")
        if length is None or not length.isdigit() or int(length) != size:
            raise Failure(f"download: Content-Length {length!r}, wanted {size}")
        got = len(early)
        if got > size:
            raise Failure(f"download: {got} body bytes with the head, more than {size}")
        while got < size:
            n = sock.recv_into(view, min(BUFFER_SIZE, size - got))
            if n == 0:
                raise Failure(f"download: connection closed after {got} of {size} bytes")
            got += n
    return got


def upload(host, port, size, buffer):
    with connect(host, port) as sock:
        sock.sendall(
            f"POST /upload HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/octet-stream\r\n"
            f"Content-Length: {size}\r\nConnection: close\r\n\r\n".encode("latin-1")
        )
        left = size
        while left >= BUFFER_SIZE:
            sock.sendall(buffer)
            left -= BUFFER_SIZE
        if left:
            sock.sendall(memoryview(buffer)[:left])
        response = bytearray()
        while True:
            chunk = sock.recv(HEAD_READ)
            if not chunk:
                break
            response += chunk
    if b"\r\n\r\n" not in response:
        raise Failure(f"upload: incomplete response ({len(response)} bytes)")
    status, headers, body = split_head(response)
    if status != 200:
        raise Failure(f"upload: status {status}")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = dechunk(bytes(body))
    text = bytes(body).strip()
    if not text.isdigit() or int(text) != size:
        raise Failure(f"upload: the server read {text[:40]!r} bytes, not {size}")
    return size


def main(argv):
    if len(argv) != 6 or argv[1] not in ("download", "upload"):
        raise Failure("usage: transfer-client.py download|upload HOST PORT BYTES REPEAT")
    kind, host = argv[1], argv[2]
    port, size, repeat = int(argv[3]), int(argv[4]), int(argv[5])
    transfer = download if kind == "download" else upload
    buffer = bytearray(BUFFER_SIZE)
    total = 0
    began = time.perf_counter()
    for _ in range(repeat):
        total += transfer(host, port, size, buffer)
    seconds = time.perf_counter() - began
    print(json.dumps({"bytes": total, "seconds": seconds}))


if __name__ == "__main__":
    try:
        main(sys.argv)
    except (Failure, OSError, ValueError) as error:
        print(f"transfer-client: {error}", file=sys.stderr)
        sys.exit(1)
