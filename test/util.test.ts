import assert from "node:assert/strict";
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BodyInputStream, TextErrorStream } from "../src/streams.ts";
import type { FileLike, FileWrapperFactory, WSGIEnvironment } from "../src/types.ts";
import {
  applicationUri,
  decodeNative,
  encodeNative,
  FileHandleReader,
  FileWrapper,
  fileWrapper,
  guessScheme,
  isHopByHop,
  requestUri,
  setupTestingDefaults,
  shiftPathInfo,
} from "../src/util.ts";

// ---------------------------------------------------------------------------------------
// Golden cases recorded from CPython by scripts/golden/util_golden.py
// ---------------------------------------------------------------------------------------

type Outcome<T> = { value: T } | { error: string; key?: string };
type ShiftStep = Outcome<string | null> & { SCRIPT_NAME?: string; PATH_INFO?: string };
interface EnvironCase {
  name: string;
  environ: Record<string, unknown>;
  guess_scheme: Outcome<string>;
  application_uri: Outcome<string>;
  request_uri: Outcome<string>;
  request_uri_no_query: Outcome<string>;
  shift_path_info: ShiftStep[];
  setup_testing_defaults: Outcome<[string, unknown][]>;
}
interface UtilGolden {
  python: string;
  environs: EnvironCase[];
  is_hop_by_hop: (Outcome<boolean> & { name: string })[];
}

const golden: UtilGolden = JSON.parse(
  readFileSync(new URL("./fixtures/util-golden.json", import.meta.url), "utf8"),
);

/** The fixture's environ as a live object: each {"$sentinel": x} becomes a unique object. */
function liveEnviron(c: EnvironCase): {
  environ: WSGIEnvironment;
  sentinels: Map<string, object>;
} {
  const sentinels = new Map<string, object>();
  const environ: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(c.environ)) {
    if (isTagged(value, "$sentinel")) {
      const sentinel = { sentinel: value.$sentinel };
      sentinels.set(value.$sentinel, sentinel);
      environ[key] = sentinel;
    } else {
      environ[key] = structuredClone(value);
    }
  }
  return { environ: environ as unknown as WSGIEnvironment, sentinels };
}

function isTagged<K extends string>(value: unknown, tag: K): value is Record<K, string> {
  return typeof value === "object" && value !== null && tag in value;
}

/** How a CPython outcome reads in a test name. */
function show(outcome: Outcome<unknown>): string {
  if ("error" in outcome) return `throws (${outcome.error}${outcome.key ? ` ${outcome.key}` : ""})`;
  return outcome.value === null ? "undefined" : JSON.stringify(outcome.value);
}

/** Checks that `run` matches CPython: the same value, or a TypeError where CPython raised. */
function expectOutcome(outcome: Outcome<unknown>, run: () => unknown): void {
  if ("error" in outcome) {
    assert.throws(run, (error: unknown) => {
      assert.ok(error instanceof TypeError, `expected a TypeError, got ${String(error)}`);
      // A KeyError in CPython is a TypeError that names the missing key here.
      if (outcome.key !== undefined) assert.match(error.message, new RegExp(`"${outcome.key}"`));
      return true;
    });
  } else {
    assert.deepEqual(run(), outcome.value === null ? undefined : outcome.value);
  }
}

describe(`guessScheme matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    it(`${c.name} → ${show(c.guess_scheme)}`, () => {
      expectOutcome(c.guess_scheme, () => guessScheme(liveEnviron(c).environ));
    });
  }
});

describe(`applicationUri matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    it(`${c.name} → ${show(c.application_uri)}`, () => {
      expectOutcome(c.application_uri, () => applicationUri(liveEnviron(c).environ));
    });
  }
});

describe(`requestUri matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    it(`${c.name} → ${show(c.request_uri)}`, () => {
      expectOutcome(c.request_uri, () => requestUri(liveEnviron(c).environ));
    });
  }
});

describe(`requestUri(environ, false) matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    it(`${c.name} → ${show(c.request_uri_no_query)}`, () => {
      expectOutcome(c.request_uri_no_query, () => requestUri(liveEnviron(c).environ, false));
    });
  }
});

describe(`shiftPathInfo, called repeatedly, matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    const steps = c.shift_path_info.map(show).join(", ");
    it(`${c.name} → ${steps}`, () => {
      const { environ } = liveEnviron(c);
      c.shift_path_info.forEach((step, i) => {
        expectOutcome(step, () => shiftPathInfo(environ));
        const after = { SCRIPT_NAME: environ.SCRIPT_NAME, PATH_INFO: environ.PATH_INFO };
        const expected = { SCRIPT_NAME: step.SCRIPT_NAME, PATH_INFO: step.PATH_INFO };
        assert.deepEqual(after, expected, `environ after shift #${i + 1}`);
      });
    });
  }
});

/** Keys CPython sets to 0 and we set to false (PEP 3333 calls them booleans). */
const BOOLEAN_KEYS = new Set(["wsgi.run_once", "wsgi.multithread", "wsgi.multiprocess"]);

describe(`setupTestingDefaults matches CPython ${golden.python}`, () => {
  for (const c of golden.environs) {
    const outcome = c.setup_testing_defaults;
    if ("error" in outcome) throw new Error(`CPython's setup_testing_defaults failed: ${c.name}`);
    it(`${c.name} → ${outcome.value.length} keys`, () => {
      const { environ, sentinels } = liveEnviron(c);
      setupTestingDefaults(environ);
      assert.deepEqual(
        Object.keys(environ),
        outcome.value.map(([key]) => key),
        "the same keys in the same order",
      );
      for (const [key, expected] of outcome.value) {
        const actual = environ[key];
        if (isTagged(expected, "$sentinel")) {
          assert.equal(actual, sentinels.get(expected.$sentinel), `${key} is kept`);
        } else if (isTagged(expected, "$new")) {
          const type = expected.$new === "BytesIO" ? BodyInputStream : TextErrorStream;
          assert.ok(actual instanceof type, `${key} is a new ${type.name}`);
        } else if (BOOLEAN_KEYS.has(key) && !(key in c.environ)) {
          assert.equal(actual, Boolean(expected), key);
        } else {
          assert.deepEqual(actual, expected, key);
        }
      }
    });
  }
});

describe(`isHopByHop matches CPython ${golden.python}`, () => {
  for (const c of golden.is_hop_by_hop) {
    it(`${JSON.stringify(c.name)} → ${show(c)}`, () => {
      expectOutcome(c, () => isHopByHop(c.name));
    });
  }
});

// ---------------------------------------------------------------------------------------
// Behaviour the golden data cannot show
// ---------------------------------------------------------------------------------------

describe("the environ functions", () => {
  it("name the missing key in their error", () => {
    const environ = { "wsgi.url_scheme": "http", SERVER_NAME: "h" } as unknown as WSGIEnvironment;
    assert.throws(() => applicationUri(environ), {
      name: "TypeError",
      message: 'applicationUri(): environ["SERVER_PORT"] is missing (a KeyError in CPython)',
    });
  });

  it("reject a key that holds something other than a string", () => {
    const environ = {
      "wsgi.url_scheme": "http",
      SERVER_NAME: "h",
      SERVER_PORT: 80,
    } as unknown as WSGIEnvironment;
    assert.throws(() => applicationUri(environ), {
      name: "TypeError",
      message: 'environ["SERVER_PORT"] must be a string, got number',
    });
  });

  it("name a char outside latin-1 when quoting", () => {
    const environ = { "wsgi.url_scheme": "http", HTTP_HOST: "h", PATH_INFO: "/€" };
    assert.throws(() => requestUri(environ as unknown as WSGIEnvironment), {
      name: "TypeError",
      message: 'environ["PATH_INFO"] is not a latin-1 native string: "€" at index 1',
    });
  });

  it("shiftPathInfo mounts an app: /foo + /bar/baz becomes /foo/bar + /baz", () => {
    const environ = { SCRIPT_NAME: "/foo", PATH_INFO: "/bar/baz" } as WSGIEnvironment;
    assert.equal(shiftPathInfo(environ), "bar");
    assert.deepEqual([environ.SCRIPT_NAME, environ.PATH_INFO], ["/foo/bar", "/baz"]);
  });

  it("guessScheme accepts a plain record such as process.env", () => {
    assert.equal(guessScheme({ HTTPS: "on", PATH: "/bin" }), "https");
  });
});

describe("setupTestingDefaults", () => {
  it("makes a WSGIEnvironment whose wsgi.input is empty", async () => {
    const environ = {};
    setupTestingDefaults(environ);
    // The assertion signature narrows `environ` to a WSGIEnvironment from here on.
    const method: string = environ.REQUEST_METHOD;
    assert.equal(method, "GET");
    assert.equal((await environ["wsgi.input"].read()).length, 0);
    assert.deepEqual(environ["wsgi.version"], [1, 0]);
  });

  it("gives each environ its own streams", () => {
    const a = {};
    const b = {};
    setupTestingDefaults(a);
    setupTestingDefaults(b);
    assert.notEqual(a["wsgi.input"], b["wsgi.input"]);
    assert.notEqual(a["wsgi.errors"], b["wsgi.errors"]);
  });

  it("treats a key holding undefined as absent", () => {
    const environ: Partial<WSGIEnvironment> = { REQUEST_METHOD: undefined as unknown as string };
    setupTestingDefaults(environ);
    assert.equal(environ.REQUEST_METHOD, "GET");
  });
});

// ---------------------------------------------------------------------------------------
// FileWrapper
// ---------------------------------------------------------------------------------------

const bytes = (s: string) => Buffer.from(s, "latin1");
const text = (chunks: Uint8Array[]) => chunks.map((c) => Buffer.from(c).toString("latin1"));

/** A FileLike over a string that records each read size; `async` makes read return promises. */
class MemoryFile implements FileLike {
  position = 0;
  sizes: number[] = [];
  closes = 0;
  constructor(
    private readonly data: string,
    private readonly async = false,
  ) {}
  read(size: number): Uint8Array | Promise<Uint8Array> {
    this.sizes.push(size);
    const chunk = bytes(this.data.slice(this.position, this.position + size));
    this.position += chunk.length;
    return this.async ? Promise.resolve(chunk) : chunk;
  }
  close(): void {
    this.closes++;
  }
}

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

describe("FileWrapper", () => {
  let dir = "";
  let path = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsgiref-util-"));
    path = join(dir, "data.txt");
    writeFileSync(path, "0123456789abcdefghij");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a FileLike whose read() returns bytes, blksize at a time", async () => {
    const file = new MemoryFile("abcdefgh");
    assert.deepEqual(text(await collect(new FileWrapper(file, 3))), ["abc", "def", "gh"]);
    assert.deepEqual(file.sizes, [3, 3, 3, 3]);
  });

  it("reads a FileLike whose read() returns a promise", async () => {
    const file = new MemoryFile("abcdefgh", true);
    assert.deepEqual(text(await collect(new FileWrapper(file, 5))), ["abcde", "fgh"]);
  });

  it("asks for 8192 bytes by default", async () => {
    const file = new MemoryFile("x".repeat(10000));
    const wrapper = new FileWrapper(file);
    assert.equal(wrapper.blksize, 8192);
    assert.deepEqual(
      (await collect(wrapper)).map((c) => c.length),
      [8192, 1808],
    );
  });

  it("reads a FileHandle through a FileHandleReader", async () => {
    const handle = await open(path);
    const wrapper = new FileWrapper(handle, 8);
    assert.ok(wrapper.filelike instanceof FileHandleReader);
    assert.equal(wrapper.filelike.handle, handle);
    assert.deepEqual(text(await collect(wrapper)), ["01234567", "89abcdef", "ghij"]);
    await wrapper.close();
  });

  it("reads a file descriptor", async () => {
    const fd = openSync(path, "r");
    const wrapper = new FileWrapper(fd, 7);
    assert.equal(wrapper.filelike, fd);
    assert.deepEqual(text(await collect(wrapper)), ["0123456", "789abcd", "efghij"]);
    await wrapper.close();
  });

  it("starts at the file's current position", async () => {
    const handle = await open(path);
    await handle.read(Buffer.alloc(15), 0, 15, null);
    assert.deepEqual(text(await collect(new FileWrapper(handle))), ["fghij"]);
    await handle.close();
  });

  it("stops at the first empty read and is not resumable", async () => {
    const reads = [bytes("ab"), bytes(""), bytes("cd")];
    const wrapper = new FileWrapper({ read: () => reads.shift() ?? bytes("") });
    assert.deepEqual(text(await collect(wrapper)), ["ab"]);
    assert.deepEqual(text(await collect(wrapper)), []);
    assert.equal(reads.length, 1, "no read after the end");
  });

  it("carries on where a loop that broke out left off", async () => {
    const wrapper = new FileWrapper(new MemoryFile("abcdef"), 2);
    for await (const chunk of wrapper) {
      assert.deepEqual(text([chunk]), ["ab"]);
      break;
    }
    assert.deepEqual(text(await collect(wrapper)), ["cd", "ef"]);
  });

  it("close() closes a FileLike, once", async () => {
    const file = new MemoryFile("abc");
    const wrapper = new FileWrapper(file);
    await wrapper.close();
    await wrapper.close();
    assert.equal(file.closes, 1);
  });

  it("close() of a FileLike without close() does nothing", async () => {
    await new FileWrapper({ read: () => bytes("") }).close();
  });

  it("close() closes a FileHandle", async () => {
    const handle = await open(path);
    await new FileWrapper(handle).close();
    assert.equal(handle.fd, -1);
  });

  it("close() closes a file descriptor, and only once", async () => {
    const fd = openSync(path, "r");
    const wrapper = new FileWrapper(fd);
    await wrapper.close();
    assert.throws(() => fstatSync(fd), { code: "EBADF" });
    await wrapper.close(); // a second fs.close could hit a descriptor reused by someone else
  });

  it("cannot be read after close()", async () => {
    const wrapper = new FileWrapper(new MemoryFile("abc"));
    await wrapper.close();
    await assert.rejects(collect(wrapper), /FileWrapper: cannot read, it was closed/);
  });

  it("rejects a read() that returns a string", async () => {
    const wrapper = new FileWrapper({ read: () => "text" as unknown as Uint8Array });
    await assert.rejects(collect(wrapper), {
      name: "TypeError",
      message: "FileWrapper: read() must return bytes (a Uint8Array), got a string",
    });
  });

  for (const blksize of [0, -1, 1.5, Number.NaN]) {
    it(`rejects blksize ${blksize}`, () => {
      assert.throws(() => new FileWrapper(new MemoryFile(""), blksize), RangeError);
    });
  }

  it("rejects something that is not a file", () => {
    assert.throws(() => new FileWrapper({} as FileLike), TypeError);
    assert.throws(() => new FileWrapper(-1), TypeError);
  });

  it("fileWrapper is a wsgi.file_wrapper factory", async () => {
    const factory: FileWrapperFactory = fileWrapper;
    const wrapper = factory(new MemoryFile("abcd"), 3);
    assert.ok(wrapper instanceof FileWrapper);
    assert.deepEqual(text(await collect(wrapper)), ["abc", "d"]);
  });

  it("leaves a file descriptor open when not closed", async () => {
    const fd = openSync(path, "r");
    await collect(new FileWrapper(fd));
    assert.ok(fstatSync(fd).isFile());
    closeSync(fd);
  });
});

// ---------------------------------------------------------------------------------------
// Native strings
// ---------------------------------------------------------------------------------------

describe("decodeNative and encodeNative", () => {
  const pairs: [native: string, text: string][] = [
    ["/caf\u00c3\u00a9", "/café"],
    ["", ""],
    ["plain ascii", "plain ascii"],
    ["\u00e2\u0082\u00ac", "€"],
    ["\u00f0\u009f\u0098\u0080", "😀"],
    ["\u00ef\u00bb\u00bfbom", "\ufeffbom"],
  ];
  for (const [native, decoded] of pairs) {
    it(`decodeNative(${JSON.stringify(native)}) is ${JSON.stringify(decoded)}`, () => {
      assert.equal(decodeNative(native), decoded);
    });
    it(`encodeNative(${JSON.stringify(decoded)}) is ${JSON.stringify(native)}`, () => {
      assert.equal(encodeNative(decoded), native);
    });
  }

  it("decodeNative throws on bytes that are not UTF-8", () => {
    assert.throws(() => decodeNative("/caf\u00e9"), {
      name: "TypeError",
      message: 'decodeNative(): "/café" is not valid UTF-8',
    });
  });

  it('decodeNative with errors "replace" gives U+FFFD for bad bytes', () => {
    assert.equal(decodeNative("/caf\u00e9", "utf-8", "replace"), "/caf\ufffd");
  });

  it("decodeNative rejects a string that is not native", () => {
    assert.throws(() => decodeNative("/€"), {
      name: "TypeError",
      message: 'decodeNative(): not a native (latin-1) string: "€" at index 1',
    });
  });

  it("latin1 leaves latin-1 text as it is, both ways", () => {
    assert.equal(decodeNative("caf\u00e9", "latin1"), "café");
    assert.equal(encodeNative("café", "latin1"), "caf\u00e9");
  });

  it("encodeNative to latin1 throws on a char above U+00FF, or replaces it with ?", () => {
    assert.throws(() => encodeNative("5€", "latin1"), {
      name: "TypeError",
      message: 'encodeNative(): "€" cannot be encoded as latin-1',
    });
    assert.equal(encodeNative("5€ 😀", "latin1", "replace"), "5? ?");
  });

  it("encodeNative throws on a lone surrogate, or replaces it with U+FFFD", () => {
    assert.throws(() => encodeNative("a\ud800"), /has a lone surrogate/);
    assert.equal(encodeNative("a\ud800", "utf-8", "replace"), "a\u00ef\u00bf\u00bd");
  });

  it("accepts utf8 as another name for utf-8", () => {
    assert.equal(decodeNative("\u00c3\u00a9", "utf8"), "é");
  });

  it("rejects an encoding it does not know", () => {
    assert.throws(() => decodeNative("x", "cp1252" as "utf-8"), RangeError);
    assert.throws(() => encodeNative("x", "ascii" as "utf-8"), RangeError);
  });
});
