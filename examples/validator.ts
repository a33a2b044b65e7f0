/**
 * The validator example: an application that is intentionally not compliant, wrapped in
 * `validator()`, served by the simple server. Every request logs the validator's
 * `AssertionError` (on stderr) and gets the 500 error page.
 *
 * Run: node --import tsx examples/validator.ts [PORT]   (default 8000; 0 picks a free port)
 */
import { makeServer } from "../src/simple-server.ts";
import type { ResponseBody, WSGIApplication } from "../src/types.ts";
import { validator } from "../src/validate.ts";

// Our callable object which is intentionally not compliant to the
// standard, so the validator is going to break
const simpleApp: WSGIApplication = (_environ, startResponse) => {
  const status = "200 OK"; // HTTP Status
  const headers: [string, string][] = [["Content-type", "text/plain"]]; // HTTP Headers
  startResponse(status, headers);

  // This is going to break because we need to return an array of chunks
  // ([Buffer.from("Hello World")]), and the validator is going to inform us
  return Buffer.from("Hello World") as unknown as ResponseBody;
};

// This is the application wrapped in a validator
const validatorApp = validator(simpleApp);

await using httpd = await makeServer("", Number(process.argv[2] ?? 8000), validatorApp);
console.log(`Listening on port ${httpd.serverPort}....`);
process.once("SIGTERM", () => void httpd.shutdown());
process.once("SIGINT", () => void httpd.shutdown());
await httpd.serveForever();
