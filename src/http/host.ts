/**
 * What a request's `Host` says about the server it reached: the name and port that become
 * `SERVER_NAME` and `SERVER_PORT` (PEP 3333's URL reconstruction, RFC 3875 §4.1.14/15),
 * and the port a scheme implies when the Host names none (RFC 9110 §4.2). One owner for
 * the server, the bridges, the test client and the proxy middleware.
 *
 * @module
 */

/** The port a scheme uses when a URL or Host names none: `443` for `https`, else `80`. */
export function defaultPort(scheme: unknown): string {
  return scheme === "https" ? "443" : "80";
}

/** Splits a Host value into name and port (`[::1]:8080` → `::1`, `8080`). */
export function splitHost(host: string): [name: string, port: string | undefined] {
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    const rest = host.slice(close + 1);
    return [host.slice(1, close), rest.startsWith(":") ? rest.slice(1) : undefined];
  }
  const colon = host.lastIndexOf(":");
  return colon === -1 ? [host, undefined] : [host.slice(0, colon), host.slice(colon + 1)];
}

/** `SERVER_NAME` and `SERVER_PORT` for a Host value: its name, and its port or the scheme's default. */
export function hostVars(host: string, scheme: unknown): [name: string, port: string] {
  const [name, port] = splitHost(host);
  return [name, port || defaultPort(scheme)];
}
