import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as connectTls } from "node:tls";
import { promisify } from "node:util";
import { Agent, fetch } from "undici";
import { type RunningServer, serve } from "../../src/server.ts";
import type { WSGIApplication } from "../../src/types.ts";
import { splitResponses } from "../helpers/wire.ts";

const run = promisify(execFile);

/** Answers the environ values TLS changes, as JSON. */
const app: WSGIApplication = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "application/json"]]);
  const seen = {
    scheme: environ["wsgi.url_scheme"],
    port: environ.SERVER_PORT,
    path: environ.PATH_INFO,
  };
  return [new TextEncoder().encode(JSON.stringify(seen))];
};

const dir = mkdtempSync(join(tmpdir(), "wsgiref-tls-"));
const keyFile = join(dir, "key.pem");
const certFile = join(dir, "cert.pem");
let cert: Buffer;
let server: RunningServer;
let port: number;

before(async () => {
  // A throwaway self-signed certificate for localhost and 127.0.0.1.
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-days",
      "1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { stdio: "ignore" },
  );
  cert = readFileSync(certFile);
  server = await serve(app, {
    port: 0,
    host: "127.0.0.1",
    key: keyFile,
    cert: certFile,
    errorLog: "/dev/null",
  });
  port = (server.address as { port: number }).port;
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One HTTPS request with node:https, trusting the test certificate. */
function httpsGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, ca: cert, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("server: TLS", () => {
  it("serves curl -k over HTTPS", async () => {
    const { stdout } = await run("curl", ["-sk", `https://localhost:${port}/curl`]);
    assert.deepEqual(JSON.parse(stdout), {
      scheme: "https",
      port: String(port),
      path: "/curl",
    });
  });

  it("serves node:https with the certificate verified", async () => {
    const res = await httpsGet("/node");
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).scheme, "https");
  });

  it("serves undici's fetch", async () => {
    const dispatcher = new Agent({ connect: { ca: cert } });
    try {
      const res = await fetch(`https://localhost:${port}/undici`, { dispatcher });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        scheme: "https",
        port: String(port),
        path: "/undici",
      });
    } finally {
      await dispatcher.close();
    }
  });

  it("keeps a TLS connection alive across requests", async () => {
    const socket = connectTls({ host: "127.0.0.1", port, ca: cert, servername: "localhost" });
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      received += d;
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    const until = async (n: number) => {
      const deadline = Date.now() + 3000;
      while (splitResponses(received).length < n && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    socket.write("GET /one HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await until(1);
    socket.write("GET /two HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await until(2);
    const [one, two] = splitResponses(received);
    assert.equal(JSON.parse(one?.body ?? "").path, "/one");
    assert.equal(JSON.parse(two?.body ?? "").path, "/two");
    assert.equal(socket.destroyed, false);
    socket.destroy();
  });

  it("drops a plain-HTTP request to the TLS port and keeps serving", async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connectTcp(port, "127.0.0.1");
      let got = "";
      socket.on("data", (d) => {
        got += d.toString("latin1");
      });
      socket.on("error", () => {});
      socket.on("close", () => resolve(got));
      socket.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    });
    assert.doesNotMatch(reply, /^HTTP\/1.1 200/);
    assert.equal((await httpsGet("/after")).status, 200);
  });
});
