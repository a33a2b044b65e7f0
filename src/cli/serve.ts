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
import { parseBind } from "../server/bind.ts";
import { formatConfig, layerOptions, loadConfig } from "../server/config.ts";
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
  const config = command.config === undefined ? undefined : await loadConfig(command.config);
  const given = { ...command.options };
  // `wsgiref` alone serves the demo on all interfaces, like CPython's `python -m
  // wsgiref.simple_server`; `wsgiref serve` without a file binds 127.0.0.1 like any serve.
  if (
    command.bare &&
    command.app === undefined &&
    given.host === undefined &&
    process.env.WSGIREF_HOST === undefined &&
    config?.options.host === undefined
  ) {
    given.host = "0.0.0.0";
  }
  if (command.app === undefined && !cluster.isWorker) {
    process.stderr.write(
      "wsgiref: no FILE given: serving the demo app (wsgiref serve FILE[:NAME] serves yours)\n",
    );
  }
  const layered = layerOptions(given, process.env, config?.options);
  if (command.printConfig) {
    process.stdout.write(formatConfig(layered, config?.file));
    return 0;
  }
  const options = layered.options;
  // A bad --bind address is a usage error (exit 2), found before anything starts.
  for (const address of options.bind ?? []) parseBind(address);
  if (command.checkConfig) return checkConfig(command, config?.file);
  // The validator and the reference server take WSGI: a Fetch app goes through the bridge.
  const prepare = (loaded: WSGIApplication | FetchApplication) => {
    let ready = loaded;
    if (isFetchApplication(ready) && (command.validate || command.server === "simple")) {
      ready = fromFetchHandler(ready.fetch.bind(ready));
    }
    return command.validate ? validator(ready as WSGIApplication) : ready;
  };
  const app = prepare(command.app === undefined ? demoApp : await loadApp(command.app));
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
  const spec = command.app;
  // SIGHUP to a single-process server loads the app's file again (its workers, if any,
  // are replaced by new processes instead).
  const reload =
    spec === undefined
      ? undefined
      : async () => prepare(await loadApp(spec, process.cwd(), { fresh: true }));
  const server = await serve(app, {
    ...options,
    handleSignals: true,
    loadApp: reload,
    hooks: config?.hooks,
  });
  // With several workers the primary speaks for them all: one line per address.
  if (!cluster.isWorker) {
    const scheme = options.key ? "HTTPS" : "HTTP";
    for (const where of server.addresses) {
      process.stdout.write(
        typeof where !== "string"
          ? `Serving ${scheme} on ${where.address} port ${where.port} ...\n`
          : where.startsWith("fd://")
            ? `Serving ${scheme} on ${where} ...\n`
            : `Serving ${scheme} on unix:${where} ...\n`,
      );
    }
  }
  await server.closed;
  return 0;
}

/**
 * `--check-config`: the options and config file already passed; loads the app too and
 * prints one line. Every problem exits 2, as a usage error.
 */
async function checkConfig(command: ServeCommand, file: string | undefined): Promise<number> {
  try {
    if (command.app !== undefined) await loadApp(command.app);
  } catch (error) {
    process.stderr.write(`wsgiref: error: ${(error as Error).message}\n`);
    return 2;
  }
  const what = [file && `config ${file}`, command.app && `app ${command.app}`].filter(Boolean);
  process.stdout.write(`wsgiref: ${what.join(" and ") || "the options"} OK\n`);
  return 0;
}
