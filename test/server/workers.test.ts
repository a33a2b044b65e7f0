import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FIXTURES, killAll, startCli } from "../helpers/cli.ts";

const APP = join(FIXTURES, "app.ts");

after(killAll);

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
      /^wsgiref: error: worker \d+ exited \(code 1\) before it listened; see its error above$/m,
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
