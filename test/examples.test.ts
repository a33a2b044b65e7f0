import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { rawRequest, type Started, startProgram } from "./fixtures/simple-server/client.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CHROMIUM = "/usr/bin/chromium";

/** Starts `examples/<name>.ts` with `args` as a child process; it prints its port. */
function startExample(name: string, args: string[]): Promise<Started> {
  return startProgram(
    process.execPath,
    ["--import", "tsx", `examples/${name}.ts`, ...args],
    /on port (\d+)/,
    { cwd: ROOT },
  );
}

/** The child's stderr once it matches every pattern (it arrives on its own pipe, maybe after the response). */
async function stderrMatching(program: Started, ...patterns: RegExp[]): Promise<string> {
  for (let waited = 0; waited < 3000; waited += 20) {
    if (patterns.every((pattern) => pattern.test(program.stderr()))) break;
    await sleep(20);
  }
  return program.stderr();
}

/** Sends one raw HTTP/1.0 request line (the target exactly as given) and splits the answer. */
async function request(port: number, target: string, method = "GET") {
  const { data } = await rawRequest(port, [`${method} ${target} HTTP/1.0\r\n\r\n`]);
  const text = data.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  return {
    status: Number(text.slice(9, 12)),
    head: text.slice(0, end + 2),
    body: text.slice(end + 4),
  };
}

describe("examples/hello.ts", () => {
  let program: Started;
  before(async () => {
    program = await startExample("hello", ["0"]);
  });
  after(() => program.stop());

  it("answers Hello World with its Content-Type and Content-Length", async () => {
    const response = await fetch(`http://127.0.0.1:${program.port}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(response.headers.get("content-length"), "11");
    assert.equal(await response.text(), "Hello World");
  });

  it("logs the request on stderr", async () => {
    await fetch(`http://127.0.0.1:${program.port}/logged`);
    const line = /^127\.0\.0\.1 - - \[.+\] "GET \/logged HTTP\/1\.1" 200 11$/m;
    assert.match(await stderrMatching(program, line), line);
  });
});

describe("examples/environ.ts", () => {
  let program: Started;
  before(async () => {
    program = await startExample("environ", ["0"]);
  });
  after(() => program.stop());

  it("prints the environ of the request", async () => {
    const response = await fetch(`http://127.0.0.1:${program.port}/some/path?x=1`);
    const text = await response.text();
    assert.equal(response.status, 200);
    assert.match(text, /^PATH_INFO: \/some\/path$/m);
    assert.match(text, /^QUERY_STRING: x=1$/m);
    assert.match(text, /^REQUEST_METHOD: GET$/m);
    assert.match(text, new RegExp(`^HTTP_HOST: 127\\.0\\.0\\.1:${program.port}$`, "m"));
    assert.match(text, /^wsgi\.version: \(1, 0\)$/m);
    assert.match(text, /^wsgi\.input: <BodyInputStream object>$/m);
  });
});

describe("examples/validator.ts", () => {
  let program: Started;
  before(async () => {
    program = await startExample("validator", ["0"]);
  });
  after(() => program.stop());

  it("answers 500 and logs the validator's clear error for a bare byte string", async () => {
    const response = await fetch(`http://127.0.0.1:${program.port}/`);
    assert.equal(response.status, 500);
    assert.equal(
      await response.text(),
      "A server error occurred.  Please contact the administrator.",
    );
    const error = /AssertionError \[ERR_ASSERTION\]: You should not return a bytes object/;
    const logged = /"GET \/ HTTP\/1\.1" 500 59$/m;
    const stderr = await stderrMatching(program, error, logged);
    assert.match(stderr, error);
    assert.match(stderr, logged);
  });
});

describe("examples/static.ts", () => {
  let program: Started;
  let base: string;
  let root: string;

  before(async () => {
    base = await mkdtemp(join(tmpdir(), "wsgiref-static-"));
    root = join(base, "root");
    await mkdir(join(root, "sub"), { recursive: true });
    await mkdir(join(base, "outside"));
    await writeFile(join(base, "secret.txt"), "SECRET");
    await writeFile(join(base, "outside", "x.txt"), "SECRET TOO");
    await writeFile(join(root, "index.html"), "<p>home</p>");
    await writeFile(join(root, "a.txt"), "text file");
    await writeFile(join(root, "style.css"), "p { color: red }");
    await writeFile(join(root, "data.bin"), Buffer.from([0, 1, 2, 255]));
    await writeFile(join(root, "sub", "index.html"), "<p>sub</p>");
    await writeFile(join(root, "café.txt"), "utf-8 name");
    await symlink(join(base, "secret.txt"), join(root, "link-out.txt"));
    await symlink(join(base, "outside"), join(root, "dir-out"));
    await symlink(join(root, "a.txt"), join(root, "link-in.txt"));
    program = await startExample("static", [root, "0"]);
  });
  after(async () => {
    await program?.stop();
    await rm(base, { recursive: true, force: true });
  });

  const served: Array<[target: string, type: string, body: string]> = [
    ["/", "text/html; charset=utf-8", "<p>home</p>"],
    ["/a.txt", "text/plain; charset=utf-8", "text file"],
    ["/style.css", "text/css; charset=utf-8", "p { color: red }"],
    ["/data.bin", "application/octet-stream", "\x00\x01\x02\xff"],
    ["/sub/", "text/html; charset=utf-8", "<p>sub</p>"],
    ["/sub", "text/html; charset=utf-8", "<p>sub</p>"],
    ["/caf%C3%A9.txt", "text/plain; charset=utf-8", "utf-8 name"],
    ["/link-in.txt", "text/plain; charset=utf-8", "text file"],
  ];
  for (const [target, type, body] of served) {
    it(`serves ${target} with Content-Type ${type} and its Content-Length`, async () => {
      const response = await request(program.port, target);
      assert.equal(response.status, 200);
      assert.match(
        response.head,
        new RegExp(`\r\nContent-Type: ${type.replace(/[+]/g, "\\+")}\r\n`),
      );
      assert.match(
        response.head,
        new RegExp(`\r\nContent-Length: ${Buffer.byteLength(body, "latin1")}\r\n`),
      );
      assert.equal(response.body, body);
    });
  }

  it("answers HEAD with the headers and no body", async () => {
    const response = await request(program.port, "/a.txt", "HEAD");
    assert.equal(response.status, 200);
    assert.match(response.head, /\r\nContent-Length: 9\r\n/);
    assert.equal(response.body, "");
  });

  const refused = [
    "/missing.txt",
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/sub/../../secret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/..\\secret.txt",
    "/%5c..%5csecret.txt",
    "/a.txt%00.png",
    "//etc/passwd",
    "/etc/passwd",
    "/link-out.txt",
    "/dir-out/x.txt",
    "/%ff",
  ];
  for (const target of refused) {
    it(`answers 404 for ${target}`, async () => {
      const response = await request(program.port, target);
      assert.equal(response.status, 404);
      assert.equal(response.body, "not found");
    });
  }

  it("listens on 127.0.0.1 only by default", async () => {
    assert.match(program.stdout(), / at 127\.0\.0\.1 on port \d+/);
    const port = program.port.toString(16).toUpperCase().padStart(4, "0");
    const listening = (file: string) =>
      readFileSync(file, "latin1")
        .split("\n")
        .filter((line) => / 0A /.test(line) && line.includes(`:${port} `))
        .map((line) => line.trim().split(/\s+/)[1]);
    assert.deepEqual(listening("/proc/net/tcp"), [`0100007F:${port}`]);
    assert.deepEqual(listening("/proc/net/tcp6"), []);
  });

  it("answers 404 for the absolute path of a file outside the root", async () => {
    const response = await request(program.port, join(base, "secret.txt"));
    assert.equal(response.status, 404);
  });
});

describe("examples/static.ts in a browser", {
  skip: !existsSync(CHROMIUM) && `${CHROMIUM} is missing (CI installs chromium)`,
}, () => {
  let program: Started;
  before(async () => {
    program = await startExample("static", [join(ROOT, "test/fixtures/static-site"), "0"]);
  });
  after(() => program?.stop());

  it("loads a page whose image and stylesheet come from the server", async () => {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage();
      const response = await page.goto(`http://127.0.0.1:${program.port}/`);
      assert.equal(response?.status(), 200);
      // The page runs in the browser: expressions as strings (no DOM types in this project).
      await page.waitForFunction("document.getElementById('pixel')?.complete === true");
      const seen = await page.evaluate(`(() => {
        const img = document.getElementById("pixel");
        return {
          width: img.naturalWidth,
          height: img.naturalHeight,
          background: getComputedStyle(document.body).backgroundColor,
          color: getComputedStyle(document.getElementById("title")).color,
        };
      })()`);
      assert.deepEqual(seen, {
        width: 8,
        height: 6,
        background: "rgb(1, 2, 3)",
        color: "rgb(250, 240, 230)",
      });
    } finally {
      await browser.close();
    }
  });
});

describe("examples/static.ts: its root", () => {
  it("serves the shipped examples/public/ as the README says", async () => {
    const program = await startExample("static", ["examples/public", "0"]);
    try {
      const response = await request(program.port, "/");
      assert.equal(response.status, 200);
      assert.match(response.body, /<h1>It works<\/h1>/);
    } finally {
      await program.stop();
    }
  });

  it("says in one line that a missing root does not exist, exit status 2", async () => {
    const run = promisify(execFile);
    const result = await run(
      process.execPath,
      ["--import", "tsx", "examples/static.ts", "no/such/dir", "0"],
      {
        cwd: ROOT,
      },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "static.ts: no such directory: no/such/dir\n");
  });
});
