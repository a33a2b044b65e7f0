/**
 * Behind nginx: two instances of the production server, each under
 * `proxyFix(app, { for: 1, proto: 1, host: 1 })`, load-balanced by an nginx the test
 * starts with its own configuration (temp prefix, its own logs and pid file), which sets
 * `X-Forwarded-For/Proto/Host`, ends TLS, and keeps HTTP/1.1 connections to the upstream
 * alive. curl is the client. Skipped, with the reason, when nginx, curl or openssl is
 * missing (as root with apt-get, nginx is installed first).
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { PROXY_FIX_ORIGINAL, type ProxyFixOriginal } from "../../src/middleware/proxy-fix.ts";
import { proxyFix } from "../../src/middleware.ts";
import { type RunningServer, serve } from "../../src/server.ts";
import type { WSGIApplication } from "../../src/types.ts";
import { pattern } from "../fixtures/reliability-app.ts";
import { tempDir, waitFor } from "../helpers/servers.ts";

const run = promisify(execFile);
const MiB = 1024 * 1024;
const BIG = 50 * MiB;

const has = (command: string, ...args: string[]) =>
  spawnSync(command, args, { stdio: "ignore" }).status === 0;

/** Installs nginx when it is missing and we may (root with apt-get); returns why not otherwise. */
function nginxMissing(): string | false {
  if (has("nginx", "-v")) return false;
  if (process.getuid?.() === 0 && has("apt-get", "--version")) {
    spawnSync("apt-get", ["update", "-qq"], { stdio: "ignore", timeout: 300_000 });
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "nginx"], {
      stdio: "ignore",
      timeout: 300_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (has("nginx", "-v")) return false;
    return "nginx is missing and apt-get could not install it";
  }
  return "nginx is missing (CI installs it; as root with apt-get the test installs it)";
}

const missing =
  nginxMissing() ||
  (!has("curl", "--version") && "curl is missing") ||
  (!has("openssl", "version") && "openssl is missing (for nginx's test certificate)");

/** An app that says which instance answered and what it saw once proxyFix applied. */
const instance = (name: string): WSGIApplication =>
  proxyFix(
    async (environ, startResponse) => {
      if (environ.PATH_INFO === "/upload") {
        const hash = createHash("sha256");
        let length = 0;
        for (;;) {
          const chunk = await environ["wsgi.input"].read(256 * 1024);
          if (chunk.length === 0) break;
          hash.update(chunk);
          length += chunk.length;
        }
        startResponse("200 OK", [["Content-Type", "text/plain"]]);
        return [Buffer.from(`${length} ${hash.digest("hex")}`)];
      }
      if (environ.PATH_INFO === "/download") {
        const total = Number(new URLSearchParams(environ.QUERY_STRING).get("bytes"));
        startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
        return (async function* () {
          const block = pattern(256 * 1024 + 251);
          for (let sent = 0; sent < total; sent += 256 * 1024) {
            const at = sent % 251;
            yield block.subarray(at, at + Math.min(256 * 1024, total - sent));
            await new Promise((r) => setImmediate(r));
          }
        })();
      }
      const original = environ[PROXY_FIX_ORIGINAL] as ProxyFixOriginal;
      startResponse("200 OK", [["Content-Type", "application/json"]]);
      return [
        Buffer.from(
          JSON.stringify({
            instance: name,
            remoteAddr: environ.REMOTE_ADDR,
            scheme: environ["wsgi.url_scheme"],
            host: environ.HTTP_HOST,
            serverName: environ.SERVER_NAME,
            serverPort: environ.SERVER_PORT,
            proxyPort: environ.REMOTE_PORT,
            forwardedFor: environ.HTTP_X_FORWARDED_FOR,
            originalHost: original.HTTP_HOST,
          }),
        ),
      ];
    },
    { for: 1, proto: 1, host: 1 },
  );

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** What the app reports. */
interface Seen {
  instance: string;
  remoteAddr: string;
  scheme: string;
  host: string;
  serverName: string;
  serverPort: string;
  proxyPort: string;
  forwardedFor: string;
  originalHost: string;
}

describe("behind nginx", { skip: missing, timeout: 120_000 }, () => {
  const dir = tempDir("nginx");
  const servers: RunningServer[] = [];
  let nginx: ReturnType<typeof spawn> | undefined;
  let http = 0;
  let https = 0;
  let nginxOutput = "";

  before(async () => {
    for (const name of ["A", "B"]) {
      servers.push(
        await serve(instance(name), {
          host: "127.0.0.1",
          port: 0,
          errorLog: join(dir.path, `wsgiref-${name}.log`),
          keepAliveTimeout: 65_000,
        }),
      );
    }
    const [a, b] = servers.map((s) => (s.address as { port: number }).port);
    spawnSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir.path, "key.pem"),
        "-out",
        join(dir.path, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=shop.example",
      ],
      { stdio: "ignore" },
    );
    http = await freePort();
    https = await freePort();
    const p = (name: string) => join(dir.path, name);
    writeFileSync(
      p("nginx.conf"),
      `worker_processes 1;
pid ${p("nginx.pid")};
error_log ${p("error.log")} info;
events { worker_connections 256; }
http {
  access_log ${p("access.log")};
  client_body_temp_path ${p("client_body")};
  proxy_temp_path ${p("proxy_temp")};
  fastcgi_temp_path ${p("fastcgi_temp")};
  uwsgi_temp_path ${p("uwsgi_temp")};
  scgi_temp_path ${p("scgi_temp")};
  client_max_body_size 0;
  upstream wsgiref {
    server 127.0.0.1:${a};
    server 127.0.0.1:${b};
    keepalive 8;
  }
  server {
    listen 127.0.0.1:${http};
    listen 127.0.0.1:${https} ssl;
    ssl_certificate ${p("cert.pem")};
    ssl_certificate_key ${p("key.pem")};
    location / {
      proxy_pass http://wsgiref;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_request_buffering off;
      proxy_buffering off;
    }
  }
}
`,
    );
    nginx = spawn(
      "nginx",
      [
        "-p",
        dir.path,
        "-c",
        p("nginx.conf"),
        "-e",
        p("error.log"),
        "-g",
        "daemon off; master_process off;",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    nginx.stdout?.on("data", (d: Buffer) => {
      nginxOutput += d.toString();
    });
    nginx.stderr?.on("data", (d: Buffer) => {
      nginxOutput += d.toString();
    });
    const listening = await waitFor(() => nginx?.exitCode === null && nginxAnswers, 10_000);
    assert.ok(listening, `nginx did not start: ${nginxOutput}${readLog("error.log")}`);
  });

  let nginxAnswers = false;
  const poll = setInterval(() => {
    if (http === 0 || nginxAnswers) return;
    const s = connect(http, "127.0.0.1");
    s.on("connect", () => {
      nginxAnswers = true;
      s.destroy();
    });
    s.on("error", () => s.destroy());
  }, 50);

  after(async () => {
    clearInterval(poll);
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once("exit", resolve));
      nginx.kill("SIGQUIT");
      const kill = setTimeout(() => nginx?.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(kill);
    }
    await Promise.all(servers.map((s) => s.close()));
    dir.remove();
  });

  function readLog(name: string): string {
    try {
      return readFileSync(join(dir.path, name), "latin1");
    } catch {
      return "";
    }
  }

  /** curl through nginx; resolves with stdout. */
  async function curl(args: string[]): Promise<string> {
    const { stdout } = await run("curl", ["-sS", "--fail", "--max-time", "60", ...args], {
      maxBuffer: 4 * MiB,
    });
    return stdout;
  }

  const seen = async (args: string[]): Promise<Seen> => JSON.parse(await curl(args)) as Seen;

  it("spreads requests over both instances", async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => seen([`http://127.0.0.1:${http}/who`])),
    );
    assert.deepEqual(new Set(answers.map((s) => s.instance)), new Set(["A", "B"]));
  });

  it("gives the app the client's address, scheme and host from X-Forwarded-*", async () => {
    const s = await seen(["-H", "Host: shop.example:8080", `http://127.0.0.1:${http}/who`]);
    assert.equal(s.remoteAddr, "127.0.0.1");
    assert.equal(s.scheme, "http");
    assert.equal(s.host, "shop.example:8080");
    assert.equal(s.serverName, "shop.example");
    assert.equal(s.serverPort, "8080");
    assert.equal(s.originalHost, "wsgiref", "the Host nginx itself sent upstream");
  });

  it("gives the app the https scheme when nginx ends TLS", async () => {
    const s = await seen([
      "-k",
      "--resolve",
      `shop.example:${https}:127.0.0.1`,
      `https://shop.example:${https}/who`,
    ]);
    assert.equal(s.scheme, "https");
    assert.equal(s.host, `shop.example:${https}`);
    assert.equal(s.serverPort, String(https));
  });

  it("does not trust a spoofed X-Forwarded-For beyond the one proxy", async () => {
    const s = await seen([
      "-H",
      "X-Forwarded-For: 6.6.6.6, 7.7.7.7",
      `http://127.0.0.1:${http}/who`,
    ]);
    assert.equal(s.forwardedFor, "6.6.6.6, 7.7.7.7, 127.0.0.1", "nginx appended the real client");
    assert.equal(s.remoteAddr, "127.0.0.1");
  });

  it("reuses HTTP/1.1 connections to the instances (keep-alive upstream)", async () => {
    const answers: Seen[] = [];
    for (let i = 0; i < 10; i++) answers.push(await seen([`http://127.0.0.1:${http}/who`]));
    const ports = new Set(answers.map((s) => `${s.instance}:${s.proxyPort}`));
    assert.ok(
      ports.size < answers.length,
      `${ports.size} connections for ${answers.length} requests`,
    );
  });

  it("streams a 50 MiB upload through intact", async () => {
    const file = join(dir.path, "upload.bin");
    const body = pattern(BIG, 3);
    writeFileSync(file, body);
    const expected = `${BIG} ${createHash("sha256").update(body).digest("hex")}`;
    const sized = await curl(["--data-binary", `@${file}`, `http://127.0.0.1:${http}/upload`]);
    assert.equal(sized, expected);
    const chunked = await curl([
      "-H",
      "Transfer-Encoding: chunked",
      "--data-binary",
      `@${file}`,
      `http://127.0.0.1:${http}/upload`,
    ]);
    assert.equal(chunked, expected, "a chunked upload too");
  });

  it("streams a 50 MiB download through intact", async () => {
    const file = join(dir.path, "download.bin");
    await curl(["-o", file, `http://127.0.0.1:${http}/download?bytes=${BIG}`]);
    assert.equal(statSync(file).size, BIG);
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    assert.equal(hash.digest("hex"), createHash("sha256").update(pattern(BIG)).digest("hex"));
  });

  it("leaves nothing in nginx's error log but notices", () => {
    const problems = readLog("error.log")
      .split("\n")
      .filter((line) => /\[(error|crit|alert|emerg)\]/.test(line));
    assert.deepEqual(problems, []);
  });
});
