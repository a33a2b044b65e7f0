#!/usr/bin/env node
// The `wsgiref` command. The package runs its compiled CLI (dist/ is built by `npm pack`
// and so ships in the tarball); a source checkout that was never built (a fresh clone
// after `npm ci`) runs src/ through tsx, its dev dependency, so `npm start` works there.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  let tsx;
  try {
    tsx = await import("tsx/esm/api");
  } catch {
    process.stderr.write(
      "wsgiref: error: dist/ is not built and tsx is not installed: run npm install, then npm run build\n",
    );
    process.exit(2);
  }
  tsx.register();
  await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
