/**
 * Loading a src/ module as a runtime without Node would: bundled by esbuild, then run in a
 * fresh `node:vm` context that has the JavaScript built-ins and `TextEncoder`/`TextDecoder`
 * but no `Buffer`, `process` or `require` (as workerd without its Node compatibility).
 */
import { runInNewContext } from "node:vm";
import { build } from "esbuild";

/** The exports of `file` (a path), evaluated in a context without Node's globals. */
export async function loadWithoutNode<T>(file: string): Promise<T> {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    format: "cjs",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  const module = { exports: {} };
  runInNewContext((result.outputFiles[0] as { text: string }).text, {
    module,
    exports: module.exports,
    TextEncoder,
    TextDecoder,
  });
  return module.exports as T;
}
