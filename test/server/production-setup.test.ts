/**
 * docs/operations.md's "complete production setup", block by block: the test reads each
 * block from the document and runs it, with temporary paths and free ports in place of
 * /srv/app, /var/log/app and the fixed ports, `node src/cli/main.ts` in place of the
 * installed binary, and `kill` in place of `systemctl kill` (no systemd here). The socket
 * is passed as fd 3 with LISTEN_FDS/LISTEN_PID, as systemd passes it. nginx and logrotate
 * parts are skipped, with the reason, when the tool is missing.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CLI, CliProcess, get, killAll, TSX } from "../helpers/cli.ts";
import { tempDir, waitFor } from "../helpers/servers.ts";

/** The document's production setup section. */
const DOC = (() => {
  const text = readFileSync(new URL("../../docs/operations.md", import.meta.url), "utf8");
  const start = text.indexOf("## A complete production setup");
  assert.ok(start >= 0, "docs/operations.md has no production setup section");
  return text.slice(start);
})();
const MIDDLEWARE = fileURLToPath(new URL("../../src/middleware.ts", import.meta.url));

/** The fenced block of the document whose first line names `file`. */
function block(file: string): string {
  const blocks = [...DOC.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
  const found = blocks.find((b) => (b.split("\n")[0] ?? "").includes(file));
  assert.ok(found, `docs/operations.md has no block for ${file}`);
  return found;
}

/** The value of `Key=` in a unit file (the first one). */
function unitValue(unit: string, key: string): string {
  const m = new RegExp(`^${key}=(.*)$`, "m").exec(unit);
  assert.ok(m, `no ${key}= in the unit`);
  return m[1] as string;
}

const has = (command: string, ...args: string[]) =>
  spawnSync(command, args, { stdio: "ignore" }).status === 0;

/** A free port on loopback. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The JSON records of a log file. */
function records(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

after(killAll);

describe("docs/operations.md: a complete production setup", () => {
  const dir = tempDir("wsgiref-production-");
  const srv = join(dir.path, "srv");
  const logs = join(dir.path, "log");
  let server: CliProcess;
  let port: number;
  let metricsPort: number;
  /** Rewrites the document's paths and ports into the test's. */
  let localize: (text: string) => string;
  /** The installed binary's command line, as the test runs it. */
  const WSGIREF = `${process.execPath} --import ${TSX} ${CLI}`;

  before(async () => {
    mkdirSync(join(srv, "dist"), { recursive: true });
    mkdirSync(logs);
    port = await freePort();
    metricsPort = await freePort();
    localize = (text) =>
      text
        .replaceAll("/srv/app/node_modules/.bin/wsgiref", WSGIREF)
        .replaceAll("/srv/app", srv)
        .replaceAll("/var/log/app", logs)
        .replaceAll("127.0.0.1:8000", `127.0.0.1:${port}`)
        .replaceAll("127.0.0.1:9100", `127.0.0.1:${metricsPort}`);

    // The app module and the config file, from the document.
    writeFileSync(
      join(srv, "dist", "routes.js"),
      `export const app = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [new TextEncoder().encode(environ["wsgi.url_scheme"] + " " + environ.REMOTE_ADDR)];
};
`,
    );
    writeFileSync(
      join(srv, "dist", "app.js"),
      block("/srv/app/dist/app.js").replace('"wsgiref/middleware"', JSON.stringify(MIDDLEWARE)),
    );
    // Two workers instead of four: the test machine is small.
    const config = localize(block("/srv/app/wsgiref.conf.ts")).replace("workers: 4", "workers: 2");
    assert.match(config, /workers: 2/);
    writeFileSync(join(srv, "wsgiref.conf.ts"), config);
  });

  after(() => dir.remove());

  it("app.service's ExecStartPre checks the config, and ExecStart serves app.socket's socket", async () => {
    const socketUnit = block("/etc/systemd/system/app.socket");
    const service = localize(block("/etc/systemd/system/app.service"));
    assert.equal(unitValue(socketUnit, "ListenStream"), "127.0.0.1:8000");
    const cwd = unitValue(service, "WorkingDirectory");
    const env = Object.fromEntries(
      [...service.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]),
    );
    assert.equal(env.NODE_ENV, "production");

    const check = spawnSync("sh", ["-c", unitValue(service, "ExecStartPre")], {
      cwd,
      encoding: "utf8",
    });
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /^wsgiref: config wsgiref\.conf\.ts and app dist\/app\.js OK$/m);

    // systemd binds ListenStream= (with Backlog=) and starts the service with it as fd 3.
    const socket = createServer();
    const backlog = Number(unitValue(socketUnit, "Backlog"));
    await new Promise<void>((resolve) =>
      socket.listen({ port, host: "127.0.0.1", backlog }, resolve),
    );
    const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
    const child = spawn("sh", ["-c", `LISTEN_PID=$$ exec ${unitValue(service, "ExecStart")}`], {
      cwd,
      env: { ...process.env, ...env, LISTEN_FDS: "1" },
      stdio: ["ignore", "pipe", "pipe", fd],
    });
    server = new CliProcess(child);
    socket.close();
    await server.waitFor(
      new RegExp(`^Serving HTTP on 127\\.0\\.0\\.1 port ${port} \\.\\.\\.$`, "m"),
    );
    const res = await get(port, "/");
    assert.equal(res.status, 200);
    assert.equal(res.body, "http 127.0.0.1");
    await waitFor(() => records(join(logs, "access.log")).length >= 1, 5000);
    assert.equal(records(join(logs, "access.log"))[0]?.status, 200);

    // ExecReload: a rolling restart onto the code on disk.
    const reload = unitValue(service, "ExecReload").replace("$MAINPID", String(server.pid));
    execFileSync("sh", ["-c", reload]);
    await server.waitFor(/^wsgiref: rolling restart done; workers \d+, \d+$/m, "stderr", 30_000);
    assert.equal((await get(port, "/")).status, 200);
  });

  const nginxMissing = !has("nginx", "-v") && "nginx is not installed";
  it("nginx's app.conf proxies to it, with the client's scheme and nginx's request id", {
    skip: nginxMissing,
  }, async () => {
    const nginxPort = await freePort();
    const site = localize(block("/etc/nginx/conf.d/app.conf")).replace(
      "listen 80;",
      `listen 127.0.0.1:${nginxPort};`,
    );
    const p = (name: string) => join(dir.path, name);
    writeFileSync(
      p("nginx.conf"),
      `worker_processes 1;
pid ${p("nginx.pid")};
events { worker_connections 64; }
http {
  access_log ${p("nginx-access.log")};
  client_body_temp_path ${p("client_body")};
  proxy_temp_path ${p("proxy_temp")};
  fastcgi_temp_path ${p("fastcgi_temp")};
  uwsgi_temp_path ${p("uwsgi_temp")};
  scgi_temp_path ${p("scgi_temp")};
${site}
}
`,
    );
    const nginx: ChildProcess = spawn(
      "nginx",
      [
        "-p",
        dir.path,
        "-c",
        p("nginx.conf"),
        "-e",
        p("nginx-error.log"),
        "-g",
        "daemon off; master_process off;",
      ],
      { stdio: "ignore" },
    );
    try {
      let up = false;
      for (let i = 0; i < 100 && !up; i++) {
        up = await get(nginxPort, "/", {}, 1000).then(
          () => true,
          () => false,
        );
        if (!up) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(up, "nginx did not start");
      const res = await get(nginxPort, "/via-nginx");
      assert.equal(res.status, 200);
      assert.equal(res.body, "http 127.0.0.1");
      const mine = (r: Record<string, unknown>) => r.path === "/via-nginx";
      await waitFor(() => records(join(logs, "access.log")).some(mine), 5000);
      const record = records(join(logs, "access.log")).find(mine);
      assert.match(String(record?.request_id), /^[0-9a-f]{32}$/, "nginx's $request_id");
    } finally {
      nginx.kill("SIGTERM");
    }
  });

  const logrotateMissing =
    !has("logrotate", "--version") &&
    "logrotate is not installed (Debian package logrotate): install it to run this test";
  it("logrotate's rule moves the logs and SIGUSR1 has every worker reopen them", {
    skip: logrotateMissing,
  }, async () => {
    const rule = localize(block("/etc/logrotate.d/app")).replace(
      "systemctl kill --kill-whom=main --signal=USR1 app.service",
      `kill -USR1 ${server.pid}`,
    );
    assert.match(rule, new RegExp(`kill -USR1 ${server.pid}`));
    const conf = join(dir.path, "logrotate.conf");
    writeFileSync(conf, rule, { mode: 0o644 });
    const run = spawnSync("logrotate", ["-f", "-s", join(dir.path, "logrotate.state"), conf], {
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(existsSync(join(logs, "access.log.1")), "the access log was moved");
    const moved = records(join(logs, "access.log.1")).length;
    assert.ok(moved >= 2);
    // Both workers reopen: each notes it in its new error log.
    await waitFor(
      () =>
        existsSync(join(logs, "error.log")) &&
        (readFileSync(join(logs, "error.log"), "utf8").match(/reopened the log files/g) ?? [])
          .length === 2,
      5000,
    );
    assert.equal((await get(port, "/after-rotate")).status, 200);
    await waitFor(() => records(join(logs, "access.log")).length >= 1, 5000);
    assert.equal(records(join(logs, "access.log")).at(-1)?.path, "/after-rotate");
    assert.equal(
      records(join(logs, "access.log.1")).length,
      moved,
      "nothing more in the moved file",
    );
  });

  it("Prometheus's scrape job reads the metrics", async () => {
    const job = localize(block("/etc/prometheus/prometheus.yml"));
    const path = /metrics_path: (\S+)/.exec(job)?.[1];
    const target = /targets: \["([^"]+)"\]/.exec(job)?.[1];
    assert.equal(path, "/metrics");
    const res = await fetch(`http://${target}${path}`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    assert.ok(Number(/^wsgiref_requests_total\{status_class="2xx"\} (\d+)$/m.exec(text)?.[1]) >= 2);
    assert.equal(sample("wsgiref_workers"), 2);
    assert.ok(sample("wsgiref_request_duration_seconds_count") >= 2);
  });

  it("stops gracefully on SIGTERM, as systemctl stop sends it", async () => {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});
