/**
 * Making a Unix socket path ready to listen on. A server that was killed (SIGKILL, a
 * crash, a power cut) leaves its socket file behind, and `listen` would then fail with
 * EADDRINUSE forever. Like gunicorn, we remove such a stale socket, but only when nothing
 * answers on it: a live server's socket and any file that is not a socket are left alone
 * and reported as EADDRINUSE.
 *
 * @module
 */
import { lstatSync, unlinkSync } from "node:fs";
import { connect } from "node:net";

/** An EADDRINUSE error with a message that says why. */
function inUse(path: string, why: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`listen EADDRINUSE: ${path} ${why}`), {
    code: "EADDRINUSE",
    syscall: "listen",
    path,
  });
}

/** Resolves true when a server accepts a connection on the socket `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Removes a stale socket file at `path`; throws EADDRINUSE if a server listens there or
 * the path is something other than a socket.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw inUse(path, "exists and is not a socket; not removing it");
  if (await answers(path)) throw inUse(path, "is in use by another server");
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
