/**
 * Running an application as a CGI script: `CGIHandler` and `IISCGIHandler` read
 * `process.env`, `process.stdin` and write `process.stdout` (RFC 3875).
 *
 * @module
 */
import type { WSGIApplication } from "../types.ts";
import { readEnviron } from "./environ.ts";
import { BaseCGIHandler } from "./simple.ts";

/**
 * Runs an application once as a CGI script: `new CGIHandler().run(app)`. Sets
 * `wsgi.run_once` true, `wsgi.multithread` false and `wsgi.multiprocess` true.
 */
export class CGIHandler extends BaseCGIHandler {
  override wsgiRunOnce = true;
  override osEnviron: Readonly<Record<string, string>> = {};

  constructor(environ: Record<string, string> = readEnviron()) {
    super(process.stdin, process.stdout, process.stderr, environ, {
      multithread: false,
      multiprocess: true,
    });
  }

  /**
   * Runs the application, then waits until stdout has taken every byte, so a script may
   * `process.exit()` right after without cutting a large body short.
   */
  override async run(application: WSGIApplication): Promise<void> {
    try {
      await super.run(application);
    } finally {
      process.stdin.destroy();
      await new Promise<void>((resolve) =>
        process.stdout.write(new Uint8Array(0), () => resolve()),
      );
    }
  }
}

/**
 * A `CGIHandler` for Microsoft IIS without `allowPathInfo`: IIS repeats `SCRIPT_NAME`
 * at the front of `PATH_INFO`, and this handler strips the duplicate.
 */
export class IISCGIHandler extends CGIHandler {
  constructor(environ: Record<string, string> = readEnviron()) {
    const path = environ.PATH_INFO ?? "";
    const script = environ.SCRIPT_NAME ?? "";
    if (`${path}/`.startsWith(`${script}/`)) {
      environ = { ...environ, PATH_INFO: path.slice(script.length) };
    }
    super(environ);
  }
}
