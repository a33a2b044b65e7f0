/**
 * A small application module to serve with the command line:
 *
 *   npx wsgiref serve examples/app.ts --port 8000
 *   npx wsgiref call examples/app.ts POST /echo -d 'hello'
 *
 * `wsgiref serve` takes the export named `app` (or `FILE:NAME`, or the default export).
 */
import type { WSGIApplication } from "../src/types.ts";

const text = (s: string) => Buffer.from(s, "utf8");

export const app: WSGIApplication = async (environ, startResponse) => {
  const plain: [string, string][] = [["Content-Type", "text/plain; charset=utf-8"]];
  switch (environ.PATH_INFO) {
    case "/":
      startResponse("200 OK", plain);
      return [text("Hello from wsgiref!\n")];
    case "/echo": {
      const body = await environ["wsgi.input"].read();
      startResponse("200 OK", [
        ["Content-Type", environ.CONTENT_TYPE || "application/octet-stream"],
      ]);
      return [body];
    }
    case "/stream":
      startResponse("200 OK", plain);
      return (async function* () {
        for (let i = 1; i <= 3; i++) {
          yield text(`chunk ${i}\n`);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
    default:
      startResponse("404 Not Found", plain);
      return [text(`No route for ${environ.PATH_INFO}\n`)];
  }
};
