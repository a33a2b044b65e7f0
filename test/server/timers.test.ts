/**
 * The production server's timeouts, on a fake socket with a clock the test drives: no
 * sleeps. Each timer fires through `sweepTimers`, as the server's sweep does, and each
 * answer is the HTTP core's coded error response.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import { ServerContext } from "../../src/server/context.ts";
import { resolveOptions, type ServerOptions } from "../../src/server/options.ts";
import { Session } from "../../src/server/session.ts";
import { sweepTimers } from "../../src/server/timers.ts";
import type { WSGIApplication } from "../../src/types.ts";
import { FakeSocket } from "../helpers/fake-socket.ts";

/** A session on a fake socket, with a clock at `t` ms that `advance` moves and sweeps. */
function clocked(app: WSGIApplication, options: Partial<ServerOptions> = {}) {
  const ctx = new ServerContext(
    app,
    resolveOptions({ port: 0, errorLog: "/dev/null", ...options }),
    false,
  );
  const socket = new FakeSocket();
  let t = 1_000_000;
  const session = new Session(socket as unknown as Socket, ctx, null, () => t);
  return {
    socket,
    session,
    send: (text: string) => socket.emit("data", Buffer.from(text, "latin1")),
    /** Moves the clock on and fires what is due, as the server's sweep would. */
    advance(ms: number) {
      t += ms;
      sweepTimers(ctx.sessions, t);
    },
  };
}

const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from("hello")];
};

/** An app that reads its whole body, and the code of the error its read failed with. */
function failingReader(): { app: WSGIApplication; readError: () => unknown } {
  let failure: unknown;
  const app: WSGIApplication = async (environ, startResponse) => {
    try {
      await environ["wsgi.input"].read();
    } catch (error) {
      failure = error;
    }
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [];
  };
  return { app, readError: () => (failure as { code?: unknown } | undefined)?.code };
}

/** Lets pending promises and the output's scheduled flush run. */
async function tick(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("server timers", () => {
  it("answers 408 ERR_HEADER_TIMEOUT when a head does not arrive whole in time", () => {
    const { socket, send, advance } = clocked(hello, { headerTimeout: 20_000 });
    send("GET / HTTP/1.1\r\nHost: t\r\n");
    advance(19_999);
    assert.equal(socket.written, "");
    advance(1);
    assert.match(socket.written, /^HTTP\/1.1 408 Request Timeout\r\n/);
    assert.match(socket.written, /Connection: close\r\n/);
    assert.match(socket.written, /408 Request Timeout: ERR_HEADER_TIMEOUT\n$/);
    assert.equal(socket.writableEnded, true);
  });

  it("closes a connection that sent nothing within the header timeout, without an answer", () => {
    const { socket, advance } = clocked(hello, { headerTimeout: 5_000 });
    advance(5_000);
    assert.equal(socket.written, "");
    assert.equal(socket.writableEnded, true);
  });

  it("closes an idle keep-alive connection after keepAliveTimeout", () => {
    const { socket, send, advance } = clocked(hello, { keepAliveTimeout: 5_000 });
    send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert.match(socket.written, /hello$/);
    advance(4_999);
    assert.equal(socket.writableEnded, false);
    advance(1);
    assert.equal(socket.writableEnded, true);
  });

  it("answers 408 ERR_BODY_TIMEOUT when a body the app reads stalls", async () => {
    const { app: reader, readError } = failingReader();
    const { socket, send, advance } = clocked(reader, { bodyTimeout: 30_000, minBodyRate: 0 });
    send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    await tick();
    advance(29_999);
    assert.equal(socket.written, "");
    send("de");
    advance(29_999);
    assert.equal(socket.written, "", "each piece of the body starts the timer again");
    advance(1);
    assert.match(socket.written, /^HTTP\/1.1 408 Request Timeout\r\n[\s\S]*ERR_BODY_TIMEOUT\n$/);
    await tick();
    assert.equal(readError(), "ECONNRESET");
  });

  it("answers 500 ERR_RESPONSE_TIMEOUT and closes the body of an app stuck in an await", async () => {
    let closed = 0;
    let release!: () => void;
    const stuck: WSGIApplication = async (_environ, startResponse) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return Object.assign([Buffer.from("late")], { close: () => void closed++ });
    };
    const { socket, send, advance } = clocked(stuck, { responseTimeout: 10_000 });
    send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    advance(10_000);
    assert.match(
      socket.written,
      /^HTTP\/1.1 500 Internal Server Error\r\n[\s\S]*ERR_RESPONSE_TIMEOUT\n$/,
    );
    release();
    await tick();
    await tick();
    assert.equal(closed, 1, "the body that came after the timeout was closed, once");
    assert.doesNotMatch(socket.written, /late/);
  });

  it("closes a streamed body idle between chunks when the response timeout fires", async () => {
    let finished = false;
    const events: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/event-stream"]]);
      return (async function* () {
        try {
          yield Buffer.from("data: 1\n\n");
          await new Promise<void>(() => {});
        } finally {
          finished = true;
        }
      })();
    };
    const { socket, send, advance } = clocked(events, { responseTimeout: 10_000 });
    send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    await tick();
    assert.match(socket.written, /data: 1/);
    advance(10_000);
    assert.equal(socket.destroyed, true, "response bytes went out, so the connection is cut");
    await tick();
    // The generator waits forever inside an await: its return() is queued, and the
    // handler abandoned it without waiting. What matters is that nothing more is written.
    assert.equal(finished, false);
  });

  it("cuts a client that takes no response bytes for sendTimeout, and closes the app's body", async () => {
    let closed = 0;
    const big: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return Object.assign([Buffer.alloc(4096)], { close: () => void closed++ });
    };
    const { socket, send, advance } = clocked(big, { sendTimeout: 60_000 });
    send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    await tick();
    // The kernel took nothing: everything written is still waiting in the socket.
    socket.writableLength = socket.bytesWritten;
    advance(30_000);
    socket.writableLength -= 1000; // the client read a little: progress
    advance(1);
    advance(59_999);
    assert.equal(socket.destroyed, false);
    advance(1);
    assert.equal(socket.destroyed, true);
    assert.equal(closed, 1);
  });

  it("answers 408 ERR_BODY_TOO_SLOW to a body trickled below minBodyRate after the grace", async () => {
    const { app: reader, readError } = failingReader();
    const { socket, send, advance } = clocked(reader, { minBodyRate: 240, bodyTimeout: 30_000 });
    send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
    for (let i = 0; i < 2; i++) {
      await tick();
      advance(2_000);
      send("a".repeat(100)); // 50 bytes a second: under the body timeout, far under the rate
    }
    await tick();
    assert.equal(socket.written, "", "still within the 5 s grace");
    advance(2_000);
    assert.match(socket.written, /^HTTP\/1.1 408 Request Timeout\r\n[\s\S]*ERR_BODY_TOO_SLOW\n$/);
    await tick();
    assert.equal(readError(), "ECONNRESET");
  });

  it("lets a body at minBodyRate or faster through", async () => {
    const reader: WSGIApplication = async (environ, startResponse) => {
      const body = await environ["wsgi.input"].read();
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [Buffer.from(String(body.length))];
    };
    const { socket, send, advance } = clocked(reader, { minBodyRate: 240 });
    send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3000\r\n\r\n");
    for (let i = 0; i < 10; i++) {
      await tick();
      advance(1_000);
      send("b".repeat(300));
    }
    await tick();
    assert.match(socket.written, /^HTTP\/1.1 200 OK\r\n[\s\S]*3000$/);
  });
});
