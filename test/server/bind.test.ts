import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { endpointsOf, inheritedFds, parseBind } from "../../src/server/bind.ts";
import { resolveOptions } from "../../src/server/options.ts";
import { CLI, CliProcess, FIXTURES, get, killAll, startCli, TSX } from "../helpers/cli.ts";

const APP = join(FIXTURES, "app.ts");

after(killAll);

/** GET / over IPv6 loopback on a fresh connection: the answering pid. */
async function getV6(port: number): Promise<string> {
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request({ host: "::1", port, path: "/", agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("bind: parsing --bind", () => {
  it("reads HOST:PORT, [IPv6]:PORT, unix:PATH and fd://N", () => {
    assert.deepEqual(parseBind("0.0.0.0:8000"), { kind: "tcp", host: "0.0.0.0", port: 8000 });
    assert.deepEqual(parseBind("localhost:80"), { kind: "tcp", host: "localhost", port: 80 });
    assert.deepEqual(parseBind("[::1]:8000"), { kind: "tcp", host: "::1", port: 8000 });
    assert.deepEqual(parseBind("unix:/run/app.sock"), { kind: "unix", path: "/run/app.sock" });
    assert.deepEqual(parseBind("fd://3"), { kind: "fd", fd: 3 });
  });

  it("names a bad address", () => {
    assert.throws(() => parseBind("::1:8000"), /--bind: expected HOST:PORT, got "::1:8000"/);
    assert.throws(() => parseBind("[nope]:80"), /expected an IPv6 address in brackets/);
    assert.throws(() => parseBind("host:99999"), /expected a port from 0 to 65535/);
    assert.throws(() => parseBind("unix:"), /unix: needs a path/);
  });

  it("prefers inherited sockets, then --bind, then --unix-socket, then --host/--port", () => {
    const options = resolveOptions({ bind: ["127.0.0.1:1", "unix:/tmp/x"] }, {});
    assert.deepEqual(endpointsOf(options, 2), [
      { kind: "fd", fd: 3 },
      { kind: "fd", fd: 4 },
    ]);
    assert.deepEqual(endpointsOf(options, 0), [
      { kind: "tcp", host: "127.0.0.1", port: 1 },
      { kind: "unix", path: "/tmp/x" },
    ]);
    assert.deepEqual(endpointsOf(resolveOptions({ port: 9 }, {}), 0), [
      { kind: "tcp", host: "127.0.0.1", port: 9 },
    ]);
  });

  it("takes LISTEN_FDS only when LISTEN_PID names this process", () => {
    const pid = String(process.pid);
    assert.equal(inheritedFds({ LISTEN_PID: pid, LISTEN_FDS: "2" }), 2);
    assert.equal(inheritedFds({ LISTEN_PID: "1", LISTEN_FDS: "2" }), 0);
    assert.equal(inheritedFds({}), 0);
  });
});

for (const workers of ["1", "2"]) {
  describe(`bind: IPv4, IPv6 and a Unix socket at once (--workers ${workers})`, () => {
    it("serves on every --bind address and prints each", async () => {
      const dir = mkdtempSync(join(tmpdir(), "wsgiref-bind-"));
      const sock = join(dir, "app.sock");
      try {
        const server = startCli([
          "serve",
          APP,
          "--bind",
          "127.0.0.1:0",
          "--bind",
          "[::1]:0",
          `--bind=unix:${sock}`,
          "--workers",
          workers,
        ]);
        await server.waitFor(/^Serving HTTP on unix:/m);
        const v4 = Number(
          server.stdout.match(/^Serving HTTP on 127\.0\.0\.1 port (\d+) \.\.\.$/m)?.[1],
        );
        const v6 = Number(server.stdout.match(/^Serving HTTP on ::1 port (\d+) \.\.\.$/m)?.[1]);
        assert.equal(server.stdout.match(/^Serving HTTP on unix:(.*) \.\.\.$/m)?.[1], sock);
        const pids = [
          (await get(v4)).body,
          await getV6(v6),
          (await get({ socketPath: sock })).body,
        ].map(Number);
        for (const pid of pids) assert.ok(pid > 0);
        if (workers === "1") assert.deepEqual(pids, [server.pid, server.pid, server.pid]);
        assert.deepEqual(await server.stop(), { code: 0, signal: null });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** A listening TCP socket on a free loopback port, and its descriptor in this process. */
async function listeningSocket(): Promise<{ server: Server; port: number; fd: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  return { server, port, fd };
}

describe("bind: systemd socket activation", () => {
  for (const workers of ["1", "2"]) {
    it(`serves a socket passed as fd 3 and binds nothing else (--workers ${workers})`, async () => {
      const { server: parent, port, fd } = await listeningSocket();
      // As systemd does: the socket is fd 3, LISTEN_FDS=1 and LISTEN_PID is the server's
      // pid (the shell's, which exec keeps). --port would bind 8000: it is not used.
      const child = spawn(
        "sh",
        [
          "-c",
          'LISTEN_PID=$$ exec "$0" "$@"',
          process.execPath,
          "--import",
          TSX,
          CLI,
          "serve",
          APP,
          "--port",
          "1",
          "--workers",
          workers,
        ],
        {
          env: { ...process.env, LISTEN_FDS: "1", LISTEN_FDNAMES: "app" },
          stdio: ["ignore", "pipe", "pipe", fd],
        },
      );
      const cli = new CliProcess(child);
      // The test's own copy closes: from now on only the server holds the socket.
      parent.close();
      await cli.waitFor(/^Serving HTTP on 127\.0\.0\.1 port (\d+) \.\.\.$/m);
      assert.match(cli.stdout, new RegExp(`port ${port} `));
      const res = await get(port, "/");
      assert.equal(res.status, 200);
      if (workers === "1") assert.equal(Number(res.body), cli.pid);
      else assert.notEqual(Number(res.body), cli.pid);
      const env = JSON.parse((await get(port, "/environ")).body) as { pid: number };
      assert.ok(env.pid > 0);
      assert.deepEqual(await cli.stop(), { code: 0, signal: null });
    });
  }

  const activate = spawnSync("systemd-socket-activate", ["--help"], { stdio: "ignore" });
  it("serves under systemd-socket-activate", {
    skip:
      activate.status !== 0 &&
      "systemd-socket-activate is not installed (Debian package systemd): install it to run this test",
  }, async () => {
    const { server: probe, port } = await listeningSocket();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const child = spawn(
      "systemd-socket-activate",
      [
        "-l",
        `127.0.0.1:${port}`,
        process.execPath,
        "--import",
        TSX,
        CLI,
        "serve",
        APP,
        "--workers",
        "2",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const cli = new CliProcess(child);
    await cli.waitFor(/Listening on 127\.0\.0\.1:\d+ as 3/, "stderr");
    // The tool starts the server on the first connection, as systemd does.
    const res = await get(port, "/", {}, 20_000);
    assert.equal(res.status, 200);
    await cli.waitFor(/^Serving HTTP on 127\.0\.0\.1 port \d+ \.\.\.$/m);
    assert.equal((await get(port, "/")).status, 200);
    assert.deepEqual(await cli.stop(), { code: 0, signal: null });
  });
});

describe("bind: on the command line", () => {
  it("rejects a bad --bind with a one-line error naming it, exit 2", async () => {
    const cli = startCli([
      "serve",
      APP,
      "--bind",
      "127.0.0.1:0",
      "--bind",
      "::1:80",
      "--check-config",
    ]);
    assert.deepEqual(await cli.exit(), { code: 2, signal: null });
    assert.equal(
      cli.stderr,
      'wsgiref: error: --bind: expected HOST:PORT, got "::1:80" (try 127.0.0.1:8000, [::1]:8000 or unix:/run/app.sock)\n',
    );
  });

  it("takes WSGIREF_BIND as a comma-separated list", async () => {
    const cli = startCli(["serve", APP, "--print-config"], {
      env: { WSGIREF_BIND: "127.0.0.1:8001, [::1]:8001" },
    });
    assert.deepEqual(await cli.exit(), { code: 0, signal: null });
    assert.match(
      cli.stdout,
      /^bind = \["127\.0\.0\.1:8001","\[::1\]:8001"\] {2}# environment WSGIREF_BIND$/m,
    );
  });
});
