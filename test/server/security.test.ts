/**
 * Security over real sockets: response splitting through an app's status or header
 * values is impossible on both servers (the production server and the reference
 * `makeServer`), and the static-file example and the `staticFiles` middleware refuse
 * every encoding of a path outside their root, sent as raw request targets.
 */
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { staticFiles } from "../../src/middleware.ts";
import { serve } from "../../src/server.ts";
import { makeServer } from "../../src/simple-server.ts";
import type { HeaderTuple, WSGIApplication } from "../../src/types.ts";
import { type ChildServer, startChild, tempDir } from "../helpers/servers.ts";
import { exchange, splitResponses } from "../helpers/wire.ts";

/** An app that answers with the status and headers a test put in its registry. */
const injections: Record<string, { status: string; headers: HeaderTuple[] }> = {
  "status-crlf": { status: "200 OK\r\nX-Injected: yes", headers: [] },
  "status-lf": { status: "200 OK\nX-Injected: yes", headers: [] },
  "status-body": { status: "200 OK\r\n\r\n<script>injected</script>", headers: [] },
  "status-u010d-u010a": { status: "200 OK\u010d\u010aX-Injected: yes", headers: [] },
  "value-crlf": { status: "200 OK", headers: [["X-A", "a\r\nX-Injected: yes"]] },
  "value-lf": { status: "200 OK", headers: [["X-A", "a\nX-Injected: yes"]] },
  "value-cr": { status: "200 OK", headers: [["X-A", "a\rX-Injected: yes"]] },
  "value-nul": { status: "200 OK", headers: [["X-A", "a\0X-Injected: yes"]] },
  "value-u010d-u010a": { status: "200 OK", headers: [["X-A", "a\u010d\u010aX-Injected: yes"]] },
  "location-body": {
    status: "302 Found",
    headers: [["Location", "/next\r\n\r\n<script>injected</script>"]],
  },
  "cookie-crlf": { status: "200 OK", headers: [["Set-Cookie", "a=b\r\nX-Injected: yes"]] },
  "name-crlf": { status: "200 OK", headers: [["X-A\r\nX-Injected", "yes"]] },
  "name-colon": { status: "200 OK", headers: [["X-Injected: yes\r\nX-A", "b"]] },
};

const injecting: WSGIApplication = (environ, startResponse) => {
  const name = environ.PATH_INFO.slice(1);
  const injection = injections[name];
  if (injection === undefined) {
    startResponse("200 OK", [["Content-Type", "text/plain"]]);
    return [Buffer.from("fine")];
  }
  startResponse(injection.status, [["Content-Type", "text/plain"], ...injection.headers]);
  return [Buffer.from("the body the app meant")];
};

/** Checks the one response to an injection: a 500, and nothing injected anywhere. */
function assertRefused(reply: string, name: string): void {
  const responses = splitResponses(reply);
  assert.equal(responses.length, 1, `${name}: one response: ${JSON.stringify(reply)}`);
  const [response] = responses;
  assert.equal(response?.status, 500, `${name}: ${JSON.stringify(reply.slice(0, 60))}`);
  assert.ok(!/injected/i.test(reply), `${name}: nothing injected reaches the client`);
  assert.ok(!reply.includes("the body the app meant"), `${name}: refused before anything was sent`);
  for (const line of response?.head.split("\r\n") ?? []) {
    assert.doesNotMatch(line, /[\r\n\0\u0100-\uffff]/, `${name}: a clean head line`);
  }
}

describe("security: response splitting", () => {
  for (const name of Object.keys(injections)) {
    it(`the production server refuses ${name}: 500, nothing injected`, async () => {
      const server = await serve(injecting, { host: "127.0.0.1", port: 0, errorLog: "/dev/null" });
      try {
        const port = (server.address as { port: number }).port;
        const reply = await exchange(
          port,
          `GET /${name} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`,
        );
        assertRefused(reply, name);
        const next = await exchange(
          port,
          "GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        assert.match(next, /^HTTP\/1\.1 200 OK\r\n/);
      } finally {
        await server.close();
      }
    });

    it(`the reference server refuses ${name}: 500, nothing injected`, async () => {
      const server = await makeServer("127.0.0.1", 0, injecting);
      const serving = server.serveForever();
      const errors = process.stderr.write;
      // The reference server logs the error to stderr, as CPython's does: keep it quiet.
      process.stderr.write = () => true;
      try {
        const reply = await exchange(server.serverPort, `GET /${name} HTTP/1.0\r\n\r\n`);
        assertRefused(reply, name);
      } finally {
        process.stderr.write = errors;
        await server.shutdown();
        await serving;
        await server.close();
      }
    });
  }
});

/** Raw request targets that try to leave the root, each in its own encoding. */
const ESCAPES = [
  "/../secret.txt",
  "/%2e%2e/secret.txt",
  "/%2E%2E/secret.txt",
  "/.%2e/secret.txt",
  "/%2e./secret.txt",
  "/..%2fsecret.txt",
  "/%2e%2e%2fsecret.txt",
  "/sub/..%2f..%2fsecret.txt",
  "/sub/%2e%2e/%2e%2e/secret.txt",
  "/%252e%252e/secret.txt",
  "/%252e%252e%252fsecret.txt",
  "/..%5csecret.txt",
  "/%5c..%5csecret.txt",
  "/..\\secret.txt",
  "/%c0%ae%c0%ae/secret.txt",
  "/%c0%ae%c0%ae%c0%afsecret.txt",
  "/..%c0%afsecret.txt",
  "/%e0%80%ae%e0%80%ae/secret.txt",
  "/%e2%80%a5/secret.txt",
  "/%ef%bc%8e%ef%bc%8e/secret.txt",
  "/..%ef%bc%8fsecret.txt",
  "/%00/../secret.txt",
  "/a.txt%00/../../secret.txt",
  "//..//secret.txt",
  "/./../secret.txt",
  "/link-out.txt",
  "/dir-out/x.txt",
  "http://localhost/../secret.txt",
  "http://localhost/%2e%2e/secret.txt",
  "http://localhost/..%2f..%2fsecret.txt",
  "http://localhost:80/%2e%2e%5csecret.txt",
];

/** Dot files under the root, asked for directly, encoded, or through a symlink with a plain name. */
const DOTFILES = [
  "/.env",
  "/%2eenv",
  "/%2Eenv",
  "/.git/config",
  "/%2egit/config",
  "/envlink.txt",
  "/gitlink/config",
  "/.well-known/../.env",
];

/** Sends a raw GET for `target`; resolves with the status and the whole reply. */
async function rawGet(port: number, target: string): Promise<{ status: number; reply: string }> {
  const reply = await exchange(port, `GET ${target} HTTP/1.0\r\nHost: localhost\r\n\r\n`);
  return { status: Number(reply.slice(9, 12)), reply };
}

describe("security: static files stay inside their root", () => {
  const dir = tempDir("static");
  const root = join(dir.path, "root");
  let example: ChildServer | undefined;
  let production: Awaited<ReturnType<typeof serve>> | undefined;

  before(async () => {
    mkdirSync(join(root, "sub"), { recursive: true });
    mkdirSync(join(root, "%2e%2e"));
    mkdirSync(join(dir.path, "outside"));
    writeFileSync(join(dir.path, "secret.txt"), "SECRET");
    writeFileSync(join(dir.path, "outside", "x.txt"), "SECRET TOO");
    writeFileSync(join(root, "a.txt"), "inside");
    writeFileSync(join(root, "%2e%2e", "secret.txt"), "a file literally under %2e%2e");
    symlinkSync(join(dir.path, "secret.txt"), join(root, "link-out.txt"));
    symlinkSync(join(dir.path, "outside"), join(root, "dir-out"));
    writeFileSync(join(root, ".env"), "SECRET_KEY=hunter2");
    mkdirSync(join(root, ".git"));
    writeFileSync(join(root, ".git", "config"), "SECRET git config");
    symlinkSync(".env", join(root, "envlink.txt"));
    symlinkSync(".git", join(root, "gitlink"));
    mkdirSync(join(root, ".well-known"));
    writeFileSync(
      join(root, ".well-known", "security.txt"),
      "Contact: mailto:security@example.com",
    );
    example = await startChild(["examples/static.ts", root, "0"]);
    production = await serve(staticFiles(root), {
      host: "127.0.0.1",
      port: 0,
      errorLog: "/dev/null",
    });
  });

  after(async () => {
    await example?.stop();
    await production?.close();
    dir.remove();
  });

  const servers: Array<[name: string, port: () => number]> = [
    ["examples/static.ts on the reference server", () => example?.port ?? 0],
    [
      "staticFiles on the production server",
      () => (production?.address as { port: number } | undefined)?.port ?? 0,
    ],
  ];

  for (const [name, port] of servers) {
    describe(name, () => {
      it("serves a file inside the root", async () => {
        const { status, reply } = await rawGet(port(), "/a.txt");
        assert.equal(status, 200);
        assert.ok(reply.endsWith("inside"));
      });

      it("serves /%252e%252e/ as the directory literally named %2e%2e, decoding once", async () => {
        const { status, reply } = await rawGet(port(), "/%252e%252e/secret.txt");
        assert.equal(status, 200);
        assert.ok(reply.endsWith("a file literally under %2e%2e"));
      });

      for (const target of DOTFILES) {
        it(`hides the dot file ${target}`, async () => {
          const { status, reply } = await rawGet(port(), target);
          assert.equal(status, 404, `${target}: ${status}`);
          assert.ok(!reply.includes("SECRET"), `${target}: the secret stays hidden`);
        });
      }

      for (const target of ESCAPES.filter((t) => !t.startsWith("/%252e%252e/"))) {
        it(`refuses ${target}`, async () => {
          const { status, reply } = await rawGet(port(), target);
          assert.ok(status === 404 || status === 400, `${target}: ${status}`);
          assert.ok(!reply.includes("SECRET"), `${target}: nothing from outside the root`);
        });
      }
    });
  }

  it("staticFiles serves /.well-known/ (RFC 8615) while hiding every other dot file", async () => {
    const port = (production?.address as { port: number } | undefined)?.port ?? 0;
    const { status, reply } = await rawGet(port, "/.well-known/security.txt");
    assert.equal(status, 200);
    assert.ok(reply.endsWith("Contact: mailto:security@example.com"));
  });
});
