/**
 * The minimal WSGI app both of our servers run (routes in common.ts). Hello world and the
 * download are answered synchronously; only the upload, which awaits `wsgi.input`, is async.
 * The upload reads with `readinto1` into one 64 KiB buffer (each piece as it arrives,
 * copied into memory the app reuses: nothing is allocated) unless the server was started
 * with `read1` or `read` as its last argument: `read1(65536)` hands out each piece as it
 * arrives (as node:http's `data` events), `read(65536)` exact 64 KiB pieces (as Python
 * apps read, copied across network reads). With `async`, the app is an `async` function.
 */
import type {
  ResponseBody,
  StartResponse,
  WSGIApplication,
  WSGIEnvironment,
} from "../../src/types.ts";
import { CHUNK, CHUNK_SIZE, downloadSize, HELLO } from "./common.ts";

/** `size` bytes as 64 KiB views of the one preallocated chunk. */
function* chunks(size: number): Generator<Uint8Array> {
  for (let left = size; left > 0; left -= CHUNK_SIZE) {
    yield left >= CHUNK_SIZE ? CHUNK : CHUNK.subarray(0, left);
  }
}

/** How the upload route reads `wsgi.input`. */
export const READ_MODE: "readinto1" | "read1" | "read" =
  process.argv.at(-1) === "read" ? "read" : process.argv.at(-1) === "read1" ? "read1" : "readinto1";

/** Reads the body in reads of up to 64 KiB, discards it, and answers with the byte count. */
async function upload(
  environ: WSGIEnvironment,
  startResponse: StartResponse,
): Promise<ResponseBody> {
  const input = environ["wsgi.input"];
  let received = 0;
  if (READ_MODE === "readinto1" && input.readinto1 !== undefined) {
    const buffer = new Uint8Array(CHUNK_SIZE);
    for (let n = await input.readinto1(buffer); n > 0; n = await input.readinto1(buffer)) {
      received += n;
    }
  } else {
    const exact = READ_MODE === "read" || input.read1 === undefined;
    for (;;) {
      const chunk = exact ? await input.read(CHUNK_SIZE) : await input.read1!(CHUNK_SIZE);
      if (chunk.length === 0) break;
      received += chunk.length;
    }
  }
  const body = Buffer.from(String(received));
  startResponse("200 OK", [
    ["Content-Type", "text/plain"],
    ["Content-Length", String(body.length)],
  ]);
  return [body];
}

const syncApp: WSGIApplication = (environ, startResponse) => {
  const path = environ.PATH_INFO;
  if (path === "/download") {
    const size = downloadSize(environ.QUERY_STRING);
    startResponse("200 OK", [
      ["Content-Type", "application/octet-stream"],
      ["Content-Length", String(size)],
    ]);
    return chunks(size);
  }
  if (path === "/upload") return upload(environ, startResponse);
  startResponse("200 OK", [
    ["Content-Type", "text/plain"],
    ["Content-Length", String(HELLO.length)],
  ]);
  return [HELLO];
};

/**
 * The app the server runs: as written above, or, with `async` as the server's last
 * argument, the same app as an `async` function (the async WSGI path: every response
 * goes through a promise).
 */
export const app: WSGIApplication =
  process.argv.at(-1) === "async"
    ? async (environ, startResponse) => syncApp(environ, startResponse)
    : syncApp;
