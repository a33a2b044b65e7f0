/**
 * Runs the `wsgiref` command line in this process (bin/wsgiref.js does this for the
 * compiled package; tests and `--reload` run this file directly).
 *
 * @module
 */
import { main } from "../cli.ts";

process.exitCode = await main();
