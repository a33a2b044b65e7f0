import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type CliProcess, get, killAll, startCli } from "../helpers/cli.ts";

after(killAll);

const MIDDLEWARE = fileURLToPath(new URL("../../src/middleware.ts", import.meta.url));

/**
 * The app these tests serve, behind `proxyFix`: `/boom` throws, `/slow` answers after
 * 1 s (writing `slow called` to wsgi.errors first), anything else answers REMOTE_ADDR.
 */
const APP_SOURCE = `
import { proxyFix } from ${JSON.stringify(MIDDLEWARE)};
const inner = async (environ, startResponse) => {
  if (environ.PATH_INFO === "/boom") throw new Error("the app broke");
  if (environ.PATH_INFO === "/slow") {
    environ["wsgi.errors"].write("slow called\\n");
    await new Promise((r) => setTimeout(r, 1000));
  }
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode(environ.REMOTE_ADDR)];
};
export const app = proxyFix(inner);
`;

describe("the error and access logs name the request", () => {
  let dir: string;
  let server: CliProcess;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "wsgiref-logs-"));
    writeFileSync(join(dir, "app.ts"), APP_SOURCE);
    server = startCli(["serve", join(dir, "app.ts"), "--port", "0", "--access-log", "-"]);
    port = await server.port();
  });

  after(async () => {
    if (server) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs an application exception with the timestamp, pid, level, method, path and request id", async () => {
    const res = await get(port, "/boom?x=1");
    assert.equal(res.status, 500);
    const line = await server.waitFor(
      /^\[(.+?)\] \[(\d+)\] \[ERROR\] \[GET \/boom\?x=1\] \[\d+-\d+\] (.*)$/m,
      "stderr",
    );
    assert.ok(!Number.isNaN(Date.parse(line[1] as string)), line[1]);
    assert.equal(Number(line[2]), server.pid);
    assert.match(line[3] as string, /Error: the app broke/);
  });

  it("prefixes what the app writes to wsgi.errors the same way", async () => {
    await get(port, "/slow");
    await server.waitFor(
      /^\[[^\]]+\] \[\d+\] \[ERROR\] \[GET \/slow\] \[\d+-\d+\] slow called$/m,
      "stderr",
    );
  });

  it("logs REMOTE_ADDR as the app left it: the forwarded client behind proxyFix", async () => {
    const res = await get(port, "/who", { "X-Forwarded-For": "203.0.113.7" });
    assert.equal(res.body, "203.0.113.7");
    await server.waitFor(
      /^203\.0\.113\.7 - - \[[^\]]+\] "GET \/who HTTP\/1\.1" 200 11$/m,
      "stderr",
    );
    // Without the header, the peer's address.
    await get(port, "/direct");
    await server.waitFor(
      /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/direct HTTP\/1\.1" 200 9$/m,
      "stderr",
    );
  });
});
