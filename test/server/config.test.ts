import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { layerOptions } from "../../src/server/config.ts";
import { FIXTURES, get, killAll, startCli } from "../helpers/cli.ts";

const APP = join(FIXTURES, "app.ts");

after(killAll);

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wsgiref-config-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a config module into the test's directory and returns its path. */
function config(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

describe("config: layering and --print-config", () => {
  it("puts flags over the environment over the file over the defaults", () => {
    const { options, sources } = layerOptions(
      { port: 9000 },
      { WSGIREF_WORKERS: "2" },
      { port: 1, workers: 3, maxBodySize: 1024 },
    );
    assert.deepEqual(
      [options.port, options.workers, options.maxBodySize, options.host],
      [9000, 2, 1024, "127.0.0.1"],
    );
    assert.deepEqual(
      [sources.port, sources.workers, sources.maxBodySize, sources.host],
      ["flag", "environment", "config", "default"],
    );
  });

  it("prints every option with where it came from", async () => {
    const file = config(
      "print.conf.ts",
      `export default { port: 1, workers: 3, maxBodySize: "1m", keepAliveTimeout: "65s" };\n`,
    );
    const cli = startCli(["serve", APP, "--config", file, "--port", "9000", "--print-config"], {
      env: { WSGIREF_WORKERS: "2" },
    });
    assert.deepEqual(await cli.exit(), { code: 0, signal: null });
    const lines = cli.stdout.split("\n");
    assert.ok(lines.includes("port = 9000  # flag --port"), cli.stdout);
    assert.ok(lines.includes("workers = 2  # environment WSGIREF_WORKERS"));
    assert.ok(lines.includes(`maxBodySize = 1048576  # config ${file}`));
    assert.ok(lines.includes(`keepAliveTimeout = 65000  # config ${file}`));
    assert.ok(lines.includes('host = "127.0.0.1"  # default'));
  });

  it("names an unknown option of the file, exit 2", async () => {
    const file = config("typo.conf.ts", "export default { wrokers: 4 };\n");
    const cli = startCli(["serve", APP, "--config", file, "--print-config"]);
    assert.deepEqual(await cli.exit(), { code: 2, signal: null });
    assert.match(
      cli.stderr,
      /^wsgiref: error: --config: ".*typo\.conf\.ts": unknown option "wrokers"/,
    );
  });

  it("names a bad value of the file, exit 2", async () => {
    const file = config("bad.conf.ts", 'export default { maxBodySize: "lots" };\n');
    const cli = startCli(["serve", APP, "--config", file, "--check-config"]);
    assert.deepEqual(await cli.exit(), { code: 2, signal: null });
    assert.match(cli.stderr, /maxBodySize: --max-body-size: expected a size .*got "lots"/);
  });
});

describe("config: --check-config", () => {
  it("loads the config and the app, says OK and exits 0 without serving", async () => {
    const file = config("ok.conf.ts", "export default { workers: 2 };\n");
    const cli = startCli(["serve", APP, "--config", file, "--check-config"]);
    assert.deepEqual(await cli.exit(), { code: 0, signal: null });
    assert.equal(cli.stdout, `wsgiref: config ${file} and app ${APP} OK\n`);
  });

  it("exits 2 when the app does not load", async () => {
    const app = config("broken-app.ts", "export const app = ;\n");
    const cli = startCli(["serve", app, "--check-config"]);
    assert.deepEqual(await cli.exit(), { code: 2, signal: null });
    assert.match(cli.stderr, /^wsgiref: error: cannot load ".*broken-app\.ts"/);
  });
});

describe("config: hooks", () => {
  it("calls each hook in its process with its arguments; a throwing hook is logged, not fatal", async () => {
    const events = join(dir, "events.log");
    const file = config(
      "hooks.conf.ts",
      `
import { appendFileSync } from "node:fs";
const note = (line) => appendFileSync(${JSON.stringify(events)}, \`\${process.pid} \${line}\\n\`);
export default {
  workers: 2,
  onStarting: (options) => note(\`onStarting workers=\${options.workers}\`),
  whenReady: (info) => note(\`whenReady workers=\${info.workers} port=\${info.address.port}\`),
  postFork: (worker) => note(\`postFork pid=\${worker.pid} id=\${worker.id}\`),
  onReload: () => note("onReload"),
  workerExit: (worker) => note(\`workerExit pid=\${worker.pid} cause=\${worker.cause}\`),
  onExit: () => note("onExit"),
  preRequest: (environ) => {
    if (environ.PATH_INFO === "/hook-throws") throw new Error("preRequest broke");
    note(\`preRequest \${environ.REQUEST_METHOD} \${environ.PATH_INFO}\`);
  },
  postRequest: (environ, status, headers, ms) =>
    note(\`postRequest \${environ.PATH_INFO} \${status} \${headers.get("Content-Type")} \${typeof ms}\`),
};
`,
    );
    const server = startCli(["serve", APP, "--config", file, "--port", "0"]);
    const port = await server.port();
    const res = await get(port, "/");
    assert.equal(res.status, 200);
    const worker = Number(res.body);
    assert.equal((await get(port, "/hook-throws")).status, 200);
    await server.waitFor(
      /^\[[^\]]+\] \[\d+\] \[ERROR\] hook preRequest failed: Error: preRequest broke$/m,
      "stderr",
    );
    server.kill("SIGHUP");
    await server.waitFor(/rolling restart done/, "stderr", 20_000);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });

    const lines = readFileSync(events, "utf8").trim().split("\n");
    const primary = server.pid;
    const of = (pid: number) =>
      lines.filter((l) => l.startsWith(`${pid} `)).map((l) => l.slice(String(pid).length + 1));
    const mine = of(primary);
    assert.deepEqual(mine.slice(0, 2), [
      "onStarting workers=2",
      `whenReady workers=2 port=${port}`,
    ]);
    const all = lines.join("\n");
    assert.ok(mine.includes("onReload"), all);
    assert.equal(mine.filter((l) => l.endsWith("cause=stop")).length, 4, lines.join("\n"));
    assert.equal(mine.at(-1), "onExit");
    const served = of(worker);
    assert.match(served[0] as string, new RegExp(`^postFork pid=${worker} id=\\d+$`), all);
    assert.ok(served.includes("preRequest GET /"), all);
    assert.ok(served.includes("postRequest / 200 OK text/plain number"), all);
    // The request whose preRequest threw was served all the same (by either worker).
    assert.match(all, /^\d+ postRequest \/hook-throws 200 OK text\/plain number$/m);
  });

  it("aborts the start when onStarting throws, with a clear error", async () => {
    const file = config(
      "refuse.conf.ts",
      'export default { onStarting() { throw new Error("database unreachable"); } };\n',
    );
    const cli = startCli(["serve", APP, "--config", file, "--port", "0"]);
    assert.deepEqual(await cli.exit(), { code: 1, signal: null });
    assert.equal(
      cli.stderr,
      "wsgiref: error: hook onStarting failed, not starting: Error: database unreachable\n",
    );
    assert.equal(cli.stdout, "");
  });
});
