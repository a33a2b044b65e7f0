/**
 * The CGI variables of one request, built straight from the parsed head (PEP 3333 §environ
 * Variables): native strings, `PATH_INFO` percent-decoded as latin-1, `HTTP_*` headers with
 * repeats comma-joined (`Cookie` lines with `; `), names with `_` dropped unless the server keeps them.
 *
 * @module
 */
import type { Socket } from "node:net";
import { environKey } from "../http/environ-key.ts";
import { joinFieldValues } from "../http/fields.ts";
import { hostVars } from "../http/host.ts";
import type { RequestHead } from "../http/parser.ts";
import { unquoteLatin1 } from "../util/native.ts";
import type { ServerContext } from "./context.ts";

/** The client's address and port, as `REMOTE_ADDR` and `REMOTE_PORT` give them. */
export interface Peer {
  readonly address: string;
  readonly port: string;
}

/** The peer of a socket, read once per connection. */
export function peerOf(socket: Socket): Peer {
  return {
    address: socket.remoteAddress ?? "",
    port: socket.remotePort === undefined ? "" : String(socket.remotePort),
  };
}

/** The last Host split, since a server mostly sees the same Host again and again. */
let lastHost = "";
let lastScheme = "";
let lastVars: [name: string, port: string] = ["", ""];

/**
 * The environ keys of one connection's last header names, by position: a keep-alive client
 * sends the same names in the same order, and comparing a name costs less than looking its
 * key up by hash.
 */
export class HeaderKeys {
  private readonly names: string[] = [];
  private readonly keys: string[] = [];

  /** `environKey(name)` for the field at `index`. */
  keyAt(index: number, name: string): string {
    if (this.names[index] === name) return this.keys[index] as string;
    const key = environKey(name);
    this.names[index] = name;
    this.keys[index] = key;
    return key;
  }
}

/** The CGI variables and `HTTP_*` keys of a request. */
export function buildCgiVars(
  head: RequestHead,
  peer: Peer,
  keys: HeaderKeys,
  ctx: ServerContext,
): Record<string, string> {
  let serverName = ctx.serverName;
  let serverPort = ctx.serverPort;
  const host = head.host;
  if (host) {
    if (host !== lastHost || ctx.scheme !== lastScheme) {
      lastVars = hostVars(host, ctx.scheme);
      lastHost = host;
      lastScheme = ctx.scheme;
    }
    [serverName, serverPort] = lastVars;
  }
  const vars: Record<string, string> = {
    REQUEST_METHOD: head.method,
    SCRIPT_NAME: "",
    PATH_INFO: head.form === "asterisk" ? "*" : unquoteLatin1(head.path),
    QUERY_STRING: head.query,
    SERVER_NAME: serverName,
    SERVER_PORT: serverPort,
    SERVER_PROTOCOL: head.version,
    REMOTE_ADDR: peer.address,
    REMOTE_PORT: peer.port,
    RAW_URI: head.target,
  };
  const headers = head.headers;
  const keepUnderscores = ctx.options.keepUnderscoreHeaders;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (!keepUnderscores && head.underscoreNames && name.includes("_")) continue;
    const key = keys.keyAt(i, name);
    const previous = vars[key];
    vars[key] = previous === undefined ? value : joinFieldValues(name, previous, value);
  }
  // RFC 9112 §3.2.2: with an absolute-form target, the target's authority replaces Host.
  if (head.form === "absolute" && host !== null) vars.HTTP_HOST = host;
  return vars;
}
