/**
 * `replay(app, request)`: the same request as `call`, but over a real loopback socket to
 * the production server, so a test can show that the in-process answer is the wire answer.
 *
 * @module
 */
import { request as httpRequest } from "node:http";
import { Headers } from "../headers.ts";
import { TestResponse } from "../testing/client.ts";
import { prepareRequest, type TestRequest } from "../testing/request.ts";
import { collectWarnings } from "../testing/warnings.ts";
import type { ResponseBody, WSGIApplication } from "../types.ts";
import { isHopByHop } from "../util.ts";
import { validator, type WSGIWarning } from "../validate.ts";

/** A running server, as much of `wsgiref/server`'s `RunningServer` as `replay` needs. */
export interface ReplayServer {
  /** Where it listens. */
  readonly address: { port: number } | string;
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts a server for `app` on a free port, as `serve` from `wsgiref/server` does. */
export type ServeFunction = (
  app: WSGIApplication,
  options: { port: number; host: string },
) => Promise<ReplayServer>;

/** Options of `replay`. */
export interface ReplayOptions {
  /** Run the application under `validator` (default true). */
  validate?: boolean;
  /** The server to replay against (default: `serve` from `wsgiref/server`, the production server). */
  serve?: ServeFunction;
}

/** `serve` from `wsgiref/server`, loaded on first use: the test client does not need it otherwise. */
async function defaultServe(): Promise<ServeFunction> {
  const { serve } = await import("../server.ts");
  return serve;
}

/**
 * Serves `app` on a loopback port, sends `request` with `node:http`, and resolves with
 * the response as it arrived: hop-by-hop framing headers (`Connection`,
 * `Transfer-Encoding`, `Keep-Alive`) dropped, `Date` and `Server` kept. The server is
 * closed before it resolves.
 *
 * @example
 * const local = await call(app, { path: "/x" });
 * const wire = await replay(app, { path: "/x" });
 * assert.deepEqual(wire.body, local.body);
 */
export async function replay(
  app: WSGIApplication,
  request: TestRequest = {},
  options: ReplayOptions = {},
): Promise<TestResponse> {
  const { validate = true } = options;
  const serve = options.serve ?? (await defaultServe());
  const prepared = prepareRequest(request);
  const warnings: WSGIWarning[] = [];
  const checked = validate ? validator(app) : app;
  const target: WSGIApplication = (environ, startResponse) =>
    collectWarnings(warnings, (): ResponseBody | Promise<ResponseBody> =>
      checked(Object.assign(environ, prepared.extra), startResponse),
    );
  const server = await serve(target, { port: 0, host: "127.0.0.1" });
  try {
    const { address } = server;
    if (typeof address === "string") throw new Error("replay() needs a TCP server");
    return await send(address.port, prepared, warnings);
  } finally {
    await server.close();
  }
}

function send(
  port: number,
  prepared: ReturnType<typeof prepareRequest>,
  warnings: WSGIWarning[],
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port,
      method: prepared.method,
      path: prepared.target,
      agent: false,
      setHost: false,
    });
    for (const [name, value] of prepared.headers) {
      const previous = req.getHeader(name);
      req.setHeader(
        name,
        previous === undefined
          ? value
          : [...(Array.isArray(previous) ? previous : [String(previous)]), value],
      );
    }
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let complete = true;
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("aborted", () => {
        complete = false;
      });
      res.on("error", () => {
        complete = false;
      });
      res.on("close", () => {
        const headers = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) {
          const name = raw[i] as string;
          if (!isHopByHop(name)) headers.addHeader(name, raw[i + 1] as string);
        }
        resolve(
          new TestResponse({
            status: `${res.statusCode} ${res.statusMessage ?? ""}`,
            headers,
            body: Buffer.concat(chunks),
            complete: complete && res.complete,
            warnings,
          }),
        );
      });
    });
    void writeBody(req, prepared.body).catch((error: unknown) => req.destroy(error as Error));
  });
}

async function writeBody(
  req: ReturnType<typeof httpRequest>,
  body: ReturnType<typeof prepareRequest>["body"],
): Promise<void> {
  if (body.kind === "bytes") req.write(body.bytes);
  else if (body.kind === "stream") {
    for await (const chunk of body.chunks) {
      if (!req.write(chunk)) await new Promise((resolve) => req.once("drain", resolve));
    }
  }
  req.end();
}
