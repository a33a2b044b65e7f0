/**
 * The contract suite's applications behind one Fetch handler, for a runtime that is not
 * Node (Bun, Deno, workerd) to serve with its own server. It runs in that runtime and
 * imports nothing runtime-specific.
 *
 * A request names its case with `X-Contract-Case: <index in cases>` and its run with
 * `X-Contract-Run: <id>`; `X-Contract-Surface: round trip` serves the case through
 * `toFetchHandler(fromFetchHandler(toFetchHandler(app)))` instead of `toFetchHandler(app)`.
 * `GET /__probe/<id>?wait=<ms>` then reports what that run's application saw (the `Probe`,
 * as JSON) once it is done, or after `ms` (default 0) with `done: false`.
 *
 * The report polls a flag rather than awaiting the probe's promise: on workerd a promise
 * made while serving one request never settles for another.
 */
import { fromFetchHandler, toFetchHandler } from "../../src/fetch.ts";
import { BufferedErrorStream } from "../../src/streams.ts";
import { validator } from "../../src/validate.ts";
import { Probe } from "../contract/probe.ts";
import { cases } from "../contract/suite.ts";

/** What `GET /__probe/<id>` answers. */
export interface ProbeReport {
  /** Whether the application said it was done before the wait ran out. */
  done: boolean;
  /** `Probe.closes`. */
  closes: number;
  /** `Probe.chunks`. */
  chunks: number;
  /** `Probe.nextAfterClose`. */
  nextAfterClose: number;
  /** `Probe.seen`. */
  seen: Record<string, unknown>;
  /** The validator's warnings, as text. */
  warnings: string[];
}

/** How long a report waits after "done", for late calls (a chunk asked for after close). */
const SETTLE_MS = 100;

/** A probe whose "done" can be read without awaiting. */
class FlaggedProbe extends Probe {
  /** Set by `finish()`. */
  finished = false;

  override finish(): void {
    this.finished = true;
    super.finish();
  }
}

const probes = new Map<string, FlaggedProbe>();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function report(id: string, wait: number): Promise<Response> {
  const probe = probes.get(id);
  if (probe === undefined) return new Response(`no run ${id}\n`, { status: 404 });
  for (let waited = 0; !probe.finished && waited < wait; waited += 10) await sleep(10);
  if (probe.finished && wait > 0) await sleep(SETTLE_MS);
  const body: ProbeReport = {
    done: probe.finished,
    closes: probe.closes,
    chunks: probe.chunks,
    nextAfterClose: probe.nextAfterClose,
    seen: probe.seen,
    warnings: probe.warnings.map(String),
  };
  return Response.json(body);
}

/** Serves the contract's cases (see the module comment). */
export async function contractHandler(
  request: Request,
  env?: unknown,
  ctx?: { waitUntil?(promise: Promise<unknown>): void },
): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname.startsWith("/__probe/")) {
    return report(url.pathname.slice(9), Number(url.searchParams.get("wait") ?? 0));
  }
  const index = Number(request.headers.get("x-contract-case"));
  const id = request.headers.get("x-contract-run") ?? "";
  const contractCase = cases[index];
  if (contractCase === undefined || id === "") {
    return new Response("send X-Contract-Case and X-Contract-Run\n", { status: 400 });
  }
  const probe = new FlaggedProbe();
  probes.set(id, probe);
  const app = validator(contractCase.app(probe), {
    onWarning: (warning) => probe.warnings.push(warning),
  });
  const errors = new BufferedErrorStream();
  const handler =
    request.headers.get("x-contract-surface") === "round trip"
      ? toFetchHandler(fromFetchHandler(toFetchHandler(app, { errors })), { errors })
      : toFetchHandler(app, { errors });
  // workerd keeps a request's work alive after its client left only under waitUntil.
  return handler(request, env, ctx);
}
