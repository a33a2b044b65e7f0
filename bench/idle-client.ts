/**
 * Opens COUNT keep-alive connections to 127.0.0.1:PORT, sends one `GET /` on each, waits
 * for every answer, prints `READY <open> <failed>`, and holds the connections until its
 * stdin closes; then prints `CLOSED <n>` (connections the server closed meanwhile) and exits.
 *
 * Run: node --import tsx bench/idle-client.ts PORT COUNT
 */
import { connect, type Socket } from "node:net";

const port = Number(process.argv[2]);
const count = Number(process.argv[3] ?? 5000);
/** Connections being set up at once (the listen backlog is finite). */
const PARALLEL = 200;
const REQUEST = Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

const sockets: Socket[] = [];
let failed = 0;
let closedByServer = 0;
let ending = false;

/** Opens one connection and resolves once its answer's body arrived. */
function open(): Promise<void> {
  return new Promise((resolve) => {
    let answered = false;
    let seen = "";
    const socket = connect({ port, host: "127.0.0.1", noDelay: true });
    socket.on("connect", () => socket.write(REQUEST));
    socket.on("data", (data: Buffer) => {
      if (answered) return;
      seen += data.toString("latin1");
      if (seen.includes("\r\n\r\n") && seen.endsWith("Hello, World!")) {
        answered = true;
        sockets.push(socket);
        resolve();
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      if (!answered) {
        failed++;
        resolve();
      } else if (!ending) closedByServer++;
    });
  });
}

let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    next++;
    await open();
  }
}
await Promise.all(Array.from({ length: Math.min(PARALLEL, count) }, worker));
process.stdout.write(`READY ${sockets.length} ${failed}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  ending = true;
  process.stdout.write(`CLOSED ${closedByServer}\n`);
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
