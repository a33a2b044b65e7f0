/**
 * `WSGIServer` and `makeServer`: CPython's `wsgiref.simple_server.WSGIServer` (an
 * `http.server.HTTPServer`) over `node:net`.
 *
 * Theory of operation: the listening socket accepts connections at any time, paused,
 * into a queue (what the kernel's listen backlog is to CPython). `serveForever()` and
 * `handleRequest()` take them from the queue one at a time: a `WSGIRequestHandler`
 * handles the connection's one request, then the server ends the connection (FIN after
 * the response) and moves on. Like CPython's single-threaded server, one slow request
 * holds up the ones behind it. Not for production: see `wsgiref/server`.
 *
 * @module
 */
import { lookup, lookupService } from "node:dns/promises";
import { createServer, isIP, type Server, type Socket } from "node:net";
import { hostname } from "node:os";
import { isClientGone } from "../handlers/client-gone.ts";
import type { WSGIApplication } from "../types.ts";
import { type ClientAddress, WSGIRequestHandler } from "./handler.ts";

/** A class of request handlers, constructed once per connection. */
export type RequestHandlerClass = new (
  request: Socket,
  clientAddress: ClientAddress,
  server: WSGIServer,
) => WSGIRequestHandler;

/** A class of servers `makeServer` can create: `WSGIServer` or a subclass. */
export type ServerClass<S extends WSGIServer = WSGIServer> = new (
  serverAddress: readonly [host: string, port: number],
  RequestHandlerClass: RequestHandlerClass,
) => S;

/** The address a server listens on: its IP and port. */
export interface ServerAddress {
  /** The IP address bound: `0.0.0.0` for all interfaces. */
  address: string;
  /** The port bound; the chosen one when `0` was asked for. */
  port: number;
}

/** How long a finished connection may go on sending bytes (which are dropped) before it is cut. */
const LINGER_MS = 2000;

/**
 * Python's `socket.getfqdn(name)`: the host name of an address or name, found by a
 * reverse lookup (for `127.0.0.1` usually `localhost`); an empty name or `0.0.0.0` means
 * this machine (`os.hostname()`). When the lookup fails the name is returned as given.
 * Simplification: Python prefers the first of the name's aliases that contains a dot;
 * `getnameinfo` gives the canonical name only, which is what Python also returns when no
 * alias has a dot (the common case).
 */
export async function getfqdn(name = ""): Promise<string> {
  name = name.trim();
  if (name === "" || name === "0.0.0.0" || name === "::") name = hostname();
  try {
    const address = isIP(name) ? name : (await lookup(name, { family: 4 })).address;
    return (await lookupService(address, 0)).hostname;
  } catch {
    return name;
  }
}

/** The address to bind for a host: `''` is every IPv4 interface; a name is looked up as IPv4, as CPython's `AF_INET` server does. */
async function bindAddress(host: string): Promise<string> {
  if (host === "") return "0.0.0.0";
  if (isIP(host)) return host;
  return (await lookup(host, { family: 4 })).address;
}

interface Waiter {
  resolve: (socket: Socket | null) => void;
  /** True for `serveForever`'s wait, which `shutdown()` cancels. */
  forever: boolean;
}

/**
 * A simple HTTP server for one WSGI application (CPython's `WSGIServer`). `makeServer`
 * creates, binds and configures one; `serveForever()` then serves until `shutdown()`,
 * or `handleRequest()` serves one connection. Connections are handled one at a time.
 * Dispose of it (`await using`, or `close()`) to stop listening.
 */
export class WSGIServer implements AsyncDisposable {
  /** The application, set by `setApp()`. */
  application: WSGIApplication | null = null;
  /** The CGI variables every environ starts from (set by `setupEnviron()` after binding). */
  baseEnviron: Record<string, string> = {};
  /** The bound host's name, as `getfqdn` gives it: the environ's `SERVER_NAME`. */
  serverName = "";
  /** The bound port: the environ's `SERVER_PORT`. */
  serverPort = 0;
  /** The requested `[host, port]`; after `serverBind()`, the bound `[address, port]`. */
  serverAddress: readonly [host: string, port: number];
  /** The request handler class constructed for each connection. */
  readonly RequestHandlerClass: RequestHandlerClass;
  /** The listen backlog (CPython's `request_queue_size`). */
  requestQueueSize = 5;
  /** The listening `net.Server`. */
  readonly socket: Server;

  private readonly queue: Socket[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly lingering = new Set<Socket>();
  private turn: Promise<void> = Promise.resolve();
  private serving: Promise<void> | undefined = undefined;
  private stopRequested = false;
  private closed = false;

  /**
   * Creates an unbound server; `serverBind()` (which `makeServer` calls) makes it listen.
   *
   * @param serverAddress `[host, port]`: host `''` means every interface, port `0` a free port
   * @param RequestHandlerClass the handler for each connection (default `WSGIRequestHandler`)
   */
  constructor(
    serverAddress: readonly [host: string, port: number],
    RequestHandlerClass: RequestHandlerClass = WSGIRequestHandler,
  ) {
    this.serverAddress = serverAddress;
    this.RequestHandlerClass = RequestHandlerClass;
    this.socket = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) =>
      this.enqueue(socket),
    );
  }

  /** Listens on `serverAddress`, records the bound name and port, then calls `setupEnviron()`. */
  async serverBind(): Promise<void> {
    const [host, port] = this.serverAddress;
    const address = await bindAddress(host);
    await new Promise<void>((resolve, reject) => {
      this.socket.once("error", reject);
      this.socket.listen({ host: address, port, backlog: this.requestQueueSize }, () => {
        this.socket.off("error", reject);
        resolve();
      });
    });
    const bound = this.address;
    this.serverAddress = [bound.address, bound.port];
    this.serverName = await getfqdn(bound.address);
    this.serverPort = bound.port;
    this.setupEnviron();
  }

  /** Fills `baseEnviron`: `SERVER_NAME`, `GATEWAY_INTERFACE`, `SERVER_PORT`, and empty `REMOTE_HOST`, `CONTENT_LENGTH`, `SCRIPT_NAME`. */
  setupEnviron(): void {
    this.baseEnviron = {
      SERVER_NAME: this.serverName,
      GATEWAY_INTERFACE: "CGI/1.1",
      SERVER_PORT: String(this.serverPort),
      REMOTE_HOST: "",
      CONTENT_LENGTH: "",
      SCRIPT_NAME: "",
    };
  }

  /** The application requests go to. */
  getApp(): WSGIApplication | null {
    return this.application;
  }

  /** Sets the application requests go to. */
  setApp(application: WSGIApplication): void {
    this.application = application;
  }

  /** The bound `{ address, port }` (the requested ones before binding). */
  get address(): ServerAddress {
    const info = this.socket.address();
    if (info !== null && typeof info === "object")
      return { address: info.address, port: info.port };
    return { address: this.serverAddress[0], port: this.serverAddress[1] };
  }

  /**
   * Handles connections one after another until `shutdown()` or `close()`; the promise
   * settles when the loop has stopped (after the request in progress).
   */
  async serveForever(): Promise<void> {
    if (this.serving) throw new Error("serveForever() is already running");
    const loop = (async () => {
      while (!this.stopRequested) {
        const socket = await this.nextConnection(true);
        if (socket === null) break;
        await this.processInTurn(socket);
      }
    })();
    this.serving = loop;
    try {
      await loop;
    } finally {
      this.serving = undefined;
      this.stopRequested = false;
    }
  }

  /** Stops `serveForever()` and waits until it returned; does nothing if it is not running. */
  async shutdown(): Promise<void> {
    const serving = this.serving;
    if (!serving) return;
    this.stopRequested = true;
    for (const waiter of this.waiters.filter((w) => w.forever)) this.wake(waiter, null);
    await serving;
  }

  /** Waits for one connection and handles it; settles when its response was sent. */
  async handleRequest(): Promise<void> {
    const socket = await this.nextConnection(false);
    if (socket !== null) await this.processInTurn(socket);
  }

  /**
   * Stops listening (CPython's `server_close`): drops the connections still queued and
   * settles once the listening socket is closed and the connection in progress ended.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const waiter of [...this.waiters]) this.wake(waiter, null);
      for (const socket of this.queue.splice(0)) socket.destroy();
      for (const socket of this.lingering) socket.destroy();
    }
    await new Promise<void>((resolve) => {
      this.socket.close(() => resolve());
    });
  }

  /** `await using server = await makeServer(...)`: stops `serveForever()` if running, then `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
    await this.close();
  }

  /**
   * Handles one connection: constructs the request handler, runs `setup`, `handle` and
   * `finish`; errors go to `handleError`; the connection is then ended.
   */
  protected async processRequest(request: Socket, clientAddress: ClientAddress): Promise<void> {
    try {
      const handler = new this.RequestHandlerClass(request, clientAddress, this);
      handler.setup();
      try {
        await handler.handle();
      } finally {
        handler.finish();
      }
    } catch (error) {
      this.handleError(request, clientAddress, error);
    } finally {
      this.shutdownRequest(request);
    }
  }

  /**
   * Reports an error that escaped the request handler, as `socketserver` does, on
   * stderr. A client that went away (`ECONNRESET`, `EPIPE`) is not reported.
   */
  handleError(_request: Socket, clientAddress: ClientAddress, error: unknown): void {
    if (isClientGone(error)) return;
    const trace = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    process.stderr.write(
      `${"-".repeat(40)}\nException occurred during processing of request from ('${clientAddress[0]}', ${clientAddress[1]})\n${trace}\n${"-".repeat(40)}\n`,
    );
  }

  /**
   * Ends a handled connection: FIN once the response is flushed, then whatever the
   * client still sends is read and dropped (instead of the reset CPython's close with
   * unread data causes) until it closes, or `LINGER_MS` passed.
   */
  protected shutdownRequest(request: Socket): void {
    if (request.destroyed) return;
    if (this.closed) {
      request.end(() => request.destroy());
      return;
    }
    request.on("data", () => {});
    request.resume();
    request.end();
    this.lingering.add(request);
    const timer = setTimeout(() => request.destroy(), LINGER_MS);
    timer.unref();
    request.once("close", () => {
      clearTimeout(timer);
      this.lingering.delete(request);
    });
  }

  private enqueue(socket: Socket): void {
    socket.on("error", () => {});
    if (this.closed) {
      socket.destroy();
      return;
    }
    const waiter = this.waiters[0];
    if (waiter) this.wake(waiter, socket);
    else this.queue.push(socket);
  }

  private wake(waiter: Waiter, socket: Socket | null): void {
    const at = this.waiters.indexOf(waiter);
    if (at !== -1) this.waiters.splice(at, 1);
    waiter.resolve(socket);
  }

  private nextConnection(forever: boolean): Promise<Socket | null> {
    for (let socket = this.queue.shift(); socket; socket = this.queue.shift()) {
      if (!socket.destroyed) return Promise.resolve(socket);
    }
    if (this.closed || (forever && this.stopRequested)) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push({ resolve, forever }));
  }

  /** Handles the connection once every connection taken before it was handled. */
  private processInTurn(socket: Socket): Promise<void> {
    const address: ClientAddress = [socket.remoteAddress ?? "", socket.remotePort ?? 0];
    const turn = this.turn.then(() => this.processRequest(socket, address));
    this.turn = turn.catch(() => {});
    return turn;
  }
}

/** Options of `makeServer`: the classes to use (CPython's `server_class` and `handler_class`). */
export interface MakeServerOptions<S extends WSGIServer = WSGIServer> {
  /** The server class (default `WSGIServer`). */
  serverClass?: ServerClass<S>;
  /** The request handler class (default `WSGIRequestHandler`). */
  handlerClass?: RequestHandlerClass;
}

/**
 * Creates a server listening on `host` and `port` for `app` (CPython's `make_server`),
 * and resolves once it listens. Host `''` means every interface; port `0` picks a free
 * port, readable as `server.serverPort` or `server.address.port`.
 *
 * @example
 * await using httpd = await makeServer("", 8000, demoApp);
 * await httpd.serveForever();
 */
export async function makeServer<S extends WSGIServer = WSGIServer>(
  host: string,
  port: number,
  app: WSGIApplication,
  options: MakeServerOptions<S> = {},
): Promise<S> {
  const serverClass = (options.serverClass ?? WSGIServer) as ServerClass<S>;
  const server = new serverClass([host, port], options.handlerClass ?? WSGIRequestHandler);
  try {
    await server.serverBind();
  } catch (error) {
    await server.close().catch(() => {});
    throw error;
  }
  server.setApp(app);
  return server;
}
