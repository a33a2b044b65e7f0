/**
 * Adversarial tests of the buffer a plain connection reads into (src/server/read-buffer.ts,
 * src/server/session.ts): whatever the read boundaries, the connection state and the way
 * the app reads, no byte the app (or the core) still holds is overwritten by a later read,
 * and no request byte is lost or reordered.
 *
 * Every test here runs with poisoned reads: each time Node asks the connection for the
 * buffer of its next read, that buffer is filled with 0xEE first. A buffer that is reused
 * (not lent) thus loses all of its 64 KiB at once, not just the bytes the next read
 * happens to cover: any view of it still held anywhere shows up as corrupt at the next
 * read. The last test checks that buffers were in fact reused (and poisoned), and the
 * first one that the poison does catch a view kept without `lend()`.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { connect, createServer, Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { acceptIntoReadBuffers } from "../../src/server/read-buffer.ts";
import type {
  InputStream,
  ResponseBody,
  StartResponse,
  WSGIApplication,
  WSGIEnvironment,
} from "../../src/types.ts";
import { sleep, tempDir, waitFor, withServer } from "../helpers/servers.ts";
import { Conn, open, splitResponses } from "../helpers/wire.ts";

// ---------------------------------------------------------------------------------------
// Poisoned reads

const POISON = 0xee;
/** Buffers poisoned, how many of them reused, and how often a server socket was paused. */
const poison = { fills: 0, reuses: 0, pauses: 0 };
const WRAPPED = Symbol("poisoned");
const plainResume = Socket.prototype.resume;
const plainPause = Socket.prototype.pause;

/**
 * Wraps the `onread.buffer` function of every socket that has one (Node keeps it under a
 * private symbol named kBufferGen) the first time the socket is resumed, which `Session`
 * does in its constructor, before the first read is delivered.
 */
function poisonReads(): void {
  Socket.prototype.resume = function resume(this: Socket): Socket {
    const self = this as unknown as Record<symbol, unknown>;
    const gen = Object.getOwnPropertySymbols(this).find((s) => s.description === "kBufferGen");
    if (gen !== undefined && typeof self[gen] === "function" && self[WRAPPED] !== true) {
      self[WRAPPED] = true;
      const next = self[gen] as () => Uint8Array;
      let last: Uint8Array | null = null;
      self[gen] = () => {
        const buffer = next();
        if (buffer === last) poison.reuses++;
        last = buffer;
        buffer.fill(POISON);
        poison.fills++;
        return buffer;
      };
    }
    return plainResume.call(this);
  } as typeof plainResume;
  Socket.prototype.pause = function pause(this: Socket): Socket {
    if ((this as unknown as Record<symbol, unknown>)[WRAPPED] === true) poison.pauses++;
    return plainPause.call(this);
  } as typeof plainPause;
}

before(poisonReads);
after(() => {
  Socket.prototype.resume = plainResume;
  Socket.prototype.pause = plainPause;
});

// ---------------------------------------------------------------------------------------
// Randomness with a seed, so that a failure can be replayed

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

const sha = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A random body with line feeds sprinkled in, and now and then text that looks like HTTP. */
function randomBody(rand: () => number, size: number): Buffer {
  const body = randomBytes(size);
  for (let i = Math.floor(rand() * 300); i < size; i += 1 + Math.floor(rand() * 600)) {
    body[i] = 0x0a;
  }
  if (size > 200 && rand() < 0.5) {
    const fake = Buffer.from("\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
    fake.copy(body, Math.floor(rand() * (size - fake.length)));
  }
  return body;
}

/**
 * Writes `data` in pieces cut at random points (some of them 1 to 3 bytes long), with a
 * turn of the event loop or a millisecond between pieces, so that the server sees reads
 * ending anywhere: inside a head, a chunk line, a CRLF, a body.
 */
async function sendSplit(
  socket: Socket,
  data: Uint8Array,
  rand: () => number,
  maxCuts: number,
): Promise<void> {
  const cuts = new Set<number>();
  const count = 1 + Math.floor(rand() * maxCuts);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(rand() * data.length);
    cuts.add(at);
    if (rand() < 0.3) {
      cuts.add(at + 1);
      cuts.add(at + 2 + Math.floor(rand() * 2));
    }
  }
  let at = 0;
  for (const cut of [...[...cuts].sort((a, b) => a - b), data.length]) {
    if (cut <= at || cut > data.length) continue;
    socket.write(data.subarray(at, cut));
    at = cut;
    const r = rand();
    if (r < 0.4) await sleep(1);
    else if (r < 0.85) await tick();
  }
}

// ---------------------------------------------------------------------------------------
// The application: reads each body the way its query says and keeps what it got

/** How the app reads a request body (see `Recorder.consume`). */
type How =
  | "read1"
  | "read"
  | "readline"
  | "readlines"
  | "iterate"
  | "readinto1"
  | "readinto"
  | "partial"
  | "none"
  | "sync"
  | "echo";

const READERS: readonly How[] = [
  "read1",
  "read",
  "readline",
  "readlines",
  "iterate",
  "readinto1",
  "readinto",
  "partial",
  "none",
  "sync",
];

/**
 * An app that keeps, per request id, the very arrays `wsgi.input` returned (copies for
 * `readinto*`, whose target is reused) and answers `<id> <count> <sha256>` of what it read,
 * computed as it read. `sync` answers at once (so pipelined requests run in one turn,
 * PIPELINE_BATCH at a time) without reading the body (the server drains it).
 */
class Recorder {
  readonly kept = new Map<string, Uint8Array[]>();
  readonly failures = new Map<string, unknown>();
  readonly app: WSGIApplication = (environ, startResponse) => {
    const query = new URLSearchParams(String(environ.QUERY_STRING ?? ""));
    const id = query.get("id") ?? "";
    if (query.get("how") === "sync") {
      const answer = Buffer.from(`${id} sync`);
      startResponse("200 OK", [["Content-Length", String(answer.length)]]);
      return [answer];
    }
    if (query.get("how") === "echo") return this.echo(environ, startResponse, id);
    return this.consume(environ, startResponse, id, query);
  };

  /** Streams each piece back (chunked) as soon as it is read, and keeps it too. */
  private echo(environ: WSGIEnvironment, startResponse: StartResponse, id: string): ResponseBody {
    const input = environ["wsgi.input"] as InputStream;
    const kept: Uint8Array[] = [];
    this.kept.set(id, kept);
    startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
    return (async function* () {
      for (let p = await input.read1!(); p.length > 0; p = await input.read1!()) {
        kept.push(p);
        yield p;
      }
    })();
  }

  /** Everything kept for `id`, joined. */
  joined(id: string): Buffer {
    return Buffer.concat(this.kept.get(id) ?? []);
  }

  private async consume(
    environ: WSGIEnvironment,
    startResponse: StartResponse,
    id: string,
    query: URLSearchParams,
  ): Promise<ResponseBody> {
    const how = (query.get("how") ?? "none") as How;
    const n = Number(query.get("n") ?? 0);
    const wait = Number(query.get("wait") ?? 0);
    const yieldEach = query.get("yield") === "1";
    const input = environ["wsgi.input"] as InputStream;
    const kept: Uint8Array[] = [];
    this.kept.set(id, kept);
    const hash = createHash("sha256");
    let total = 0;
    const keep = (piece: Uint8Array): void => {
      kept.push(piece);
      hash.update(piece);
      total += piece.length;
    };
    let pieces = 0;
    /** Lets reads arrive between two reads of the app, now and then. */
    const pause = async (): Promise<void> => {
      pieces++;
      if (yieldEach && pieces % 8 === 1) await (pieces % 32 === 1 ? sleep(1) : tick());
    };
    if (wait > 0) await sleep(wait);
    try {
      switch (how) {
        case "read1":
          for (let p = await input.read1!(n || undefined); p.length > 0; ) {
            keep(p);
            await pause();
            p = await input.read1!(n || undefined);
          }
          break;
        case "read":
          for (let p = await input.read(n || undefined); p.length > 0; ) {
            keep(p);
            await pause();
            p = await input.read(n || undefined);
          }
          break;
        case "readline":
          for (let p = await input.readline(n || undefined); p.length > 0; ) {
            keep(p);
            await pause();
            p = await input.readline(n || undefined);
          }
          break;
        case "readlines":
          for (const line of await input.readlines()) keep(line);
          break;
        case "iterate":
          for await (const line of input) {
            keep(line);
            await pause();
          }
          break;
        case "readinto1":
        case "readinto": {
          const target = new Uint8Array(n || 65_536);
          const read = () =>
            how === "readinto" ? input.readinto!(target) : input.readinto1!(target);
          for (let got = await read(); got > 0; ) {
            keep(Buffer.from(target.subarray(0, got)));
            // The target is the app's: scribble on it, the server must not care.
            target.fill(0x55);
            await pause();
            got = await read();
          }
          break;
        }
        case "partial": {
          const p = await input.read(n);
          if (p.length > 0) keep(p);
          break;
        }
        default:
          break;
      }
    } catch (error) {
      this.failures.set(id, error);
      throw error;
    }
    const answer = Buffer.from(`${id} ${total} ${hash.digest("hex")}`);
    startResponse("200 OK", [["Content-Length", String(answer.length)]]);
    return [answer];
  }
}

// ---------------------------------------------------------------------------------------
// Requests

/** A request and what the app must have read of its body. */
interface Planned {
  id: string;
  how: How;
  bytes: Buffer;
  /** The body bytes the app reads (all of them, a prefix for `partial`, none for `none`). */
  expectRead: Buffer;
  /** The answer expected. */
  answer: string;
}

interface PlanOptions {
  how: How;
  size: number;
  chunked: boolean;
  /** read size, readline limit, or readinto target size */
  n?: number;
  wait?: number;
  yieldEach?: boolean;
  expectContinue?: boolean;
  method?: string;
}

function plan(rand: () => number, id: string, o: PlanOptions): Planned {
  const body = randomBody(rand, o.size);
  const n = o.n ?? 0;
  const query = `id=${id}&how=${o.how}&n=${n}&wait=${o.wait ?? 0}&yield=${o.yieldEach ? 1 : 0}`;
  const method = o.method ?? (o.size === 0 && !o.chunked && rand() < 0.5 ? "GET" : "POST");
  let head = `${method} /r?${query} HTTP/1.1\r\nHost: a\r\nX-Id: ${id}\r\n`;
  if (o.expectContinue) head += "Expect: 100-continue\r\n";
  const parts: Buffer[] = [];
  if (o.chunked) {
    head += "Transfer-Encoding: chunked\r\n\r\n";
    for (let at = 0; at < body.length; ) {
      const size = Math.min(
        body.length - at,
        1 + Math.floor(rand() * pick(rand, [3, 100, 5000, 40_000, 70_000])),
      );
      const ext = rand() < 0.2 ? `;x=y;tag=${"a".repeat(1 + Math.floor(rand() * 20))}` : "";
      parts.push(Buffer.from(`${size.toString(16)}${ext}\r\n`), body.subarray(at, at + size));
      parts.push(Buffer.from("\r\n"));
      at += size;
    }
    parts.push(Buffer.from(rand() < 0.4 ? "0\r\nX-Trailer: t\r\nX-More: m\r\n\r\n" : "0\r\n\r\n"));
  } else {
    head += method === "GET" && o.size === 0 ? "\r\n" : `Content-Length: ${body.length}\r\n\r\n`;
    parts.push(body);
  }
  const bytes = Buffer.concat([Buffer.from(head, "latin1"), ...parts]);
  const expectRead =
    o.how === "none" || o.how === "sync"
      ? Buffer.alloc(0)
      : o.how === "partial"
        ? body.subarray(0, n)
        : body;
  const answer =
    o.how === "sync"
      ? `${id} sync`
      : o.how === "echo"
        ? body.toString("latin1")
        : `${id} ${expectRead.length} ${sha(expectRead)}`;
  return { id, how: o.how, bytes, expectRead, answer };
}

const SIZES = [
  0, 1, 2, 100, 4095, 4096, 16383, 16384, 16385, 30_000, 65_535, 65_536, 65_537, 100_000, 140_000,
];

/** A random request: any reader, framing, size, read size, delay. */
function randomRequest(rand: () => number, id: string, sizes = SIZES): Planned {
  const how = pick(rand, READERS);
  const size = pick(rand, sizes);
  let n = pick(rand, [0, 1, 3, 7, 1000, 4097, 16_385, 65_536, 70_000]);
  // tiny reads of a large body take too long
  if (n > 0 && n < 1000 && size > 20_000) n += 4096;
  return plan(rand, id, {
    how,
    size,
    chunked: rand() < 0.45,
    // partial reads a prefix; readinto* need a target of at least 1 byte
    n: how === "partial" ? Math.max(1, n) : n,
    wait: rand() < 0.2 ? 1 + Math.floor(rand() * 5) : 0,
    yieldEach: rand() < 0.3,
  });
}

/** Checks the answers (in order) and then the bytes the app still holds. */
function check(recorder: Recorder, planned: readonly Planned[], received: string): void {
  const responses = splitResponses(received).filter((r) => r.status !== 100);
  assert.equal(responses.length, planned.length, "one response per request");
  for (const [i, p] of planned.entries()) {
    const r = responses[i];
    assert.equal(r?.status, 200, `request ${p.id} (${p.how}) answered ${r?.status}`);
    assert.equal(r.body, p.answer, `request ${p.id} (${p.how}): what the app read`);
  }
  checkKept(recorder, planned);
}

/** What the app kept is still, byte for byte, what the client sent. */
function checkKept(recorder: Recorder, planned: readonly Planned[]): void {
  for (const p of planned) {
    if (p.how === "sync") continue;
    const kept = recorder.joined(p.id);
    assert.equal(kept.length, p.expectRead.length, `request ${p.id} (${p.how}): bytes kept`);
    assert.ok(kept.equals(p.expectRead), `request ${p.id} (${p.how}): kept bytes changed`);
  }
}

const quiet = { accessLog: "off" } as const;

/** Sends `planned` on `conn` as one stream cut at random points, and waits for the answers. */
async function runStream(
  conn: Conn,
  planned: readonly Planned[],
  rand: () => number,
  maxCuts: number,
  ms = 8000,
): Promise<string> {
  await sendSplit(conn.socket, Buffer.concat(planned.map((p) => p.bytes)), rand, maxCuts);
  const answered = (r: string) =>
    splitResponses(r).filter((x) => x.status !== 100).length >= planned.length;
  return conn.until(answered, ms);
}

// ---------------------------------------------------------------------------------------

describe("the poisoned-read harness", () => {
  it("catches a view of a reused buffer kept without lend()", async () => {
    const views: Buffer[] = [];
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    acceptIntoReadBuffers(server, (socket, reads) => {
      reads.onRead = (bytes) => {
        views.push(bytes); // a bug on purpose: no copy, no lend()
        socket.write("k");
      };
      socket.on("end", () => socket.end());
      socket.resume();
    });
    const port = (server.address() as { port: number }).port;
    const conn = await open(port);
    conn.send("first read");
    await conn.until((r) => r.length === 1);
    conn.send("second");
    await conn.until((r) => r.length === 2);
    conn.socket.end();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.equal(views.length, 2);
    assert.equal(views[0]?.buffer, views[1]?.buffer, "the buffer was reused");
    // Both reads' bytes were destroyed as soon as the callback returned.
    assert.ok(views[0]?.equals(Buffer.alloc(10, POISON)));
    assert.ok(views[1]?.equals(Buffer.alloc(6, POISON)));
  });
});

describe("read buffer, adversarially: random streams over real sockets", () => {
  for (const seed of [1, 2]) {
    it(`3 concurrent keep-alive connections of 25 random requests each, cut at random points (seed ${seed})`, async () => {
      const recorder = new Recorder();
      await withServer(recorder.app, quiet, async ({ port }) => {
        const runs = [0, 1, 2].map(async (c) => {
          const rand = rng(seed * 100 + c);
          const planned = Array.from({ length: 25 }, (_, i) =>
            randomRequest(rand, `s${seed}c${c}r${i}`),
          );
          const conn = await open(port);
          conn.socket.setNoDelay(true);
          const received = await runStream(conn, planned, rand, 60);
          conn.close();
          return { planned, received };
        });
        const results = await Promise.all(runs);
        // Checked once every connection is done: kept bytes survived all later reads.
        for (const { planned, received } of results) check(recorder, planned, received);
      });
    });
  }

  it("one request at a time, each cut at random points, the app holding chunks across requests", async () => {
    const recorder = new Recorder();
    const rand = rng(7);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const conn = await open(port);
      conn.socket.setNoDelay(true);
      const planned: Planned[] = [];
      for (let i = 0; i < 20; i++) {
        const p = randomRequest(rand, `one${i}`);
        planned.push(p);
        await sendSplit(conn.socket, p.bytes, rand, 12);
        await conn.until((r) => splitResponses(r).length === planned.length, 5000);
      }
      check(recorder, planned, conn.received);
      conn.close();
    });
  });

  it("heads and chunk lines arriving a byte at a time", async () => {
    const recorder = new Recorder();
    const rand = rng(11);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const conn = await open(port);
      conn.socket.setNoDelay(true);
      const planned = ["read1", "readinto1", "readline", "read"].map((how, i) =>
        plan(rand, `byte${i}`, { how: how as How, size: 300, chunked: i % 2 === 0, n: 5 }),
      );
      for (const p of planned) {
        for (let at = 0; at < p.bytes.length; at++) {
          conn.send(p.bytes.subarray(at, at + 1));
          if (at % 4 === 0) await tick();
        }
      }
      check(recorder, planned, await conn.responses(planned.length, 5000));
      conn.close();
    });
  });
});

describe("read buffer, adversarially: pipelining", () => {
  /**
   * Many requests answered in one turn (PIPELINE_BATCH), more than 256 KiB buffered (the
   * socket paused at a batch boundary), unread bodies drained, and now and then an async
   * app that keeps its body, so batches restart from the app's `done`.
   */
  function batchPlan(rand: () => number, tag: string): Planned[] {
    return Array.from({ length: 400 }, (_, i) => {
      const id = `${tag}${i}`;
      if (i % 37 === 36) {
        return plan(rand, id, {
          how: pick(rand, ["read1", "readinto1", "read"] as const),
          size: pick(rand, [10, 20_000, 70_000]),
          chunked: rand() < 0.5,
          n: pick(rand, [0, 999, 65_536]),
          wait: rand() < 0.5 ? 2 : 0,
        });
      }
      return plan(rand, id, {
        how: "sync",
        size: pick(rand, [0, 0, 1, 500, 1500]),
        chunked: rand() < 0.3,
      });
    });
  }

  it("400 pipelined requests (most answered synchronously, bodies drained) in one write", async () => {
    const recorder = new Recorder();
    const rand = rng(21);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const planned = batchPlan(rand, "one");
      const total = planned.reduce((n, p) => n + p.bytes.length, 0);
      assert.ok(total > 256 * 1024, `${total} bytes: enough to pause the socket`);
      const conn = await open(port);
      conn.send(Buffer.concat(planned.map((p) => p.bytes)));
      check(recorder, planned, await conn.responses(planned.length, 8000));
      conn.close();
    });
  });

  it("the same, cut at random points", async () => {
    const recorder = new Recorder();
    const rand = rng(22);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const planned = batchPlan(rand, "cut");
      const conn = await open(port);
      conn.socket.setNoDelay(true);
      check(recorder, planned, await runStream(conn, planned, rand, 80));
      conn.close();
    });
  });

  it("a slow reader of a 3 MB body sent at once (the socket pauses and resumes), then a pipelined request", async () => {
    const recorder = new Recorder();
    const rand = rng(31);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const planned = [
        plan(rand, "big1", { how: "read1", size: 3_000_000, chunked: false, yieldEach: true }),
        plan(rand, "big2", {
          how: "read",
          size: 2_000_000,
          chunked: true,
          n: 50_000,
          yieldEach: true,
        }),
        plan(rand, "after", { how: "read1", size: 100, chunked: false }),
      ];
      const pausedBefore = poison.pauses;
      const conn = await open(port);
      conn.send(Buffer.concat(planned.map((p) => p.bytes)));
      check(recorder, planned, await conn.responses(planned.length, 8000));
      assert.ok(poison.pauses > pausedBefore, "the server paused the socket");
      conn.close();
    });
  });

  it("half-close: random pipelined requests then FIN, every one answered", async () => {
    const recorder = new Recorder();
    const rand = rng(41);
    await withServer(recorder.app, quiet, async ({ port }) => {
      // Bodies the app leaves unread are drained from what arrived before the FIN.
      const planned = Array.from({ length: 20 }, (_, i) => randomRequest(rand, `hc${i}`));
      const conn = await open(port);
      conn.socket.setNoDelay(true);
      await sendSplit(conn.socket, Buffer.concat(planned.map((p) => p.bytes)), rand, 40);
      conn.socket.end();
      await conn.until(() => conn.closed, 8000);
      assert.ok(conn.closed, "the server closed after the last answer");
      check(recorder, planned, conn.received);
    });
  });
});

describe("read buffer, adversarially: the response holds body pieces too", () => {
  it("echo: each piece read is written back at once while the next reads arrive, to a client slow to read", async () => {
    const recorder = new Recorder();
    const rand = rng(45);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const planned = [
        plan(rand, "e1", { how: "echo", size: 1_500_000, chunked: false }),
        plan(rand, "e2", { how: "echo", size: 300_000, chunked: true }),
        randomRequest(rand, "e3"),
        plan(rand, "e4", { how: "echo", size: 16_000, chunked: false }),
      ];
      const conn = await open(port);
      conn.socket.setNoDelay(true);
      conn.socket.pause();
      const sending = runStream(conn, planned, rand, 60);
      await sleep(150);
      conn.socket.resume();
      check(recorder, planned, await sending);
      conn.close();
    });
  });
});

describe("read buffer, adversarially: 100-continue", () => {
  it("bodies sent after 100 Continue, cut at random points, with requests in between", async () => {
    const recorder = new Recorder();
    const rand = rng(51);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const conn = await open(port);
      conn.socket.setNoDelay(true);
      const planned: Planned[] = [];
      const hows: How[] = ["read1", "readinto1", "readline", "read", "readinto", "iterate"];
      for (const [i, how] of hows.entries()) {
        const p = plan(rand, `cont${i}`, {
          how,
          size: pick(rand, [1, 16_385, 70_000, 200_000]),
          chunked: i % 2 === 1,
          n: pick(rand, [0, 1000, 4097]) || (how.startsWith("readinto") ? 65_536 : 0),
          expectContinue: true,
        });
        planned.push(p);
        const headEnd = p.bytes.indexOf("\r\n\r\n") + 4;
        conn.send(p.bytes.subarray(0, headEnd));
        const continues = i + 1;
        await conn.until(
          (r) => splitResponses(r).filter((x) => x.status === 100).length === continues,
          3000,
        );
        await sendSplit(conn.socket, p.bytes.subarray(headEnd), rand, 20);
        // and a plain request right behind it
        const q = randomRequest(rand, `after${i}`);
        planned.push(q);
        await sendSplit(conn.socket, q.bytes, rand, 5);
        await conn.until(
          (r) => splitResponses(r).filter((x) => x.status !== 100).length === planned.length,
          5000,
        );
      }
      check(recorder, planned, conn.received);
      conn.close();
    });
  });

  it("pipelined requests with Expect: 100-continue whose bodies come without waiting, cut at random points", async () => {
    const recorder = new Recorder();
    const rand = rng(52);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const readers = READERS.filter((h) => h !== "none" && h !== "partial" && h !== "sync");
      const planned = Array.from({ length: 16 }, (_, i) =>
        plan(rand, `pc${i}`, {
          how: pick(rand, readers),
          size: pick(rand, [0, 1, 16_385, 70_000]),
          chunked: rand() < 0.5,
          n: pick(rand, [0, 4097, 65_536]),
          wait: rand() < 0.3 ? 2 : 0,
          expectContinue: true,
        }),
      );
      const conn = await open(port);
      conn.socket.setNoDelay(true);
      check(recorder, planned, await runStream(conn, planned, rand, 50));
      conn.close();
    });
  });
});

describe("read buffer, adversarially: errors, timeouts, shutdown", () => {
  it("a malformed chunk line mid-body: the chunks kept before it survive the reads that follow", async () => {
    const recorder = new Recorder();
    const rand = rng(61);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const conn = await open(port);
      conn.socket.setNoDelay(true);
      // two good requests first (a large body is lent, a small one copied), kept across
      const good = [
        plan(rand, "g1", { how: "read1", size: 40_000, chunked: false }),
        plan(rand, "g2", { how: "read1", size: 9000, chunked: true }),
      ];
      await sendSplit(conn.socket, Buffer.concat(good.map((p) => p.bytes)), rand, 10);
      await conn.responses(2, 3000);
      const body = randomBody(rand, 150_000);
      const chunks: Buffer[] = [
        Buffer.from(
          "POST /r?id=bad&how=read1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
      ];
      for (let at = 0; at < body.length; at += 30_000) {
        chunks.push(Buffer.from("7530\r\n"), body.subarray(at, at + 30_000), Buffer.from("\r\n"));
      }
      await sendSplit(conn.socket, Buffer.concat(chunks), rand, 20);
      assert.ok(await waitFor(() => recorder.joined("bad").length === body.length));
      conn.send("zz\r\n");
      await conn.until((r) => splitResponses(r).length === 3);
      // The server reads on (lingering) after its 400: give it a lot to read.
      for (let i = 0; i < 16 && !conn.closed; i++) {
        conn.send(Buffer.alloc(64 * 1024, i));
        await sleep(2);
      }
      await sleep(20);
      const responses = splitResponses(conn.received);
      assert.equal(responses[2]?.status, 400);
      assert.ok(recorder.failures.has("bad"), "the app saw the error");
      assert.ok(recorder.joined("bad").equals(body), "the kept chunks did not change");
      checkKept(recorder, good);
      conn.close();
    });
  });

  it("a malformed head pipelined behind kept bodies: they survive the reads after the 400", async () => {
    const recorder = new Recorder();
    const rand = rng(62);
    await withServer(recorder.app, quiet, async ({ port }) => {
      const conn = await open(port);
      const good = [
        plan(rand, "h1", { how: "read1", size: 70_000, chunked: false }),
        plan(rand, "h2", { how: "readline", size: 12_000, chunked: true }),
        plan(rand, "h3", { how: "read1", size: 300, chunked: false, wait: 3 }),
      ];
      conn.send(
        Buffer.concat([...good.map((p) => p.bytes), Buffer.from("NOT HTTP AT ALL\r\n\r\n")]),
      );
      await conn.responses(4, 3000);
      for (let i = 0; i < 8 && !conn.closed; i++) {
        conn.send(Buffer.alloc(64 * 1024, 0x41 + i));
        await sleep(2);
      }
      await sleep(20);
      const responses = splitResponses(conn.received);
      assert.deepEqual(
        responses.map((r) => r.status),
        [200, 200, 200, 400],
      );
      check(recorder, good, conn.received.slice(0, conn.received.lastIndexOf("HTTP/1.1 400")));
      conn.close();
    });
  });

  it("a body that stalls mid-way: 408, and the part kept survives what the client sends next", async () => {
    const recorder = new Recorder();
    const rand = rng(71);
    await withServer(recorder.app, { ...quiet, bodyTimeout: 200 }, async ({ port }) => {
      const conn = await open(port);
      conn.socket.setNoDelay(true);
      const p = plan(rand, "stall", { how: "read1", size: 100_000, chunked: false });
      const headEnd = p.bytes.indexOf("\r\n\r\n") + 4;
      const sent = headEnd + 50_000;
      await sendSplit(conn.socket, p.bytes.subarray(0, sent), rand, 10);
      await conn.until((r) => r.includes("408"), 3000);
      assert.match(conn.received, /^HTTP\/1\.1 408 /);
      for (let i = 0; i < 8 && !conn.closed; i++) {
        conn.send(Buffer.alloc(64 * 1024, 0x61 + i));
        await sleep(2);
      }
      await sleep(20);
      assert.ok(recorder.failures.has("stall"), "the app saw the stall as an error");
      assert.ok(recorder.joined("stall").equals(p.expectRead.subarray(0, 50_000)));
      conn.close();
    });
  });

  it("a head cut in the middle and left there: 408, while another connection streams on", async () => {
    const recorder = new Recorder();
    const rand = rng(72);
    await withServer(recorder.app, { ...quiet, headerTimeout: 300 }, async ({ port }) => {
      const stalled = await open(port);
      stalled.send("POST /r?id=x&how=read1 HTTP/1.1\r\nHost: a\r\nContent-Le");
      const other = await open(port);
      other.socket.setNoDelay(true);
      const planned = Array.from({ length: 10 }, (_, i) => randomRequest(rand, `o${i}`));
      const received = await runStream(other, planned, rand, 30);
      check(recorder, planned, received);
      await stalled.until((r) => r.includes("408"), 3000);
      assert.match(stalled.received, /^HTTP\/1\.1 408 /);
      stalled.close();
      other.close();
    });
  });

  it("close() during uploads: each finishes with its bytes intact, then close() resolves", async () => {
    const recorder = new Recorder();
    const rand = rng(81);
    await withServer(recorder.app, quiet, async ({ port, server }) => {
      const uploads = await Promise.all(
        [0, 1, 2].map(async (i) => {
          const conn = await open(port);
          conn.socket.setNoDelay(true);
          const p = plan(rand, `up${i}`, {
            how: pick(rand, ["read1", "readinto1", "readline"] as const),
            size: 200_000,
            chunked: i === 1,
            n: 4096,
          });
          return { conn, p, half: p.bytes.length >> 1 };
        }),
      );
      // an idle keep-alive connection, which close() must end at once
      const idle = await open(port);
      const q = plan(rand, "idle", { how: "read1", size: 10, chunked: false });
      idle.send(q.bytes);
      await idle.responses(1);
      for (const u of uploads)
        await sendSplit(u.conn.socket, u.p.bytes.subarray(0, u.half), rand, 10);
      assert.ok(await waitFor(() => uploads.every((u) => recorder.kept.has(u.p.id))));
      let closed = false;
      const closing = server.close().then(() => {
        closed = true;
      });
      await idle.until(() => idle.closed, 2000);
      assert.ok(idle.closed, "the idle connection was closed");
      assert.equal(closed, false, "close() waits for the uploads");
      await Promise.all(
        uploads.map((u) => sendSplit(u.conn.socket, u.p.bytes.subarray(u.half), rand, 20)),
      );
      for (const u of uploads) {
        await u.conn.until(() => u.conn.closed, 5000);
        const r = splitResponses(u.conn.received);
        assert.equal(r.length, 1);
        assert.equal(r[0]?.headers.connection, "close");
        assert.equal(r[0]?.body, u.p.answer);
      }
      await Promise.race([closing, sleep(3000)]);
      assert.ok(closed, "close() resolved once the connections ended");
      checkKept(
        recorder,
        uploads.map((u) => u.p),
      );
      checkKept(recorder, [q]);
    });
  });
});

describe("read buffer, adversarially: a Unix socket", () => {
  it("random requests cut at random points", async () => {
    const recorder = new Recorder();
    const rand = rng(91);
    const dir = tempDir("unix");
    try {
      const path = join(dir.path, "s.sock");
      await withServer(recorder.app, { ...quiet, path }, async () => {
        const socket = connect(path);
        await new Promise<void>((resolve, reject) => {
          socket.once("connect", resolve);
          socket.once("error", reject);
        });
        const conn = new Conn(socket);
        const planned = Array.from({ length: 20 }, (_, i) => randomRequest(rand, `u${i}`));
        check(recorder, planned, await runStream(conn, planned, rand, 40));
        conn.close();
      });
    } finally {
      dir.remove();
    }
  });
});

describe("the poisoned-read harness, afterwards", () => {
  it("poisoned buffers that were reused, so the checks above did bite", () => {
    assert.ok(poison.fills > 100, `${poison.fills} buffers poisoned`);
    assert.ok(poison.reuses > 100, `${poison.reuses} of them reused`);
  });
});
