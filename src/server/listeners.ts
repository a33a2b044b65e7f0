/**
 * The listening sockets of one server process: one `net.Server` (or `tls.Server`) per
 * endpoint (see bind.ts), all handing their connections to the same `onSocket`.
 *
 * @module
 */
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { type Endpoint, listenArgs } from "./bind.ts";
import type { ServerOptions } from "./options.ts";
import { acceptIntoReadBuffers, type ReadBuffer } from "./read-buffer.ts";
import { clearStaleSocket } from "./unix-socket.ts";

/** What a listener hands a new connection to (with the buffer it reads into, for plain sockets). */
export type OnSocket = (socket: Socket, reads?: ReadBuffer | null) => void;

/**
 * Listens on every endpoint; resolves with the servers once all listen, or rejects with
 * the first failure (closing those that listened).
 */
export async function openListeners(
  endpoints: readonly Endpoint[],
  options: ServerOptions,
  onSocket: OnSocket,
  logError: (message: string) => void,
): Promise<NetServer[]> {
  const tls = Boolean(options.key && options.cert);
  const key = tls ? readFileSync(options.key as string) : undefined;
  const cert = tls ? readFileSync(options.cert as string) : undefined;
  const servers: NetServer[] = [];
  try {
    for (const endpoint of endpoints) {
      let server: NetServer;
      if (tls) {
        server = createTlsServer({ key, cert, allowHalfOpen: true }, (socket) => onSocket(socket));
        server.on("tlsClientError", () => {});
      } else {
        server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => onSocket(socket));
      }
      // In a worker the cluster primary listens (and cleared the path before forking).
      if (endpoint.kind === "unix" && !cluster.isWorker) await clearStaleSocket(endpoint.path);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(listenArgs(endpoint, options.backlog), () => {
          server.off("error", reject);
          resolve();
        });
      });
      servers.push(server);
      server.on("error", (error) => logError(`server error: ${error.message}`));
      // A plain connection reads into a buffer of its own (see read-buffer.ts).
      if (!tls) acceptIntoReadBuffers(server, onSocket);
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  return servers;
}

/** Where each server listens: host and port, or a Unix socket path. */
export function addressesOf(servers: readonly NetServer[]): (AddressInfo | string)[] {
  return servers.map((server) => server.address() as AddressInfo | string);
}

/** Stops every server listening; resolves once all closed. */
export function closeListeners(servers: readonly NetServer[]): Promise<void> {
  return Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  ).then(() => {});
}
