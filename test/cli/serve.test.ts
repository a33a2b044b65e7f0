import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { FIXTURES, get, killAll, startCli } from "../helpers/cli.ts";

const run = promisify(execFile);
const APP = join(FIXTURES, "app.ts");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

after(killAll);

describe("cli: wsgiref serve, end to end", () => {
  it("serves FILE on --port 0, printing where, and exits 0 on SIGTERM", async () => {
    const server = startCli(["serve", APP, "--port", "0"]);
    const port = await server.port();
    assert.match(server.stdout, /^Serving HTTP on 127\.0\.0\.1 port \d+ \.\.\.\n$/);
    const res = await get(port, "/");
    assert.equal(res.status, 200);
    assert.equal(res.body, String(server.pid));
    assert.equal(res.headers.server, "wsgiref");
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("serves with the reference server under --server simple", async () => {
    const server = startCli(["serve", APP, "--port", "0", "--server", "simple"]);
    const port = await server.port();
    const res = await get(port, "/environ");
    assert.equal(res.status, 200);
    assert.match(String(res.headers.server), /^WSGIServer\/0\.2 /);
    assert.equal(JSON.parse(res.body).multiprocess, false);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("serves on a Unix socket with --unix-socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgiref-cli-"));
    const path = join(dir, "app.sock");
    try {
      const server = startCli(["serve", APP, "--unix-socket", path]);
      await server.waitFor(/^Serving HTTP on unix:.*app\.sock \.\.\.$/m);
      assert.equal((await get({ socketPath: path })).body, String(server.pid));
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
      assert.equal(existsSync(path), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers 500 under --validate when the app breaks PEP 3333, logging the AssertionError", async () => {
    const server = startCli(["serve", join(FIXTURES, "invalid.ts"), "--port", "0", "--validate"]);
    const port = await server.port();
    const res = await get(port, "/");
    assert.equal(res.status, 500);
    await server.waitFor(/AssertionError.*No Content-Type header found in headers/, "stderr");
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("serves the same app without --validate", async () => {
    const server = startCli(["serve", join(FIXTURES, "invalid.ts"), "--port", "0"]);
    const port = await server.port();
    assert.equal((await get(port, "/")).status, 200);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("takes options from WSGIREF_* variables, with flags winning over them", async () => {
    const server = startCli(["serve", APP, "--server-header", "from-flag"], {
      env: {
        WSGIREF_PORT: "0",
        WSGIREF_HOST: "127.0.0.1",
        WSGIREF_SERVER_HEADER: "from-env",
        WSGIREF_ACCESS_LOG: "-",
      },
    });
    const port = await server.port();
    const res = await get(port, "/environ");
    assert.equal(res.headers.server, "from-flag");
    assert.equal(JSON.parse(res.body).serverSoftware, "from-flag");
    await server.waitFor(/"GET \/environ HTTP\/1\.1" 200/, "stderr");
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("serves the demo app on all interfaces when run bare", async () => {
    const server = startCli([], { env: { WSGIREF_PORT: "0" } });
    const port = await server.port();
    assert.match(server.stdout, /^Serving HTTP on 0\.0\.0\.0 port \d+ \.\.\.$/m);
    const res = await get(port, "/");
    assert.equal(res.status, 200);
    assert.match(res.body, /^Hello world!\n\n/);
    assert.match(res.body, /^wsgi\.url_scheme = 'http'$/m);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("says it serves the demo app, on 127.0.0.1, under `wsgiref serve` without a file", async () => {
    const server = startCli(["serve", "--port", "0"]);
    await server.port();
    assert.match(server.stdout, /^Serving HTTP on 127\.0\.0\.1 port \d+ \.\.\.$/m);
    assert.equal(
      server.stderr,
      "wsgiref: no FILE given: serving the demo app (wsgiref serve FILE[:NAME] serves yours)\n",
    );
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("runs bin/wsgiref.js from the built package", {
    skip: existsSync(join(ROOT, "dist/cli/main.js")) ? false : "dist/ not built (npm run build)",
  }, async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, "bin/wsgiref.js"), "--version"]);
    assert.match(stdout, /^wsgiref \d+\.\d+\.\d+\n$/);
  });
});
