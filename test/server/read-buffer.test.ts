import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { connect, createServer, type Socket } from "node:net";
import { describe, it } from "node:test";
import { ServerContext } from "../../src/server/context.ts";
import { resolveOptions } from "../../src/server/options.ts";
import { acceptIntoReadBuffers, READ_SIZE, ReadBuffer } from "../../src/server/read-buffer.ts";
import { Session } from "../../src/server/session.ts";
import type { InputStream, WSGIApplication } from "../../src/types.ts";
import { FakeSocket } from "../helpers/fake-socket.ts";
import { withServer } from "../helpers/servers.ts";
import { open, splitResponses } from "../helpers/wire.ts";

describe("ReadBuffer: the memory a connection reads into", () => {
  it("offers the same buffer read after read until it is lent, then a new one", () => {
    const reads = new ReadBuffer();
    const first = reads.option.buffer();
    assert.equal(first.length, READ_SIZE);
    assert.equal(reads.option.buffer(), first);
    assert.ok(reads.holds(first.subarray(10, 20)));
    reads.lend();
    const second = reads.option.buffer();
    assert.notEqual(second, first);
    assert.equal(second.length, READ_SIZE);
    assert.ok(!reads.holds(first), "the lent buffer is no longer the one reads go into");
    assert.equal(reads.option.buffer(), second);
  });

  it("hands each read to onRead as a view of the bytes read", () => {
    const reads = new ReadBuffer();
    const buffer = reads.option.buffer();
    buffer.write("GET / HTTP/1.1\r\n", "latin1");
    const seen: Buffer[] = [];
    reads.onRead = (bytes) => seen.push(bytes);
    reads.option.callback(5, buffer);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.toString("latin1"), "GET /");
    assert.equal(seen[0]?.buffer, buffer.buffer, "a view, not a copy");
  });
});

describe("acceptIntoReadBuffers: a plain server's connections read into ReadBuffers", () => {
  it("hands over each connection: bytes arrive through onRead, writes work, and close() still waits for it", async () => {
    let accepted: Socket | undefined;
    let connectionEvents = 0;
    const received: string[] = [];
    const server = createServer(() => connectionEvents++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    assert.ok(
      acceptIntoReadBuffers(server, (socket, reads) => {
        accepted = socket;
        reads.onRead = (bytes) => {
          assert.ok(reads.holds(bytes));
          received.push(bytes.toString("latin1"));
          socket.write(`got ${bytes.length}\n`);
        };
        socket.on("end", () => socket.end());
        socket.resume();
      }),
    );
    const port = (server.address() as { port: number }).port;
    const client = connect(port, "127.0.0.1");
    const answer = new Promise<string>((resolve) => {
      let text = "";
      client.on("data", (d) => {
        text += d.toString("latin1");
        if (text.endsWith("\n")) resolve(text);
      });
    });
    client.write("hello");
    assert.equal(await answer, "got 5\n");
    assert.deepEqual(received, ["hello"]);
    assert.equal(connectionEvents, 0, "no socket of Node's own was made");
    const count = await new Promise<number>((resolve, reject) =>
      server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
    );
    assert.equal(count, 1, "the server counts the connection");

    let closed = false;
    const serverClosed = new Promise<void>((resolve) =>
      server.close(() => {
        closed = true;
        resolve();
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closed, false, "close() waits for the connection");
    client.end();
    await serverClosed;
    assert.ok(accepted?.destroyed);
  });

  it("takes the first read buffer of a new connection from the ones closed connections left", async () => {
    const buffers: ArrayBufferLike[] = [];
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    acceptIntoReadBuffers(server, (socket, reads) => {
      reads.onRead = (bytes) => {
        buffers.push(bytes.buffer);
        socket.end("bye");
      };
      socket.on("end", () => socket.destroy());
      socket.resume();
    });
    const port = (server.address() as { port: number }).port;
    for (let i = 0; i < 3; i++) {
      const client = connect(port, "127.0.0.1");
      client.write("hi");
      client.resume();
      await new Promise((resolve) => client.on("close", resolve));
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.equal(buffers.length, 3);
    assert.equal(buffers[1], buffers[0], "the first connection's buffer served the second");
    assert.equal(buffers[2], buffers[0]);
  });
});

/** A session over a fake socket whose reads go through a ReadBuffer, and a way to "read". */
function session(app: WSGIApplication) {
  const ctx = new ServerContext(app, resolveOptions({ port: 0, errorLog: "/dev/null" }), false);
  const socket = new FakeSocket();
  const reads = new ReadBuffer();
  new Session(socket as unknown as Socket, ctx, reads);
  /** Delivers `text` as one read into the buffer, as Node does; returns the buffer used. */
  const read = (text: string | Uint8Array): Buffer => {
    const buffer = reads.option.buffer();
    const bytes = typeof text === "string" ? Buffer.from(text, "latin1") : text;
    buffer.set(bytes);
    reads.option.callback(bytes.length, buffer);
    return buffer;
  };
  return { socket, reads, read, next: () => reads.option.buffer() };
}

const tick = () => new Promise((r) => setImmediate(r));
const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Length", "2"]]);
  return [Buffer.from("hi")];
};

describe("Session over a ReadBuffer: when the buffer is kept and when it is lent", () => {
  it("reuses one buffer for request after request on a keep-alive connection", () => {
    const s = session(hello);
    const first = s.read("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(s.next(), first);
    s.read("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(s.next(), first);
    assert.equal(splitResponses(s.socket.written).length, 2);
  });

  it("lends the buffer when a head is cut in the middle, and the head still parses", () => {
    const s = session(hello);
    const first = s.read("GET / HTTP/1.1\r\nHo");
    assert.notEqual(s.next(), first, "the partial head refers to the old buffer");
    s.read("st: a\r\n\r\n");
    assert.equal(splitResponses(s.socket.written)[0]?.status, 200);
  });

  it("copies a small body the app keeps, and lends the buffer to a large one", async () => {
    const kept: Uint8Array[] = [];
    const keep: WSGIApplication = async (environ, startResponse) => {
      const input = environ["wsgi.input"] as InputStream;
      for (let chunk = await input.read1!(); chunk.length > 0; chunk = await input.read1!()) {
        kept.push(chunk);
      }
      startResponse("200 OK", [["Content-Length", "0"]]);
      return [];
    };
    const s = session(keep);
    const small = "x".repeat(100);
    const first = s.read(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n${small}`);
    await tick();
    assert.equal(s.next(), first, "a small body is copied out");
    assert.notEqual(kept[0]?.buffer, first.buffer);

    const large = Buffer.alloc(40_000, "y");
    s.read(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${large.length}\r\n\r\n`);
    const lent = s.read(large);
    await tick();
    assert.equal(kept[1]?.buffer, lent.buffer, "a large piece is handed over without a copy");
    assert.notEqual(s.next(), lent, "so the next read goes elsewhere");
    s.read("z".repeat(20));
    assert.equal(Buffer.from(kept[1]!).toString("latin1"), large.toString("latin1"));
    assert.equal(Buffer.from(kept[0]!).toString("latin1"), small);
  });

  it("copies into a readinto1 target straight from the buffer, which stays in use", async () => {
    const target = new Uint8Array(65536);
    let total = 0;
    const into: WSGIApplication = async (environ, startResponse) => {
      const input = environ["wsgi.input"] as InputStream;
      for (let n = await input.readinto1!(target); n > 0; n = await input.readinto1!(target)) {
        total += n;
      }
      startResponse("200 OK", [["Content-Length", String(String(total).length)]]);
      return [Buffer.from(String(total))];
    };
    const s = session(into);
    const first = s.read(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${3 * 60_000}\r\n\r\n`);
    for (let i = 0; i < 3; i++) {
      await tick();
      assert.equal(s.read(Buffer.alloc(60_000, i)), first);
    }
    await tick();
    await tick();
    assert.equal(s.next(), first);
    assert.equal(total, 180_000);
    assert.equal(splitResponses(s.socket.written)[0]?.body, "180000");
  });
});

/** An app that keeps every piece of every body it reads, and answers GET /kept with all of them. */
function keepingApp(how: "read1" | "read" | "readline"): WSGIApplication {
  const kept: Uint8Array[] = [];
  return async (environ, startResponse) => {
    const input = environ["wsgi.input"] as InputStream;
    if (environ.REQUEST_METHOD === "GET") {
      const all = Buffer.concat(kept);
      startResponse("200 OK", [["Content-Length", String(all.length)]]);
      return [all];
    }
    const next = () =>
      how === "read1" ? input.read1!() : how === "read" ? input.read(1000) : input.readline();
    for (let piece = await next(); piece.length > 0; piece = await next()) kept.push(piece);
    startResponse("204 No Content", []);
    return [];
  };
}

/** A request with `body`, framed by Content-Length or chunked (in uneven chunks). */
function post(body: Buffer, chunked: boolean): Buffer {
  if (!chunked) {
    return Buffer.concat([
      Buffer.from(`POST /keep HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`),
      body,
    ]);
  }
  const parts: Buffer[] = [
    Buffer.from("POST /keep HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
  ];
  for (let at = 0, size = 777; at < body.length; at += size, size = size * 3 + 1) {
    const piece = body.subarray(at, at + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(parts);
}

describe("the production server: body bytes an app keeps are never overwritten", () => {
  const sizes = [10, 5000, 16 * 1024 + 1, 100_000, 300_000];
  for (const how of ["read1", "read", "readline"] as const) {
    for (const pipelined of [false, true]) {
      it(`with ${how}(), ${pipelined ? "all requests pipelined in one write" : "one request at a time"}`, async () => {
        await withServer(keepingApp(how), {}, async ({ port }) => {
          const conn = await open(port);
          const bodies: Buffer[] = [];
          const requests: Buffer[] = [];
          for (const size of sizes) {
            for (const chunked of [false, true]) {
              const body = randomBytes(size);
              // readline cuts at LF: make sure there are some
              if (how === "readline") for (let i = 99; i < size; i += 1000) body[i] = 0x0a;
              bodies.push(body);
              requests.push(post(body, chunked));
            }
          }
          if (pipelined) conn.send(Buffer.concat(requests));
          else {
            for (const [i, request] of requests.entries()) {
              conn.send(request);
              await conn.until((r) => splitResponses(r).length === i + 1);
            }
          }
          await conn.responses(requests.length, 10_000);
          conn.send("GET /kept HTTP/1.1\r\nHost: a\r\n\r\n");
          const all = await conn.until(
            (r) => splitResponses(r).length === requests.length + 1,
            10_000,
          );
          const kept = splitResponses(all).at(-1)?.body ?? "";
          conn.close();
          const expected = Buffer.concat(bodies).toString("latin1");
          assert.equal(kept.length, expected.length);
          assert.ok(kept === expected, "every kept byte is what the client sent");
        });
      });
    }
  }
});

/**
 * Answers with the count and SHA-256 of the body read by `readinto1` or `readinto` into a
 * `size`-byte buffer; `short!` too if `readinto` came up short before the end.
 */
const intoApp: WSGIApplication = async (environ, startResponse) => {
  const input = environ["wsgi.input"] as InputStream;
  const params = new URLSearchParams(environ.QUERY_STRING as string);
  const target = new Uint8Array(Number(params.get("size")));
  const exact = params.get("how") === "readinto";
  const read = () => (exact ? input.readinto!(target) : input.readinto1!(target));
  const hash = createHash("sha256");
  let total = 0;
  let short = "";
  let ended = false;
  for (let n = await read(); n > 0; n = await read()) {
    if (ended && exact) short = " short!";
    if (n < target.length) ended = true;
    hash.update(target.subarray(0, n));
    total += n;
  }
  const answer = `${total} ${hash.digest("hex")}${short}`;
  startResponse("200 OK", [["Content-Length", String(answer.length)]]);
  return [Buffer.from(answer)];
};

describe("the production server: readinto1 and readinto", () => {
  const body = randomBytes(300_000);
  const whole = `300000 ${createHash("sha256").update(body).digest("hex")}`;
  const none = `0 ${createHash("sha256").digest("hex")}`;
  for (const how of ["readinto1", "readinto"]) {
    for (const size of [7, 1000, 65536, 200_000]) {
      it(`${how} into ${size} bytes gets the body exactly, and the pipelined request after it`, async () => {
        await withServer(intoApp, {}, async ({ port }) => {
          const conn = await open(port);
          const target = `/into?how=${how}&size=${size}`;
          for (const chunked of [false, true]) {
            const request = post(body, chunked).toString("latin1").replace("/keep", target);
            conn.send(`${request}GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
          }
          const responses = splitResponses(await conn.responses(4, 10_000));
          conn.close();
          assert.deepEqual(
            responses.map((r) => r.body),
            [whole, none, whole, none],
          );
        });
      });
    }
  }
});
