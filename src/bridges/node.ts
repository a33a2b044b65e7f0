/**
 * `toNodeListener(app)`: a WSGI application as a `node:http` request listener, which
 * Express and Connect also take as middleware.
 *
 * Theory of operation: `NodeHandler` is a `BaseHandler` whose I/O hooks write to the
 * `ServerResponse`: the headers with `writeHead`, body chunks with `write` (waiting for
 * `'drain'` when it returns false, so a slow client slows the application), the end with
 * `end`. `wsgi.input` reads the `IncomingMessage`. When the response closes before it
 * finished, the client went away (docs/disconnects.md): waits and later writes reject
 * with `ECONNRESET` and `BaseHandler` closes the body.
 *
 * Under Express, a mount path becomes `SCRIPT_NAME`: `app.use("/wsgi", listener)` gives
 * a request for `/wsgi/a` the `SCRIPT_NAME` `/wsgi` and the `PATH_INFO` `/a`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { GatewayHandler } from "../handlers/gateway.ts";
import { inputLimit } from "../handlers/input-limit.ts";
import type { ErrorSink } from "../handlers/simple.ts";
import { formatError } from "../handlers/support.ts";
import type { ErrorStream, WSGIApplication } from "../types.ts";
import {
  addHeaders,
  defaultPort,
  type HeaderPolicy,
  hostVars,
  mount,
  normalizeMount,
  splitTarget,
  toErrorStream,
  unquoteLatin1,
} from "./environ.ts";

/** Options of `toNodeListener`. */
export interface NodeListenerOptions extends HeaderPolicy {
  /**
   * The path the application is mounted at, for plain `node:http` (Express's mount path,
   * `req.baseUrl`, is used on its own). Requests outside it go to `next` when there is
   * one, else get a 404.
   */
  scriptName?: string;
  /** Where `wsgi.errors` writes (default `process.stderr`). */
  errors?: ErrorSink;
  /** The value of `wsgi.multiprocess` (default false). */
  multiprocess?: boolean;
}

/** An `IncomingMessage` as Express and Connect hand it over: maybe mounted, maybe rewritten. */
export type NodeRequest = IncomingMessage & {
  /** Express: the path the router matched for the mount (`"/wsgi"`). */
  baseUrl?: string;
  /** Express and Connect: the URL before mounts rewrote `req.url`. */
  originalUrl?: string;
};

/** A `node:http` request listener that is also Express/Connect middleware. */
export type NodeListener = (
  req: NodeRequest,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

/**
 * Turns a WSGI application into a `node:http` listener (and Express/Connect middleware).
 * Both directions stream with backpressure; the body's `close()` runs when the response
 * ends or the client goes away.
 *
 * @example
 * createServer(toNodeListener(app)).listen(8000);
 * expressApp.use("/wsgi", toNodeListener(app)); // SCRIPT_NAME "/wsgi"
 */
export function toNodeListener(
  app: WSGIApplication,
  options: NodeListenerOptions = {},
): NodeListener {
  const prefix = normalizeMount(options.scriptName);
  const errors = toErrorStream(options.errors);
  return (req, res, next) => {
    const vars = nodeCgiVars(req, prefix, options);
    if (vars === undefined) {
      if (next) next();
      else {
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
        res.end("Not Found\n");
      }
      return;
    }
    const handler = new NodeHandler(req, res, vars, errors, options);
    handler.run(app).then(
      () => handler.settle(),
      (error: unknown) => handler.settle(error),
    );
  };
}

/** The CGI variables of a request, or undefined when it is outside the mount prefix. */
function nodeCgiVars(
  req: NodeRequest,
  prefix: string,
  policy: HeaderPolicy,
): Record<string, string> | undefined {
  const target = req.originalUrl ?? req.url ?? "/";
  const { path: rawPath, query } = splitTarget(target);
  let paths: { SCRIPT_NAME: string; PATH_INFO: string } | undefined;
  const base = req.baseUrl;
  if (base && rawPath.startsWith(base)) {
    paths = {
      SCRIPT_NAME: unquoteLatin1(base),
      PATH_INFO: unquoteLatin1(rawPath.slice(base.length)),
    };
  } else {
    paths = mount(unquoteLatin1(rawPath), prefix);
    if (paths === undefined) return undefined;
  }
  const scheme = (req.socket as TLSSocket).encrypted ? "https" : "http";
  const vars: Record<string, string> = {
    REQUEST_METHOD: req.method ?? "GET",
    ...paths,
    QUERY_STRING: query,
    SERVER_NAME: req.socket.localAddress ?? "localhost",
    SERVER_PORT: String(req.socket.localPort ?? defaultPort(scheme)),
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REMOTE_ADDR: req.socket.remoteAddress ?? "",
    REMOTE_PORT: req.socket.remotePort === undefined ? "" : String(req.socket.remotePort),
    RAW_URI: target,
  };
  const pairs: Array<[string, string]> = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
  addHeaders(vars, pairs, policy);
  if (vars.HTTP_HOST) {
    [vars.SERVER_NAME, vars.SERVER_PORT] = hostVars(vars.HTTP_HOST, scheme);
  }
  return vars;
}

/** The `BaseHandler` behind `toNodeListener`: one `IncomingMessage`, one `ServerResponse`. */
class NodeHandler extends GatewayHandler {
  private readonly res: ServerResponse;
  private ended = false;
  /** True once `writeHead` ran (`headersSent` is reset by `close()`). */
  private headWritten = false;

  constructor(
    req: NodeRequest,
    res: ServerResponse,
    cgiVars: Record<string, string>,
    stderr: ErrorStream,
    options: NodeListenerOptions,
  ) {
    super();
    this.res = res;
    this.cgiVars = cgiVars;
    this.stderr = stderr;
    this.scheme = (req.socket as TLSSocket).encrypted ? "https" : "http";
    this.wsgiMultiprocess = options.multiprocess ?? false;
    const limit = inputLimit(cgiVars);
    let iterator: AsyncIterator<Uint8Array> | undefined;
    this.stdin = this.link.input(async () => {
      if (req.readableEnded) return null;
      iterator ??= req[Symbol.asyncIterator]();
      const step = await iterator.next();
      return step.done ? null : (step.value as Uint8Array);
    }, limit);
    res.once("close", () => {
      if (!res.writableFinished) this.link.disconnect();
    });
  }

  /**
   * After `run`: a response cut short (an error after the headers) is cut at the socket
   * too, once what was written reached it, so the client sees a truncated body, not a
   * complete one.
   */
  settle(error?: unknown): void {
    if (error !== undefined) {
      this.stderr.write(`error while sending the error page: ${formatError(error)}\n`);
    }
    if (this.ended || this.res.destroyed) return;
    const socket = this.res.socket;
    if (socket === null || !this.headWritten) this.res.destroy();
    else socket.end(() => socket.destroy());
  }

  /** Node checks the head in `writeHead` first: if it refuses it, nothing was sent and the error page can go. */
  protected override sendHead_(): void {
    this.link.check();
    const code = Number(this.status!.slice(0, 3));
    const flat: string[] = [];
    for (const [name, value] of this.headers!) flat.push(name, value);
    this.res.writeHead(code, this.status!.slice(4), flat);
    this.headWritten = true;
  }

  protected override write_(data: Uint8Array): void | Promise<void> {
    this.link.check();
    if (this.res.write(data)) return;
    return this.link.guard(
      new Promise<void>((resolve) => {
        this.res.once("drain", resolve);
      }),
    );
  }

  protected override end_(): void {
    if (this.link.gone) return;
    this.ended = true;
    this.res.end();
  }
}
