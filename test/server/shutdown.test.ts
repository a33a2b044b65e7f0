import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FIXTURES, killAll, startCli } from "../helpers/cli.ts";
import { open } from "../helpers/wire.ts";

const APP = join(FIXTURES, "app.ts");
const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

after(killAll);

describe("shutdown: signals to wsgiref serve", () => {
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
