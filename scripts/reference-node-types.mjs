/**
 * Adds `/// <reference types="node" />` to each emitted declaration file that uses Node's
 * types (a `node:` import, `NodeJS.`, `Buffer`), so the package type-checks in a project
 * whose tsconfig says `"types": []` (as `tsc --init` writes): that setting keeps
 * @types/node out unless something references it. Declarations that use no Node type
 * (such as most of wsgiref/fetch) stay free of it. Runs after `tsc` in `npm run build`.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const REFERENCE = '/// <reference types="node" />\n';
const USES_NODE = /from "node:|import\("node:|\bNodeJS\.|\bBuffer\b/;

/** Every .d.ts file under `dir`. */
function* declarations(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* declarations(path);
    else if (entry.name.endsWith(".d.ts")) yield path;
  }
}

const dist = new URL("../dist/", import.meta.url).pathname;
let count = 0;
for (const path of declarations(dist)) {
  const text = readFileSync(path, "utf8");
  if (!USES_NODE.test(text) || text.startsWith(REFERENCE)) continue;
  writeFileSync(path, REFERENCE + text);
  count++;
}
process.stdout.write(`referenced @types/node from ${count} declaration files\n`);
