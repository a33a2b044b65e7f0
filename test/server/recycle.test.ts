import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { resolveOptions } from "../../src/server/options.ts";
import { Recycler } from "../../src/server/recycle.ts";
import { FIXTURES, get, killAll, startCli } from "../helpers/cli.ts";

const APP = join(FIXTURES, "app.ts");

after(killAll);

/**
 * Sends `total` requests to `path`, `parallel` at a time, each on a fresh connection;
 * resolves with the failures and the pids that answered.
 */
async function load(port: number, path: string, total: number, parallel: number) {
  const failures: string[] = [];
  const pids = new Set<number>();
  let next = 0;
  const lane = async () => {
    while (next < total) {
      next++;
      try {
        const res = await get(port, path, {}, 10_000);
        if (res.status === 200) pids.add(Number(res.body));
        else failures.push(`status ${res.status}`);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return { failures, pids };
}

describe("recycling workers", () => {
  it("takes --max-requests plus 0 to --max-requests-jitter requests per worker", () => {
    const options = resolveOptions({ maxRequests: 100, maxRequestsJitter: 10 }, {});
    assert.equal(new Recycler(options, () => 0).limit, 100);
    assert.equal(new Recycler(options, () => 0.999).limit, 110);
    assert.equal(new Recycler(resolveOptions({}, {})).limit, Number.POSITIVE_INFINITY);
  });

  it("replaces a worker after --max-requests without failing a request in flight", async () => {
    const server = startCli(["serve", APP, "--port", "0", "--workers", "2", "--max-requests", "5"]);
    const port = await server.port();
    // Slow requests, so every recycle finds requests in flight in the old worker.
    const { failures, pids } = await load(port, "/slow?ms=150", 120, 4);
    assert.deepEqual(failures, []);
    const recycled = server.stderr.match(
      /^wsgiref: worker \d+ is recycled \(max-requests: served 5\)$/gm,
    );
    assert.ok(recycled && recycled.length >= 2, server.stderr);
    assert.ok(pids.size > 2, `only ${pids.size} workers served`);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("replaces a worker whose memory passes --max-worker-memory", async () => {
    const server = startCli([
      "serve",
      APP,
      "--port",
      "0",
      "--workers",
      "2",
      "--max-worker-memory",
      "1m",
    ]);
    const port = await server.port();
    await server.waitFor(
      /^wsgiref: worker \d+ is recycled \(max-worker-memory: rss [\d.]+ MiB > 1\.0 MiB\)$/m,
      "stderr",
    );
    const { failures } = await load(port, "/slow?ms=100", 20, 2);
    assert.deepEqual(failures, []);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});
