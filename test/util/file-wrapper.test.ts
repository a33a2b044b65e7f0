import assert from "node:assert/strict";
import { closeSync, fstatSync, openSync, writeFileSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FileLike, FileWrapperFactory } from "../../src/types.ts";
import { FileHandleReader, FileWrapper, fileWrapper } from "../../src/util/file-wrapper.ts";

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
