import assert, { AssertionError } from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";
import { BodyInputStream, BufferedErrorStream } from "../src/streams.ts";
import type {
  ErrorStream,
  HeaderTuple,
  InputStream,
  ResponseBody,
  StartResponse,
  WriteCallable,
  WSGIApplication,
  WSGIEnvironment,
} from "../src/types.ts";
import { validator, WSGIWarning } from "../src/validate.ts";

// ---------------------------------------------------------------------------------------
// Helpers: a valid environ, a recording server, warning capture

/** A minimal valid environ; `overrides` replaces keys, `without` removes them. */
function makeEnviron(
  overrides: Record<string, unknown> = {},
  without: string[] = [],
): WSGIEnvironment {
  const environ: Record<string, unknown> = {
    REQUEST_METHOD: "GET",
    SCRIPT_NAME: "",
    PATH_INFO: "/",
    QUERY_STRING: "",
    SERVER_NAME: "127.0.0.1",
    SERVER_PORT: "80",
    SERVER_PROTOCOL: "HTTP/1.0",
    HTTP_HOST: "127.0.0.1",
    "wsgi.version": [1, 0],
    "wsgi.url_scheme": "http",
    "wsgi.input": BodyInputStream.of(""),
    "wsgi.errors": new BufferedErrorStream(),
    "wsgi.multithread": false,
    "wsgi.multiprocess": false,
    "wsgi.run_once": false,
    ...overrides,
  };
  for (const key of without) delete environ[key];
  return environ as WSGIEnvironment;
}

/** A server-side `start_response` that records what it was given and what was written. */
function recorder() {
  const calls: unknown[][] = [];
  const written: Uint8Array[] = [];
  const startResponse = ((...args: unknown[]) => {
    calls.push(args);
    return (data: Uint8Array) => {
      written.push(data);
    };
  }) as StartResponse;
  return { calls, written, startResponse };
}

const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString("latin1");
const ok: HeaderTuple[] = [["Content-Type", "text/plain"]];

/** Runs `app` under the validator as a careful server would, closing the body in any case. */
async function serve(app: WSGIApplication, environ: WSGIEnvironment = makeEnviron()) {
  const { calls, written, startResponse } = recorder();
  const body = await validator(app)(environ, startResponse);
  try {
    if (Symbol.iterator in body) {
      for (const chunk of body) written.push(chunk);
    } else {
      for await (const chunk of body) written.push(chunk);
    }
  } finally {
    await body.close?.();
  }
  return { status: calls[0]?.[0], headers: calls[0]?.[1], body: text(written), calls };
}

/** Calls the validated app and returns the body without iterating it. */
async function call(
  app: WSGIApplication,
  environ: WSGIEnvironment = makeEnviron(),
  startResponse: StartResponse = recorder().startResponse,
): Promise<ResponseBody> {
  return await validator(app)(environ, startResponse);
}

/** Runs `fn` and returns the messages of the WSGIWarnings emitted meanwhile. */
async function warningsOf(fn: () => unknown): Promise<string[]> {
  const seen: string[] = [];
  const listener = (warning: Error) => {
    if (warning.name === "WSGIWarning") seen.push(warning.message);
  };
  process.on("warning", listener);
  try {
    await fn();
    await tick(); // process.emitWarning delivers on the next tick
  } finally {
    process.off("warning", listener);
  }
  return seen;
}

/** An app that answers with `status` and `headers`, and an empty body. */
const responding =
  (status: unknown, headers: unknown, ...rest: unknown[]): WSGIApplication =>
  (_environ, startResponse) => {
    Reflect.apply(startResponse, undefined, [status, headers, ...rest]);
    return [];
  };

/** Asserts that running `app` fails with an AssertionError whose message matches. */
async function rejectsWith(app: WSGIApplication, message: RegExp, environ?: WSGIEnvironment) {
  await assert.rejects(serve(app, environ), (error: unknown) => {
    assert.ok(error instanceof AssertionError, `expected an AssertionError, got ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

const hello: WSGIApplication = (_environ, startResponse) => {
  startResponse("200 OK", ok);
  return [Buffer.from("Hello World")];
};

// ---------------------------------------------------------------------------------------

describe("validator: conforming applications", () => {
  it("passes a sync array body with no warnings", async () => {
    let result: Awaited<ReturnType<typeof serve>> | undefined;
    const warnings = await warningsOf(async () => {
      result = await serve(hello);
    });
    assert.deepEqual(warnings, []);
    assert.equal(result?.status, "200 OK");
    assert.deepEqual(result?.headers, ok);
    assert.equal(result?.body, "Hello World");
  });

  it("passes a generator that calls startResponse when first iterated", async () => {
    const app: WSGIApplication = function* (_environ, startResponse) {
      startResponse("200 OK", ok);
      yield Buffer.from("a");
      yield Buffer.from("b");
    };
    const warnings = await warningsOf(async () => {
      assert.equal((await serve(app)).body, "ab");
    });
    assert.deepEqual(warnings, []);
  });

  it("passes an async generator body", async () => {
    const app: WSGIApplication = async function* (_environ, startResponse) {
      startResponse("200 OK", ok);
      await tick();
      yield Buffer.from("x");
    };
    const warnings = await warningsOf(async () => {
      assert.equal((await serve(app)).body, "x");
    });
    assert.deepEqual(warnings, []);
  });

  it("passes an async app that reads the input, logs, and uses write()", async () => {
    const errors = new BufferedErrorStream();
    const app: WSGIApplication = async (environ, startResponse) => {
      const input = environ["wsgi.input"];
      const first = await input.readline();
      const rest = await input.read();
      environ["wsgi.errors"].write("got body\n");
      environ["wsgi.errors"].writelines(["a", "b\n"]);
      environ["wsgi.errors"].flush();
      const write = startResponse("200 OK", ok);
      await write(first);
      return [rest];
    };
    const environ = makeEnviron({
      REQUEST_METHOD: "POST",
      CONTENT_LENGTH: "9",
      CONTENT_TYPE: "text/plain",
      "wsgi.input": BodyInputStream.of("one\ntwo\n!"),
      "wsgi.errors": errors,
    });
    const warnings = await warningsOf(async () => {
      assert.equal((await serve(app, environ)).body, "one\ntwo\n!");
    });
    assert.deepEqual(warnings, []);
    assert.equal(errors.text, "got body\nab\n");
  });

  it("passes a Node Readable body", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", ok);
      return Readable.from([Buffer.from("r1"), Buffer.from("r2")]);
    };
    assert.equal((await serve(app)).body, "r1r2");
  });

  it("returns a sync body synchronously and keeps it sync-iterable only", () => {
    const { startResponse } = recorder();
    const body = validator(hello)(makeEnviron(), startResponse);
    assert.ok(!(body instanceof Promise), "a sync app's body must not become a promise");
    assert.ok(Symbol.iterator in body);
    assert.ok(!(Symbol.asyncIterator in body));
    assert.deepEqual(
      [...(body as Iterable<Uint8Array>)].map((b) => text([b])),
      ["Hello World"],
    );
    body.close?.();
  });

  it("gives an async body an async-iterable wrapper", async () => {
    const app: WSGIApplication = async function* (_environ, startResponse) {
      startResponse("200 OK", ok);
      yield Buffer.from("x");
    };
    const body = await call(app);
    assert.ok(Symbol.asyncIterator in body);
    assert.ok(!(Symbol.iterator in body));
    await body.close?.();
  });

  it("keeps both protocols of a body that is iterable and async-iterable", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", ok);
      return Object.assign([Buffer.from("s")], {
        async *[Symbol.asyncIterator]() {
          yield Buffer.from("a");
        },
      });
    };
    const body = (await call(app)) as Iterable<Uint8Array> & AsyncIterable<Uint8Array>;
    assert.equal(text([...body]), "s");
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    assert.equal(text(chunks), "a");
    await (body as ResponseBody).close?.();
  });

  it("forwards close() to the application's body", async () => {
    let closed = 0;
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", ok);
      return Object.assign([Buffer.from("x")], {
        close() {
          closed += 1;
        },
      });
    };
    await serve(app);
    assert.equal(closed, 1);
  });

  it("forwards an early end of iteration to the body's iterator", async () => {
    let cleanedUp = false;
    const app: WSGIApplication = function* (_environ, startResponse) {
      startResponse("200 OK", ok);
      try {
        yield Buffer.from("a");
        yield Buffer.from("b");
      } finally {
        cleanedUp = true;
      }
    };
    const body = (await call(app)) as Iterable<Uint8Array> & ResponseBody;
    for (const _chunk of body) break;
    assert.ok(cleanedUp);
    await body.close?.();
  });

  it("lets extension keys (with a dot) hold any value", async () => {
    const environ = makeEnviron({ "myapp.session": { user: 1 }, "wsgi.input_terminated": true });
    assert.equal((await serve(hello, environ)).body, "Hello World");
  });

  it("accepts CONTENT_LENGTH the way Python's int() does", async () => {
    for (const length of ["0", "12", " 12 ", "+3", "1_000", "-0", ""]) {
      await serve(hello, makeEnviron({ CONTENT_LENGTH: length }));
    }
  });

  it("emits WSGIWarning objects named WSGIWarning", async () => {
    const seen: Error[] = [];
    const listener = (warning: Error) => seen.push(warning);
    process.on("warning", listener);
    try {
      await serve(hello, makeEnviron({ REQUEST_METHOD: "BREW" }));
      await tick();
    } finally {
      process.off("warning", listener);
    }
    const warning = seen.find((w) => w.name === "WSGIWarning");
    assert.ok(warning instanceof WSGIWarning);
    assert.ok(warning instanceof Error);
  });
});

describe("validator: the application's return value", () => {
  it("rejects a bare Uint8Array body (the seed's example)", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", [["Content-type", "text/plain"]]);
      return Buffer.from("Hello World") as unknown as ResponseBody;
    };
    await rejectsWith(app, /should not return a bytes object .*single-item array/);
  });

  it("rejects a string body", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", ok);
      return "Hello World" as unknown as ResponseBody;
    };
    await rejectsWith(
      app,
      /should not return a string as your application iterator.*'Hello World'/,
    );
  });

  it("rejects a missing body", async () => {
    const app = (() => undefined) as unknown as WSGIApplication;
    await rejectsWith(app, /must return an iterator, if only an empty list/);
  });

  it("rejects a body that is not iterable", async () => {
    const app = (() => ({ chunks: [] })) as unknown as WSGIApplication;
    await rejectsWith(app, /must return an iterable of Uint8Array \(sync or async\), got Object/);
  });

  it("rejects a body a promise resolves to, just as a direct one", async () => {
    const app = (async () => 42) as unknown as WSGIApplication;
    await rejectsWith(app, /must return an iterable .* got number: 42/);
  });
});

describe("validator: how the server calls the application", () => {
  it("requires exactly two arguments", () => {
    const app = validator(hello) as (...args: unknown[]) => unknown;
    assert.throws(() => app(makeEnviron()), /Two arguments required \(got 1\)/);
  });

  it("requires start_response to be a function", () => {
    const app = validator(hello) as (...args: unknown[]) => unknown;
    assert.throws(() => app(makeEnviron(), "nope"), /start_response must be a function/);
  });

  it("requires start_response to return a write() function", async () => {
    const startResponse = (() => undefined) as unknown as StartResponse;
    await assert.rejects(
      call(hello, makeEnviron(), startResponse),
      /start_response must return a write\(\) function \(got undefined\)/,
    );
  });
});

describe("validator: environ", () => {
  const check = (environ: unknown, message: RegExp) =>
    rejectsWith(hello, message, environ as WSGIEnvironment);

  it("must be a plain object", async () => {
    await check(new Map(), /Environment is not of the right type: Map/);
    await check([], /Environment is not of the right type: Array/);
  });

  for (const key of [
    "REQUEST_METHOD",
    "SERVER_NAME",
    "SERVER_PORT",
    "wsgi.version",
    "wsgi.input",
    "wsgi.errors",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
  ]) {
    it(`requires the key ${key}`, async () => {
      await check(makeEnviron({}, [key]), new RegExp(`Environment missing required key: '${key}'`));
    });
  }

  for (const key of ["HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"]) {
    it(`must not have the key ${key}`, async () => {
      await check(
        makeEnviron({ [key]: "1" }),
        new RegExp(`should not have the key: ${key} \\(use ${key.slice(5)} instead\\)`),
      );
    });
  }

  it("warns when QUERY_STRING is missing", async () => {
    const warnings = await warningsOf(() => serve(hello, makeEnviron({}, ["QUERY_STRING"])));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /QUERY_STRING is not in the WSGI environment/);
  });

  it("requires CGI variables to be strings", async () => {
    await check(
      makeEnviron({ SERVER_PORT: 80 }),
      /Environmental variable SERVER_PORT is not a string: number \(value: 80\)/,
    );
  });

  it("requires CGI variables to be native strings (latin-1)", async () => {
    await check(
      makeEnviron({ PATH_INFO: "/caf\u00e9\u20ac" }),
      /PATH_INFO is not a native string \(bytes as latin-1\).*bad char: '€'/,
    );
  });

  it("requires wsgi.version to be an array", async () => {
    await check(makeEnviron({ "wsgi.version": "1.0" }), /wsgi.version should be an array.*'1.0'/);
  });

  it("requires wsgi.url_scheme to be http or https", async () => {
    await check(makeEnviron({ "wsgi.url_scheme": "ftp" }), /wsgi.url_scheme unknown: 'ftp'/);
  });

  it("requires wsgi.input to have read, readline, readlines and async iteration", async () => {
    const input = BodyInputStream.of("");
    const noReadlines = { read: input.read, readline: input.readline };
    await check(
      makeEnviron({ "wsgi.input": noReadlines }),
      /wsgi.input \(.*\) doesn't have the method readlines/,
    );
    const noIteration = { ...noReadlines, readlines: input.readlines };
    await check(
      makeEnviron({ "wsgi.input": noIteration }),
      /doesn't have the method \[Symbol.asyncIterator\]/,
    );
  });

  it("requires wsgi.errors to have flush, write and writelines", async () => {
    await check(
      makeEnviron({ "wsgi.errors": { write() {}, writelines() {} } }),
      /wsgi.errors \(.*\) doesn't have the method flush/,
    );
  });

  it("warns about an unknown REQUEST_METHOD", async () => {
    const warnings = await warningsOf(() => serve(hello, makeEnviron({ REQUEST_METHOD: "BREW" })));
    assert.deepEqual(warnings, ["Unknown REQUEST_METHOD: 'BREW'"]);
  });

  it("hands warnings to onWarning instead of process.emitWarning when given", async () => {
    const received: WSGIWarning[] = [];
    const app = validator(hello, { onWarning: (w) => received.push(w) });
    const emitted = await warningsOf(async () => {
      const { startResponse } = recorder();
      const body = await app(makeEnviron({ REQUEST_METHOD: "BREW" }), startResponse);
      await body.close?.();
    });
    assert.deepEqual(emitted, []);
    assert.deepEqual(
      received.map((w) => [w.name, w.message]),
      [["WSGIWarning", "Unknown REQUEST_METHOD: 'BREW'"]],
    );
  });

  it("requires SCRIPT_NAME to be empty or start with /", async () => {
    await check(makeEnviron({ SCRIPT_NAME: "app" }), /SCRIPT_NAME doesn't start with \/: 'app'/);
  });

  it("requires PATH_INFO to be empty or start with /", async () => {
    await check(makeEnviron({ PATH_INFO: "x/y" }), /PATH_INFO doesn't start with \/: 'x\/y'/);
  });

  it("requires CONTENT_LENGTH to be a non-negative integer", async () => {
    await check(makeEnviron({ CONTENT_LENGTH: "abc" }), /Invalid CONTENT_LENGTH: 'abc'/);
    await check(makeEnviron({ CONTENT_LENGTH: "-1" }), /Invalid CONTENT_LENGTH: '-1'/);
    await check(makeEnviron({ CONTENT_LENGTH: "1.5" }), /Invalid CONTENT_LENGTH: '1.5'/);
  });

  it("requires PATH_INFO when SCRIPT_NAME is empty", async () => {
    await check(
      makeEnviron({ SCRIPT_NAME: "" }, ["PATH_INFO"]),
      /One of SCRIPT_NAME or PATH_INFO are required/,
    );
  });

  it("rejects SCRIPT_NAME '/'", async () => {
    await check(
      makeEnviron({ SCRIPT_NAME: "/", PATH_INFO: "" }),
      /SCRIPT_NAME cannot be '\/'; it should instead be '', and PATH_INFO should be '\/'/,
    );
  });
});

describe("validator: start_response", () => {
  it("takes two or three arguments", async () => {
    const calling =
      (...args: unknown[]): WSGIApplication =>
      (_environ, startResponse) => {
        Reflect.apply(startResponse, undefined, args);
        return [];
      };
    await rejectsWith(calling("200 OK"), /Invalid number of arguments to start_response: 1/);
    await rejectsWith(
      calling("200 OK", ok, undefined, 1),
      /Invalid number of arguments to start_response: 4/,
    );
  });

  it("requires the status to be a string", async () => {
    await rejectsWith(responding(200, ok), /Status must be of type string \(got 200\)/);
  });

  it("requires a status code", async () => {
    await rejectsWith(responding("", ok), /Status has no status code: ''/);
  });

  it("requires a three-character status code", async () => {
    await rejectsWith(responding("2000 OK", ok), /Status codes must be three characters: '2000'/);
  });

  it("requires the status code to be an integer", async () => {
    await rejectsWith(responding("2x0 OK", ok), /Status code must be an integer: '2x0'/);
  });

  it("requires the status code to be at least 100", async () => {
    await rejectsWith(responding("099 Low", ok), /Status code is invalid: 99/);
  });

  it("rejects control characters in the status", async () => {
    await rejectsWith(responding("200 OK\r\nX: y", ok), /Bad status: .*bad char: '\\r'/);
  });

  it("warns when the status has no reason phrase", async () => {
    const warnings = await warningsOf(() => serve(responding("200", ok)));
    assert.deepEqual(warnings, [
      "The status string ('200') should be a three-digit integer followed by a single space " +
        "and a status explanation",
    ]);
  });

  it("requires the headers to be an array", async () => {
    await rejectsWith(
      responding("200 OK", { "Content-Type": "text/plain" }),
      /Headers \(.*\) must be of type Array: Object/,
    );
  });

  it("requires each header to be a [name, value] array", async () => {
    await rejectsWith(
      responding("200 OK", ["Content-Type: text/plain"]),
      /Individual headers \('Content-Type: text\/plain'\) must be \[name, value\] arrays: string/,
    );
  });

  it("requires each header to have exactly two items", async () => {
    await rejectsWith(
      responding("200 OK", [["Content-Type", "text/plain", "x"]]),
      /must have exactly 2 items/,
    );
  });

  it("requires header names and values to be strings", async () => {
    await rejectsWith(
      responding("200 OK", [[1, "x"], ...ok]),
      /Header name must be of type string \(got 1\)/,
    );
    await rejectsWith(
      responding("200 OK", [["X-Count", 1], ...ok]),
      /Header value must be of type string \(got 1\)/,
    );
  });

  it("rejects a Status header", async () => {
    await rejectsWith(
      responding("200 OK", [["Status", "404"], ...ok]),
      /The Status header cannot be used.*\(value: '404'\)/,
    );
  });

  it("rejects ':' and newlines in header names", async () => {
    await rejectsWith(
      responding("200 OK", [["X:Y", "1"], ...ok]),
      /Header names may not contain ':' or '\\n': 'X:Y'/,
    );
    await rejectsWith(
      responding("200 OK", [["X\nY", "1"], ...ok]),
      /Header names may not contain ':' or '\\n'/,
    );
  });

  it("rejects header names with characters outside letters, digits, '-' and '_'", async () => {
    await rejectsWith(responding("200 OK", [["X Y", "1"], ...ok]), /Bad header name: 'X Y'/);
    await rejectsWith(responding("200 OK", [["1X", "1"], ...ok]), /Bad header name: '1X'/);
  });

  it("rejects header names that end in '-' or '_'", async () => {
    await rejectsWith(
      responding("200 OK", [["X-", "1"], ...ok]),
      /Names may not end in '-' or '_': 'X-'/,
    );
    await rejectsWith(
      responding("200 OK", [["X_", "1"], ...ok]),
      /Names may not end in '-' or '_': 'X_'/,
    );
  });

  it("rejects control characters in header values", async () => {
    for (const [bad, shown] of [
      ["\r", "\\\\r"],
      ["\n", "\\\\n"],
      ["\x00", "\\\\x00"],
      ["\x1f", "\\\\x1F"],
    ] as const) {
      await rejectsWith(
        responding("200 OK", [["X-A", `a${bad}b`], ...ok]),
        new RegExp(`Bad header value: .* \\(bad char: '${shown}'\\)`),
      );
    }
  });

  it("rejects header values that are not latin-1", async () => {
    await rejectsWith(
      responding("200 OK", [["X-A", "\u20ac"], ...ok]),
      /Header value is not latin-1: '€'/,
    );
  });

  it("requires a Content-Type header, except for 1xx, 204 and 304", async () => {
    await rejectsWith(responding("200 OK", []), /No Content-Type header found in headers/);
    await serve(responding("103 Early Hints", [["Link", "</a.css>; rel=preload"]]));
    await serve(responding("204 No Content", []));
    await serve(responding("304 Not Modified", [["ETag", '"x"']]));
  });

  it("finds the Content-Type header in any case", async () => {
    await serve(responding("200 OK", [["content-TYPE", "text/plain"]]));
  });

  it("rejects a Content-Type header in 204 and 304 responses", async () => {
    await rejectsWith(
      responding("204 No Content", ok),
      /Content-Type header found in a 204 response, which must not return content./,
    );
    await rejectsWith(responding("304 Not Modified", ok), /found in a 304 response/);
  });

  it("requires excInfo to be an Error when given", async () => {
    await rejectsWith(
      responding("200 OK", ok, "oops"),
      /excInfo \('oops'\) is not an Error: string/,
    );
    await serve(responding("200 OK", ok, new Error("oops")));
    await serve(responding("200 OK", ok, undefined));
  });

  it("rejects a second call without excInfo", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", ok);
      startResponse("500 Oops", ok);
      return [];
    };
    await rejectsWith(app, /start_response was called a second time without excInfo/);
  });

  it("allows a second call with excInfo", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", ok);
      try {
        throw new Error("late failure");
      } catch (error) {
        startResponse("500 Internal Server Error", ok, error);
      }
      return [Buffer.from("sorry")];
    };
    const { calls, body } = await serve(app);
    assert.equal(calls.length, 2);
    assert.equal(body, "sorry");
  });
});

describe("validator: write()", () => {
  it("takes only bytes", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      const write = startResponse("200 OK", ok) as (data: unknown) => void;
      write("text");
      return [];
    };
    await rejectsWith(app, /write\(\) argument must be a Uint8Array \(bytes\), got string: 'text'/);
  });

  it("passes the bytes and the server's promise through", async () => {
    const { calls, startResponse } = recorder();
    const pending = Promise.resolve();
    const server: StartResponse = (...args) => {
      startResponse(...args);
      return () => pending;
    };
    let returned: unknown;
    const app: WSGIApplication = (_environ, start) => {
      returned = start("200 OK", ok)(Buffer.from("x"));
      return [];
    };
    const body = await call(app, makeEnviron(), server);
    await body.close?.();
    assert.equal(calls.length, 1);
    assert.equal(returned, pending);
  });

  it("must not be called after the body was closed", async () => {
    let write: WriteCallable | undefined;
    const app: WSGIApplication = (_environ, startResponse) => {
      write = startResponse("200 OK", ok);
      return [];
    };
    const body = await call(app);
    await body.close?.();
    assert.throws(() => write?.(Buffer.from("late")), /write\(\) called after .* closed/);
  });
});

describe("validator: wsgi.input", () => {
  /** An app that runs `use` on the validated input, answering 200 afterwards. */
  const using =
    (use: (input: InputStream & { close?(): void }) => Promise<unknown>): WSGIApplication =>
    async (environ, startResponse) => {
      await use(environ["wsgi.input"]);
      startResponse("200 OK", ok);
      return [];
    };
  const loose = (input: InputStream) =>
    input as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

  it("read() takes at most one argument", async () => {
    await rejectsWith(
      using((input) => loose(input).read!(1, 2)),
      /wsgi.input.read\(\) takes at most one argument \(got 2/,
    );
  });

  it("read() takes an integer size", async () => {
    await rejectsWith(
      using((input) => loose(input).read!("10")),
      /wsgi.input.read\(\) size must be an integer \(got '10'\)/,
    );
    await rejectsWith(
      using((input) => input.read(1.5)),
      /size must be an integer \(got 1.5\)/,
    );
  });

  it("readline() takes at most one integer argument", async () => {
    await rejectsWith(
      using((input) => loose(input).readline!(1, 2)),
      /wsgi.input.readline\(\) takes at most one argument/,
    );
    await rejectsWith(
      using((input) => input.readline(Number.NaN)),
      /wsgi.input.readline\(\) size must be an integer \(got NaN\)/,
    );
  });

  it("readlines() takes at most one integer argument", async () => {
    await rejectsWith(
      using((input) => loose(input).readlines!(1, 2)),
      /wsgi.input.readlines\(\) takes at most one argument/,
    );
    await rejectsWith(
      using((input) => loose(input).readlines!(null)),
      /wsgi.input.readlines\(\) size must be an integer \(got null\)/,
    );
  });

  it("read1() is passed through when the server offers it, with its size checked", async () => {
    const seen: string[] = [];
    const app = using(async (input) => {
      seen.push(text([await input.read1!(2)]));
      seen.push(text([await input.read1!()]));
    });
    await serve(app, makeEnviron({ "wsgi.input": BodyInputStream.of("abcd") }));
    assert.deepEqual(seen, ["ab", "cd"]);
    await rejectsWith(
      using((input) => loose(input).read1!("2")),
      /wsgi.input.read1\(\) size must be an integer \(got '2'\)/,
    );
    const withoutRead1 = BodyInputStream.of("x") as InputStream;
    const plain: InputStream = {
      read: (n) => withoutRead1.read(n),
      readline: (n) => withoutRead1.readline(n),
      readlines: (n) => withoutRead1.readlines(n),
      [Symbol.asyncIterator]: () => withoutRead1[Symbol.asyncIterator](),
    };
    await assert.rejects(
      serve(
        using((input) => input.read1!()),
        makeEnviron({ "wsgi.input": plain }),
      ),
      /read1\(\) is not offered by this server/,
    );
  });

  it("readinto() and readinto1() are passed through, with the target and count checked", async () => {
    const seen: string[] = [];
    const app = using(async (input) => {
      const target = new Uint8Array(3);
      const n = await input.readinto!(target);
      seen.push(`${n}:${text([target.subarray(0, n)])}`);
      const m = await input.readinto1!(target);
      seen.push(`${m}:${text([target.subarray(0, m)])}`);
    });
    await serve(app, makeEnviron({ "wsgi.input": BodyInputStream.of("abcd") }));
    assert.deepEqual(seen, ["3:abc", "1:d"]);
    await rejectsWith(
      using((input) => loose(input).readinto!(3)),
      /wsgi.input.readinto\(\) takes a Uint8Array to fill \(got number: 3\)/,
    );
    const lying = BodyInputStream.of("abcd");
    lying.readinto1 = async () => 7;
    await rejectsWith(
      using((input) => input.readinto1!(new Uint8Array(2))),
      /wsgi.input.readinto1\(\) must return a count from 0 to 2 \(got 7\)/,
      makeEnviron({ "wsgi.input": lying }),
    );
  });

  it("passes sizes and results through", async () => {
    const seen: unknown[] = [];
    const app = using(async (input) => {
      seen.push(text([await input.read(2)]));
      seen.push(text([await input.readline()]));
      seen.push((await input.readlines(1)).map((line) => text([line])));
      for await (const line of input) seen.push(text([line]));
    });
    await serve(app, makeEnviron({ "wsgi.input": BodyInputStream.of("abc\nd\ne\nf") }));
    assert.deepEqual(seen, ["ab", "c\n", ["d\n"], "e\n", "f"]);
  });

  /** A server's input stream whose every method returns `value`. */
  const badInput = (value: unknown): InputStream =>
    ({
      read: async () => value,
      readline: async () => value,
      readlines: async () => value,
      async *[Symbol.asyncIterator]() {
        yield value;
      },
    }) as unknown as InputStream;

  it("requires the server's read() to return bytes", async () => {
    await rejectsWith(
      using((input) => input.read()),
      /wsgi.input.read\(\) must return a Uint8Array \(got string: 'abc'\)/,
      makeEnviron({ "wsgi.input": badInput("abc") }),
    );
  });

  it("requires the server's readline() to return bytes", async () => {
    await rejectsWith(
      using((input) => input.readline()),
      /wsgi.input.readline\(\) must return a Uint8Array \(got null: null\)/,
      makeEnviron({ "wsgi.input": badInput(null) }),
    );
  });

  it("requires the server's readlines() to return an array of bytes", async () => {
    await rejectsWith(
      using((input) => input.readlines()),
      /wsgi.input.readlines\(\) must return an Array \(got string: 'a'\)/,
      makeEnviron({ "wsgi.input": badInput("a") }),
    );
    await rejectsWith(
      using((input) => input.readlines()),
      /each line of wsgi.input.readlines\(\) must return a Uint8Array \(got string: 'a'\)/,
      makeEnviron({ "wsgi.input": badInput(["a"]) }),
    );
  });

  it("requires the server's input iteration to yield bytes", async () => {
    await rejectsWith(
      using(async (input) => {
        for await (const _line of input);
      }),
      /iterating wsgi.input must return a Uint8Array \(got number: 7\)/,
      makeEnviron({ "wsgi.input": badInput(7) }),
    );
  });

  it("must not be closed by the application", async () => {
    await rejectsWith(
      using(async (input) => input.close?.()),
      /input.close\(\) must not be called/,
    );
  });
});

describe("validator: wsgi.errors", () => {
  const using =
    (use: (errors: ErrorStream & { close?(): void }) => void): WSGIApplication =>
    (environ, startResponse) => {
      use(environ["wsgi.errors"]);
      startResponse("200 OK", ok);
      return [];
    };

  it("write() takes a string", async () => {
    await rejectsWith(
      using((errors) => errors.write(Buffer.from("x") as unknown as string)),
      /wsgi.errors.write\(\) takes a string \(got Buffer/,
    );
  });

  it("writelines() takes an iterable of strings", async () => {
    await rejectsWith(
      using((errors) => errors.writelines(["ok", 3] as unknown as string[])),
      /wsgi.errors.writelines\(\) takes strings \(got number: 3\)/,
    );
    await rejectsWith(
      using((errors) => errors.writelines(5 as unknown as string[])),
      /wsgi.errors.writelines\(\) takes an iterable of strings \(got 5\)/,
    );
  });

  it("must not be closed by the application", async () => {
    await rejectsWith(
      using((errors) => errors.close?.()),
      /errors.close\(\) must not be called/,
    );
  });
});

describe("validator: the response body", () => {
  it("must yield only bytes", async () => {
    const app: WSGIApplication = (_environ, startResponse) => {
      startResponse("200 OK", ok);
      return ["text"] as unknown as ResponseBody;
    };
    await rejectsWith(app, /Iterator yielded non-bytestring \(string: 'text'\)/);
  });

  it("must yield only bytes from an async body too", async () => {
    const app = async function* (_environ: WSGIEnvironment, startResponse: StartResponse) {
      startResponse("200 OK", ok);
      yield 1;
    } as unknown as WSGIApplication;
    await rejectsWith(app, /Iterator yielded non-bytestring \(number: 1\)/);
  });

  it("must not be iterated before start_response was called", async () => {
    const app: WSGIApplication = () => [Buffer.from("early")];
    await rejectsWith(
      app,
      /The application returns and we started iterating over its body, but start_response has not yet been called/,
    );
  });

  it("must not end before start_response was called", async () => {
    const app: WSGIApplication = () => [];
    await rejectsWith(app, /body ended, but start_response has not yet been called/);
  });

  it("must not be read after close()", async () => {
    const body = (await call(hello)) as Iterable<Uint8Array> & ResponseBody;
    const iterator = body[Symbol.iterator]();
    await body.close?.();
    assert.throws(() => iterator.next(), /Iterator read after closed/);
    assert.throws(() => body[Symbol.iterator](), /Iterator read after closed/);
  });

  it("must not be read after close() when async", async () => {
    const app: WSGIApplication = async function* (_environ, startResponse) {
      startResponse("200 OK", ok);
      yield Buffer.from("x");
    };
    const body = (await call(app)) as AsyncIterable<Uint8Array> & ResponseBody;
    const iterator = body[Symbol.asyncIterator]();
    await body.close?.();
    await assert.rejects(iterator.next(), /Iterator read after closed/);
  });

  it("must be closed only once", async () => {
    const body = await call(hello);
    await body.close?.();
    assert.throws(() => body.close?.(), /close\(\) was called twice/);
  });

  it("is reported when garbage-collected without being closed", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const reports: Error[] = [];
    const listener = (warning: Error) => {
      if (warning instanceof AssertionError) reports.push(warning);
    };
    process.on("warning", listener);
    try {
      (() => {
        const body = validator(hello)(
          makeEnviron({ PATH_INFO: "/leak" }),
          recorder().startResponse,
        ) as Iterable<Uint8Array>;
        for (const _chunk of body);
      })();
      for (let i = 0; i < 20 && reports.length === 0; i++) {
        gc();
        await tick();
      }
    } finally {
      process.off("warning", listener);
    }
    assert.equal(reports.length, 1);
    assert.match(
      reports[0]?.message ?? "",
      /Iterator garbage collected without being closed \(GET \/leak\)/,
    );
  });
});
