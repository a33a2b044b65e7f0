/**
 * The contract suite (test/contract/suite.ts) for `toFetchHandler` on Bun, Deno and
 * workerd: each runtime serves test/runtimes/contract-handler.ts with its own server, and
 * each case's request goes to it over real HTTP from `node:http`'s client. What the
 * application saw (the case's `Probe`) comes back from `GET /__probe/<id>`, and the
 * case's own checks run here. Each runtime also serves the round trip
 * `toFetchHandler(fromFetchHandler(toFetchHandler(app)))`.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { WSGIWarning } from "../../src/validate.ts";
import { Probe, WAIT_MS } from "../contract/probe.ts";
import {
  type ContractRequest,
  type ContractResponse,
  caseOptions,
  cases,
  type Surface,
} from "../contract/suite.ts";
import { fetchOver, hangUpOver } from "../contract/surfaces.ts";
import type { ProbeReport } from "./contract-handler.ts";
import {
  missing,
  type RuntimeName,
  type RuntimeProcess,
  startScript,
  startWorker,
} from "./runtimes.ts";

/**
 * The probe a run's application fills in the runtime, seen from here: a snapshot taken
 * when the exchange is over, refreshed by `waitDone`, which waits in the runtime.
 */
class RemoteProbe extends Probe {
  constructor(
    private readonly port: number,
    private readonly id: string,
  ) {
    super();
  }

  /** Copies the runtime's report in, after waiting there up to `wait` ms for "done". */
  async refresh(wait = 0): Promise<boolean> {
    const url = `http://127.0.0.1:${this.port}/__probe/${this.id}?wait=${wait}`;
    const response = await fetch(url);
    if (response.status !== 200) {
      throw new Error(`no probe for run ${this.id}: ${response.status} ${await response.text()}`);
    }
    const report = (await response.json()) as ProbeReport;
    this.closes = report.closes;
    this.chunks = report.chunks;
    this.nextAfterClose = report.nextAfterClose;
    Object.assign(this.seen, report.seen);
    this.warnings.splice(0, Infinity, ...(report.warnings as unknown as WSGIWarning[]));
    if (report.done) this.finish();
    return report.done;
  }

  override async waitDone(what: string, ms = WAIT_MS): Promise<void> {
    if (!(await this.refresh(ms))) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }
}

/** Where the cases run, and what is known not to hold there. */
interface Target {
  runtime: RuntimeName;
  start(): Promise<RuntimeProcess>;
  todo?: Surface["todo"];
  skip?: Surface["skip"];
}

/**
 * Why the hang-up cases whose application is waiting cannot hold on workerd (skipped, not
 * todo: a green run looks green; the README's support matrix lists it).
 */
const WORKERD_DROPS_WORK =
  "workerd drops a request's pending timers and callbacks when its client leaves, even " +
  "with the run handed to ctx.waitUntil (toFetchHandler does), so an application awaiting " +
  "one never resumes and its close() (or finally block) never runs";

const targets: Target[] = [
  {
    runtime: "bun",
    start: () => startScript("bun", "test/runtimes/serve-bun.ts"),
    skip: {
      "an error after the headers cuts the body short and closes it":
        "Bun.serve holds back the head and the first small chunks, and resets the " +
        "connection when the body stream errors: the client sees ECONNRESET, not a 200 " +
        "cut short (the body is still closed once)",
    },
  },
  { runtime: "deno", start: () => startScript("deno", "test/runtimes/serve-deno.ts") },
  // The cases themselves use node:crypto and Buffer: workerd's Node compatibility (on by
  // default from its 2026-08-04 compatibility date) provides them.
  {
    runtime: "workerd",
    start: () => startWorker("test/runtimes/contract-worker.ts"),
    skip: Object.fromEntries(
      [
        "a hang-up while the application computes a chunk closes the body after that chunk",
        "a hang-up while the body waits between chunks closes it at once, exactly once",
        "a hang-up while an async generator body waits runs its finally block, not its next yield",
      ].map((name) => [name, WORKERD_DROPS_WORK]),
    ),
  },
];

// RUNTIME=deno runs only that runtime's suites.
const only = process.env.RUNTIME;

const modes = ["toFetchHandler", "round trip"] as const;

for (const target of targets.filter((t) => only === undefined || t.runtime === only)) {
  for (const mode of modes) {
    const name = `${mode === "round trip" ? "fromFetchHandler(toFetchHandler(app)) under toFetchHandler" : "toFetchHandler"} on ${target.runtime}`;
    const reason = missing(target.runtime);
    describe(name, reason === undefined ? {} : { skip: reason }, () => {
      let server: RuntimeProcess;
      before(async () => {
        server = await target.start();
      });
      after(() => server?.stop());
      const surface: Surface = {
        name,
        request: () => Promise.reject(new Error("unused")),
        disconnect: () => Promise.reject(new Error("unused")),
        ...(target.todo ? { todo: target.todo } : {}),
        ...(target.skip ? { skip: target.skip } : {}),
      };
      for (const [index, contractCase] of cases.entries()) {
        it(contractCase.name, caseOptions(surface, contractCase), async () => {
          const id = randomUUID();
          const request: ContractRequest = {
            ...contractCase.request,
            headers: [
              ...(contractCase.request.headers ?? []),
              ["X-Contract-Case", String(index)],
              ["X-Contract-Run", id],
              ["X-Contract-Surface", mode],
            ],
          };
          let response: ContractResponse | undefined;
          if (contractCase.disconnectAfter === undefined) {
            response = await fetchOver(server.port, request);
          } else {
            await hangUpOver(server.port, request, contractCase.disconnectAfter);
          }
          const probe = new RemoteProbe(server.port, id);
          await probe.refresh();
          await contractCase.check(response, probe);
          await probe.refresh();
          assert.deepEqual(probe.warnings.map(String), [], "the validator warned");
        });
      }
    });
  }
}
