/**
 * This package's own servers on Bun and Deno, through their Node compatibility:
 * test/runtimes/serve-ours.ts starts `wsgiref/simple-server` or `wsgiref/server` in the
 * runtime, and Node's fetch requests it over real HTTP.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { patternChunks } from "../contract/suite.ts";
import { missing, type RuntimeProcess, startScript } from "./runtimes.ts";

const UPLOAD = Buffer.concat([...patternChunks(3 * 1024 * 1024)]);
const UPLOAD_SHA256 = createHash("sha256").update(UPLOAD).digest("hex");

/** A body Node's fetch sends chunked (no Content-Length): the upload in 64 KiB pieces. */
function chunkedUpload(): ReadableStream<Uint8Array> {
  const pieces = patternChunks(UPLOAD.length);
  return new ReadableStream({
    pull(controller) {
      const step = pieces.next();
      if (step.done) controller.close();
      else controller.enqueue(step.value);
    },
  });
}

for (const runtime of ["bun", "deno"] as const) {
  for (const [server, module] of [
    ["simple", "wsgiref/simple-server"],
    ["production", "wsgiref/server"],
  ] as const) {
    const reason = missing(runtime);
    describe(`${module} on ${runtime}`, reason === undefined ? {} : { skip: reason }, () => {
      let program: RuntimeProcess;
      let base: string;
      before(async () => {
        program = await startScript(runtime, `test/runtimes/serve-ours.ts`, [server]);
        base = `http://127.0.0.1:${program.port}`;
      });
      after(() => program?.stop());

      it("answers a GET with the status, headers and body, Set-Cookie kept apart", async () => {
        const response = await fetch(`${base}/`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("content-type"), "text/plain");
        assert.equal(response.headers.get("content-length"), "5");
        assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
        assert.equal(await response.text(), "hello");
      });

      it("streams a 3 MiB upload with a Content-Length to the application", async () => {
        const response = await fetch(`${base}/echo`, { method: "POST", body: UPLOAD });
        assert.deepEqual(await response.json(), { sha256: UPLOAD_SHA256, length: UPLOAD.length });
      });

      if (server === "production") {
        it("streams a chunked upload to the application", async () => {
          const response = await fetch(`${base}/echo`, {
            method: "POST",
            body: chunkedUpload(),
            duplex: "half",
          } as RequestInit);
          assert.deepEqual(await response.json(), {
            sha256: UPLOAD_SHA256,
            length: UPLOAD.length,
          });
        });

        it("answers 20 requests on kept-alive connections", async () => {
          const bodies = await Promise.all(
            Array.from({ length: 20 }, async () => (await fetch(`${base}/`)).text()),
          );
          assert.deepEqual(new Set(bodies), new Set(["hello"]));
        });
      }
    });
  }

  const reason = missing(runtime);
  describe(`wsgiref/server with workers: 2 on ${runtime}`, reason ? { skip: reason } : {}, () => {
    let program: RuntimeProcess;
    before(async () => {
      program = await startScript(runtime, "test/runtimes/serve-ours.ts", ["workers"]);
    });
    after(() => program?.stop());

    it("forks its workers through node:cluster and answers from them", async () => {
      // The primary and both workers run the script, and each prints the port once it
      // listens: wait for all three before sending.
      const ports = () => program.output().match(/port \d+/g)?.length ?? 0;
      for (let waited = 0; ports() < 3 && waited < 10_000; waited += 25) await sleep(25);
      assert.equal(ports(), 3, program.output());
      const bodies = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const signal = AbortSignal.timeout(10_000);
          return (await fetch(`http://127.0.0.1:${program.port}/`, { signal })).text();
        }),
      );
      assert.deepEqual(new Set(bodies), new Set(["hello"]));
    });
  });
}
