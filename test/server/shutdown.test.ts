import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { serve } from "../../src/server.ts";
import type { WSGIApplication } from "../../src/types.ts";
import { CliProcess, FIXTURES, killAll, startCli, TSX } from "../helpers/cli.ts";
import { open, splitResponses } from "../helpers/wire.ts";

const APP = join(FIXTURES, "app.ts");
const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

after(killAll);

/** `/slow?ms=N` answers after N ms; anything else at once. */
const app: WSGIApplication = async (environ, startResponse) => {
  const ms = Number(new URLSearchParams(environ.QUERY_STRING).get("ms") ?? "0");
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode(`done ${environ.PATH_INFO}`)];
};

/** Resolves true once a connection to `port` is refused, false if none is within `ms`. */
async function refusesConnections(port: number, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
    });
    if (refused) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function start(gracefulTimeout = 5000) {
  const server = await serve(app, {
    port: 0,
    host: "127.0.0.1",
    errorLog: "/dev/null",
    keepAliveTimeout: 30_000,
    gracefulTimeout,
  });
  return { server, port: (server.address as { port: number }).port };
}

describe("shutdown: close()", () => {
  it("finishes an in-flight request, answered with Connection: close", async () => {
    const { server, port } = await start();
    const conn = await open(port);
    conn.send(GET("/slow?ms=300"));
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close();
    const [res] = splitResponses(await conn.responses(1));
    assert.equal(res?.body, "done /slow");
    assert.equal(res?.headers.connection, "close");
    await closing;
    assert.equal(conn.closed, true);
  });

  it("closes idle keep-alive connections at once", async () => {
    const { server, port } = await start();
    const conn = await open(port);
    conn.send(GET("/"));
    await conn.responses(1);
    const started = Date.now();
    await server.close();
    await conn.until(() => false, 1000);
    assert.equal(conn.closed, true);
    assert.ok(Date.now() - started < 500, "the idle connection did not hold the shutdown");
  });

  it("refuses new connections while in-flight requests finish", async () => {
    const { server, port } = await start();
    const conn = await open(port);
    conn.send(GET("/slow?ms=800"));
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close();
    assert.equal(await refusesConnections(port, 600), true);
    assert.equal(conn.closed, false);
    await closing;
  });

  it("answers a connection accepted just before close() whose request arrives after", async () => {
    const { server, port } = await start();
    const conn = await open(port);
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close();
    conn.send(GET("/late"));
    const [res] = splitResponses(await conn.responses(1));
    assert.equal(res?.body, "done /late");
    assert.equal(res?.headers.connection, "close");
    await closing;
  });

  it("closes a new connection that sends nothing within a second or two", async () => {
    const { server, port } = await start();
    const conn = await open(port);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await server.close();
    await conn.until(() => false, 100);
    assert.equal(conn.closed, true);
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
  });

  it("cuts a request that outlives gracefulTimeout", async () => {
    const { server, port } = await start(300);
    const conn = await open(port);
    conn.send(GET("/slow?ms=3000"));
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await server.close();
    await conn.until(() => false, 500);
    assert.equal(conn.closed, true);
    assert.equal(conn.received, "");
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
  });
});

/**
 * Starts the CLI, opens an idle keep-alive connection and a slow request, sends `signal`,
 * and checks the graceful shutdown from outside.
 */
async function signalWhileBusy(
  signal: NodeJS.Signals,
  workers: number,
  { group = false, slowMs = 1200 } = {},
) {
  const server = startCli(
    [
      "serve",
      APP,
      "--port",
      "0",
      "--workers",
      String(workers),
      "--keep-alive",
      "30s",
      "--graceful-timeout",
      "10s",
    ],
    { detached: group },
  );
  const port = await server.port();
  const idle = await open(port);
  idle.send(GET("/"));
  await idle.responses(1);
  const slow = await open(port);
  slow.send(GET(`/slow?ms=${slowMs}`));
  await server.waitFor(/slow request started/, "stderr");
  const signalled = Date.now();
  server.kill(signal, group);

  await idle.until(() => false, 500);
  assert.equal(idle.closed, true, "the idle keep-alive connection was closed");
  assert.equal(await refusesConnections(port, slowMs - 300), true, "new connections refused");
  assert.equal(slow.closed, false, "the slow request is still in flight");
  const [res] = splitResponses(await slow.responses(1, slowMs + 3000));
  assert.equal(res?.status, 200);
  assert.equal(res?.headers.connection, "close");
  assert.deepEqual(await server.exit(5000), { code: 0, signal: null });
  assert.ok(Date.now() - signalled < 5000, "exited well within the grace period");
  return server;
}

describe("shutdown: signals to wsgiref serve", () => {
  for (const workers of [1, 2]) {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      it(`${signal} with --workers ${workers}: in-flight requests finish, idle connections close, new ones are refused, exit 0`, () =>
        signalWhileBusy(signal, workers).then(() => {}));
    }
  }

  it("SIGTERM to the whole process group (as systemd sends it) still drains the workers", () =>
    signalWhileBusy("SIGTERM", 2, { group: true }).then(() => {}));

  it("cuts a request that outlives --graceful-timeout, and the process still exits", async () => {
    const server = startCli(["serve", APP, "--port", "0", "--graceful-timeout", "500ms"]);
    const port = await server.port();
    const slow = await open(port);
    slow.send(GET("/slow?ms=20000"));
    await server.waitFor(/slow request started/, "stderr");
    const signalled = Date.now();
    server.kill("SIGTERM");
    assert.deepEqual(await server.exit(5000), { code: 0, signal: null });
    assert.ok(Date.now() - signalled < 3000, `took ${Date.now() - signalled} ms`);
    await slow.until(() => false, 500);
    assert.equal(slow.closed, true);
    assert.equal(slow.received, "");
  });
});

describe("shutdown: while workers are still starting", () => {
  it("SIGTERM to a serve() program stops its workers once they listen, and it exits", async () => {
    const script = join(FIXTURES, "serve-script.ts");
    const child = spawn(process.execPath, ["--import", TSX, script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const server = new CliProcess(child);
    await server.until(
      () => (server.stderr.match(/^worker \d+ starting$/gm)?.length ?? 0) === 2,
      "two workers starting",
    );
    server.kill("SIGTERM");
    assert.deepEqual(await server.exit(8000), { code: 0, signal: null });
    assert.match(server.stderr, /^closed$/m);
  });
});
