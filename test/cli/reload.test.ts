import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type CliProcess, get, killAll, startCli } from "../helpers/cli.ts";

after(killAll);

/** A port that was free a moment ago (--reload restarts on the same port, so not 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An app module answering `BODY PID`. */
const appSource = (body: string) =>
  `export const app = (_e: unknown, sr: (s: string, h: [string, string][]) => void) => {
  sr("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode(${JSON.stringify(body)} + " " + process.pid)];
};\n`;

/** Polls until the server answers with `body`; returns the answering pid. */
async function until(port: number, body: string, server: CliProcess, ms = 10_000) {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    try {
      last = (await get(port, "/", {}, 2000)).body;
      if (last.startsWith(`${body} `)) return Number(last.split(" ")[1]);
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never answered ${body} (last: ${last})\n--- stderr:\n${server.stderr}`);
}

/** True while a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("cli: serve --reload", () => {
  const dir = mkdtempSync(join(tmpdir(), "wsgiref-reload-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("restarts on an edit, survives a syntax error, and recovers when it is fixed", async () => {
    const port = await freePort();
    writeFileSync(join(dir, "app.ts"), appSource("one"));
    // The access log lands in the watched directory: it must not restart the server.
    const server = startCli(
      ["serve", "app.ts", "--reload", "--port", String(port), "--access-log", "access.log"],
      { cwd: dir, detached: true },
    );
    await server.port();
    const first = await until(port, "one", server);

    writeFileSync(join(dir, "app.ts"), appSource("two"));
    const second = await until(port, "two", server);
    assert.notEqual(second, first);
    assert.match(server.stderr, /^wsgiref: app\.ts changed, restarting$/m);

    writeFileSync(join(dir, "app.ts"), "export const app = ;\n");
    await server.waitFor(/^wsgiref: error: cannot load "app\.ts": .+$/m, "stderr");
    await server.waitFor(/waiting for a file change to restart/, "stderr");

    writeFileSync(join(dir, "app.ts"), appSource("three"));
    const third = await until(port, "three", server);

    assert.equal(server.stderr.match(/changed, restarting/g)?.length, 3, server.stderr);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    assert.equal(alive(third), false, "the server child exited with the reloader");
  });

  it("restarts on every save by rename (sed -i, vim), and not for a data file", async () => {
    const port = await freePort();
    writeFileSync(join(dir, "app.ts"), appSource("zero"));
    mkdirSync(join(dir, "uploads"), { recursive: true });
    const server = startCli(["serve", "app.ts", "--reload", "--port", String(port)], {
      cwd: dir,
      detached: true,
    });
    await server.port();
    await until(port, "zero", server);
    for (const body of ["one", "two", "three"]) {
      // What sed -i and vim do: write a new file beside it, then rename it over the old one.
      writeFileSync(join(dir, ".app.ts.swp"), appSource(body));
      renameSync(join(dir, ".app.ts.swp"), join(dir, "app.ts"));
      await until(port, body, server);
    }
    assert.equal(server.stderr.match(/app\.ts changed, restarting/g)?.length, 3, server.stderr);
    writeFileSync(join(dir, "uploads", "data.json"), "{}");
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(server.stderr.match(/changed, restarting/g)?.length, 3, server.stderr);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("stops for good on SIGTERM in the middle of a restart", async () => {
    const port = await freePort();
    writeFileSync(join(dir, "app.ts"), appSource("one"));
    const server = startCli(["serve", "app.ts", "--reload", "--port", String(port)], {
      cwd: dir,
      detached: true,
    });
    await server.port();
    await until(port, "one", server);
    writeFileSync(join(dir, "app.ts"), appSource("two"));
    await server.waitFor(/changed, restarting/, "stderr");
    server.kill("SIGTERM");
    assert.deepEqual(await server.exit(), { code: 0, signal: null });
    // No server child lingers or starts afterwards.
    await new Promise((r) => setTimeout(r, 2500));
    await assert.rejects(get(port, "/", {}, 1000), { code: "ECONNREFUSED" });
  });

  it("stops the server when the reloader itself is killed", async () => {
    const port = await freePort();
    writeFileSync(join(dir, "app.ts"), appSource("one"));
    const server = startCli(["serve", "app.ts", "--reload", "--port", String(port)], {
      cwd: dir,
      detached: true,
    });
    await server.port();
    await until(port, "one", server);
    server.kill("SIGKILL");
    await server.exit();
    // The orphaned server notices and shuts down: the port stops answering.
    const deadline = Date.now() + 5000;
    let answered = true;
    while (answered && Date.now() < deadline) {
      answered = await get(port, "/", {}, 1000).then(
        () => true,
        () => false,
      );
      if (answered) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(answered, false, "the server outlived its reloader");
  });
});
