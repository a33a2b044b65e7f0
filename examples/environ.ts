/**
 * A relatively simple WSGI application: it prints the environment it is given, after
 * `setupTestingDefaults` filled in whatever was missing (a real server already sets it
 * all; under a test harness the defaults make the environ complete).
 *
 * Run: node --import tsx examples/environ.ts [PORT]   (default 8000; 0 picks a free port)
 */
import { makeServer } from "../src/simple-server.ts";
import type { WSGIApplication } from "../src/types.ts";
import { setupTestingDefaults } from "../src/util.ts";

/** A value as Python's `"%s" % value` would show it, near enough: objects by their class. */
function show(value: unknown): string {
  if (Array.isArray(value)) return `(${value.join(", ")})`;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "function") return `<function ${value.name}>`;
  if (typeof value === "object" && value !== null) return `<${value.constructor.name} object>`;
  return String(value);
}

// A relatively simple WSGI application. It's going to print out the
// environment object after being updated by setupTestingDefaults
const simpleApp: WSGIApplication = (environ, startResponse) => {
  setupTestingDefaults(environ);

  const status = "200 OK";
  const headers: [string, string][] = [["Content-type", "text/plain; charset=utf-8"]];

  startResponse(status, headers);

  return Object.entries(environ).map(([key, value]) =>
    Buffer.from(`${key}: ${show(value)}\n`, "utf8"),
  );
};

await using httpd = await makeServer("", Number(process.argv[2] ?? 8000), simpleApp);
console.log(`Serving on port ${httpd.serverPort}...`);
process.once("SIGINT", () => void httpd.shutdown());
process.once("SIGTERM", () => void httpd.shutdown());
await httpd.serveForever();
