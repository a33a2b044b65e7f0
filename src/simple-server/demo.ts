/**
 * `demoApp`: the small application that shows what a server passes in.
 *
 * @module
 */
import type { ResponseBody, StartResponse, WSGIEnvironment } from "../types.ts";
import { pyRepr } from "./python.ts";

/**
 * A small but complete WSGI application (CPython's `demo_app`): a text page with
 * `Hello world!`, a blank line, then one `key = value` line per environ key, sorted,
 * each value as Python's `repr()` prints it (`'GET'`, `(1, 0)`, `False`; an object such
 * as `wsgi.input` as `<BodyInputStream object>`). Useful to check a server works.
 */
export function demoApp(environ: WSGIEnvironment, startResponse: StartResponse): ResponseBody {
  let text = "Hello world!\n\n";
  const record = environ as Record<string, unknown>;
  for (const key of Object.keys(record).sort()) {
    text += `${key} = ${pyRepr(record[key])}\n`;
  }
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [Buffer.from(text, "utf8")];
}
