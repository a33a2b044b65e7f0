/**
 * `CGIHandler` as a real CGI script: examples/cgi.ts run directly as a child process with
 * a CGI environment, then behind real web servers (lighttpd's mod_cgi; nginx + fcgiwrap)
 * and requested over HTTP.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { access, chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const EXAMPLE = fileURLToPath(new URL("../examples/cgi.ts", import.meta.url));
/** The tsx loader, as an absolute URL: CGI scripts run in the web server's directories. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const NODE_ARGS = ["--import", TSX_LOADER, EXAMPLE];

const HELLO = "Hello from a WSGI application running as a CGI script!\n";
const ERROR_BODY = "A server error occurred.  Please contact the administrator.";
const TRACEBACK = "Error: boom: this traceback belongs in the server's error log";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------
// Running examples/cgi.ts directly, as a web server would.

interface CgiResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

interface CgiOptions {
  /** Bytes for stdin. */
  stdin?: Uint8Array;
  /** Leave stdin open after writing it, as a server that never closes it would. */
  keepStdinOpen?: boolean;
  /** Arguments after the script. */
  args?: string[];
  /** Stop reading stdout for this long at first, so the script's writes back up. */
  stallMs?: number;
  /** Run through `sh -c` with this prefix, to put raw (non-UTF-8) bytes in the environment. */
  shellPrefix?: string;
}

/** Runs examples/cgi.ts once with `env` as its whole environment. */
function runCgi(env: Record<string, string>, options: CgiOptions = {}): Promise<CgiResult> {
  const args = [...NODE_ARGS, ...(options.args ?? [])];
  const child = options.shellPrefix
    ? spawn("/bin/sh", ["-c", `${options.shellPrefix} exec "$0" "$@"`, process.execPath, ...args], {
        env,
      })
    : spawn(process.execPath, args, { env });
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  if (options.stallMs) {
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), options.stallMs);
  }
  child.stdin.on("error", () => {});
  if (options.stdin) child.stdin.write(options.stdin);
  if (!options.keepStdinOpen) child.stdin.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the CGI script did not exit within 10 s; stderr: ${stderr}`));
    }, 10_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, stdout: Buffer.concat(stdout), stderr });
    });
  });
}

/** A request's CGI variables, as a web server would set them. */
function cgiEnv(vars: Record<string, string>): Record<string, string> {
  return {
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_SOFTWARE: "test",
    SERVER_NAME: "127.0.0.1",
    SERVER_PORT: "80",
    SERVER_PROTOCOL: "HTTP/1.1",
    REQUEST_METHOD: "GET",
    SCRIPT_NAME: "/cgi-bin/app.cgi",
    PATH_INFO: "/",
    QUERY_STRING: "",
    ...vars,
  };
}

/** The JSON `/env` answered with, after the CGI header block. */
function envReport(stdout: Buffer): Record<string, unknown> {
  const text = stdout.toString("utf8");
  return JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
}

describe("examples/cgi.ts run directly as a CGI script", () => {
  it("writes a Status header, the headers and the body to stdout, byte for byte", async () => {
    const { code, stdout, stderr } = await runCgi(cgiEnv({ PATH_INFO: "/" }));
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(
      stdout.toString("latin1"),
      "Status: 200 OK\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(HELLO)}\r\n` +
        "\r\n" +
        HELLO,
    );
  });

  it("echoes a POST body read from stdin, with its Content-Type", async () => {
    const { stdout } = await runCgi(
      cgiEnv({
        REQUEST_METHOD: "POST",
        PATH_INFO: "/echo",
        CONTENT_TYPE: "application/x-test",
        CONTENT_LENGTH: "11",
      }),
      { stdin: Buffer.from("hello world") },
    );
    assert.equal(
      stdout.toString("latin1"),
      "Status: 200 OK\r\nContent-Type: application/x-test\r\nContent-Length: 11\r\n\r\nhello world",
    );
  });

  it("reads no further than CONTENT_LENGTH and exits without waiting for stdin to close", async () => {
    const { code, stdout } = await runCgi(
      cgiEnv({ REQUEST_METHOD: "POST", PATH_INFO: "/echo", CONTENT_LENGTH: "5" }),
      { stdin: Buffer.from("hello, and more than was declared"), keepStdinOpen: true },
    );
    assert.equal(code, 0);
    assert.match(stdout.toString("latin1"), /\r\nContent-Length: 5\r\n\r\nhello$/);
  });

  it("reads no body when CONTENT_LENGTH is absent (RFC 3875 §4.1.2)", async () => {
    const { stdout } = await runCgi(cgiEnv({ REQUEST_METHOD: "POST", PATH_INFO: "/echo" }), {
      stdin: Buffer.from("not a declared body"),
      keepStdinOpen: true,
    });
    assert.match(stdout.toString("latin1"), /\r\nContent-Length: 0\r\n\r\n$/);
  });

  it("delivers a large body completely when the reader is slow: exit waits for stdout", async () => {
    const size = 8 << 20;
    const { code, stdout } = await runCgi(
      cgiEnv({ PATH_INFO: "/big", QUERY_STRING: `size=${size}` }),
      { stallMs: 300 },
    );
    assert.equal(code, 0);
    const head = `Status: 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`;
    assert.equal(stdout.subarray(0, head.length).toString("latin1"), head);
    assert.equal(stdout.length, head.length + size);
    assert.ok(stdout.subarray(head.length).equals(Buffer.alloc(size, "x")), "the body is all x");
  });

  it("answers an application error with the 500 page and logs the traceback to stderr", async () => {
    const { code, stdout, stderr } = await runCgi(cgiEnv({ PATH_INFO: "/boom" }));
    assert.equal(code, 0);
    assert.equal(
      stdout.toString("latin1"),
      "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n" +
        `Content-Length: ${ERROR_BODY.length}\r\n\r\n${ERROR_BODY}`,
    );
    assert.match(stderr, new RegExp(`^${TRACEBACK}\\n\\s+at app \\(`));
  });

  it("sets wsgi.run_once, wsgi.multiprocess and not wsgi.multithread", async () => {
    const report = envReport((await runCgi(cgiEnv({ PATH_INFO: "/env" }))).stdout);
    assert.equal(report["wsgi.run_once"], true);
    assert.equal(report["wsgi.multiprocess"], true);
    assert.equal(report["wsgi.multithread"], false);
    assert.deepEqual(report["wsgi.version"], [1, 0]);
    assert.equal(report["wsgi.url_scheme"], "http");
  });

  it("gives a UTF-8 PATH_INFO to the application as a native string", async () => {
    const report = envReport((await runCgi(cgiEnv({ PATH_INFO: "/env/café" }))).stdout);
    assert.equal(report.PATH_INFO, "/env/caf\u00c3\u00a9");
    assert.equal(report["PATH_INFO (utf-8)"], "/env/café");
  });

  it("gives a PATH_INFO that is not UTF-8 to the application byte for byte", async () => {
    const { stdout } = await runCgi(cgiEnv({}), {
      shellPrefix: `PATH_INFO="$(printf '/env/caf\\351')"`,
    });
    assert.equal(envReport(stdout).PATH_INFO, "/env/caf\u00e9");
  });

  it("IISCGIHandler strips the SCRIPT_NAME that IIS repeats at the front of PATH_INFO", async () => {
    const env = cgiEnv({ SCRIPT_NAME: "/cgi-bin/app.cgi", PATH_INFO: "/cgi-bin/app.cgi/env/x" });
    const iis = envReport((await runCgi(env, { args: ["--iis"] })).stdout);
    assert.equal(iis.SCRIPT_NAME, "/cgi-bin/app.cgi");
    assert.equal(iis.PATH_INFO, "/env/x");
  });

  it("CGIHandler leaves such a PATH_INFO alone, so the application's routes miss", async () => {
    const env = cgiEnv({ SCRIPT_NAME: "/cgi-bin/app.cgi", PATH_INFO: "/cgi-bin/app.cgi/env/x" });
    const { stdout } = await runCgi(env);
    assert.match(stdout.toString("latin1"), /^Status: 404 Not Found\r\n/);
    assert.match(stdout.toString("latin1"), /\r\n\r\nNo route for \/cgi-bin\/app\.cgi\/env\/x\n$/);
  });
});

// ---------------------------------------------------------------------------------------
// Web servers.

/** The absolute path of an executable, searching PATH and the sbin directories. */
function which(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(delimiter),
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

/** A program found (`skip` false), or why the tests that need it are skipped. */
type Program = { path: string; skip: false } | { path: ""; skip: string };

/**
 * Finds a program, installing its Debian package first when running as root where
 * apt-get exists; otherwise says why it cannot be used.
 */
function findOrInstall(program: string, debianPackage: string): Program {
  let path = which(program);
  if (!path && process.getuid?.() === 0 && which("apt-get")) {
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", debianPackage], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdio: "ignore",
      timeout: 180_000,
    });
    path = which(program);
  }
  if (path) return { path, skip: false };
  return {
    path: "",
    skip: `${program} is not installed (Debian package "${debianPackage}"): install it to run these tests`,
  };
}

/** A loopback port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(address),
      );
    });
  });
}

/** A server run in its own process group, so that stopping it stops its children too. */
class ServerProcess {
  readonly child: ChildProcess;
  /** What the server wrote to stderr. */
  stderr = "";
  private readonly stopAtExit = () => this.stop();

  constructor(
    readonly name: string,
    command: string,
    args: string[],
  ) {
    this.child = spawn(command, args, { detached: true, stdio: ["ignore", "ignore", "pipe"] });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString("utf8");
    });
    process.once("exit", this.stopAtExit);
    this.child.once("exit", () => process.off("exit", this.stopAtExit));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once `ready()` is true; rejects if the server exits first or 10 s pass. */
  async waitUntil(ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited early: ${this.stderr}`);
      if (await ready()) return;
      await sleep(50);
    }
    throw new Error(`${this.name} did not start within 10 s: ${this.stderr}`);
  }

  /** Sends SIGTERM to the server's process group and waits for the server to exit. */
  async stop(): Promise<void> {
    if (!this.child.pid || !this.running) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    try {
      process.kill(-this.child.pid, "SIGTERM");
    } catch {}
    await exited;
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A shell script that runs the example with Node and tsx: what the web server executes. */
function wrapperScript(extraArgs = ""): string {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, ...NODE_ARGS].map(quote).join(" ");
  return `#!/bin/sh\nexec ${command}${extraArgs} "$@"\n`;
}

/** An interpreter wrapper: runs the .ts file the web server names as its argument. */
function interpreterScript(): string {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return `#!/bin/sh\nexec ${quote(process.execPath)} --import ${quote(TSX_LOADER)} "$@"\n`;
}

/** Makes `dir/www/cgi-bin` with app.cgi (the wrapper) and returns the document root. */
async function makeDocumentRoot(dir: string): Promise<string> {
  const root = join(dir, "www");
  await mkdir(join(root, "cgi-bin"), { recursive: true });
  await writeFile(join(root, "cgi-bin", "app.cgi"), wrapperScript());
  await chmod(join(root, "cgi-bin", "app.cgi"), 0o755);
  await writeFile(join(root, "index.html"), "static\n");
  return root;
}

interface WebServer {
  /** The base URL, `http://127.0.0.1:PORT`. */
  origin: string;
  /** The text of the log where the CGI script's stderr ends up. */
  errorLog(): Promise<string>;
}

/** Reads a log until it contains `needle` (servers write CGI stderr asynchronously). */
async function logContaining(server: WebServer, needle: string): Promise<string> {
  let text = "";
  for (let i = 0; i < 40; i++) {
    text = await server.errorLog();
    if (text.includes(needle)) break;
    await sleep(50);
  }
  return text;
}

/** The tests every web server gets: GET, POST echo (small and 1 MiB), the error page. */
function commonTests(server: () => WebServer): void {
  it("answers a GET with the application's status, headers and body", async () => {
    const res = await fetch(`${server().origin}/cgi-bin/app.cgi/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(res.headers.get("content-length"), String(Buffer.byteLength(HELLO)));
    assert.equal(res.headers.has("status"), false, "the Status header is the server's business");
    assert.equal(await res.text(), HELLO);
  });

  it("echoes a POST body with its Content-Type", async () => {
    const res = await fetch(`${server().origin}/cgi-bin/app.cgi/echo`, {
      method: "POST",
      headers: { "Content-Type": "application/x-test; charset=latin-1" },
      body: "hello, CGI",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-test; charset=latin-1");
    assert.equal(await res.text(), "hello, CGI");
  });

  it("echoes a 1 MiB POST body byte for byte", async () => {
    const body = Buffer.alloc(1 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 11)) & 0xff;
    const res = await fetch(`${server().origin}/cgi-bin/app.cgi/echo`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), String(body.length));
    const echoed = Buffer.from(await res.arrayBuffer());
    assert.equal(echoed.length, body.length);
    assert.ok(echoed.equals(body), "the echoed body differs");
  });

  it("answers an application error with 500 and the error body, not the traceback", async () => {
    const res = await fetch(`${server().origin}/cgi-bin/app.cgi/boom`);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("content-type"), "text/plain");
    assert.equal(await res.text(), ERROR_BODY);
  });

  it("puts the application's traceback in the server's error log", async () => {
    await fetch(`${server().origin}/cgi-bin/app.cgi/boom`).then((res) => res.arrayBuffer());
    const log = await logContaining(server(), TRACEBACK);
    assert.match(log, new RegExp(`${TRACEBACK}\\s+at app \\(`));
  });
}

/** GETs `/env...` and returns the environ report. */
async function getEnv(server: WebServer, pathAndQuery: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.origin}${pathAndQuery}`);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

const lighttpd = findOrInstall("lighttpd", "lighttpd");

describe("examples/cgi.ts under lighttpd's mod_cgi", { skip: lighttpd.skip }, () => {
  let dir = "";
  let web: ServerProcess | undefined;
  let port = 0;
  const server: WebServer = {
    get origin() {
      return `http://127.0.0.1:${port}`;
    },
    errorLog: () => readFile(join(dir, "breakage.log"), "utf8"),
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-lighttpd-"));
    const root = await makeDocumentRoot(dir);
    // The second recipe: a .ts file run by an interpreter wrapper that cgi.assign names.
    await writeFile(join(dir, "node-tsx"), interpreterScript());
    await chmod(join(dir, "node-tsx"), 0o755);
    await symlink(EXAMPLE, join(root, "cgi-bin", "example.ts"));
    await mkdir(join(dir, "uploads"));
    port = await freePort();
    const conf = join(dir, "lighttpd.conf");
    await writeFile(
      conf,
      [
        `server.document-root = "${root}"`,
        `server.bind = "127.0.0.1"`,
        `server.port = ${port}`,
        `server.errorlog = "${join(dir, "error.log")}"`,
        // Where the scripts' stderr goes: without it, lighttpd -D hands them its own stderr.
        `server.breakagelog = "${join(dir, "breakage.log")}"`,
        `server.upload-dirs = ("${join(dir, "uploads")}")`,
        `server.modules += ("mod_cgi")`,
        `$HTTP["url"] =~ "^/cgi-bin/" {`,
        `  cgi.assign = (".cgi" => "", ".ts" => "${join(dir, "node-tsx")}")`,
        `}`,
        "",
      ].join("\n"),
    );
    web = new ServerProcess("lighttpd", lighttpd.path, ["-D", "-f", conf]);
    await web.waitUntil(() => canConnect(port));
  });

  after(async () => {
    await web?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  commonTests(() => server);

  it("sets SCRIPT_NAME, PATH_INFO and QUERY_STRING from the URL", async () => {
    const env = await getEnv(server, "/cgi-bin/app.cgi/env/a/b?x=1&y=%20");
    assert.equal(env.SCRIPT_NAME, "/cgi-bin/app.cgi");
    assert.equal(env.PATH_INFO, "/env/a/b");
    assert.equal(env.QUERY_STRING, "x=1&y=%20");
    assert.equal(env.REQUEST_METHOD, "GET");
  });

  it("gives the application wsgi.run_once true", async () => {
    const env = await getEnv(server, "/cgi-bin/app.cgi/env");
    assert.equal(env["wsgi.run_once"], true);
    assert.equal(env["wsgi.multithread"], false);
    assert.equal(env["wsgi.multiprocess"], true);
    assert.equal(env["wsgi.url_scheme"], "http");
    assert.equal(env.GATEWAY_INTERFACE, "CGI/1.1");
  });

  it("delivers a percent-encoded UTF-8 path as a PEP 3333 native string", async () => {
    const env = await getEnv(server, "/cgi-bin/app.cgi/env/caf%C3%A9");
    assert.equal(env.PATH_INFO, "/env/caf\u00c3\u00a9");
    assert.equal(env["PATH_INFO (utf-8)"], "/env/café");
  });

  it("delivers a percent-encoded path that is not UTF-8 byte for byte", async () => {
    const env = await getEnv(server, "/cgi-bin/app.cgi/env/caf%E9");
    assert.equal(env.PATH_INFO, "/env/caf\u00e9");
  });

  it("runs a .ts file through an interpreter wrapper named by cgi.assign", async () => {
    const env = await getEnv(server, "/cgi-bin/example.ts/env/x");
    assert.equal(env.SCRIPT_NAME, "/cgi-bin/example.ts");
    assert.equal(env.PATH_INFO, "/env/x");
  });
});

const nginx = findOrInstall("nginx", "nginx");
const fcgiwrap = findOrInstall("fcgiwrap", "fcgiwrap");

describe("examples/cgi.ts under nginx and fcgiwrap", { skip: nginx.skip || fcgiwrap.skip }, () => {
  let dir = "";
  let port = 0;
  let wrapper: ServerProcess | undefined;
  let web: ServerProcess | undefined;
  const server: WebServer = {
    get origin() {
      return `http://127.0.0.1:${port}`;
    },
    errorLog: () => readFile(join(dir, "error.log"), "utf8"),
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-nginx-"));
    const root = await makeDocumentRoot(dir);
    const socket = join(dir, "fcgiwrap.sock");
    // -f: the script's stderr goes over FastCGI to nginx's error log.
    wrapper = new ServerProcess("fcgiwrap", fcgiwrap.path, ["-f", "-s", `unix:${socket}`]);
    await wrapper.waitUntil(() => exists(socket));
    port = await freePort();
    const temp = join(dir, "temp");
    await mkdir(temp);
    const conf = join(dir, "nginx.conf");
    await writeFile(
      conf,
      `daemon off;
master_process off;
error_log ${join(dir, "error.log")} info;
pid ${join(dir, "nginx.pid")};
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  fastcgi_temp_path ${temp}/fastcgi;
  proxy_temp_path ${temp}/proxy;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  client_max_body_size 16m;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location /cgi-bin/ {
      fastcgi_split_path_info ^(/cgi-bin/[^/]+\\.cgi)(.*)$;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_param SCRIPT_NAME $fastcgi_script_name;
      fastcgi_param PATH_INFO $fastcgi_path_info;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
      fastcgi_param GATEWAY_INTERFACE CGI/1.1;
      fastcgi_param SERVER_SOFTWARE nginx/$nginx_version;
      fastcgi_param SERVER_NAME $server_name;
      fastcgi_param SERVER_PORT $server_port;
      fastcgi_param REMOTE_ADDR $remote_addr;
      fastcgi_param HTTPS $https if_not_empty;
      fastcgi_pass unix:${socket};
    }
  }
}
`,
    );
    web = new ServerProcess("nginx", nginx.path, [
      "-e",
      join(dir, "error.log"),
      "-p",
      dir,
      "-c",
      conf,
    ]);
    await web.waitUntil(() => canConnect(port));
  });

  after(async () => {
    await web?.stop();
    await wrapper?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  commonTests(() => server);

  it("sets SCRIPT_NAME and PATH_INFO from fastcgi_split_path_info", async () => {
    const env = await getEnv(server, "/cgi-bin/app.cgi/env/a/b?x=1");
    assert.equal(env.SCRIPT_NAME, "/cgi-bin/app.cgi");
    assert.equal(env.PATH_INFO, "/env/a/b");
    assert.equal(env.QUERY_STRING, "x=1");
    assert.equal(env["wsgi.run_once"], true);
  });
});
