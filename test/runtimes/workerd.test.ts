/**
 * Which of the package's modules load on workerd (with its Node compatibility, on by
 * default): each is bundled into a module worker that imports it and answers with its
 * export names. The servers refuse at import with `ERR_UNSUPPORTED_RUNTIME`, since
 * workerd's `node:net` pretends to listen but never gets a connection.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { missing, ROOT, type RuntimeProcess, startWorker } from "./runtimes.ts";

/** Modules that load, with one export each that must be there. */
const LOADING: Record<string, string> = {
  fetch: "toFetchHandler",
  types: "",
  util: "shiftPathInfo",
  headers: "Headers",
  handlers: "BaseHandler",
  validate: "validator",
  node: "toNodeListener",
  testing: "call",
  middleware: "mount",
};

describe("the package's modules on workerd", { skip: missing("workerd") }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-imports-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A worker that imports `src/<name>.ts` and answers with its export names. */
  async function importer(name: string): Promise<string> {
    const entry = join(dir, `${name}.ts`);
    const source = join(ROOT, "src", `${name}.ts`);
    await writeFile(
      entry,
      `import * as m from ${JSON.stringify(source)};\n` +
        "export default { fetch: () => new Response(Object.keys(m).join(' ')) };\n",
    );
    return entry;
  }

  /**
   * What workerd says when `entry` fails to load: it may exit at startup, or listen first
   * and fail the first request.
   */
  async function loadError(entry: string): Promise<string> {
    let worker: RuntimeProcess;
    try {
      worker = await startWorker(entry, {}, 5000);
    } catch (error) {
      return String(error);
    }
    try {
      try {
        await (await fetch(`http://127.0.0.1:${worker.port}/`)).arrayBuffer();
      } catch {
        // workerd exited while answering.
      }
      for (let waited = 0; waited < 2000 && !/Error/.test(worker.output()); waited += 20) {
        await sleep(20);
      }
      return worker.output();
    } finally {
      await worker.stop();
    }
  }

  for (const [name, expected] of Object.entries(LOADING)) {
    it(`wsgiref/${name} loads`, async () => {
      const worker = await startWorker(await importer(name));
      try {
        const names = (await (await fetch(`http://127.0.0.1:${worker.port}/`)).text()).split(" ");
        if (expected) assert.ok(names.includes(expected), names.join(" "));
      } finally {
        await worker.stop();
      }
    });
  }

  for (const name of ["server", "simple-server"]) {
    it(`wsgiref/${name} fails at import with ERR_UNSUPPORTED_RUNTIME`, async () => {
      assert.match(
        await loadError(await importer(name)),
        new RegExp(
          `UnsupportedRuntimeError: wsgiref/${name} listens on TCP sockets, which workerd ` +
            "does not offer .*toFetchHandler from wsgiref/fetch",
        ),
      );
    });
  }

  it("wsgiref itself (the root, which re-exports the servers) fails at import too", async () => {
    assert.match(
      await loadError(await importer("index")),
      /UnsupportedRuntimeError: wsgiref\/server/,
    );
  });
});
