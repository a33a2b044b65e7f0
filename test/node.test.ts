import assert from "node:assert/strict";
import { createServer, type RequestListener, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { describe, it } from "node:test";
import express from "express";
import { toNodeListener } from "../src/node.ts";
import { BufferedErrorStream } from "../src/streams.ts";
import type { WSGIApplication } from "../src/types.ts";
import { requestUri } from "../src/util.ts";
import { validator } from "../src/validate.ts";

const plain = (): [string, string][] => [["Content-Type", "text/plain"]];

/** Replies with the environ keys named in `keys`, and the body, as JSON. */
function environEcho(keys: string[]): WSGIApplication {
  return async (environ, startResponse) => {
    const body = Buffer.from(await environ["wsgi.input"].read()).toString("latin1");
    const seen = Object.fromEntries(keys.map((k) => [k, environ[k]]));
    startResponse("200 OK", [["Content-Type", "application/json"]]);
    return [Buffer.from(JSON.stringify({ ...seen, body, uri: requestUri(environ) }))];
  };
}

/** Runs `listener` on a loopback port for the duration of `use`. */
async function withServer(
  listener: RequestListener,
  use: (base: string, port: number) => Promise<void>,
): Promise<void> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await use(`http://127.0.0.1:${port}`, port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const quiet = () => ({ errors: new BufferedErrorStream() });

describe("toNodeListener under node:http", () => {
  it("builds the environ from the request, the Host header and the socket", async () => {
    const app = environEcho([
      "SERVER_NAME",
      "SERVER_PORT",
      "SERVER_PROTOCOL",
      "REMOTE_ADDR",
      "RAW_URI",
      "PATH_INFO",
      "HTTP_X_REP",
      "HTTP_COOKIE",
      "HTTP_X_UNDER_SCORE",
    ]);
    await withServer(toNodeListener(validator(app), quiet()), async (_base, port) => {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.end(
            "GET /a%2Fb?x=1 HTTP/1.1\r\nHost: example.org:81\r\nX-Rep: 1\r\nX-Rep: 2\r\n" +
              "Cookie: a=1\r\nCookie: b=2\r\n" +
              "X_Under_Score: evil\r\nConnection: close\r\n\r\n",
          );
        });
        let data = "";
        socket.on("data", (chunk) => {
          data += chunk.toString("latin1");
        });
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
      });
      const body = raw
        .slice(raw.indexOf("\r\n\r\n") + 4)
        .replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, "");
      assert.deepEqual(JSON.parse(body), {
        SERVER_NAME: "example.org",
        SERVER_PORT: "81",
        SERVER_PROTOCOL: "HTTP/1.1",
        REMOTE_ADDR: "127.0.0.1",
        RAW_URI: "/a%2Fb?x=1",
        PATH_INFO: "/a/b",
        HTTP_X_REP: "1,2",
        HTTP_COOKIE: "a=1; b=2",
        body: "",
        uri: "http://example.org:81/a/b?x=1",
      });
    });
  });

  it("mounts the application at scriptName and answers 404 outside it", async () => {
    const listener = toNodeListener(environEcho(["SCRIPT_NAME", "PATH_INFO"]), {
      scriptName: "/app",
    });
    await withServer(listener, async (base) => {
      const inside = await fetch(`${base}/app/x`);
      assert.deepEqual(await inside.json(), {
        SCRIPT_NAME: "/app",
        PATH_INFO: "/x",
        body: "",
        uri: `${base}/app/x`,
      });
      assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
    });
  });

  it("hands requests outside scriptName to next(), as Connect middleware", async () => {
    const wsgi = toNodeListener(environEcho([]), { scriptName: "/app" });
    await withServer(
      (req, res) => wsgi(req, res, () => res.end("next handled it")),
      async (base) => {
        assert.equal(await (await fetch(`${base}/other`)).text(), "next handled it");
      },
    );
  });

  it("streams the request body into wsgi.input", async () => {
    await withServer(toNodeListener(validator(environEcho(["CONTENT_LENGTH"]))), async (base) => {
      const response = await fetch(`${base}/`, { method: "POST", body: "x".repeat(100_000) });
      const seen = (await response.json()) as { CONTENT_LENGTH: string; body: string };
      assert.equal(seen.CONTENT_LENGTH, "100000");
      assert.equal(seen.body.length, 100_000);
    });
  });

  it("writes the application's traceback to the errors sink and answers 500", async () => {
    const errors = new BufferedErrorStream();
    const broken: WSGIApplication = () => {
      throw new Error("node boom");
    };
    await withServer(toNodeListener(broken, { errors }), async (base) => {
      assert.equal((await fetch(base)).status, 500);
      assert.match(errors.text, /Error: node boom/);
    });
  });

  it("holds the application back while the client does not read, and closes the body when it leaves", async () => {
    let made = 0;
    let closed = 0;
    let resolveClosed!: () => void;
    const closedOnce = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    const endless: WSGIApplication = (_e, startResponse) => {
      startResponse("200 OK", [["Content-Type", "application/octet-stream"]]);
      return Object.assign(
        (function* () {
          for (;;) {
            made += 64 * 1024;
            yield Buffer.alloc(64 * 1024);
          }
        })(),
        {
          close() {
            closed += 1;
            resolveClosed();
          },
        },
      );
    };
    await withServer(toNodeListener(endless, quiet()), async (_base, port) => {
      const socket = connect(port, "127.0.0.1");
      socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      socket.pause();
      await new Promise((resolve) => setTimeout(resolve, 150));
      const first = made;
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(made, first, "the application kept producing for a client that does not read");
      assert.ok(made < 64 * 1024 * 1024, `${made} bytes were produced`);
      socket.destroy();
      await closedOnce;
      assert.equal(closed, 1);
    });
  });
});

describe("toNodeListener in Express 5", () => {
  function expressApp() {
    const app = express();
    app.get("/", (_req, res) => {
      res.send("express root");
    });
    app.use(
      "/wsgi",
      toNodeListener(validator(environEcho(["SCRIPT_NAME", "PATH_INFO", "QUERY_STRING"]))),
    );
    return app;
  }

  it("gives a WSGI app mounted at /wsgi its SCRIPT_NAME and PATH_INFO", async () => {
    await withServer(expressApp(), async (base) => {
      const response = await fetch(`${base}/wsgi/hello/caf%C3%A9?x=1`);
      assert.deepEqual(await response.json(), {
        SCRIPT_NAME: "/wsgi",
        PATH_INFO: "/hello/cafÃ©",
        QUERY_STRING: "x=1",
        body: "",
        uri: `${base}/wsgi/hello/caf%C3%A9?x=1`,
      });
    });
  });

  it("gives the mount point itself an empty PATH_INFO", async () => {
    await withServer(expressApp(), async (base) => {
      const seen = (await (await fetch(`${base}/wsgi`)).json()) as { PATH_INFO: string };
      assert.equal(seen.PATH_INFO, "");
    });
  });

  it("leaves Express's own routes alone", async () => {
    await withServer(expressApp(), async (base) => {
      assert.equal(await (await fetch(`${base}/`)).text(), "express root");
    });
  });

  it("streams a POST body through Express to wsgi.input", async () => {
    await withServer(expressApp(), async (base) => {
      const response = await fetch(`${base}/wsgi/upload`, { method: "POST", body: "payload" });
      assert.equal(((await response.json()) as { body: string }).body, "payload");
    });
  });

  it("keeps the headers Express set before the application's", async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader("X-Frame-Options", "DENY");
      next();
    });
    app.use(
      "/wsgi",
      toNodeListener((_e, startResponse) => {
        startResponse("200 OK", plain());
        return [Buffer.from("ok")];
      }),
    );
    await withServer(app, async (base) => {
      const response = await fetch(`${base}/wsgi/`);
      assert.equal(response.headers.get("x-frame-options"), "DENY");
      assert.equal(response.headers.get("content-type"), "text/plain");
      assert.equal(await response.text(), "ok");
    });
  });
});
