/**
 * Profiles our server (`node --cpu-prof`) under one workload and prints the functions with
 * the most self time. Run `npm run bench` (or `--quick`) once first: it compiles the servers.
 *
 * Usage: node --import tsx bench/profile.ts [hello|download|upload] [seconds|MiB] [server]
 *    or: node --import tsx bench/profile.ts FILE.cpuprofile (summarize a profile)
 *   hello     wrk -t1 -c50 for `seconds` (default 10)
 *   download  `MiB` (default 2048) in 100 MiB downloads (bench/transfer-client.py)
 *   upload    `MiB` (default 2048) in 100 MiB uploads (bench/transfer-client.py)
 *   server    ours (default), node-http, hono or reference
 * Profiles go to bench/out/profile/; the summary is printed and saved next to them.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { download, pinSelf, startServer, upload, wrk } from "./harness.ts";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const OUT = join(BENCH, "out", "profile");
const MiB = 1024 * 1024;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time per function (and per file) from a .cpuprofile, largest first. */
export function summarize(profile: CpuProfile, top = 30): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const file = frame.url
      .replace(/^file:\/\//, "")
      .replace(`${ROOT}/`, "")
      .replace("bench/out/build/", "");
    const name = `${frame.functionName || "(anonymous)"}  ${file ? `${file}:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const group = file || frame.functionName;
    byFile.set(group, (byFile.get(group) ?? 0) + us);
  }
  const table = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, us]) =>
          `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
      )
      .join("\n");
  // Inclusive time of the project's own functions (a function counted once per stack).
  const inclusive = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownName = (id: number) => {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined || !frame.url.includes("/src/")) return undefined;
    return `${frame.functionName || "(anonymous)"}  ${frame.url.slice(frame.url.indexOf("/src/") + 1)}:${frame.lineNumber + 1}`;
  };
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = ownName(at);
      if (name && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
  }
  return `total ${(total / 1000).toFixed(0)} ms sampled\n\nself time by function:\n${table(byFunction, top)}\n\nself time by file:\n${table(byFile, 20)}\n\ninclusive time of src/ functions:\n${table(inclusive, 25)}\n`;
}

async function main(): Promise<void> {
  if (process.argv[2]?.endsWith(".cpuprofile")) {
    // Summarize a profile taken elsewhere (bench/session.ts --cpu-prof, say).
    console.log(summarize(JSON.parse(readFileSync(process.argv[2], "utf8")) as CpuProfile));
    return;
  }
  const workload = process.argv[2] ?? "hello";
  const amount = Number(process.argv[3] ?? (workload === "hello" ? 10 : 2048));
  const server = process.argv[4] ?? "ours";
  const dir = join(OUT, `${server}-${workload}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  pinSelf();
  const script = join(BENCH, "out", "build", "bench", "servers", `${server}.js`);
  const r = await startServer(["node", "--cpu-prof", `--cpu-prof-dir=${dir}`, script, "{port}"], {
    cwd: ROOT,
    log: join(dir, "server.log"),
  });
  const url = `http://127.0.0.1:${r.port}`;
  if (workload === "hello") {
    const result = await wrk(`${url}/`, 50, amount);
    console.log(`${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms`);
  } else {
    const size = 100 * MiB;
    const speeds: number[] = [];
    for (let done = 0; done < amount * MiB; done += size) {
      const t = await (workload === "download" ? download : upload)(url, size);
      speeds.push(Math.round(t.mbps));
    }
    console.log(`${workload} MB/s: ${speeds.join(" ")}`);
  }
  await r.stop();
  const name = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!name) throw new Error(`no profile written in ${dir} (did the server exit cleanly?)`);
  const summary = summarize(JSON.parse(readFileSync(join(dir, name), "utf8")) as CpuProfile);
  writeFileSync(join(dir, "summary.txt"), summary);
  console.log(summary);
}

await main();
