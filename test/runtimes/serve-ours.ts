/**
 * One of this package's own servers, `simple` (`wsgiref/simple-server`) or `production`
 * (`wsgiref/server`), serving a small application on a free loopback port that it prints
 * as `port N`; run by Bun or Deno to test their Node compatibility:
 * `bun test/runtimes/serve-ours.ts production`.
 *
 * The application answers `GET /` with "hello", and `POST /echo` with the SHA-256 and
 * length of the body it read.
 */
import { createHash } from "node:crypto";
import process from "node:process";
import { serve } from "../../src/server.ts";
import { makeServer } from "../../src/simple-server.ts";
import type { WSGIApplication } from "../../src/types.ts";

const app: WSGIApplication = async (environ, startResponse) => {
  if (environ.REQUEST_METHOD === "POST") {
    const hash = createHash("sha256");
    let length = 0;
    for (;;) {
      const chunk = await environ["wsgi.input"].read(64 * 1024);
      if (chunk.length === 0) break;
      hash.update(chunk);
      length += chunk.length;
    }
    startResponse("200 OK", [["Content-Type", "application/json"]]);
    return [new TextEncoder().encode(JSON.stringify({ sha256: hash.digest("hex"), length }))];
  }
  startResponse("200 OK", [
    ["Content-Type", "text/plain"],
    ["Set-Cookie", "a=1"],
    ["Set-Cookie", "b=2"],
  ]);
  return [new TextEncoder().encode("hello")];
};

const which = process.argv[2];
if (which === "simple") {
  const server = await makeServer("127.0.0.1", 0, app);
  console.log(`port ${server.serverPort}`);
  await server.serveForever();
} else if (which === "production" || which === "workers") {
  const workers = which === "workers" ? 2 : 1;
  const server = await serve(app, { host: "127.0.0.1", port: 0, workers });
  const { address } = server;
  if (typeof address === "string") throw new Error("expected a TCP address");
  console.log(`port ${address.port}`);
} else {
  console.error("usage: serve-ours.ts simple|production|workers");
  process.exit(2);
}
