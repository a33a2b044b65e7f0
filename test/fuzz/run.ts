/**
 * `npm run fuzz`: the fuzz properties with many more runs than `npm test` gives them.
 *
 *   FUZZ_RUNS=50000 npm run fuzz     # runs per property (default 50000, about 2 min)
 *   FUZZ_SEED=123456 npm run fuzz    # replay the seed a failure printed
 *
 * Runs the core's properties (test/http/property.test.ts) and the server socket and
 * RFC 9112 properties (test/server/fuzz.test.ts); exits non-zero when one fails, after
 * fast-check printed the shrunk counterexample and its seed.
 */
import { spawnSync } from "node:child_process";

const ROOT = new URL("../../", import.meta.url).pathname;
const FILES = ["test/http/property.test.ts", "test/server/fuzz.test.ts"];
const runs = process.env.FUZZ_RUNS ?? "50000";

const started = Date.now();
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", ...FILES],
  { cwd: ROOT, stdio: "inherit", env: { ...process.env, FUZZ_RUNS: runs } },
);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(
  `fuzz: ${runs} runs per property, ${seconds} s, ${result.status === 0 ? "passed" : "FAILED"}\n`,
);
process.exit(result.status ?? 1);
