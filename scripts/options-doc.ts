/**
 * Writes docs/options.md from the options table (src/server/options.ts), so the docs,
 * the CLI help and the config check never disagree. `npm run docs:options`; a test
 * fails when the committed page is stale.
 */
import { writeFileSync } from "node:fs";
import { optionsMarkdown } from "../src/server/options.ts";

/** The whole options page. */
export function optionsPage(): string {
  return `# Server options

Every option of the production server (\`serve(app, options)\`, \`wsgiref serve\`), generated
from the one options table in \`src/server/options.ts\` by \`npm run docs:options\`. Each can
be given to \`serve()\` by name, on the command line by its flag, or in the environment by
its variable; explicit options win over the environment, which wins over the defaults.
Durations on the command line take \`500ms\`, \`5s\` or \`2m\` (a plain number is seconds, as in
gunicorn); in \`serve()\` they are milliseconds. Sizes take \`16k\`, \`1m\`, \`1g\`.

${optionsMarkdown()}

## Keep-alive behind a load balancer

A load balancer keeps idle connections to its backends open and reuses them. If the
backend closes an idle connection first, a request the balancer sends at that moment
fails and the client sees a 502. Set \`--keep-alive\` longer than the balancer's idle
timeout: behind an AWS ALB (60 s by default) use \`--keep-alive 65\`; behind nginx with
\`keepalive_timeout 60s\` on its upstream, likewise.
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL("../docs/options.md", import.meta.url), optionsPage());
}
