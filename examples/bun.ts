/**
 * A WSGI application on Bun's own server, through `toFetchHandler`.
 *
 * Run: bun examples/bun.ts [PORT]   (default 8000; 0 picks a free port)
 *
 * It imports `../src/*.ts`, which is `wsgiref/*` in a project (docs/bridges-and-testing.md
 * shows it that way).
 */
import { toFetchHandler } from "../src/fetch.ts";
import type { WSGIApplication } from "../src/types.ts";

/** The part of Bun's global this file uses (the `bun-types` package has all of it). */
declare const Bun: {
  serve(options: { port: number; hostname: string; fetch: (r: Request) => Promise<Response> }): {
    port: number;
  };
};

const app: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(`Hello from ${environ.PATH_INFO} on Bun\n`)];
};

const server = Bun.serve({
  port: Number(process.argv[2] ?? 8000),
  hostname: "127.0.0.1",
  fetch: toFetchHandler(app),
});
console.log(`Serving on port ${server.port}`);
