/**
 * Runs the `wsgiref` command line in this process (bin/wsgiref.js does this for the
 * compiled package; tests and `--reload` run this file directly).
 *
 * @module
 */
import { main } from "../cli.ts";

process.exitCode = await main();
// Once the command is done, so is the process, even if something still holds the event
// loop: a cluster worker's IPC channel (a worker whose app failed to load would otherwise
// hang, and its primary wait forever), or an app's timers and pools after a shutdown.
let unflushed = 2;
const exit = () => {
  if (--unflushed === 0) process.exit();
};
process.stdout.write("", exit);
process.stderr.write("", exit);
