/**
 * A WSGI application as a module worker for workerd (Cloudflare Workers' runtime),
 * through `toFetchHandler`. Bundle it beside examples/worker.capnp, then serve it:
 *
 *     npx esbuild examples/worker.ts --bundle --platform=neutral --format=esm \
 *       --external:'node:*' --outfile=examples/worker.js
 *     npx workerd serve examples/worker.capnp
 */
import { toFetchHandler } from "../src/fetch.ts"; // "wsgiref/fetch" in your project
import type { WSGIApplication } from "../src/types.ts"; // "wsgiref/types"

const app: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain; charset=utf-8"]]);
  return [new TextEncoder().encode(`Hello from ${environ.PATH_INFO} on workerd\n`)];
};

export default { fetch: toFetchHandler(app) };
