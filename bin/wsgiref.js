#!/usr/bin/env node
// The `wsgiref` command: runs the compiled CLI (`npm run build` makes dist/).
import "../dist/cli.js";
