/**
 * A WSGI application on Deno's own server, through `toFetchHandler`.
 *
 * Run: deno run --allow-net --allow-env --allow-read examples/deno.ts [PORT]
 * (default 8000; 0 picks a free port)
 *
 * It imports `../src/*.ts`, which is `wsgiref/*` in a project (docs/bridges-and-testing.md
 * shows it that way).
 */
import { toFetchHandler } from "../src/fetch.ts";
import type { WSGIApplication } from "../src/types.ts";

/** The part of Deno's global this file uses. */
declare const Deno: {
  args: string[];
  serve(
    options: { port: number; hostname: string; onListen(address: { port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown;
};

const app: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(`Hello from ${environ.PATH_INFO} on Deno\n`)];
};

Deno.serve(
  {
    port: Number(Deno.args[0] ?? 8000),
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(`Serving on port ${port}`),
  },
  toFetchHandler(app),
);
