/**
 * Micro-benchmark of the HTTP/1.1 core (not a test): parses a browser-like GET head and runs
 * whole keep-alive exchanges through `ServerConnection`, printing nanoseconds per request.
 *
 * Run: `node --import tsx bench/parser.ts [iterations]` (default 1e6).
 */
import { ServerConnection } from "../src/http/connection.ts";
import { HeadParser } from "../src/http/parser.ts";

const BROWSER_GET = Buffer.from(
  [
    "GET /static/app.js?v=3 HTTP/1.1",
    "Host: example.com",
    "Connection: keep-alive",
    'sec-ch-ua: "Chromium";v="124", "Not-A.Brand";v="99"',
    "sec-ch-ua-mobile: ?0",
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    'sec-ch-ua-platform: "Linux"',
    "Accept: */*",
    "Sec-Fetch-Site: same-origin",
    "Sec-Fetch-Mode: no-cors",
    "Sec-Fetch-Dest: script",
    "Referer: https://example.com/",
    "Accept-Encoding: gzip, deflate, br",
    "Accept-Language: en-US,en;q=0.9",
    "",
    "",
  ].join("\r\n"),
  "latin1",
);
const HELLO_GET = Buffer.from(
  "GET / HTTP/1.1\r\nHost: localhost:8000\r\nConnection: keep-alive\r\n\r\n",
  "latin1",
);
const BODY = Buffer.from("Hello, World!");
const HEADERS: [string, string][] = [["Content-Type", "text/plain"]];

const n = Number(process.argv[2] ?? 1e6);

function time(name: string, bytes: number, run: (iterations: number) => number): void {
  run(Math.min(n, 50_000)); // warm up
  const start = process.hrtime.bigint();
  const check = run(n);
  const ns = Number(process.hrtime.bigint() - start) / n;
  console.log(
    `${name.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/request  (${bytes} B head, check ${check})`,
  );
}

time("HeadParser.parse, browser GET (14 fields)", BROWSER_GET.length, (iterations) => {
  const parser = new HeadParser();
  let check = 0;
  for (let i = 0; i < iterations; i++) check += parser.parse(BROWSER_GET, 0)!.headers.length;
  return check;
});

time("HeadParser.parse, hello-world GET", HELLO_GET.length, (iterations) => {
  const parser = new HeadParser();
  let check = 0;
  for (let i = 0; i < iterations; i++) check += parser.parse(HELLO_GET, 0)!.headers.length;
  return check;
});

time("ServerConnection exchange, browser GET", BROWSER_GET.length, (iterations) => {
  const conn = new ServerConnection({ server: "wsgiref" });
  let check = 0;
  for (let i = 0; i < iterations; i++) {
    conn.receive(BROWSER_GET);
    conn.nextEvent();
    conn.nextEvent();
    check += conn.respond(200, HEADERS, BODY, { date: "Mon, 01 Jan 2024 00:00:00 GMT" }).length;
    conn.nextEvent();
  }
  return check;
});

time("ServerConnection exchange, hello-world GET", HELLO_GET.length, (iterations) => {
  const conn = new ServerConnection({ server: "wsgiref" });
  let check = 0;
  for (let i = 0; i < iterations; i++) {
    conn.receive(HELLO_GET);
    conn.nextEvent();
    conn.nextEvent();
    check += conn.respond(200, HEADERS, BODY, { date: "Mon, 01 Jan 2024 00:00:00 GMT" }).length;
    conn.nextEvent();
  }
  return check;
});
