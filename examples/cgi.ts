/**
 * An example CGI program: a small WSGI application run once per request by
 * `new CGIHandler().run(app)`, which reads the request from `process.env` and
 * `process.stdin` and writes the response to `process.stdout` (RFC 3875).
 *
 * Routes, on `PATH_INFO` (the part of the path after the script):
 *
 * - `/`          a plain-text greeting
 * - `/echo`      POST: the request body back, with the request's `Content-Type`
 * - `/env`       the CGI and `wsgi.*` variables the application saw, as JSON (also
 *                `/env/any/path`, to see how a path arrives)
 * - `/big`       `?size=N` bytes of `x` (default 4 MiB), in 64 KiB chunks
 * - `/boom`      throws: the client gets the handler's 500 page, the traceback
 *                goes to stderr (the web server's error log)
 *
 * Web servers execute files, so run it through a wrapper script that starts
 * Node with the `tsx` loader (see docs/handlers-and-cgi.md):
 *
 * ```sh
 * #!/bin/sh
 * exec /usr/bin/node --import /abs/path/node_modules/tsx/dist/loader.mjs /abs/path/examples/cgi.ts
 * ```
 *
 * With `--iis` it runs under `IISCGIHandler`, which strips the copy of
 * `SCRIPT_NAME` that IIS puts at the front of `PATH_INFO`.
 *
 * @module
 */
import { CGIHandler, IISCGIHandler } from "../src/handlers.ts";
import type { WSGIApplication, WSGIEnvironment } from "../src/types.ts";
import { decodeNative } from "../src/util.ts";

const utf8 = (text: string) => Buffer.from(text, "utf8");

/** The CGI and WSGI variables `/env` reports. */
const REPORTED = [
  "GATEWAY_INTERFACE",
  "SERVER_SOFTWARE",
  "SERVER_PROTOCOL",
  "REQUEST_METHOD",
  "SCRIPT_NAME",
  "PATH_INFO",
  "QUERY_STRING",
  "CONTENT_TYPE",
  "CONTENT_LENGTH",
  "HTTP_HOST",
  "wsgi.version",
  "wsgi.url_scheme",
  "wsgi.multithread",
  "wsgi.multiprocess",
  "wsgi.run_once",
] as const;

/** What `/env` answers: the reported keys, plus `PATH_INFO` decoded back to text. */
function describeEnviron(environ: WSGIEnvironment): Record<string, unknown> {
  const report: Record<string, unknown> = {};
  for (const key of REPORTED) report[key] = environ[key] ?? null;
  // PATH_INFO is a native string (one char per byte); decodeNative gives the text back.
  report["PATH_INFO (utf-8)"] = decodeNative(environ.PATH_INFO ?? "", "utf-8", "replace");
  return report;
}

/** `?size=N` from the query string, bounded to 64 MiB. */
function requestedSize(environ: WSGIEnvironment): number {
  const match = /(?:^|&)size=(\d+)(?:&|$)/.exec(environ.QUERY_STRING ?? "");
  return Math.min(match ? Number(match[1]) : 4 << 20, 64 << 20);
}

/** `size` bytes of `x`, in chunks of 64 KiB. */
function* filler(size: number): Generator<Uint8Array> {
  const chunk = Buffer.alloc(64 << 10, "x");
  for (let left = size; left > 0; left -= chunk.length) {
    yield left >= chunk.length ? chunk : chunk.subarray(0, left);
  }
}

/** The example application (not exported: importing this file runs it as a CGI script). */
const app: WSGIApplication = async (environ, startResponse) => {
  // Route on the first segment of PATH_INFO: "/env/caf%C3%A9" goes to "/env".
  const route = `/${(environ.PATH_INFO ?? "").split("/")[1] ?? ""}`;
  switch (route) {
    case "/": {
      const body = utf8("Hello from a WSGI application running as a CGI script!\n");
      startResponse("200 OK", [
        ["Content-Type", "text/plain; charset=utf-8"],
        ["Content-Length", String(body.length)],
      ]);
      return [body];
    }
    case "/echo": {
      if (environ.REQUEST_METHOD !== "POST") {
        startResponse("405 Method Not Allowed", [
          ["Content-Type", "text/plain; charset=utf-8"],
          ["Allow", "POST"],
        ]);
        return [utf8("POST a body to /echo.\n")];
      }
      // wsgi.input stops at CONTENT_LENGTH, so reading everything is safe.
      const body = await environ["wsgi.input"].read();
      startResponse("200 OK", [
        ["Content-Type", environ.CONTENT_TYPE || "application/octet-stream"],
        ["Content-Length", String(body.length)],
      ]);
      return [body];
    }
    case "/env": {
      const body = utf8(`${JSON.stringify(describeEnviron(environ), null, 2)}\n`);
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return [body];
    }
    case "/big": {
      const size = requestedSize(environ);
      startResponse("200 OK", [
        ["Content-Type", "application/octet-stream"],
        ["Content-Length", String(size)],
      ]);
      return filler(size);
    }
    case "/boom":
      throw new Error("boom: this traceback belongs in the server's error log");
    default: {
      // PATH_INFO is a native string: latin-1 turns it back into the bytes that came.
      startResponse("404 Not Found", [["Content-Type", "text/plain"]]);
      return [Buffer.from(`No route for ${environ.PATH_INFO}\n`, "latin1")];
    }
  }
};

const Handler = process.argv.includes("--iis") ? IISCGIHandler : CGIHandler;
try {
  await new Handler().run(app);
} catch (error) {
  // Only a failure to send even the error page gets here.
  process.stderr.write(`cgi.ts: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
}
