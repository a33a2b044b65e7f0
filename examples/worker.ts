/**
 * A WSGI application as a module worker for workerd (Cloudflare Workers' runtime),
 * through `toFetchHandler`. Bundle it beside examples/worker.capnp, then serve it:
 *
 *     npx esbuild examples/worker.ts --bundle --platform=neutral --format=esm \
 *       --outfile=examples/worker.js
 *     npx workerd serve examples/worker.capnp
 *
 * It imports `../src/*.ts`, which is `wsgiref/*` in a project (docs/bridges-and-testing.md
 * shows it that way).
 */
import { toFetchHandler } from "../src/fetch.ts";
import type { WSGIApplication } from "../src/types.ts";

const app: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(`Hello from ${environ.PATH_INFO} on workerd\n`)];
};

export default { fetch: toFetchHandler(app) };
