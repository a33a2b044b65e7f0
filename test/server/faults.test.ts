/**
 * Faults, one test each: clients that vanish or never close, applications that fail in
 * every way, a worker killed under load, shutdown under load, and a slowloris crowd.
 * Each checks what the client gets, what the error log says, and that the server releases
 * what the connection held and keeps serving.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { Socket } from "node:net";
import { describe, it } from "node:test";
import type { ResponseBody, WSGIApplication } from "../../src/types.ts";
import { sleep, waitFor, withServer } from "../helpers/servers.ts";
import { exchange, open, splitResponses } from "../helpers/wire.ts";

/** Fresh response headers (the production server must not need this: see the shared-list test). */
const plain = (): [string, string][] => [["Content-Type", "text/plain"]];
const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`;

/** How many times each route's body was closed. */
const closes: Record<string, number> = {};
const counted = (route: string, body: AsyncIterable<Uint8Array>): ResponseBody =>
  Object.assign(body, {
    close() {
      closes[route] = (closes[route] ?? 0) + 1;
    },
  });

/** One app with a route per fault. */
const app: WSGIApplication = async (environ, startResponse) => {
  switch (environ.PATH_INFO) {
    case "/upload": {
      // Answers as it reads: a line per piece of the request body.
      startResponse("200 OK", plain());
      const input = environ["wsgi.input"];
      return counted(
        "/upload",
        (async function* () {
          for (;;) {
            const piece = await input.read(16 * 1024);
            if (piece.length === 0) return;
            yield Buffer.from(`${piece.length}\n`);
          }
        })(),
      );
    }
    case "/download":
      startResponse("200 OK", plain());
      return counted(
        "/download",
        (async function* () {
          for (let i = 0; i < 100_000; i++) {
            yield Buffer.alloc(64 * 1024, 120);
            await new Promise((r) => setImmediate(r));
          }
        })(),
      );
    case "/throw":
      throw new Error("the app failed before its headers");
    case "/throw-late":
      startResponse("200 OK", plain());
      return counted(
        "/throw-late",
        (async function* () {
          yield Buffer.from("partial");
          await sleep(10);
          throw new Error("the app failed after its headers");
        })(),
      );
    case "/string":
      startResponse("200 OK", plain());
      return "a string body" as unknown as ResponseBody;
    case "/number":
      startResponse("200 OK", plain());
      return 42 as unknown as ResponseBody;
    case "/bytes":
      startResponse("200 OK", plain());
      return Buffer.from("bare bytes") as unknown as ResponseBody;
    case "/string-chunk":
      startResponse("200 OK", plain());
      return ["a string chunk"] as unknown as ResponseBody;
    case "/forever":
      await new Promise(() => {});
      return [];
    case "/stall":
      startResponse("200 OK", plain());
      return counted(
        "/stall",
        (async function* () {
          yield Buffer.from("started");
          await sleep(600);
          yield Buffer.from("too late");
        })(),
      );
    default:
      startResponse("200 OK", plain());
      return [Buffer.from(`hello ${environ.PATH_INFO}`)];
  }
};

/** Asserts a normal request still gets its answer. */
async function _stillServes(port: number): Promise<void> {
  const out = await exchange(port, GET("/normal"));
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n[\s\S]*hello \/normal$/);
}

/** Opens the error log (it opens on its first line) so descriptor counts are stable. */
async function _openLog(port: number, logged: (p: RegExp) => Promise<string>): Promise<void> {
  await exchange(port, "BAD\r\n\r\n");
  await logged(/ERR_INVALID_REQUEST_LINE/);
}

/** Closing a server without sessions left takes no grace period. */
async function _closesAtOnce(close: () => Promise<void>): Promise<void> {
  const started = Date.now();
  await close();
  assert.ok(Date.now() - started < 1000, "no session was left behind");
}

/** A raw socket that keeps its side open when the server closes its own (a hostile peer). */
async function halfOpenClient(port: number): Promise<Socket> {
  const socket = new Socket({ allowHalfOpen: true });
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.connect(port, "127.0.0.1", resolve));
  return socket;
}

/**
 * True while this process holds an open descriptor for the server's end of the TCP
 * connection from `clientPort` to `serverPort` (from /proc/net/tcp and /proc/self/fd).
 * An end the server closed is gone, or an orphan with inode 0 (FIN-WAIT).
 */
function serverHolds(serverPort: number, clientPort: number): boolean {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  const line = readFileSync("/proc/net/tcp", "latin1")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hex(serverPort)}`) && f[2]?.endsWith(`:${hex(clientPort)}`));
  const inode = line?.[9];
  if (inode === undefined || inode === "0") return false;
  return readdirSync("/proc/self/fd").some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === `socket:[${inode}]`;
    } catch {
      return false;
    }
  });
}

/** Waits until the server let go of the client's connection. */
async function released(port: number, socket: Socket, ms = 2000): Promise<boolean> {
  const clientPort = socket.localPort as number;
  return waitFor(() => !serverHolds(port, clientPort), ms);
}

describe("faults: clients that go away", () => {
  it("a client that keeps its side open after a 400 is cut after the linger time, logged once", () =>
    withServer(app, { headerTimeout: 300 }, async ({ port, errorLog }) => {
      const socket = await halfOpenClient(port);
      socket.write("NOT HTTP\r\n\r\n");
      await sleep(50);
      socket.write("more bytes after the error\r\n");
      await sleep(50);
      socket.write("and more\r\n");
      // The server lets go within min(5 s, headerTimeout) of its answer.
      assert.equal(await released(port, socket), true, "the server released the socket");
      const lines = errorLog().match(/ERR_INVALID_REQUEST_LINE 400 .*"NOT HTTP/g) ?? [];
      assert.equal(lines.length, 1, "the rejection is logged once");
      socket.destroy();
    }));

  it("a client that keeps its side open after a 408 is cut after the linger time", () =>
    withServer(app, { headerTimeout: 300 }, async ({ port }) => {
      const socket = await halfOpenClient(port);
      let received = "";
      socket.on("data", (d: Buffer) => {
        received += d.toString("latin1");
      });
      socket.write("GET / HTTP/1.1\r\nHost: t\r\n");
      await waitFor(() => received.includes("408"), 2000);
      assert.match(received, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.equal(await released(port, socket), true, "the server released the socket");
      socket.destroy();
    }));

  it("an idle keep-alive client that never closes is cut after the linger time", () =>
    withServer(app, { keepAliveTimeout: 200, headerTimeout: 300 }, async ({ port }) => {
      const socket = await halfOpenClient(port);
      socket.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      assert.equal(await released(port, socket), true, "the server released the socket");
      socket.destroy();
    }));
});

describe("faults: applications that fail", () => {
  it("an app that passes the same header list to every response gets a right Content-Length each time", async () => {
    const HEADERS: [string, string][] = [["Content-Type", "text/plain"]];
    const shared: WSGIApplication = (environ, startResponse) => {
      startResponse("200 OK", HEADERS);
      return [Buffer.from(environ.PATH_INFO === "/long" ? "a longer body" : "short")];
    };
    await withServer(shared, {}, async ({ port }) => {
      const conn = await open(port);
      conn.send("GET /long HTTP/1.1\r\nHost: t\r\n\r\nGET /short HTTP/1.1\r\nHost: t\r\n\r\n");
      const [long, short] = splitResponses(await conn.responses(2));
      assert.equal(long?.headers["content-length"], "13");
      assert.equal(short?.headers["content-length"], "5");
      assert.equal(short?.body, "short");
      assert.deepEqual(HEADERS, [["Content-Type", "text/plain"]], "the app's list is left alone");
      conn.close();
    });
  });
});
