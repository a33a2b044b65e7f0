/**
 * Every WSGI application must have an application object - a callable
 * object that accepts two arguments. For that purpose, we're going to
 * use a function (note that you're not limited to a function, you can
 * use a class method for example). The first argument passed to the function
 * is an object of CGI-style environment variables and the
 * second variable is the callable object.
 *
 * Run: node --import tsx examples/hello.ts [PORT]   (default 8000; 0 picks a free port)
 */
import { makeServer } from "../src/simple-server.ts";
import type { WSGIApplication } from "../src/types.ts";

const helloWorldApp: WSGIApplication = (_environ, startResponse) => {
  const status = "200 OK"; // HTTP Status
  const headers: [string, string][] = [["Content-type", "text/plain; charset=utf-8"]]; // HTTP Headers
  startResponse(status, headers);

  // The returned object is going to be printed
  return [Buffer.from("Hello World")];
};

await using httpd = await makeServer("", Number(process.argv[2] ?? 8000), helloWorldApp);
console.log(`Serving on port ${httpd.serverPort}...`);

// Serve until the process is stopped (Ctrl-C or SIGTERM stop it cleanly)
process.once("SIGINT", () => void httpd.shutdown());
process.once("SIGTERM", () => void httpd.shutdown());
await httpd.serveForever();
