import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CliProcess, FIXTURES, get, killAll, pidsOf, startCli } from "../helpers/cli.ts";

const APP = join(FIXTURES, "app.ts");

after(killAll);

/**
 * Requests `/` on fresh connections, two at a time, until `stop(pidsSeen)` is true (at
 * most 20 s); resolves with how many succeeded, the failures, and the pids seen.
 */
async function stream(port: number, stop: (pids: ReadonlySet<number>) => boolean) {
  const deadline = Date.now() + 20_000;
  let ok = 0;
  const failures: string[] = [];
  const pids = new Set<number>();
  const loop = async () => {
    while (!stop(pids)) {
      if (Date.now() > deadline) {
        failures.push("the stream ran for 20 s without reaching its end");
        return;
      }
      try {
        const res = await get(port, "/", {}, 5000);
        if (res.status === 200) {
          ok++;
          pids.add(Number(res.body));
        } else failures.push(`status ${res.status}`);
      } catch (error) {
        failures.push((error as Error).message);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await Promise.all([loop(), loop()]);
  return { ok, failures, pids };
}

describe("workers: a running cluster (--workers 2)", () => {
  let server: CliProcess;
  let port: number;
  // The app module the cluster serves, which a test rewrites as a deploy would.
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-workers-"));
  const deployed = join(dir, "app.ts");
  const deploy = (code: string) => writeFileSync(deployed, code);

  before(async () => {
    deploy(`export { app } from ${JSON.stringify(APP)};\n`);
    server = startCli(["serve", deployed, "--port", "0", "--workers", "2"]);
    port = await server.port();
  });

  after(async () => {
    if (server) assert.deepEqual(await server.stop(), { code: 0, signal: null });
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints its banner once, from the primary", async () => {
    await pidsOf(port, 2);
    assert.equal(server.stdout.match(/^Serving HTTP on /gm)?.length, 1);
  });

  it("serves from both workers over fresh connections, never from the primary", async () => {
    const pids = await pidsOf(port, 10);
    assert.equal(pids.size, 2);
    assert.equal(pids.has(server.pid), false);
  });

  it("sets wsgi.multiprocess", async () => {
    const res = await get(port, "/environ");
    assert.equal(JSON.parse(res.body).multiprocess, true);
  });

  it("replaces a worker killed with SIGKILL, logging it; requests keep succeeding", async () => {
    const before = await pidsOf(port, 4);
    const victim = [...before][0] as number;
    process.kill(victim, "SIGKILL");
    // A connection node:cluster hands to the worker at the instant it dies is lost (see
    // docs/operations.md), so the requests start once the primary noticed the death.
    await server.waitFor(
      new RegExp(`^wsgiref: worker ${victim} died \\(SIGKILL\\); starting a new one$`, "m"),
      "stderr",
    );
    const { failures } = await stream(port, (seen) => [...seen].some((pid) => !before.has(pid)));
    assert.deepEqual(failures, []);
    const now = await pidsOf(port, 6);
    assert.equal(now.size, 2);
    assert.equal(now.has(victim), false);
  });

  it("rolls every worker on SIGHUP without refusing or failing a request", async () => {
    const old = await pidsOf(port, 4);
    const rolled = () => /rolling restart done/.test(server.stderr);
    let hupAt = 0;
    const started = Date.now();
    const pending = stream(port, () => {
      if (hupAt === 0 && Date.now() - started > 300) {
        hupAt = Date.now();
        server.kill("SIGHUP");
      }
      return hupAt !== 0 && rolled() && Date.now() - started > 2000;
    });
    const { ok, failures } = await pending;
    assert.deepEqual(failures, []);
    assert.ok(ok >= 100, `only ${ok} requests went through`);
    const now = await pidsOf(port, 6);
    assert.equal(now.size, 2);
    for (const pid of now) assert.equal(old.has(pid), false, `worker ${pid} was not replaced`);
  });

  it("keeps the old workers serving when a SIGHUP finds broken code", async () => {
    const old = await pidsOf(port, 4);
    deploy("export const app = ;\n");
    server.kill("SIGHUP");
    await server.waitFor(/^wsgiref: rolling restart failed: .*before it listened/m, "stderr");
    // The new worker said where the code is broken, as `serve` itself would.
    assert.match(server.stderr, /^wsgiref: error: cannot load ".+": .+:1:19: Unexpected ";"$/m);
    assert.deepEqual(await pidsOf(port, 6), old);
  });
});

describe("workers: failing at start-up", () => {
  it("exits 1 when the app fails to load in the workers, without respawning them", async () => {
    const server = startCli([
      "serve",
      join(FIXTURES, "fail-in-worker.ts"),
      "--port",
      "0",
      "--workers",
      "2",
    ]);
    assert.deepEqual(await server.exit(20_000), { code: 1, signal: null });
    // One line per worker at most (the primary stops the other as soon as one fails).
    const loads = server.stderr.match(/cannot load .*this app refuses to start in a worker/g);
    assert.ok(loads && loads.length <= 2, server.stderr);
    assert.match(
      server.stderr,
      /^wsgiref: error: worker \d+ exited \(code 2\) before it listened; see its error above$/m,
    );
    assert.equal(server.stdout, "");
  });

  it("exits 1 when the port is taken, without respawning the workers", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const server = startCli(["serve", APP, "--port", String(taken), "--workers", "2"]);
      assert.deepEqual(await server.exit(20_000), { code: 1, signal: null });
      const reasons = server.stderr.match(/^wsgiref: error: .*EADDRINUSE/gm);
      assert.ok(reasons && reasons.length <= 2, server.stderr);
      assert.match(server.stderr, /^wsgiref: error: worker \d+ exited \(code 1\) before it/m);
    } finally {
      blocker.close();
    }
  });
});

describe("workers: on a Unix socket", () => {
  it("clears a stale socket file, serves from both workers, and removes the file on stop", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgiref-workers-"));
    const path = join(dir, "app.sock");
    try {
      // A server killed with SIGKILL leaves its socket file behind.
      const code = `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`;
      try {
        execFileSync(process.execPath, ["-e", code], { stdio: "ignore" });
      } catch {
        // killed, as intended
      }
      assert.ok(lstatSync(path).isSocket());
      const server = startCli(["serve", APP, "--unix-socket", path, "--workers", "2"]);
      await server.waitFor(/^Serving HTTP on unix:/m);
      const pids = new Set<number>();
      for (let i = 0; i < 6; i++) pids.add(Number((await get({ socketPath: path })).body));
      assert.equal(pids.size, 2);
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
      assert.equal(existsSync(path), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
