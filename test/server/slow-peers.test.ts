/**
 * Slow and stalled peers over real sockets: a client that stops reading is cut after
 * `sendTimeout`, and the application's body is closed, so it holds no socket, file
 * descriptor or buffered response forever. (The clocks themselves are tested without
 * sleeps in timers.test.ts; `npm run soak` runs hundreds of such peers.)
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import type { WSGIApplication } from "../../src/types.ts";
import { waitFor, withServer } from "../helpers/servers.ts";

describe("slow peers on the wire", () => {
  it("cuts a client that stopped reading after sendTimeout and closes the app's body", async () => {
    let closed = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const endless: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return Object.assign(
        (function* () {
          for (;;) yield chunk;
        })(),
        { close: () => void closed++ },
      );
    };
    await withServer(endless, { sendTimeout: 300 }, async ({ port, errorLog }) => {
      const client = connect(port, "127.0.0.1");
      client.pause(); // never reads: the kernel buffers fill, then nothing moves
      client.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
      let clientClosed = false;
      client.on("close", () => {
        clientClosed = true;
      });
      client.on("error", () => {});
      assert.ok(await waitFor(() => closed === 1, 5000), "the app's body was closed");
      client.resume(); // let the client see the end
      assert.ok(await waitFor(() => clientClosed, 5000), "the connection was cut");
      assert.match(errorLog(), /ERR_SEND_TIMEOUT/);
      client.destroy();
    });
  });
});
