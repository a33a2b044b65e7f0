/**
 * What every benchmark server shares: the routes, the payload chunk, and how a server
 * learns its port and tells the harness it listens.
 *
 * Routes (the same in every server, including the Python ones in app.py):
 * - `GET /`: `Hello, World!` as text/plain with a Content-Length;
 * - `GET /download?bytes=N`: N bytes in 64 KiB chunks (one preallocated buffer), with a
 *   Content-Length;
 * - `POST /upload`: reads the body in chunks, discards it, answers with the byte count.
 */

/** The hello-world body. */
export const HELLO = Buffer.from("Hello, World!");
/** The size of one download chunk. */
export const CHUNK_SIZE = 64 * 1024;
/** The one preallocated chunk every download sends, again and again. */
export const CHUNK = Buffer.alloc(CHUNK_SIZE, 0x78);

/** The port the harness picked (argv[2]), 0 for any. */
export const PORT = Number(process.argv[2] ?? 0);
/** The keep-alive timeout in ms (argv[3]), default 5 s as node:http. */
export const KEEP_ALIVE = Number(process.argv[3] ?? 5000);

/** The size asked for by `?bytes=N` (default 100 MiB). */
export function downloadSize(query: string | undefined): number {
  const match = /(?:^|&)bytes=(\d+)/.exec(query ?? "");
  return match ? Number(match[1]) : 100 * 1024 * 1024;
}

/** Tells the harness the server listens. */
export function listening(port: number): void {
  process.stdout.write(`LISTENING ${port}\n`);
}
