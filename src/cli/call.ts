/**
 * `wsgiref call FILE[:NAME] METHOD PATH`: runs one request through the application
 * in-process, under the validator, and prints the response as it would go on the wire.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import type { CallCommand } from "../cli.ts";
import { SimpleHandler } from "../handlers/simple.ts";
import { environKey } from "../http/environ-key.ts";
import { BodyInputStream, TextErrorStream } from "../streams.ts";
import { validator } from "../validate.ts";
import { CliError, loadApp } from "./load-app.ts";

/** Runs the request; resolves with the exit status (0 for any response). */
export async function runCall(command: CallCommand): Promise<number> {
  const app = validator(await loadApp(command.app));
  let body: Uint8Array = new Uint8Array(0);
  if (command.data !== undefined) {
    if (command.data.startsWith("@")) {
      try {
        body = readFileSync(command.data.slice(1));
      } catch {
        throw new CliError(`cannot read ${JSON.stringify(command.data.slice(1))}`);
      }
    } else body = Buffer.from(command.data, "utf8");
  }
  const [path = "/", query = ""] = command.path.split(/\?(.*)/s, 2);
  const environ: Record<string, string> = {
    REQUEST_METHOD: command.method,
    SCRIPT_NAME: "",
    PATH_INFO: decodeURIComponentLatin1(path),
    QUERY_STRING: query,
    SERVER_NAME: "localhost",
    SERVER_PORT: "80",
    SERVER_PROTOCOL: "HTTP/1.1",
    HTTP_HOST: "localhost",
  };
  for (const header of command.headers) {
    const at = header.indexOf(":");
    const key = environKey(header.slice(0, at).trim());
    const value = header.slice(at + 1).trim();
    environ[key] =
      environ[key] === undefined || key === "HTTP_HOST" ? value : `${environ[key]},${value}`;
  }
  if (body.length > 0) environ.CONTENT_LENGTH = String(body.length);
  const out = new Writable({
    write(chunk, _encoding, done) {
      process.stdout.write(chunk, () => done());
    },
  });
  const handler = new SimpleHandler(BodyInputStream.of(body), out, new TextErrorStream(), environ, {
    multithread: false,
    multiprocess: false,
  });
  handler.httpVersion = "1.1";
  handler.osEnviron = {};
  await handler.run(app);
  return 0;
}

/** Percent-decodes a path into a native string (bytes as latin-1). */
function decodeURIComponentLatin1(path: string): string {
  const bytes = Buffer.from(path, "utf8").toString("latin1");
  return bytes.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
