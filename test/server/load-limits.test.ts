import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FIXTURES, get, killAll, startCli } from "../helpers/cli.ts";

const APP = join(FIXTURES, "app.ts");

after(killAll);

/** Sends raw bytes on a fresh connection and resolves with everything the server sent before closing. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    let got = "";
    socket.on("data", (d) => {
      got += d.toString("latin1");
    });
    socket.on("end", () => resolve(got));
    socket.on("error", reject);
    socket.setTimeout(5000, () => reject(new Error(`no close; got ${JSON.stringify(got)}`)));
  });
}

describe("load limits", () => {
  it("answers 503 with Retry-After: 1 and Connection: close over --max-concurrency, without calling the app", async () => {
    const server = startCli(["serve", APP, "--port", "0", "--max-concurrency", "1"]);
    const port = await server.port();
    const first = get(port, "/slow?ms=1500");
    await server.waitFor(/slow request started$/m, "stderr");

    const refused = await exchange(port, "GET /slow?ms=10 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.match(refused, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(refused, /\r\nRetry-After: 1\r\n/i);
    assert.match(refused, /\r\nConnection: close\r\n/i);
    // Three more, in the same second: one log line counts them all.
    for (let i = 0; i < 3; i++) assert.equal((await get(port, "/slow?ms=10")).status, 503);
    assert.equal((await first).status, 200);
    assert.equal(server.stderr.match(/slow request started/g)?.length, 1, "the app ran only once");
    assert.match(
      server.stderr,
      /^\[[^\]]+\] \[\d+\] \[WARNING\] ERR_OVERLOADED 503: 1 request\(s\) refused since the last report: 1 in flight, --max-concurrency 1$/m,
    );
    const overloadLines = server.stderr.match(/ERR_OVERLOADED/g)?.length ?? 0;
    assert.ok(overloadLines <= 2, server.stderr);

    // Once the slow request is done, requests go through again.
    assert.equal((await get(port, "/")).status, 200);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("passes --backlog to the listening socket", async () => {
    const server = startCli(["serve", APP, "--port", "0", "--backlog", "17"]);
    const port = await server.port();
    // For a listening socket, ss shows the backlog as Send-Q.
    const table = execFileSync("ss", ["-ltnH", `sport = :${port}`], { encoding: "utf8" });
    const columns = table.trim().split(/\s+/);
    assert.equal(columns[2], "17", table);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("rejects a backlog below 1 on the command line", async () => {
    const server = startCli(["serve", APP, "--backlog", "0"]);
    assert.deepEqual(await server.exit(), { code: 2, signal: null });
    assert.equal(server.stderr, "wsgiref: error: backlog must be at least 1, got 0\n");
  });
});
