import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { PassThrough, Writable } from "node:stream";
import { describe, it } from "node:test";
import {
  BaseCGIHandler,
  BaseHandler,
  formatDateTime,
  IISCGIHandler,
  readEnviron,
  SimpleHandler,
} from "../src/handlers.ts";
import { BodyInputStream, BufferedErrorStream } from "../src/streams.ts";
import type { HeaderTuple, ResponseBody, WSGIApplication } from "../src/types.ts";
import { FileWrapper } from "../src/util.ts";

interface Case {
  name: string;
  status?: string;
  headers?: HeaderTuple[];
  body?: string[];
  write?: string[];
  kind?: "list" | "generator";
  raise?: "before" | "after_start" | "after_first";
  retry?: boolean;
  environ?: Record<string, string>;
  cgi?: boolean;
}
interface Golden {
  case: Case;
  expected: { output: string; logged: boolean; error_names: string[] };
}

const golden = JSON.parse(
  readFileSync(new URL("fixtures/handlers-golden.json", import.meta.url), "utf8"),
) as { results: Golden[] };

const BASE_ENV = {
  REQUEST_METHOD: "GET",
  SERVER_NAME: "127.0.0.1",
  SERVER_PORT: "80",
  SERVER_PROTOCOL: "HTTP/1.0",
  SCRIPT_NAME: "",
  PATH_INFO: "/",
};

const bytes = (s: string) => Buffer.from(s, "latin1");

/** Builds the TypeScript twin of a scripted app from handlers_golden.py. */
function makeApp(c: Case): WSGIApplication {
  const status = c.status ?? "200 OK";
  const headers = c.headers ?? [["Content-Type", "text/plain"]];
  const body = (c.body ?? []).map(bytes);
  return (_environ, startResponse) => {
    if (c.raise === "before") throw new RangeError("boom before");
    if (c.retry) {
      startResponse(
        status,
        headers.map((h) => [...h] as HeaderTuple),
      );
      startResponse("503 Service Unavailable", [["Content-Type", "text/plain"]], new Error("boom"));
    } else {
      const write = startResponse(
        status,
        headers.map((h) => [...h] as HeaderTuple),
      );
      for (const w of c.write ?? []) write(bytes(w));
    }
    if (c.raise === "after_start") throw new RangeError("boom after start");
    if (c.kind === "generator") {
      return (function* () {
        for (const [i, chunk] of body.entries()) {
          if (c.raise === "after_first" && i === 1) throw new RangeError("boom after first");
          yield chunk;
        }
      })();
    }
    return body;
  };
}

/** Collects everything written to it. */
class Sink extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.chunks.push(chunk);
    done();
  }
  get text() {
    return Buffer.concat(this.chunks).toString("latin1");
  }
}

async function runHandler(
  app: WSGIApplication,
  environ: Record<string, string> = {},
  { cgi = false } = {},
) {
  const out = new Sink();
  const errors = new BufferedErrorStream();
  const Class = cgi ? BaseCGIHandler : SimpleHandler;
  const handler = new Class(BodyInputStream.of(""), out, errors, { ...BASE_ENV, ...environ });
  handler.osEnviron = {};
  if (!cgi) handler.serverSoftware = "TestServer/1.0";
  await handler.run(app);
  return { handler, output: out.text.replace(/Date: [^\r]*GMT\r\n/, "Date: <date>\r\n"), errors };
}

describe("handlers: the same bytes as CPython's wsgiref.handlers", () => {
  for (const { case: c, expected } of golden.results) {
    it(c.name, async () => {
      const { output, errors } = await runHandler(makeApp(c), c.environ ?? {}, {
        cgi: c.cgi === true,
      });
      assert.equal(output, expected.output);
      assert.equal(errors.text.length > 0, expected.logged, errors.text);
      if (expected.error_names.includes("AssertionError")) {
        assert.match(errors.text, /AssertionError/);
      }
    });
  }
});

/** An app whose body records how it was used. */
function tracked(chunks: string[], status = "200 OK", extra: HeaderTuple[] = []) {
  const log = { closed: 0, iterated: 0 };
  const app: WSGIApplication = (_env, startResponse) => {
    startResponse(status, [["Content-Type", "text/plain"], ...extra]);
    const body: ResponseBody = {
      *[Symbol.iterator]() {
        for (const c of chunks) {
          log.iterated++;
          yield bytes(c);
        }
      },
      close() {
        log.closed++;
      },
    };
    return body;
  };
  return { app, log };
}

describe("handlers: where we deliberately differ from CPython (RFC 9110)", () => {
  it("sends no body for HEAD but keeps the Content-Length a GET would get", async () => {
    const { app, log } = tracked(["hello"], "200 OK", [["Content-Length", "5"]]);
    const { output } = await runHandler(app, { REQUEST_METHOD: "HEAD" });
    assert.match(output, /^HTTP\/1.0 200 OK\r\n/);
    assert.match(output, /Content-Length: 5\r\n\r\n$/);
    assert.equal(log.iterated, 1, "the body is still consumed");
    assert.equal(log.closed, 1);
  });

  it("computes the same Content-Length for HEAD as for GET, and sends no body", async () => {
    const app: WSGIApplication = (_e, sr) => {
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return [bytes("hello")];
    };
    const get = await runHandler(app);
    const head = await runHandler(app, { REQUEST_METHOD: "HEAD" });
    assert.equal(head.output, get.output.replace(/hello$/, ""));
    assert.match(head.output, /Content-Length: 5\r\n\r\n$/);
  });

  for (const status of ["204 No Content", "304 Not Modified", "101 Switching Protocols"]) {
    it(`sends no body and adds no Content-Length for ${status}`, async () => {
      const { app, log } = tracked(["ignored"], status);
      const { output } = await runHandler(app);
      assert.equal(
        output,
        `HTTP/1.0 ${status}\r\nDate: <date>\r\nServer: TestServer/1.0\r\nContent-Type: text/plain\r\n\r\n`,
      );
      assert.equal(log.closed, 1);
    });
  }

  it("rejects a status that is not latin-1 before anything is sent", async () => {
    const { output, errors } = await runHandler((_e, sr) => {
      sr("200 \u2713", [["Content-Type", "text/plain"]]);
      return [];
    });
    assert.match(output, /^HTTP\/1.0 500 /);
    assert.match(errors.text, /latin-1/);
  });

  it("rejects a string body with a TypeError that says what was expected", async () => {
    const { output, errors } = await runHandler(((
      _e: unknown,
      sr: (s: string, h: HeaderTuple[]) => void,
    ) => {
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return "Hello World";
    }) as unknown as WSGIApplication);
    assert.match(output, /^HTTP\/1.0 500 /);
    assert.match(errors.text, /TypeError: the application must return an iterable of Uint8Array/);
  });

  it("rejects a number body with a TypeError that says what was expected", async () => {
    const { output, errors } = await runHandler((() => 42) as unknown as WSGIApplication);
    assert.match(output, /^HTTP\/1.0 500 /);
    assert.match(
      errors.text,
      /must return an iterable of Uint8Array chunks \(such as \[body\]\), not a number 42/,
    );
  });

  it("rejects a string chunk with a TypeError", async () => {
    const { errors } = await runHandler(((
      _e: unknown,
      sr: (s: string, h: HeaderTuple[]) => void,
    ) => {
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return ["text"];
    }) as unknown as WSGIApplication);
    assert.match(errors.text, /write\(\) argument must be a Uint8Array, got "text"/);
  });
});

describe("BaseHandler: the body's close()", () => {
  it("is called once after a normal response", async () => {
    const { app, log } = tracked(["a", "b"]);
    await runHandler(app);
    assert.equal(log.closed, 1);
  });

  it("is called once when iteration throws", async () => {
    let closed = 0;
    const { output } = await runHandler((_e, sr) => {
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return {
        *[Symbol.iterator]() {
          yield bytes("part");
          throw new Error("mid-body");
        },
        close() {
          closed++;
        },
      };
    });
    assert.match(output, /part$/);
    assert.equal(closed, 1);
  });

  it("is called once when the client went away", async () => {
    const out = new Writable({
      write(_chunk, _enc, done) {
        done(Object.assign(new Error("gone"), { code: "EPIPE" }));
      },
    });
    out.on("error", () => {});
    let closed = 0;
    const handler = new SimpleHandler(
      BodyInputStream.of(),
      out,
      new BufferedErrorStream(),
      BASE_ENV,
    );
    await handler.run((_e, sr) => {
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return {
        async *[Symbol.asyncIterator]() {
          for (;;) {
            yield bytes("x".repeat(1024));
            await new Promise((r) => setImmediate(r));
          }
        },
        close() {
          closed++;
        },
      };
    });
    assert.equal(closed, 1);
  });
});

describe("BaseHandler: startResponse", () => {
  it("re-throws excInfo once the headers were sent", async () => {
    const { output, errors } = await runHandler((_e, sr) => {
      const write = sr("200 OK", [["Content-Type", "text/plain"]]);
      write(bytes("sent"));
      sr("500 Oops", [["Content-Type", "text/plain"]], new Error("late failure"));
      return [];
    });
    assert.match(output, /^HTTP\/1.0 200 OK\r\n[\s\S]*sent$/);
    assert.match(errors.text, /late failure/);
  });

  it("refuses a second call without excInfo", async () => {
    const { errors } = await runHandler((_e, sr) => {
      sr("200 OK", []);
      sr("200 OK", []);
      return [];
    });
    assert.match(errors.text, /Headers already set!/);
  });

  it("records status and bytesSent, then resets them on close", async () => {
    const seen: Array<[string | undefined, number]> = [];
    class Recording extends SimpleHandler {
      override async close() {
        seen.push([this.status, this.bytesSent]);
        await super.close();
      }
    }
    const handler = new Recording(
      BodyInputStream.of(),
      new Sink(),
      new BufferedErrorStream(),
      BASE_ENV,
    );
    await handler.run((_e, sr) => {
      sr("201 Created", [["Content-Type", "text/plain"]]);
      return [bytes("abc"), bytes("de")];
    });
    assert.deepEqual(seen, [["201 Created", 5]]);
    assert.equal(handler.status, undefined);
    assert.equal(handler.bytesSent, 0);
  });
});

describe("BaseHandler: async applications and bodies", () => {
  it("awaits an async app and iterates an async generator", async () => {
    const { output } = await runHandler(async (_e, sr) => {
      await new Promise((r) => setImmediate(r));
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return (async function* () {
        yield bytes("async ");
        yield bytes("body");
      })();
    });
    assert.match(output, /\r\n\r\nasync body$/);
  });

  it("reads wsgi.input", async () => {
    const out = new Sink();
    const handler = new SimpleHandler(
      BodyInputStream.of("posted"),
      out,
      new BufferedErrorStream(),
      { ...BASE_ENV, REQUEST_METHOD: "POST", CONTENT_LENGTH: "6" },
    );
    await handler.run(async (env, sr) => {
      const data = await env["wsgi.input"].read();
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return [data];
    });
    assert.match(out.text, /Content-Length: 6\r\n\r\nposted$/);
  });

  it("reads a Readable stdin no further than CONTENT_LENGTH", async () => {
    const stdin = new PassThrough();
    stdin.write("12345");
    stdin.write("EXTRA");
    const out = new Sink();
    const handler = new SimpleHandler(stdin, out, new BufferedErrorStream(), {
      ...BASE_ENV,
      CONTENT_LENGTH: "5",
    });
    await handler.run(async (env, sr) => {
      const data = await env["wsgi.input"].read();
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return [data];
    });
    assert.match(out.text, /\r\n\r\n12345$/);
  });

  it("waits for a slow Writable: write() resolves on drain", async () => {
    let pending = 0;
    let maxPending = 0;
    const out = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, done) {
        pending++;
        maxPending = Math.max(maxPending, pending);
        setTimeout(() => {
          pending--;
          done();
        }, 1);
      },
    });
    const handler = new SimpleHandler(
      BodyInputStream.of(),
      out,
      new BufferedErrorStream(),
      BASE_ENV,
    );
    let produced = 0;
    await handler.run((_e, sr) => {
      sr("200 OK", [["Content-Type", "application/octet-stream"]]);
      return (function* () {
        for (let i = 0; i < 50; i++) {
          produced++;
          yield new Uint8Array(4096);
        }
      })();
    });
    assert.equal(produced, 50);
    assert.ok(out.writableLength <= 8192, `buffered ${out.writableLength} bytes`);
  });
});

describe("SimpleHandler: partial writes", () => {
  it("writes the rest when the output takes part of a chunk, and retries a full one (EAGAIN)", async () => {
    const taken: Buffer[] = [];
    let calls = 0;
    const sink = {
      write(data: Uint8Array): number {
        calls++;
        if (calls % 5 === 0) throw Object.assign(new Error("full"), { code: "EAGAIN" });
        const n = Math.min(1000, data.length);
        taken.push(Buffer.from(data.subarray(0, n)));
        return n;
      },
    };
    const body = Buffer.alloc(64 * 1024, 7);
    const handler = new SimpleHandler(
      BodyInputStream.of(),
      sink,
      new BufferedErrorStream(),
      BASE_ENV,
    );
    await handler.run((_e, sr) => {
      sr("200 OK", [["Content-Type", "application/octet-stream"]]);
      return [body];
    });
    const out = Buffer.concat(taken);
    const head = out.indexOf("\r\n\r\n") + 4;
    assert.match(out.subarray(0, head).toString("latin1"), /Content-Length: 65536\r\n/);
    assert.equal(out.length - head, body.length);
    assert.ok(out.subarray(head).equals(body));
  });

  it("delivers a 1 MiB body whole through fs.writeSync to a slow pipe", async () => {
    const script = `
      import { writeSync } from "node:fs";
      import { SimpleHandler } from "./src/handlers.ts";
      import { BodyInputStream, BufferedErrorStream } from "./src/streams.ts";
      process.stdout; // makes the pipe non-blocking, as any use of stdout does
      const handler = new SimpleHandler(BodyInputStream.of(), { write: (d) => writeSync(1, d) },
        new BufferedErrorStream(), { REQUEST_METHOD: "GET", SERVER_PROTOCOL: "HTTP/1.0" });
      await handler.run((_e, sr) => {
        sr("200 OK", [["Content-Type", "application/octet-stream"]]);
        return [Buffer.alloc(1024 * 1024, 0x61)];
      });
    `;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: new URL("..", import.meta.url).pathname,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const chunks: Buffer[] = [];
    child.stdout.pause();
    const reading = (async () => {
      for await (const chunk of child.stdout) {
        chunks.push(chunk as Buffer);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    await reading;
    const out = Buffer.concat(chunks);
    const head = out.indexOf("\r\n\r\n") + 4;
    assert.match(out.subarray(0, head).toString("latin1"), /Content-Length: 1048576\r\n/);
    assert.equal(out.length - head, 1024 * 1024);
  });
});

describe("BaseHandler: file wrappers", () => {
  it("offers wsgi.file_wrapper and iterates it when sendfile() declines", async () => {
    const { output } = await runHandler((env, sr) => {
      sr("200 OK", [["Content-Type", "text/plain"]]);
      let given = false;
      return env["wsgi.file_wrapper"]!({
        read: () => {
          if (given) return new Uint8Array(0);
          given = true;
          return bytes("file body");
        },
      });
    });
    assert.match(output, /\r\n\r\nfile body$/);
  });

  it("calls sendfile() first for a FileWrapper body", async () => {
    class Sending extends SimpleHandler {
      sent = false;
      override sendfile() {
        this.sent = this.result instanceof FileWrapper;
        return this.sent;
      }
    }
    const handler = new Sending(
      BodyInputStream.of(),
      new Sink(),
      new BufferedErrorStream(),
      BASE_ENV,
    );
    await handler.run((env, sr) => {
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return env["wsgi.file_wrapper"]!({ read: () => new Uint8Array(0) });
    });
    assert.equal(handler.sent, true);
  });
});

describe("BaseHandler: errors", () => {
  it("uses errorStatus, errorHeaders and errorBody, and logs the stack", async () => {
    class Custom extends SimpleHandler {
      override errorStatus = "503 Service Unavailable";
      override errorHeaders: HeaderTuple[] = [["Content-Type", "text/html"]];
      override errorBody = bytes("<p>later</p>");
    }
    const out = new Sink();
    const errors = new BufferedErrorStream();
    const handler = new Custom(BodyInputStream.of(), out, errors, BASE_ENV);
    await handler.run(() => {
      throw new Error("exploded");
    });
    assert.match(out.text, /^HTTP\/1.0 503 Service Unavailable\r\n/);
    assert.match(out.text, /Content-Type: text\/html\r\nContent-Length: 12\r\n\r\n<p>later<\/p>$/);
    assert.match(errors.text, /Error: exploded\n\s+at /);
  });

  it("cuts the traceback to tracebackLimit frames", async () => {
    const errors = new BufferedErrorStream();
    const handler = new SimpleHandler(BodyInputStream.of(), new Sink(), errors, BASE_ENV);
    handler.tracebackLimit = 1;
    await handler.run(() => {
      throw new Error("short");
    });
    assert.equal(errors.text.match(/^\s+at /gm)?.length, 1);
  });

  it("rejects run() when even the error page cannot be sent", async () => {
    class Broken extends SimpleHandler {
      override errorOutput(): ResponseBody {
        throw new Error("error page failed");
      }
    }
    const handler = new Broken(
      BodyInputStream.of(),
      new Sink(),
      new BufferedErrorStream(),
      BASE_ENV,
    );
    await assert.rejects(
      handler.run(() => {
        throw new Error("first");
      }),
      /error page failed/,
    );
  });
});

describe("BaseHandler: the gateway hooks", () => {
  /** A gateway that refuses any head carrying `X-Refuse`, as the HTTP core refuses a bad one. */
  class Picky extends SimpleHandler {
    heads = 0;
    protected override sendHead_(): void | Promise<void> {
      if (this.headers!.has("X-Refuse")) throw new RangeError("refused by the gateway");
      this.heads++;
      return super.sendHead_();
    }
  }

  it("leaves headersSent false when sendHead_ refuses, so the error page still goes out", async () => {
    const out = new Sink();
    const errors = new BufferedErrorStream();
    const handler = new Picky(BodyInputStream.of(), out, errors, BASE_ENV);
    await handler.run((_e, startResponse) => {
      startResponse("200 OK", [
        ["Content-Type", "text/plain"],
        ["X-Refuse", "1"],
      ]);
      return [bytes("never sent")];
    });
    assert.match(out.text, /^HTTP\/1.0 500 Internal Server Error\r\n/);
    assert.doesNotMatch(out.text, /never sent|X-Refuse/);
    assert.equal(handler.heads, 1);
    assert.match(errors.text, /RangeError: refused by the gateway/);
  });

  it("calls end_ once after the last byte, and after the headers of an empty body", async () => {
    const ends: string[] = [];
    class Ending extends SimpleHandler {
      protected override end_(): void {
        ends.push(this.headersSent ? "after head" : "before head");
      }
    }
    const handler = new Ending(
      BodyInputStream.of(),
      new Sink(),
      new BufferedErrorStream(),
      BASE_ENV,
    );
    await handler.run((_e, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [];
    });
    await handler.run((_e, startResponse) => {
      startResponse("200 OK", [["Content-Type", "text/plain"]]);
      return [bytes("a"), bytes("b")];
    });
    assert.deepEqual(ends, ["after head", "after head"]);
  });
});

describe("BaseHandler: the environ", () => {
  it("has the wsgi.* keys and the handler's settings", async () => {
    let seen: Record<string, unknown> = {};
    const handler = new SimpleHandler(
      BodyInputStream.of(),
      new Sink(),
      new BufferedErrorStream(),
      {
        ...BASE_ENV,
        HTTPS: "on",
      },
      { multithread: false, multiprocess: true },
    );
    handler.osEnviron = { FROM_OS: "yes" };
    handler.serverSoftware = "Soft/1";
    await handler.run((env, sr) => {
      seen = env;
      sr("200 OK", []);
      return [];
    });
    assert.deepEqual(seen["wsgi.version"], [1, 0]);
    assert.equal(seen["wsgi.url_scheme"], "https");
    assert.equal(seen["wsgi.multithread"], false);
    assert.equal(seen["wsgi.multiprocess"], true);
    assert.equal(seen["wsgi.run_once"], false);
    assert.equal(seen.FROM_OS, "yes");
    assert.equal(seen.SERVER_SOFTWARE, "Soft/1");
    assert.equal(typeof seen["wsgi.file_wrapper"], "function");
  });

  it("is a subclass's to extend through addCgiVars", async () => {
    class Custom extends BaseHandler {
      out = new Sink();
      protected override write_(data: Uint8Array) {
        this.out.write(data);
      }
      protected override flush_() {}
      override getStdin() {
        return BodyInputStream.of();
      }
      override getStderr() {
        return new BufferedErrorStream();
      }
      override addCgiVars() {
        Object.assign(this.environ, BASE_ENV, { CUSTOM: "1" });
      }
    }
    const handler = new Custom();
    handler.osEnviron = {};
    await handler.run((env, sr) => {
      sr("200 OK", [["Content-Type", "text/plain"]]);
      return [bytes(String(env.CUSTOM))];
    });
    assert.match(handler.out.text, /\r\n\r\n1$/);
  });
});

describe("readEnviron, IISCGIHandler and formatDateTime", () => {
  it("turns request variables into native strings and leaves the others", () => {
    const env = readEnviron({ PATH_INFO: "/café", HOME: "/home/café", HTTP_X: "é" });
    assert.equal(env.PATH_INFO, "/cafÃ©");
    assert.equal(env.HTTP_X, "Ã©");
    assert.equal(env.HOME, "/home/café");
  });

  it("IISCGIHandler strips SCRIPT_NAME repeated at the front of PATH_INFO", () => {
    const handler = new IISCGIHandler({ SCRIPT_NAME: "/app", PATH_INFO: "/app/x/y" });
    assert.equal(handler.baseEnv.PATH_INFO, "/x/y");
    const other = new IISCGIHandler({ SCRIPT_NAME: "/app", PATH_INFO: "/application" });
    assert.equal(other.baseEnv.PATH_INFO, "/application");
  });

  it("formatDateTime writes IMF-fixdate like CPython", () => {
    assert.equal(formatDateTime(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert.equal(formatDateTime(1_795_000_000.9), "Wed, 18 Nov 2026 11:06:40 GMT");
  });
});

describe("handlers under the validator", () => {
  it("a correct app and SimpleHandler pass the validator cleanly", async () => {
    const { validator } = await import("../src/validate.ts");
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const app: WSGIApplication = async (environ, startResponse) => {
        const body = await environ["wsgi.input"].read();
        const write = startResponse("200 OK", [["Content-Type", "text/plain"]]);
        await write(bytes("got "));
        return (function* () {
          yield body;
        })();
      };
      const out = new Sink();
      const errors = new BufferedErrorStream();
      const handler = new SimpleHandler(BodyInputStream.of("data"), out, errors, {
        ...BASE_ENV,
        REQUEST_METHOD: "POST",
        CONTENT_LENGTH: "4",
        QUERY_STRING: "",
      });
      await handler.run(validator(app));
      assert.match(out.text, /^HTTP\/1.0 200 OK\r\n[\s\S]*\r\n\r\ngot data$/);
      assert.equal(errors.text, "");
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        warnings.filter((w) => w.name === "WSGIWarning").map((w) => w.message),
        [],
      );
    } finally {
      process.off("warning", onWarning);
    }
  });
});
