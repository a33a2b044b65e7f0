/**
 * `GatewayHandler`: the `BaseHandler` of every gateway that parses the request itself —
 * the production server, the Fetch and `node:http` bridges, the test client. It is given
 * the request's CGI variables, its input and error streams and its scheme, answers in
 * HTTP/1.1, and keeps `process.env` out of the environ.
 *
 * @module
 */
import type { ErrorStream, InputStream, WSGIEnvironment } from "../types.ts";
import { BaseHandler } from "./base.ts";
import { ClientLink } from "./link.ts";

/** A handler for a request some gateway parsed: subclasses set the four fields and supply I/O. */
export abstract class GatewayHandler extends BaseHandler {
  override httpVersion = "1.1";
  override osEnviron: Readonly<Record<string, string>> = {};
  override wsgiMultithread = false;
  /** A list body's length is known up front, so it never needs chunked framing. */
  override contentLengthRule: "one-chunk" | "list" = "list";
  /** The request's CGI variables and `HTTP_*` keys, plus any extension keys. */
  protected cgiVars!: Record<string, unknown>;
  /** The `wsgi.input` of the request. */
  protected stdin!: InputStream;
  /** The `wsgi.errors` of the request. */
  protected stderr!: ErrorStream;
  /** `http` or `https`, as the gateway knows it. */
  protected scheme = "http";
  /** The client: connected until it goes away, which aborts the exchange (docs/disconnects.md). */
  readonly link = new ClientLink(this);

  /** The environ starts as a copy of the request's variables. */
  protected override createEnviron(): WSGIEnvironment {
    return { ...this.cgiVars } as unknown as WSGIEnvironment;
  }

  /** Every gateway bounds its input at the end of the body. */
  override addCgiVars(): void {
    this.environ["wsgi.input_terminated"] = true;
  }

  override getStdin(): InputStream {
    return this.stdin;
  }

  override getStderr(): ErrorStream {
    return this.stderr;
  }

  override getScheme(): string {
    return this.scheme;
  }
}
