/**
 * `wsgiref serve`: load the app, pick the server, print where it listens, and stop
 * cleanly on SIGINT/SIGTERM. `--reload` runs the server in a child process that is
 * restarted when a file changes.
 *
 * @module
 */
import cluster from "node:cluster";
import { type FetchApplication, isFetchApplication } from "../bridges/fetch-application.ts";
import { fromFetchHandler } from "../bridges/from-fetch.ts";
import type { ServeCommand } from "../cli.ts";
import { resolveOptions } from "../server/options.ts";
import { serve } from "../server/server.ts";
import type { WSGIApplication } from "../types.ts";
import { validator } from "../validate.ts";
import { loadApp } from "./load-app.ts";
import { RELOAD_CHILD, runReloader } from "./reload.ts";

/** Serves until a signal stops the server; resolves with the exit status. */
export async function runServe(command: ServeCommand): Promise<number> {
  if (command.reload && process.env[RELOAD_CHILD] === undefined) {
    return runReloader({ include: command.reloadInclude, exclude: command.reloadExclude });
  }
  if (process.env[RELOAD_CHILD] !== undefined) {
    // The reloader is gone (even by SIGKILL): stop too, rather than hold the port.
    process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
  }
  const { demoApp, makeServer } = await import("../simple-server.ts");
  let app: WSGIApplication | FetchApplication =
    command.app === undefined ? demoApp : await loadApp(command.app);
  // The validator and the reference server take WSGI: a Fetch app goes through the bridge.
  if (isFetchApplication(app) && (command.validate || command.server === "simple")) {
    app = fromFetchHandler(app.fetch.bind(app));
  }
  if (command.validate) app = validator(app as WSGIApplication);
  const given = { ...command.options };
  // `wsgiref` alone serves the demo on all interfaces, like CPython's `python -m
  // wsgiref.simple_server`; `wsgiref serve` without a file binds 127.0.0.1 like any serve.
  if (
    command.bare &&
    command.app === undefined &&
    given.host === undefined &&
    process.env.WSGIREF_HOST === undefined
  ) {
    given.host = "0.0.0.0";
  }
  if (command.app === undefined && !cluster.isWorker) {
    process.stderr.write(
      "wsgiref: no FILE given: serving the demo app (wsgiref serve FILE[:NAME] serves yours)\n",
    );
  }
  const options = resolveOptions(given);
  if (command.server === "simple") {
    const server = await makeServer(options.host, options.port, app as WSGIApplication);
    const { address, port } = server.address;
    process.stdout.write(`Serving HTTP on ${address} port ${port} ...\n`);
    const stop = () => server.shutdown();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    await server.serveForever();
    await server.close();
    return 0;
  }
  const server = await serve(app, { ...options, handleSignals: true });
  const where = server.address;
  // With several workers the primary speaks for them all.
  if (!cluster.isWorker) {
    const scheme = options.key ? "HTTPS" : "HTTP";
    process.stdout.write(
      typeof where === "string"
        ? `Serving ${scheme} on unix:${where} ...\n`
        : `Serving ${scheme} on ${where.address} port ${where.port} ...\n`,
    );
  }
  await server.closed;
  return 0;
}
