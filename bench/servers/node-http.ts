/** Benchmark server: raw `node:http`, no framework; downloads honour backpressure (write + drain). */
import { createServer, type ServerResponse } from "node:http";
import { CHUNK, CHUNK_SIZE, downloadSize, HELLO, KEEP_ALIVE, listening, PORT } from "./common.ts";

/** Writes `size` bytes in 64 KiB chunks, waiting for `drain` whenever `write` says so. */
function download(res: ServerResponse, size: number): void {
  let left = size;
  const pump = () => {
    while (left > 0) {
      const chunk = left >= CHUNK_SIZE ? CHUNK : CHUNK.subarray(0, left);
      left -= chunk.length;
      if (!res.write(chunk)) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  if (path === "/download") {
    const size = downloadSize(q === -1 ? "" : url.slice(q + 1));
    res.writeHead(200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(size),
    });
    download(res, size);
    return;
  }
  if (path === "/upload") {
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    req.on("end", () => {
      const body = String(received);
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": String(body.length) });
      res.end(body);
    });
    return;
  }
  res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": String(HELLO.length) });
  res.end(HELLO);
});
server.keepAliveTimeout = KEEP_ALIVE;
server.listen(PORT, "127.0.0.1", () => {
  const address = server.address();
  listening(typeof address === "object" && address ? address.port : 0);
});
process.once("SIGTERM", () => server.close());
