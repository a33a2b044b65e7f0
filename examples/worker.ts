/**
 * A WSGI application as a module worker for workerd (Cloudflare Workers' runtime),
 * through `toFetchHandler`. Bundle it, then serve it with docs/bridges-and-testing.md's
 * workerd config:
 *
 *     npx esbuild examples/worker.ts --bundle --platform=neutral --format=esm \
 *       --outfile=worker.js
 *     npx workerd serve worker.capnp
 */
import { toFetchHandler } from "../src/fetch.ts"; // "wsgiref/fetch" in your project
import type { WSGIApplication } from "../src/types.ts"; // "wsgiref/types"

const app: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(`Hello from ${environ.PATH_INFO} on workerd\n`)];
};

export default { fetch: toFetchHandler(app) };
