/**
 * `wsgiref call FILE[:NAME] METHOD PATH [-H 'Name: value'] [-d DATA|@file]`: runs one
 * request through an application in-process, under the validator, and prints the response
 * as it would go on the wire (status line, headers, blank line, body) to stdout. The
 * application's error log, the validator's warnings and any error go to stderr.
 *
 * Exit status: 0 for any response (a 500 included: that is an answer); for a file or
 * export that does not load, a one-line error and the `CliError`'s status (1 or 2).
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { isFetchApplication } from "../bridges/fetch-application.ts";
import { fromFetchHandler } from "../bridges/from-fetch.ts";
import type { CallCommand } from "../cli.ts";
import { DEFAULTS } from "../server/options.ts";
import { call } from "../testing/client.ts";
import type { TestRequest } from "../testing/request.ts";
import { CliError, loadApp } from "./load-app.ts";

/** Where `runCall` writes and resolves paths; the process's by default. */
export interface CallIO {
  /** Receives the response bytes. */
  stdout?: { write(data: Uint8Array | string): unknown };
  /** Receives the error log, warnings and error lines. */
  stderr?: { write(data: string): unknown };
  /** The directory `FILE` and `@file` are relative to. */
  cwd?: string;
}

/** Splits `Name: value` at its first colon. */
function parseHeader(line: string): [string, string] {
  const colon = line.indexOf(":");
  if (colon <= 0)
    throw new CliError(
      `-H needs a header such as 'Accept: text/plain', got ${JSON.stringify(line)}`,
    );
  return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
}

async function readData(data: string, cwd: string): Promise<Uint8Array> {
  if (!data.startsWith("@")) return Buffer.from(data, "utf8");
  const file = data.slice(1);
  try {
    return await readFile(resolve(cwd, file));
  } catch (error) {
    throw new CliError(`cannot read ${JSON.stringify(file)} for -d: ${(error as Error).message}`);
  }
}

/**
 * Runs `wsgiref call`; resolves with the exit status. The request gets `Host: localhost`
 * unless `-H` gives one; with `-d` and no `Content-Type`, it is sent as
 * `application/x-www-form-urlencoded`, as curl does.
 *
 * @example await runCall({ command: "call", app: "app.ts", method: "GET", path: "/", headers: [], data: undefined })
 */
export async function runCall(command: CallCommand, io: CallIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const cwd = io.cwd ?? process.cwd();
  let request: TestRequest;
  let app: Awaited<ReturnType<typeof loadApp>>;
  try {
    const headers = command.headers.map(parseHeader);
    request = { method: command.method, path: command.path, headers };
    if (command.data !== undefined) {
      request.body = await readData(command.data, cwd);
      if (!headers.some(([name]) => name.toLowerCase() === "content-type")) {
        headers.push(["Content-Type", "application/x-www-form-urlencoded"]);
      }
    }
    app = await loadApp(command.app, cwd);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    stderr.write(`wsgiref: error: ${error.message}\n`);
    return error.exitCode;
  }
  let response: Awaited<ReturnType<typeof call>>;
  try {
    // A Fetch app runs through the bridge, as the test client runs WSGI.
    const wsgi = isFetchApplication(app) ? fromFetchHandler(app.fetch.bind(app)) : app;
    response = await call(wsgi, request, { catchErrors: true });
  } catch (error) {
    // The request itself could not be made (a bad path or header), before the app ran.
    stderr.write(`wsgiref: error: ${(error as Error).message}\n`);
    return 2;
  }
  if (response.errors !== "") stderr.write(response.errors);
  for (const warning of response.warnings) stderr.write(`wsgiref: warning: ${warning.message}\n`);
  if (response.error !== undefined) {
    const message =
      response.error instanceof Error ? response.error.message : String(response.error);
    stderr.write(`wsgiref: the application failed: ${message.split("\n")[0]}\n`);
  }
  await new Promise<void>((done) => {
    const written = stdout.write(response.toBytes({ server: DEFAULTS.serverHeader || undefined }));
    const out = stdout as { once?(event: string, listener: () => void): unknown };
    if (written === false && out.once) out.once("drain", done);
    else done();
  });
  return 0;
}
