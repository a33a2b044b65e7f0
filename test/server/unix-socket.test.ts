import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { serve } from "../../src/server.ts";
import type { WSGIApplication } from "../../src/types.ts";
import { get } from "../helpers/cli.ts";

const run = promisify(execFile);

/** Answers the environ values a Unix socket changes, as JSON. */
const app: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  const seen = {
    remoteAddr: environ.REMOTE_ADDR,
    remotePort: environ.REMOTE_PORT,
    serverName: environ.SERVER_NAME,
    path: environ.PATH_INFO,
  };
  return [new TextEncoder().encode(JSON.stringify(seen))];
};

const dir = mkdtempSync(join(tmpdir(), "wsgiref-unix-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A fresh socket path (short: Unix socket paths are limited to about 100 bytes). */
const socketPath = () => join(dir, `s${n++}.sock`);
const quiet = { errorLog: "/dev/null" };

/** Leaves a stale socket file at `path`: a process listens there and is SIGKILLed. */
async function leaveStaleSocket(path: string): Promise<void> {
  const code = `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`;
  await run(process.execPath, ["-e", code]).catch(() => {});
  assert.ok(lstatSync(path).isSocket(), "the killed process left its socket file");
}

describe("server: Unix sockets", () => {
  it("serves curl --unix-socket, with an empty REMOTE_ADDR", async () => {
    const path = socketPath();
    await using server = await serve(app, { path, ...quiet });
    assert.equal(server.address, path);
    const { stdout } = await run("curl", ["-s", "--unix-socket", path, "http://app.local/x"]);
    assert.deepEqual(JSON.parse(stdout), {
      remoteAddr: "",
      remotePort: "",
      serverName: "app.local",
      path: "/x",
    });
  });

  it("serves node:http with socketPath", async () => {
    const path = socketPath();
    await using _server = await serve(app, { path, ...quiet });
    const res = await get({ socketPath: path }, "/node");
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).path, "/node");
  });

  it("removes the socket file on close, so the path can be served again", async () => {
    const path = socketPath();
    const first = await serve(app, { path, ...quiet });
    await first.close();
    assert.equal(existsSync(path), false);
    await using _second = await serve(app, { path, ...quiet });
    assert.equal((await get({ socketPath: path })).status, 200);
  });

  it("removes a stale socket file that nothing listens on", async () => {
    const path = socketPath();
    await leaveStaleSocket(path);
    await using _server = await serve(app, { path, ...quiet });
    assert.equal((await get({ socketPath: path })).status, 200);
  });

  it("refuses with EADDRINUSE when another server listens on the path", async () => {
    const path = socketPath();
    const other = createServer((s) => s.on("error", () => {}).end());
    await new Promise<void>((resolve) => other.listen(path, resolve));
    try {
      await assert.rejects(serve(app, { path, ...quiet }), {
        code: "EADDRINUSE",
        message: `listen EADDRINUSE: ${path} is in use by another server`,
      });
      assert.ok(lstatSync(path).isSocket(), "the live server's socket is left alone");
    } finally {
      other.close();
    }
  });

  it("refuses with EADDRINUSE, and deletes nothing, when the path is not a socket", async () => {
    const path = socketPath();
    writeFileSync(path, "precious\n");
    await assert.rejects(serve(app, { path, ...quiet }), {
      code: "EADDRINUSE",
      message: `listen EADDRINUSE: ${path} exists and is not a socket; not removing it`,
    });
    assert.equal(readFileSync(path, "utf8"), "precious\n");
  });
});
