import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCall } from "../../src/cli/call.ts";
import type { CallCommand } from "../../src/cli.ts";
import { withServer } from "../helpers/servers.ts";
import { exchange } from "../helpers/wire.ts";

const APP = `
export const app = async (environ, startResponse) => {
  const body = await environ["wsgi.input"].read();
  startResponse("200 OK", [["Content-Type", "text/plain"], ["X-Method", environ.REQUEST_METHOD]]);
  return [Buffer.from(\`\${environ.PATH_INFO}?\${environ.QUERY_STRING} \${environ.HTTP_ACCEPT ?? "-"} \${environ.CONTENT_TYPE ?? "-"} \${Buffer.from(body).toString()}\`)];
};
export const broken = () => { throw new Error("kaput"); };
export const sloppy = (environ, startResponse) => { startResponse("200 OK", []); return [Buffer.from("x")]; };
export const notAnApp = 42;
export const streamed = (environ, startResponse) => {
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return (function* () { yield Buffer.from("a"); yield Buffer.from("bc"); })();
};
export const two = (environ, startResponse) => {
  startResponse("201 Created", [["Content-Type", "text/plain"], ["X-A", "1"]]);
  return [Buffer.from("ab"), Buffer.from("cd")];
};
export const empty = (environ, startResponse) => {
  startResponse("204 No Content", [["X-A", "1"]]);
  return [];
};
`;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "wsgiref-call-"));
  writeFileSync(join(dir, "app.mjs"), APP);
  writeFileSync(join(dir, "body.txt"), "from a file");
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: Partial<CallCommand>) {
  let out = Buffer.alloc(0);
  let err = "";
  const code = await runCall(
    {
      command: "call",
      app: "app.mjs",
      method: "GET",
      path: "/",
      headers: [],
      data: undefined,
      ...args,
    },
    {
      cwd: dir,
      stdout: { write: (d) => (out = Buffer.concat([out, Buffer.from(d)])) },
      stderr: { write: (s) => (err += s) },
    },
  );
  return { code, out: out.toString("latin1"), err };
}

/** What `serve` puts on the wire for one request, without its `Date` line. */
async function served(exportName: string, method: string): Promise<string> {
  const app = (await import(join(dir, "app.mjs")))[exportName];
  let wire = "";
  await withServer(app, {}, async ({ port }) => {
    wire = await exchange(
      port,
      `${method} /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
  });
  return wire.replace(/^Date: .*\r\n/m, "").replace("Connection: close\r\n", "");
}

describe("wsgiref call prints the head that wsgiref serve sends (Date aside)", () => {
  for (const [name, method] of [
    ["two", "GET"],
    ["streamed", "GET"],
    ["two", "HEAD"],
    ["empty", "GET"],
  ] as const) {
    it(`${name} for ${method}`, async () => {
      const { out } = await run({ app: `app.mjs:${name}`, method, path: "/x" });
      assert.equal(out, await served(name, method));
    });
  }
});

describe("wsgiref call", () => {
  it("prints the response as it would go on the wire and exits 0", async () => {
    const { code, out, err } = await run({ path: "/hi?x=1", headers: ["Accept: text/plain"] });
    assert.equal(code, 0);
    assert.equal(
      out,
      "HTTP/1.1 200 OK\r\nServer: wsgiref\r\nContent-Type: text/plain\r\nX-Method: GET\r\nContent-Length: 21\r\n\r\n/hi?x=1 text/plain - ",
    );
    assert.equal(err, "");
  });

  it("sends -d text as a form body, as curl does", async () => {
    const { out } = await run({ method: "POST", data: "a=1&b=2" });
    assert.ok(out.endsWith(" - application/x-www-form-urlencoded a=1&b=2"), out);
  });

  it("reads the body from a file with -d @file, keeping a given Content-Type", async () => {
    const { out } = await run({
      method: "PUT",
      data: "@body.txt",
      headers: ["Content-Type: text/x"],
    });
    assert.ok(out.endsWith(" text/x from a file"), out);
  });

  it("prints the 500 page and the traceback when the application fails, and exits 0", async () => {
    const { code, out, err } = await run({ app: "app.mjs:broken" });
    assert.equal(code, 0);
    assert.ok(out.startsWith("HTTP/1.1 500 Internal Server Error\r\n"), out);
    assert.match(err, /Error: kaput/);
  });

  it("reports a validator error on stderr with the 500 page", async () => {
    const { code, out, err } = await run({ app: "app.mjs:sloppy" });
    assert.equal(code, 0);
    assert.ok(out.startsWith("HTTP/1.1 500 "), out);
    assert.match(err, /No Content-Type header found/);
  });

  it("exits non-zero with one line when the file does not exist", async () => {
    const { code, out, err } = await run({ app: "missing.mjs" });
    assert.notEqual(code, 0);
    assert.equal(out, "");
    assert.equal(err, 'wsgiref: error: cannot find the application file "missing.mjs"\n');
  });

  it("exits non-zero with one line when the export is not a function", async () => {
    const { code, err } = await run({ app: "app.mjs:notAnApp" });
    assert.notEqual(code, 0);
    assert.equal(err.split("\n").length, 2);
    assert.match(err, /^wsgiref: error: export "notAnApp" of "app.mjs" is a number/);
  });

  it("exits non-zero with one line when -d @file cannot be read", async () => {
    const { code, err } = await run({ method: "POST", data: "@nope.txt" });
    assert.notEqual(code, 0);
    assert.match(err, /^wsgiref: error: cannot read "nope.txt" for -d: .*\n$/);
  });
});
