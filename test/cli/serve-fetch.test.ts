/**
 * `wsgiref serve app.ts` for a Hono app: the CLI (a child process) serves the default
 * export, a Fetch application object, on the production server's fast path, over real
 * HTTP: routing, JSON both ways, a streamed body, and `c.req.raw.signal` aborting when the
 * client hangs up on an idle stream.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FIXTURES, get, killAll, startCli } from "../helpers/cli.ts";
import { open } from "../helpers/wire.ts";

const HONO_APP = join(FIXTURES, "hono-app.ts");

after(killAll);

/** POSTs a JSON body and resolves with the status and the parsed answer. */
function postJson(port: number, path: string, value: unknown): Promise<[number, unknown]> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: { "Content-Type": "application/json" },
        agent: false,
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () => resolve([res.statusCode ?? 0, JSON.parse(text)]));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(value));
  });
}

describe("cli: wsgiref serve with a Hono app", () => {
  it("serves routes, JSON and streams, and sees a hang-up through c.req.raw.signal", async () => {
    const server = startCli(["serve", HONO_APP, "--port", "0"]);
    const port = await server.port();

    const hello = await get(port, "/");
    assert.equal(hello.status, 200);
    assert.equal(hello.body, "Hello from Hono");
    assert.equal(hello.headers["content-length"], "15");

    const user = await get(port, "/users/42", { "User-Agent": "test-agent" });
    assert.equal(user.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(user.body), { id: "42", agent: "test-agent" });

    assert.deepEqual(await postJson(port, "/echo", { a: [1, 2] }), [201, { got: { a: [1, 2] } }]);

    const counted = await get(port, "/count/5");
    assert.equal(counted.headers["transfer-encoding"], "chunked");
    assert.equal(counted.body, "1\n2\n3\n4\n5\n");

    assert.equal((await get(port, "/missing")).status, 404);

    const conn = await open(port);
    conn.send("GET /wait HTTP/1.1\r\nHost: t\r\n\r\n");
    await conn.until((received) => received.includes("waiting"));
    conn.close();
    let seen: unknown;
    for (let i = 0; i < 50; i++) {
      seen = JSON.parse((await get(port, "/seen")).body);
      if ((seen as { cancelled: number }).cancelled > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(seen, { aborted: 1, reason: "ECONNRESET", cancelled: 1 });

    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});
