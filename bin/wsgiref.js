#!/usr/bin/env node
// The `wsgiref` command: runs the compiled CLI (`npm install` builds dist/).
import { main } from "../dist/cli.js";

process.exitCode = await main();
