/**
 * `wsgiref serve --reload`: runs the server in a child process and restarts it when a
 * source file under the current directory changes (see ./watch.ts for which files count).
 *
 * @module
 */
import { type ChildProcess, fork } from "node:child_process";
import { watchSources } from "./watch.ts";

/** Set in the server child's environment, so it serves instead of reloading again. */
export const RELOAD_CHILD = "WSGIREF_RELOAD_CHILD";

/** Which files `--reload` watches besides and instead of the default source extensions. */
export interface ReloadGlobs {
  /** `--reload-include` globs. */
  include: readonly string[];
  /** `--reload-exclude` globs. */
  exclude: readonly string[];
}

/**
 * Runs this command line again in a child process, restarting it when a watched file
 * changes, until SIGINT or SIGTERM; resolves with the exit status.
 */
export async function runReloader(globs: ReloadGlobs): Promise<number> {
  const script = process.argv[1] as string;
  const args = process.argv.slice(2).filter((a) => a !== "--reload");
  let child: ChildProcess | undefined;
  let restarting = false;
  let stopped = false;
  const start = () => {
    if (stopped) return;
    child = fork(script, args, { env: { ...process.env, [RELOAD_CHILD]: "1" }, stdio: "inherit" });
    child.once("exit", (code) => {
      if (!restarting && code !== null && code !== 0) {
        process.stderr.write("wsgiref: the server exited; waiting for a file change to restart\n");
      }
    });
  };
  let timer: NodeJS.Timeout | undefined;
  const watcher = watchSources({
    root: process.cwd(),
    include: globs.include,
    exclude: globs.exclude,
    onChange: (paths) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        process.stderr.write(`wsgiref: ${paths[0]} changed, restarting\n`);
        restarting = true;
        const old = child;
        const restart = () => {
          restarting = false;
          start();
        };
        if (old && old.exitCode === null && old.signalCode === null) {
          old.once("exit", restart);
          old.kill("SIGTERM");
        } else restart();
      }, 100);
    },
  });
  start();
  await new Promise<void>((resolve) => {
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      watcher.close();
      if (child && child.exitCode === null && child.signalCode === null) {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      } else resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}
