/**
 * Test helpers for talking to servers over real sockets: raw bytes in, raw bytes out.
 */
import { connect, type Socket } from "node:net";

/** Sends raw bytes and resolves with everything the server sent until it closed (or `ms`). */
export function exchange(
  port: number,
  request: string | Uint8Array,
  { ms = 3000, host = "127.0.0.1", endWrite = false } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    }, ms);
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", (e) => {
      clearTimeout(timer);
      if ((e as NodeJS.ErrnoException).code === "ECONNRESET")
        resolve(Buffer.concat(chunks).toString("latin1"));
      else reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.write(typeof request === "string" ? Buffer.from(request, "latin1") : request);
    if (endWrite) socket.end();
  });
}

/** A connected socket with a helper to read until a predicate holds on what arrived. */
export async function open(port: number, host = "127.0.0.1"): Promise<Conn> {
  const socket = connect(port, host);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return new Conn(socket);
}

/** A test-side connection that accumulates what it receives. */
export class Conn {
  received = "";
  closed = false;
  private waiters: Array<() => void> = [];

  constructor(readonly socket: Socket) {
    socket.on("data", (d) => {
      this.received += d.toString("latin1");
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Writes latin-1 text or bytes. */
  send(data: string | Uint8Array): void {
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /** Waits until `test(received)` is true, the socket closes, or `ms` pass. */
  async until(test: (received: string) => boolean, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!test(this.received) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  /** Waits for `n` complete responses with Content-Length or chunked bodies. */
  responses(n: number, ms = 3000): Promise<string> {
    return this.until((r) => splitResponses(r).length >= n, ms);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A parsed response. */
export interface Response {
  status: number;
  head: string;
  headers: Record<string, string>;
  body: string;
}

/** Splits a byte stream into complete HTTP/1.1 responses (Content-Length, chunked, or none). */
export function splitResponses(data: string, headRequest = false): Response[] {
  const out: Response[] = [];
  let pos = 0;
  while (pos < data.length) {
    const end = data.indexOf("\r\n\r\n", pos);
    if (end === -1) break;
    const head = data.slice(pos, end);
    const lines = head.split("\r\n");
    const status = Number((lines[0] ?? "").split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      const k = line.slice(0, i).toLowerCase();
      const v = line.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    let p = end + 4;
    let body = "";
    if (headRequest || status < 200 || status === 204 || status === 304) {
      // no body
    } else if (headers["transfer-encoding"]?.includes("chunked")) {
      for (;;) {
        const le = data.indexOf("\r\n", p);
        if (le === -1) return out;
        const size = Number.parseInt(data.slice(p, le), 16);
        if (size === 0) {
          const tend = data.indexOf("\r\n", le + 2);
          if (tend === -1) return out;
          p = tend + 2;
          break;
        }
        if (data.length < le + 2 + size + 2) return out;
        body += data.slice(le + 2, le + 2 + size);
        p = le + 2 + size + 2;
      }
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      if (data.length < p + n) return out;
      body = data.slice(p, p + n);
      p += n;
    } else {
      body = data.slice(p);
      p = data.length;
    }
    out.push({ status, head, headers, body });
    pos = p;
  }
  return out;
}
