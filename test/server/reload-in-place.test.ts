import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { get, killAll, startCli } from "../helpers/cli.ts";

after(killAll);

/** An app module answering `version` (after 1.5 s on /slow). */
function appSource(version: string): string {
  return `
export const app = async (environ, startResponse) => {
  if (environ.PATH_INFO === "/slow") await new Promise((r) => setTimeout(r, 1500));
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode(${JSON.stringify(version)})];
};
`;
}

describe("SIGHUP to a single-process server", () => {
  it("reloads the app in place: new requests get the new code, one in flight finishes on the old", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wsgiref-hup-"));
    const file = join(dir, "app.ts");
    try {
      writeFileSync(file, appSource("v1"));
      const server = startCli(["serve", file, "--port", "0"]);
      const port = await server.port();
      assert.equal((await get(port, "/")).body, "v1");

      const inFlight = get(port, "/slow");
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(file, appSource("v2"));
      server.kill("SIGHUP");
      await server.waitFor(/\] SIGHUP: reloaded; new requests go to the new app$/m, "stderr");
      assert.equal((await get(port, "/")).body, "v2");
      assert.deepEqual(
        { status: (await inFlight).status, body: (await inFlight).body },
        { status: 200, body: "v1" },
      );

      // A file that no longer loads: logged, and the app that works stays.
      writeFileSync(file, "export const app = ;\n");
      server.kill("SIGHUP");
      await server.waitFor(
        /^\[[^\]]+\] \[\d+\] \[ERROR\] SIGHUP: reload failed, keeping the old app: cannot load .*app\.ts/m,
        "stderr",
      );
      assert.equal((await get(port, "/")).body, "v2");
      assert.equal(server.done, false);
      assert.deepEqual(await server.stop(), { code: 0, signal: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
