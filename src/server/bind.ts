/**
 * Where a server listens: `--bind` addresses (gunicorn's `-b`: `HOST:PORT`,
 * `[IPv6]:PORT`, `unix:PATH`, `fd://N`), sockets inherited from systemd (socket
 * activation: `LISTEN_FDS` and `LISTEN_PID`), or `--host`/`--port`/`--unix-socket`.
 *
 * @module
 */
import { isIPv6 } from "node:net";
import { OptionError, type ServerOptions } from "./options.ts";

/** One address to listen on. */
export type Endpoint =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string }
  | { readonly kind: "fd"; readonly fd: number };

/** The first descriptor systemd passes (`SD_LISTEN_FDS_START`). */
export const SD_LISTEN_FDS_START = 3;

/**
 * The variable through which a cluster primary tells its workers how many inherited
 * sockets it serves (the workers' pid is not `LISTEN_PID`; the primary listens for them).
 */
export const INHERITED_FDS_VAR = "WSGIREF_INHERITED_FDS";

/** Reads one `--bind` address; throws an `OptionError` naming it. */
export function parseBind(text: string): Endpoint {
  const bad = (what: string) =>
    new OptionError(
      `--bind: ${what}, got ${JSON.stringify(text)} (try 127.0.0.1:8000, [::1]:8000 or unix:/run/app.sock)`,
    );
  if (text.startsWith("unix:")) {
    const path = text.slice(5);
    if (path === "") throw bad("unix: needs a path");
    return { kind: "unix", path };
  }
  if (text.startsWith("fd://")) {
    const fd = Number(text.slice(5));
    if (!Number.isInteger(fd) || fd < 0) throw bad("fd:// needs a descriptor number");
    return { kind: "fd", fd };
  }
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) {
    host = v6[1] as string;
    portText = v6[2] as string;
    if (!isIPv6(host)) throw bad("expected an IPv6 address in brackets");
  } else {
    const at = text.lastIndexOf(":");
    if (at <= 0 || text.indexOf(":") !== at) throw bad("expected HOST:PORT");
    host = text.slice(0, at);
    portText = text.slice(at + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw bad("expected a port from 0 to 65535");
  return { kind: "tcp", host, port };
}

/**
 * How many sockets systemd passed to this process: `LISTEN_FDS` when `LISTEN_PID` is this
 * process (or, in a cluster worker, what the primary passed on); 0 without socket activation.
 */
export function inheritedFds(
  env: Readonly<Record<string, string | undefined>> = process.env,
): number {
  const passedOn = env[INHERITED_FDS_VAR];
  if (passedOn !== undefined) return Number(passedOn) || 0;
  if (env.LISTEN_PID !== String(process.pid)) return 0;
  const count = Number(env.LISTEN_FDS);
  return Number.isInteger(count) && count > 0 ? count : 0;
}

/** Where the server listens: inherited sockets, else every `bind`, else host/port or the Unix socket. */
export function endpointsOf(options: ServerOptions, inherited = inheritedFds()): Endpoint[] {
  if (inherited > 0) {
    return Array.from({ length: inherited }, (_, i) => ({
      kind: "fd" as const,
      fd: SD_LISTEN_FDS_START + i,
    }));
  }
  if (options.bind !== undefined && options.bind.length > 0) return options.bind.map(parseBind);
  if (options.path !== undefined) return [{ kind: "unix", path: options.path }];
  return [{ kind: "tcp", host: options.host, port: options.port }];
}

/** The options of `net.Server.listen` for an endpoint. */
export function listenArgs(
  endpoint: Endpoint,
  backlog: number,
):
  | { port: number; host: string; backlog: number }
  | { path: string; backlog: number }
  | { fd: number; backlog: number } {
  switch (endpoint.kind) {
    case "tcp":
      return { port: endpoint.port, host: endpoint.host, backlog };
    case "unix":
      return { path: endpoint.path, backlog };
    case "fd":
      return { fd: endpoint.fd, backlog };
  }
}
