/**
 * A tiny in-process client for the middleware tests: builds an environ with
 * `setupTestingDefaults`, calls the app under the validator, and collects the response.
 */
import type { HeaderTuple, WSGIApplication, WSGIEnvironment } from "../../src/types.ts";
import { setupTestingDefaults } from "../../src/util.ts";
import { validator } from "../../src/validate.ts";

/** What came back: the status line, the headers and the whole body. */
export interface Response {
  status: string;
  headers: HeaderTuple[];
  body: Buffer;
  /** The first value of a header (case-insensitive), or undefined. */
  header(name: string): string | undefined;
  /** The status code, as a number. */
  code: number;
}

/**
 * Calls `app` under the validator with `environ` (changed in place) filled in with test
 * defaults and an empty `QUERY_STRING`.
 */
export async function call(
  app: WSGIApplication,
  environ: Partial<WSGIEnvironment> & Record<string, unknown> = {},
): Promise<Response> {
  const env: Partial<WSGIEnvironment> = environ;
  env.QUERY_STRING ??= "";
  setupTestingDefaults(env);
  let status = "";
  let headers: HeaderTuple[] = [];
  const chunks: Uint8Array[] = [];
  const body = await validator(app)(env, (s, h) => {
    status = s;
    headers = h;
    return (data) => {
      chunks.push(data);
    };
  });
  try {
    if (Symbol.iterator in body) {
      for (const chunk of body as Iterable<Uint8Array>) chunks.push(chunk);
    } else {
      for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
    }
  } finally {
    await body.close?.();
  }
  return {
    status,
    headers,
    body: Buffer.concat(chunks),
    code: Number(status.slice(0, 3)),
    header(name) {
      return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
    },
  };
}

/** An app that answers 200 with a JSON dump of the environ keys it is asked about. */
export function echo(keys: readonly string[]): WSGIApplication & { seen: WSGIEnvironment[] } {
  const seen: WSGIEnvironment[] = [];
  const app = (environ: WSGIEnvironment, startResponse: Parameters<WSGIApplication>[1]) => {
    seen.push(environ);
    const picked = Object.fromEntries(keys.map((k) => [k, environ[k] ?? null]));
    startResponse("200 OK", [["Content-Type", "application/json"]]);
    return [Buffer.from(JSON.stringify(picked))];
  };
  return Object.assign(app, { seen });
}
