import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FIXTURES, killAll, pidsOf, startCli } from "../helpers/cli.ts";

const APP = join(FIXTURES, "app.ts");

after(killAll);

/** A directory with an app module that a test rewrites as a deploy would. */
function deployment() {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-recovery-"));
  const file = join(dir, "app.ts");
  const good = () => writeFileSync(file, `export { app } from ${JSON.stringify(APP)};\n`);
  const broken = () => writeFileSync(file, "export const app = ;\n");
  good();
  return { dir, file, good, broken, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("workers: keeping the configured count", () => {
  it("retries a replacement that fails to load with backoff, and recovers once the file is fixed", async () => {
    const app = deployment();
    try {
      const server = startCli(["serve", app.file, "--port", "0", "--workers", "2"]);
      const port = await server.port();
      const before = await pidsOf(port, 4);
      assert.equal(before.size, 2);
      app.broken();
      const victim = [...before][0] as number;
      process.kill(victim, "SIGKILL");
      await server.waitFor(
        /^wsgiref: worker \d+ exited \(code 2\) before it listened; retrying in 1 s$/m,
        "stderr",
      );
      await server.waitFor(
        /^wsgiref: worker \d+ exited \(code 2\) before it listened; retrying in 2 s$/m,
        "stderr",
        15_000,
      );
      // The survivor serves alone meanwhile.
      assert.equal((await pidsOf(port, 3)).size, 1);
      app.good();
      // No signal: the next retry (after 4 s at most) loads the fixed file.
      let pids = new Set<number>();
      const deadline = Date.now() + 15_000;
      while (pids.size < 2 && Date.now() < deadline) {
        pids = await pidsOf(port, 6);
        if (pids.size < 2) await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(pids.size, 2, server.stderr);
      assert.equal(pids.has(victim), false);
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    } finally {
      app.remove();
    }
  });

  it("restores --workers N on SIGHUP without waiting for the backoff", async () => {
    const app = deployment();
    try {
      const server = startCli(["serve", app.file, "--port", "0", "--workers", "2"]);
      const port = await server.port();
      const before = await pidsOf(port, 4);
      app.broken();
      process.kill([...before][0] as number, "SIGKILL");
      await server.waitFor(/retrying in 2 s$/m, "stderr", 15_000);
      app.good();
      server.kill("SIGHUP");
      await server.waitFor(
        /^wsgiref: SIGHUP: restarting 1 workers one at a time, then starting 1 missing$/m,
        "stderr",
      );
      const done = await server.waitFor(
        /^wsgiref: rolling restart done; workers (\d+), (\d+)$/m,
        "stderr",
      );
      const now = await pidsOf(port, 6);
      assert.deepEqual(now, new Set([Number(done[1]), Number(done[2])]));
      for (const pid of now) assert.equal(before.has(pid), false);
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    } finally {
      app.remove();
    }
  });

  it("adds a worker on SIGTTIN and removes one on SIGTTOU", async () => {
    const server = startCli(["serve", APP, "--port", "0", "--workers", "2"]);
    const port = await server.port();
    assert.equal((await pidsOf(port, 4)).size, 2);
    server.kill("SIGTTIN");
    await server.waitFor(/^wsgiref: SIGTTIN: 3 workers$/m, "stderr");
    let pids = new Set<number>();
    for (let i = 0; i < 60 && pids.size < 3; i++) {
      await new Promise((r) => setTimeout(r, 250));
      pids = await pidsOf(port, 6);
    }
    assert.equal(pids.size, 3, server.stderr);
    server.kill("SIGTTOU");
    await server.waitFor(/^wsgiref: SIGTTOU: 2 workers$/m, "stderr");
    for (let i = 0; i < 60 && pids.size !== 2; i++) {
      await new Promise((r) => setTimeout(r, 250));
      pids = await pidsOf(port, 6);
    }
    assert.equal(pids.size, 2);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});
