/**
 * Socket reads into memory the server controls.
 *
 * By default Node hands each read of a socket to JavaScript in a new allocation (64 KiB,
 * cut to size) that lives until the garbage collector frees it: every read pays for an
 * allocation and a free, and the kernel copies into memory that is no longer in the CPU's
 * caches. A `ReadBuffer` gives the kernel one buffer, read after read, through
 * `net.Socket`'s `onread` option (the bytes never go through the socket's stream), and
 * replaces it only when bytes of the last read are still referenced: a request body handed
 * to the application, or a head cut in the middle. A keep-alive connection serving small
 * requests then allocates nothing per read, and an upload read with `readinto` never
 * leaves the same 64 KiB.
 *
 * Node's `net.Server` creates its sockets itself, without `onread`, so `adoptSocket` moves
 * the accepted connection's handle (paused, nothing read yet) to a socket that has one.
 * That handle is not public API: where it is missing, the server keeps the plain socket.
 *
 * @module
 */
import { Socket, type SocketConstructorOpts } from "node:net";

/** Bytes per read: what libuv asks for by default. */
export const READ_SIZE = 64 * 1024;

/** The memory one connection reads into, and who may still be looking at it. */
export class ReadBuffer {
  private current = Buffer.allocUnsafeSlow(READ_SIZE);
  private lent = false;
  /** Receives each read: a view of the buffer, valid until it returns unless `lend()` is called. */
  onRead: (bytes: Buffer) => void = () => {};

  /** `net.Socket`'s `onread` option over this buffer. */
  readonly option = {
    buffer: (): Buffer => {
      if (this.lent) {
        this.lent = false;
        this.current = Buffer.allocUnsafeSlow(READ_SIZE);
      }
      return this.current;
    },
    callback: (n: number, buffer: Uint8Array): void => {
      this.onRead((buffer as Buffer).subarray(0, n));
    },
  };

  /** Whether `bytes` is a view of the buffer the next read will overwrite. */
  holds(bytes: Uint8Array): boolean {
    return bytes.buffer === this.current.buffer;
  }

  /** Leaves the current buffer to whoever holds views of it: the next read goes into a new one. */
  lend(): void {
    this.lent = true;
  }
}

/** The private part of a `net.Socket` that `adoptSocket` moves. */
interface SocketInternals {
  _handle?: { useUserBuffer?: unknown } | null;
  _server?: unknown;
}

/**
 * A socket over `raw`'s connection that reads into a `ReadBuffer`, or null when `raw` (a
 * plain socket that `net.Server` accepted with `pauseOnConnect`) cannot be adopted: a
 * Node without the handle this relies on. Once adopted, `raw` must not be used.
 */
export function adoptSocket(raw: Socket): { socket: Socket; reads: ReadBuffer } | null {
  const internals = raw as unknown as SocketInternals;
  const handle = internals._handle;
  if (typeof handle?.useUserBuffer !== "function" || raw.readableLength > 0) return null;
  const reads = new ReadBuffer();
  const options = {
    handle,
    allowHalfOpen: raw.allowHalfOpen,
    readable: true,
    writable: true,
    onread: reads.option,
  } as SocketConstructorOpts;
  const socket = new Socket(options);
  // net.Server counts its open connections through the socket it made (close() waits
  // for them): the adopted socket carries that count now.
  (socket as unknown as SocketInternals)._server = internals._server;
  internals._server = null;
  internals._handle = null;
  return { socket, reads };
}
