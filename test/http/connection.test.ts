import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { ServerConnection } from "../../src/http/connection.ts";
import { LocalProtocolError, ProtocolError } from "../../src/http/errors.ts";
import { bytes, drain, exchange, plain, text } from "./helpers.ts";

const GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
const EMPTY = new Uint8Array(0);

/** A connection that has read `raw` and drained its events. */
function after(raw: string, options = {}): ServerConnection {
  const conn = new ServerConnection(options);
  conn.receive(bytes(raw));
  drain(conn);
  return conn;
}

/** The response bytes of a whole exchange: head, each data piece, end. */
function respondWith(
  conn: ServerConnection,
  status: number | string,
  headers: [string, string][],
  chunks: string[],
  options = {},
): string {
  let out = text(conn.sendResponse(status, headers, options));
  for (const c of chunks) out += text(conn.sendData(bytes(c)));
  return out + text(conn.sendEnd());
}

describe("ServerConnection: reading requests", () => {
  it("gives a GET as request, end, then paused", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(GET));
    assert.deepEqual(
      drain(conn).map((e) => e.type),
      ["request", "end", "paused"],
    );
  });

  it("gives a Content-Length body as data then end", () => {
    const conn = new ServerConnection();
    conn.receive(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"));
    assert.deepEqual(drain(conn).map(plain).slice(1), [
      { type: "data", data: "hello" },
      { type: "end", trailers: [] },
      { type: "paused" },
    ]);
  });

  it("hands out body bytes as views of the received buffer", () => {
    const conn = new ServerConnection();
    const raw = bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    conn.receive(raw);
    conn.nextEvent();
    const event = conn.nextEvent();
    assert.equal(event.type, "data");
    assert.equal(event.type === "data" && event.data.buffer, raw.buffer);
  });

  it("gives body pieces as they arrive, never past Content-Length", () => {
    const conn = new ServerConnection();
    conn.receive(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\nabc"));
    assert.deepEqual(drain(conn).map(plain).slice(1), [
      { type: "data", data: "abc" },
      { type: "need-data" },
    ]);
    conn.receive(bytes("defghGET"));
    assert.deepEqual(drain(conn).map(plain), [
      { type: "data", data: "defgh" },
      { type: "end", trailers: [] },
      { type: "paused" },
    ]);
    assert.equal(conn.bufferedBytes, 3);
  });

  it("gives at most maxData body bytes per data event, for a reader with a small buffer", () => {
    for (const framing of [
      "Content-Length: 10\r\n\r\n0123456789",
      "Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n",
    ]) {
      const conn = new ServerConnection();
      conn.receive(bytes(`POST / HTTP/1.1\r\nHost: a\r\n${framing}GET`));
      assert.equal(conn.nextEvent().type, "request");
      const events = [1, 2, 3, 4, 5].map(() => plain(conn.nextEvent(3)));
      assert.deepEqual(events, [
        { type: "data", data: "012" },
        { type: "data", data: "345" },
        { type: "data", data: "678" },
        { type: "data", data: "9" },
        { type: "end", trailers: [] },
      ]);
      assert.equal(conn.bufferedBytes, 3, "the next request is left alone");
    }
  });

  it("decodes a chunked body with extensions and trailers", () => {
    const conn = new ServerConnection();
    conn.receive(
      bytes(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;x=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Sum: 9\r\n\r\n",
      ),
    );
    assert.deepEqual(drain(conn).map(plain).slice(1), [
      { type: "data", data: "Wiki" },
      { type: "data", data: "pedia" },
      { type: "end", trailers: ["X-Sum", "9"] },
      { type: "paused" },
    ]);
  });

  it("keeps pipelined requests waiting until the response ended", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(`${GET}GET /2 HTTP/1.1\r\nHost: a\r\n\r\n`));
    assert.deepEqual(
      drain(conn).map((e) => e.type),
      ["request", "end", "paused"],
    );
    assert.equal(conn.nextEvent().type, "paused");
    conn.respond(200, [], EMPTY);
    const next = conn.nextEvent();
    assert.equal(next.type === "request" && next.target, "/2");
  });

  it("parses the same events from a pipelined stream split at every byte boundary", () => {
    const raw = bytes(
      `\r\n${GET}` +
        "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz" +
        "PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;e=v\r\nab\r\n0\r\nT: 1\r\n\r\n" +
        "GET /last HTTP/1.0\r\n\r\n",
    );
    const whole = exchange(raw, []);
    assert.equal(whole.error, null);
    for (let cut = 1; cut < raw.length; cut++) {
      assert.deepEqual(exchange(raw, [cut]), whole, `cut at ${cut}`);
    }
    assert.deepEqual(
      exchange(
        raw,
        Array.from({ length: raw.length }, (_, i) => i),
      ),
      whole,
    );
  });

  it("skips empty lines before a request", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(`\r\n\r\n${GET}`));
    assert.equal(conn.nextEvent().type, "request");
  });

  it("answers closed when the peer closes between requests", () => {
    const conn = new ServerConnection();
    conn.receive(EMPTY);
    assert.equal(conn.nextEvent().type, "closed");
    assert.equal(conn.phase, "closed");
  });

  it("throws ERR_INCOMPLETE_MESSAGE when the peer closes in a head", () => {
    const conn = new ServerConnection();
    conn.receive(bytes("GET / HTTP/1.1\r\nHo"));
    conn.receive(EMPTY);
    assert.throws(() => conn.nextEvent(), { code: "ERR_INCOMPLETE_MESSAGE" });
  });

  it("answers closed when the peer sends stray line breaks and closes", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(`${GET}\r\n`));
    drain(conn);
    conn.respond(200, [], EMPTY);
    conn.receive(EMPTY);
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("finishes the exchange when the peer closes after a complete request", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(GET));
    conn.receive(EMPTY);
    assert.deepEqual(
      drain(conn).map((e) => e.type),
      ["request", "end", "paused"],
    );
    conn.respond(200, [], bytes("ok"));
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("after the peer closed, drains an unread body that arrived whole and goes on to the next request", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello${GET}`));
    conn.receive(EMPTY);
    assert.equal(conn.nextEvent().type, "request");
    conn.respond(200, [], bytes("ok"));
    assert.deepEqual(
      drain(conn).map((e) => e.type),
      ["request", "end", "paused"],
      "the GET behind the unread body is answered",
    );
    conn.respond(200, [], bytes("ok"));
    assert.equal(conn.nextEvent().type, "closed");

    const cut = new ServerConnection();
    cut.receive(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\nhello"));
    cut.receive(EMPTY);
    assert.equal(cut.nextEvent().type, "request");
    cut.respond(200, [], bytes("ok"));
    assert.equal(cut.nextEvent().type, "closed", "a body that never came whole: close");
  });

  it("refuses data after the peer closed", () => {
    const conn = new ServerConnection();
    conn.receive(EMPTY);
    assert.throws(() => conn.receive(bytes("x")), LocalProtocolError);
  });

  it("stays in ERROR after a protocol error and throws it again", () => {
    const conn = new ServerConnection();
    conn.receive(bytes("GET / HTTP/9.9\r\n\r\n"));
    let first: unknown;
    try {
      conn.nextEvent();
    } catch (e) {
      first = e;
    }
    assert.ok(first instanceof ProtocolError);
    assert.equal(conn.phase, "error");
    assert.throws(
      () => conn.nextEvent(),
      (e) => e === first,
    );
  });
});

describe("ServerConnection: response framing (exact bytes)", () => {
  it("uses the application's Content-Length and passes the body through", () => {
    const conn = after(GET);
    assert.equal(
      respondWith(
        conn,
        "200 OK",
        [
          ["Content-Type", "text/plain"],
          ["Content-Length", "5"],
        ],
        ["he", "llo"],
      ),
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    );
  });

  it("sendResponseHead gives the head sendResponse encodes, as latin-1 text", () => {
    const headers: [string, string][] = [
      ["Content-Type", "text/plain; charset=latin-1"],
      ["X-Cafe", "cr\u00e8me"],
    ];
    const options = { date: "Thu, 01 Jan 1970 00:00:00 GMT" };
    const encoded = after(GET).sendResponse("200 OK", headers, options);
    const conn = after(GET);
    const head = conn.sendResponseHead("200 OK", headers, options);
    assert.equal(head, Buffer.from(encoded).toString("latin1"));
    assert.match(head, /\r\nX-Cafe: cr\u00e8me\r\n/);
    assert.equal(text(conn.sendData(bytes("body"))), "4\r\nbody\r\n", "then chunked, as usual");
  });

  it("chunks a body of unknown length for HTTP/1.1", () => {
    const conn = after(GET);
    assert.equal(
      respondWith(conn, 200, [["Content-Type", "text/plain"]], ["hello", "", "0123456789abcdefX"]),
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5\r\nhello\r\n11\r\n0123456789abcdefX\r\n0\r\n\r\n",
    );
  });

  it("sends no body for HEAD but keeps Content-Length", () => {
    const conn = after("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(
      respondWith(conn, 200, [["Content-Length", "5"]], ["hello"]),
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
    );
  });

  it("adds no framing field to a HEAD response of unknown length", () => {
    const conn = after("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(respondWith(conn, 200, [], ["hello"]), "HTTP/1.1 200 OK\r\n\r\n");
    assert.equal(conn.keepAlive, true);
  });

  it("gives HEAD via respond() the body's Content-Length but not the body", () => {
    const conn = after("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(
      text(conn.respond(200, [], bytes("hello"))),
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
    );
  });

  it("drops Content-Length and the body of a 204", () => {
    const conn = after(GET);
    assert.equal(
      respondWith(
        conn,
        204,
        [
          ["Content-Length", "0"],
          ["X-A", "1"],
        ],
        ["ignored"],
      ),
      "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n",
    );
  });

  it("keeps Content-Length but sends no body for a 304", () => {
    const conn = after(GET);
    assert.equal(
      respondWith(
        conn,
        "304 Not Modified",
        [
          ["ETag", '"x"'],
          ["Content-Length", "10"],
        ],
        ["ignored"],
      ),
      'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 10\r\n\r\n',
    );
  });

  it("delimits an HTTP/1.0 body of unknown length by closing", () => {
    const conn = after("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal(
      respondWith(conn, 200, [], ["raw ", "bytes"]),
      "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nraw bytes",
    );
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("says Connection: keep-alive to an HTTP/1.0 client that asked for it", () => {
    const conn = after("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal(
      text(conn.respond(200, [], bytes("ok"))),
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
    );
    assert.equal(conn.nextEvent().type, "need-data");
  });

  it("says Connection: close to an HTTP/1.0 client without keep-alive, then closes", () => {
    const conn = after("GET / HTTP/1.0\r\n\r\n");
    assert.equal(
      text(conn.respond(200, [], bytes("ok"))),
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    );
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("says Connection: close when the request asked for it", () => {
    const conn = after("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert.match(
      text(conn.sendResponse(200, [["Content-Length", "0"]])),
      /\r\nConnection: close\r\n\r\n$/,
    );
  });

  it("honours Connection: close from the application without copying its field", () => {
    const conn = after(GET);
    assert.equal(
      text(
        conn.respond(
          200,
          [
            ["Connection", "Close"],
            ["Keep-Alive", "timeout=5"],
          ],
          EMPTY,
        ),
      ),
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("replaces the application's Transfer-Encoding with its own framing", () => {
    const conn = after(GET);
    assert.equal(
      text(conn.sendResponse(200, [["Transfer-Encoding", "gzip"]])),
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
  });

  it("closes when the server asks with the close option", () => {
    const conn = after(GET);
    assert.match(text(conn.respond(200, [], EMPTY, { close: true })), /Connection: close/);
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("closes after the current response once closeAfterResponse() was called", () => {
    const conn = after(GET);
    conn.closeAfterResponse();
    assert.match(text(conn.respond(200, [], EMPTY)), /Connection: close/);
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("closes an idle connection at once on closeAfterResponse()", () => {
    const conn = new ServerConnection();
    conn.closeAfterResponse();
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("closes after every response when keepAlive is off", () => {
    const conn = after(GET, { keepAlive: false });
    assert.match(text(conn.respond(200, [], EMPTY)), /Connection: close/);
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("adds Date and Server after the status line unless the application set them", () => {
    const conn = after(GET, { server: "wsgiref/0.1" });
    assert.equal(
      text(conn.respond(200, [["X-A", "1"]], EMPTY, { date: "Mon, 01 Jan 2024 00:00:00 GMT" })),
      "HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nServer: wsgiref/0.1\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n",
    );
    const conn2 = after(GET, { server: "wsgiref/0.1" });
    assert.equal(
      text(
        conn2.respond(
          200,
          [
            ["date", "x"],
            ["SERVER", "app"],
          ],
          EMPTY,
          { date: "y" },
        ),
      ),
      "HTTP/1.1 200 OK\r\ndate: x\r\nSERVER: app\r\nContent-Length: 0\r\n\r\n",
    );
  });

  it("takes the reason phrase of a numeric status from the status table", () => {
    const conn = after(GET);
    assert.match(text(conn.sendResponse(404)), /^HTTP\/1\.1 404 Not Found\r\n/);
  });

  it("sends a WSGI status string as given", () => {
    const conn = after(GET);
    assert.match(text(conn.sendResponse("299 Quite Fine")), /^HTTP\/1\.1 299 Quite Fine\r\n/);
  });
});

describe("ServerConnection: response errors", () => {
  for (const status of ["20 OK", "200OK", "abc", "200 O\r\nK", "099 Low"]) {
    it(`rejects the status ${JSON.stringify(status)} and still allows a 500`, () => {
      const conn = after(GET);
      assert.throws(() => conn.sendResponse(status), { code: "ERR_INVALID_STATUS" });
      assert.match(text(conn.respond(500, [], EMPTY)), /^HTTP\/1\.1 500 /);
    });
  }

  for (const [name, value] of [
    ["X-A", "a\r\nSet-Cookie: evil=1"],
    ["X-A", "a\nb"],
    ["X A", "1"],
    ["X-A", "\0"],
    ["", "1"],
    ["X-A", "\u20ac"],
  ]) {
    it(`rejects the header ${JSON.stringify([name, value])} and still allows a 500`, () => {
      const conn = after(GET);
      assert.throws(() => conn.sendResponse(200, [[name!, value!]]), {
        code: "ERR_INVALID_RESPONSE_HEADER",
      });
      assert.match(text(conn.respond(500, [], EMPTY)), /^HTTP\/1\.1 500 /);
    });
  }

  it("rejects an invalid Content-Length from the application", () => {
    const conn = after(GET);
    assert.throws(() => conn.sendResponse(200, [["Content-Length", "-1"]]), {
      code: "ERR_INVALID_RESPONSE_CONTENT_LENGTH",
    });
  });

  it("throws ERR_RESPONSE_BODY_TOO_LONG past the declared Content-Length, then must close", () => {
    const conn = after(GET);
    conn.sendResponse(200, [["Content-Length", "3"]]);
    assert.equal(text(conn.sendData(bytes("ab"))), "ab");
    assert.throws(() => conn.sendData(bytes("cd")), { code: "ERR_RESPONSE_BODY_TOO_LONG" });
    assert.equal(conn.phase, "error");
    assert.equal(conn.keepAlive, false);
    assert.equal(conn.sendErrorResponse(new ProtocolError("ERR_INVALID_CHUNK", "x")), null);
  });

  it("throws ERR_RESPONSE_BODY_TOO_SHORT when the body ends early", () => {
    const conn = after(GET);
    conn.sendResponse(200, [["Content-Length", "3"]]);
    conn.sendData(bytes("a"));
    assert.throws(() => conn.sendEnd(), { code: "ERR_RESPONSE_BODY_TOO_SHORT" });
    assert.equal(conn.phase, "error");
  });

  it("checks respond()'s body against a given Content-Length before changing state", () => {
    const conn = after(GET);
    assert.throws(() => conn.respond(200, [["Content-Length", "1"]], bytes("ab")), {
      code: "ERR_RESPONSE_BODY_TOO_LONG",
    });
    assert.equal(conn.responseState, "IDLE");
  });

  it("refuses a response before any request", () => {
    assert.throws(() => new ServerConnection().sendResponse(200), { code: "ERR_INVALID_STATE" });
  });

  it("refuses body data before the response head", () => {
    assert.throws(() => after(GET).sendData(bytes("x")), { code: "ERR_INVALID_STATE" });
  });

  it("refuses a second response", () => {
    const conn = after(GET);
    conn.sendResponse(200);
    assert.throws(() => conn.sendResponse(200), { code: "ERR_INVALID_STATE" });
  });
});

describe("ServerConnection: interim responses and protocol switch", () => {
  const EXPECT = "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";

  it("sends 100 Continue once, when the client waits for it", () => {
    const conn = after(EXPECT);
    assert.equal(conn.awaitingContinue, true);
    assert.equal(text(conn.sendContinue()!), "HTTP/1.1 100 Continue\r\n\r\n");
    assert.equal(conn.sendContinue(), null);
    conn.receive(bytes("data"));
    assert.deepEqual(drain(conn).map(plain), [
      { type: "data", data: "data" },
      { type: "end", trailers: [] },
      { type: "paused" },
    ]);
  });

  it("sends no 100 Continue without the expectation", () => {
    assert.equal(
      after("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n").sendContinue(),
      null,
    );
  });

  it("sends no 100 Continue once the final response started", () => {
    const conn = after(EXPECT);
    conn.sendResponse(200);
    assert.equal(conn.sendContinue(), null);
  });

  it("sends no 100 Continue when the body is already arriving", () => {
    assert.equal(after(`${EXPECT}da`).sendContinue(), null);
  });

  it("closes after a final response sent without reading the awaited body", () => {
    const conn = after(EXPECT);
    assert.match(text(conn.respond(417, [], EMPTY)), /Connection: close/);
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("sends an informational response such as 103 Early Hints", () => {
    const conn = after(GET);
    assert.equal(
      text(conn.sendInformational(103, [["Link", "</a.css>; rel=preload"]])),
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
    );
    assert.equal(conn.responseState, "IDLE");
  });

  it("sends no informational response to an HTTP/1.0 client", () => {
    assert.equal(after("GET / HTTP/1.0\r\n\r\n").sendInformational(103).length, 0);
  });

  it("refuses a final status in sendInformational and a 1xx in sendResponse", () => {
    const conn = after(GET);
    assert.throws(() => conn.sendInformational(200), { code: "ERR_INVALID_STATUS" });
    assert.throws(() => conn.sendResponse(103), { code: "ERR_INVALID_STATUS" });
  });

  it("switches protocols with 101 and hands over the bytes after the head", () => {
    const conn = new ServerConnection();
    conn.receive(
      bytes(
        "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00",
      ),
    );
    assert.equal(conn.nextEvent().type, "request");
    assert.equal(
      text(
        conn.sendResponse(101, [
          ["Upgrade", "websocket"],
          ["Connection", "Upgrade"],
        ]),
      ),
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    assert.equal(conn.phase, "switched");
    assert.equal(text(conn.trailingData), "\x81\x00");
    assert.equal(conn.nextEvent().type, "paused");
  });

  it("refuses 101 without an Upgrade request", () => {
    assert.throws(() => after(GET).sendResponse(101), { code: "ERR_INVALID_STATE" });
  });
});

describe("ServerConnection: unread request bodies", () => {
  const POST = (n: number) => `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${n}\r\n\r\n`;

  it("says a request body is pending until it was read", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(`${POST(3)}abc`));
    conn.nextEvent();
    assert.equal(conn.requestBodyPending, true);
    conn.nextEvent();
    assert.equal(conn.requestBodyPending, false);
  });

  it("discards a small unread body and goes on to the next request", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(`${POST(5)}hello${GET}`));
    assert.equal(conn.nextEvent().type, "request");
    conn.respond(200, [], EMPTY);
    assert.equal(conn.nextEvent().type, "request");
  });

  it("waits for the rest of an unread body in the drain phase", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(`${POST(10)}hel`));
    conn.nextEvent();
    conn.respond(200, [], EMPTY);
    assert.equal(conn.nextEvent().type, "need-data");
    assert.equal(conn.phase, "drain");
    conn.receive(bytes(`lo worl`));
    assert.equal(conn.nextEvent().type, "need-data");
    conn.receive(bytes(`d${GET}`));
    assert.equal(conn.nextEvent().type, "request");
  });

  it("closes instead of reading an unread body above maxDrainBytes", () => {
    const conn = new ServerConnection({ limits: { maxDrainBytes: 4 } });
    conn.receive(bytes(`${POST(5)}hello${GET}`));
    conn.nextEvent();
    conn.respond(200, [], EMPTY);
    assert.equal(conn.keepAlive, false);
    assert.equal(conn.nextEvent().type, "closed");
  });

  it("drains an unread chunked body, and closes when it grows past maxDrainBytes", () => {
    const chunkedPost = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    const small = new ServerConnection({ limits: { maxDrainBytes: 4 } });
    small.receive(bytes(`${chunkedPost}2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n${GET}`));
    small.nextEvent();
    small.respond(200, [], EMPTY);
    assert.equal(small.nextEvent().type, "request");
    const big = new ServerConnection({ limits: { maxDrainBytes: 4 } });
    big.receive(bytes(`${chunkedPost}3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n${GET}`));
    big.nextEvent();
    big.respond(200, [], EMPTY);
    assert.equal(big.nextEvent().type, "closed");
  });

  it("closes when the peer went away with the body unread", () => {
    const conn = new ServerConnection();
    conn.receive(bytes(`${POST(10)}hel`));
    conn.receive(EMPTY);
    conn.nextEvent();
    conn.respond(200, [], EMPTY);
    assert.equal(conn.nextEvent().type, "closed");
  });
});

describe("ServerConnection: state queries", () => {
  it("moves through the phases idle, head, body, response, idle", () => {
    const conn = new ServerConnection();
    assert.equal(conn.phase, "idle");
    conn.receive(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"));
    conn.nextEvent();
    assert.equal(conn.phase, "head");
    conn.receive(bytes("\r\n"));
    conn.nextEvent();
    assert.equal(conn.phase, "body");
    conn.receive(bytes("ok"));
    drain(conn);
    assert.equal(conn.phase, "response");
    conn.respond(200, [], EMPTY);
    assert.equal(conn.phase, "idle");
    assert.equal(conn.requestCount, 1);
  });

  it("shows its state in util.inspect", () => {
    const conn = after(GET);
    assert.equal(
      inspect(conn),
      "ServerConnection <response> request=DONE response=IDLE keepAlive=true requests=1 buffered=0 GET /",
    );
  });

  it("shows the error code in util.inspect after a failure", () => {
    const conn = new ServerConnection();
    conn.receive(bytes("BAD\r\n\r\n"));
    assert.throws(() => conn.nextEvent());
    assert.match(inspect(conn), /<error>.*error=ERR_INVALID_REQUEST_LINE/);
  });

  it("exposes the current request", () => {
    const conn = after(GET);
    assert.equal(conn.request?.path, "/");
    conn.respond(200, [], EMPTY);
    assert.equal(conn.request, null);
  });
});

describe("ServerConnection: error responses", () => {
  function failing(raw: string): [ServerConnection, ProtocolError] {
    const conn = new ServerConnection({ server: "wsgiref" });
    conn.receive(bytes(raw));
    try {
      drain(conn);
    } catch (e) {
      assert.ok(e instanceof ProtocolError);
      return [conn, e];
    }
    throw new Error("no error");
  }

  it("renders a minimal answer naming the code", () => {
    const [conn, error] = failing("GET / HTTP/1.1\r\n\r\n");
    assert.equal(
      text(conn.sendErrorResponse(error, { date: "D" })!),
      "HTTP/1.1 400 Bad Request\r\nDate: D\r\nServer: wsgiref\r\nContent-Type: text/plain; charset=utf-8\r\n" +
        "Content-Length: 34\r\nConnection: close\r\n\r\n400 Bad Request: ERR_MISSING_HOST\n",
    );
  });

  it("renders it once", () => {
    const [conn, error] = failing("GET / HTTP/1.1\r\n\r\n");
    assert.ok(conn.sendErrorResponse(error) !== null);
    assert.equal(conn.sendErrorResponse(error), null);
  });

  it("leaves the body out for HEAD", () => {
    const [conn, error] = failing(
      "HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    );
    assert.match(
      text(conn.sendErrorResponse(error)!),
      /Content-Length: 35\r\nConnection: close\r\n\r\n$/,
    );
  });

  it("gives nothing once the response had started", () => {
    const conn = new ServerConnection();
    conn.receive(bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"));
    conn.nextEvent();
    conn.sendResponse(200);
    conn.receive(bytes("zz\r\n"));
    let error: unknown;
    try {
      conn.nextEvent();
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ProtocolError);
    assert.equal(conn.canSendErrorResponse, false);
    assert.equal(conn.sendErrorResponse(error), null);
  });
});
