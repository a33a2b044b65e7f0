/**
 * The surfaces of this branch, each a few lines over the contract's `Surface` interface:
 * the test client, `toFetchHandler` called with Node's own `Request`, `toNodeListener`
 * under `node:http` with a real socket, and the round trip
 * `fromFetchHandler(toFetchHandler(app))` in the test client.
 */
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { fromFetchHandler, toFetchHandler } from "../../src/fetch.ts";
import { toNodeListener } from "../../src/node.ts";
import { BufferedErrorStream } from "../../src/streams.ts";
import type { TestRequest } from "../../src/testing.ts";
import { call } from "../../src/testing.ts";
import type { WSGIApplication } from "../../src/types.ts";
import type { ContractRequest, ContractResponse, Surface } from "./suite.ts";

function toTestRequest(request: ContractRequest): TestRequest {
  const out: TestRequest = { method: request.method ?? "GET", path: request.path ?? "/" };
  if (request.headers) out.headers = request.headers;
  if (request.body) out.body = request.body instanceof Uint8Array ? request.body : request.body();
  return out;
}

/** The test client, hanging up with `disconnectAfter`. */
export const testingSurface: Surface = {
  name: "testing client",
  async request(app, request) {
    const response = await call(app, toTestRequest(request), {
      validate: false,
      catchErrors: true,
    });
    return {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers.items().map(([n, v]) => [n.toLowerCase(), v]),
      body: response.body,
      complete: response.complete,
    };
  },
  async disconnect(app, request, after) {
    await call(app, toTestRequest(request), {
      validate: false,
      catchErrors: true,
      disconnectAfter: after,
    });
  },
};

function fetchRequest(request: ContractRequest): Request {
  const init: RequestInit & { duplex?: "half" } = { method: request.method ?? "GET" };
  const headers = new Headers(request.headers);
  const body = request.body;
  if (body instanceof Uint8Array) {
    // A Fetch server hands over the Content-Length that came on the wire.
    headers.set("Content-Length", String(body.length));
    init.body = body;
  } else if (body) {
    const iterator = body()[Symbol.asyncIterator]();
    init.body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const step = await iterator.next();
        if (step.done) controller.close();
        else controller.enqueue(step.value);
      },
    });
    init.duplex = "half";
  }
  init.headers = headers;
  return new Request(`http://localhost${request.path ?? "/"}`, init);
}

async function readFetchResponse(response: Response): Promise<ContractResponse> {
  const chunks: Uint8Array[] = [];
  let complete = true;
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
      }
    } catch {
      complete = false;
    }
  }
  return {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    body: Buffer.concat(chunks),
    complete,
  };
}

/** `toFetchHandler(app)` called with Node's `Request`; a hang-up cancels the body's reader. */
export const fetchSurface: Surface = {
  name: "toFetchHandler",
  async request(app, request) {
    const handler = toFetchHandler(app, { errors: new BufferedErrorStream() });
    return readFetchResponse(await handler(fetchRequest(request)));
  },
  async disconnect(app, request, after) {
    const handler = toFetchHandler(app, { errors: new BufferedErrorStream() });
    const response = await handler(fetchRequest(request));
    const reader = response.body!.getReader();
    let received = 0;
    while (received < after) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
    }
    await reader.cancel();
  },
};

/** A server started for one exchange: its port, and how to stop it. */
export interface StartedServer {
  /** The loopback port it listens on. */
  port: number;
  /** Stops it, cutting any connection left. */
  close(): Promise<void>;
}

/** Starts `app` on a server for one exchange, then stops it. */
async function withServer<T>(
  start: (app: WSGIApplication) => Promise<StartedServer>,
  app: WSGIApplication,
  exchange: (port: number) => Promise<T>,
): Promise<T> {
  const server = await start(app);
  try {
    return await exchange(server.port);
  } finally {
    await server.close();
  }
}

function sendNode(
  port: number,
  request: ContractRequest,
  onResponse: (res: import("node:http").IncomingMessage, destroy: () => void) => void,
  onError: (error: Error) => void,
): void {
  const req = httpRequest({
    host: "127.0.0.1",
    port,
    method: request.method ?? "GET",
    path: request.path ?? "/",
    headers: [
      ["Host", `127.0.0.1:${port}`],
      ...(request.headers ?? []),
      ...(request.body instanceof Uint8Array
        ? [["Content-Length", String(request.body.length)]]
        : []),
    ].flat(),
    agent: false,
  });
  req.on("error", onError);
  req.on("response", (res) => onResponse(res, () => req.destroy()));
  const body = request.body;
  if (body instanceof Uint8Array) req.end(body);
  else if (body) {
    void (async () => {
      for await (const chunk of body()) {
        if (!req.write(chunk)) await new Promise((resolve) => req.once("drain", resolve));
      }
      req.end();
    })();
  } else req.end();
}

/** Sends `request` to a loopback port and resolves with the whole response. */
export function fetchOver(port: number, request: ContractRequest): Promise<ContractResponse> {
  return new Promise((resolve, reject) => {
    sendNode(
      port,
      request,
      (res) => {
        const chunks: Buffer[] = [];
        let complete = true;
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", () => {
          complete = false;
        });
        res.on("close", () => {
          const raw = res.rawHeaders;
          const headers: Array<[string, string]> = [];
          for (let i = 0; i + 1 < raw.length; i += 2) {
            headers.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string]);
          }
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? "",
            headers,
            body: Buffer.concat(chunks),
            complete: complete && res.complete,
          });
        });
      },
      reject,
    );
  });
}

/** Sends `request` to a loopback port, reads `after` body bytes, then destroys the socket. */
export function hangUpOver(port: number, request: ContractRequest, after: number): Promise<void> {
  return new Promise((resolve, reject) => {
    sendNode(
      port,
      request,
      (res, destroy) => {
        let received = 0;
        const check = () => {
          if (received < after) return;
          res.off("data", onData);
          destroy();
          resolve();
        };
        const onData = (chunk: Buffer) => {
          received += chunk.length;
          check();
        };
        res.on("data", onData);
        res.on("error", () => {});
        check();
      },
      reject,
    );
  });
}

/**
 * A surface for any HTTP server: `start` serves an application on a loopback port for
 * one exchange, and the contract talks to it with `node:http`'s client over a real socket.
 */
export function httpSurface(
  name: string,
  start: (app: WSGIApplication) => Promise<StartedServer>,
): Surface {
  return {
    name,
    request: (app, request) => withServer(start, app, (port) => fetchOver(port, request)),
    disconnect: (app, request, after) =>
      withServer(start, app, (port) => hangUpOver(port, request, after)),
  };
}

/** `toNodeListener(app)` under `node:http`. */
export const nodeSurface: Surface = httpSurface("toNodeListener under node:http", async (app) => {
  const server = createServer(toNodeListener(app, { errors: new BufferedErrorStream() }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

/** `fromFetchHandler(toFetchHandler(app))`, run by the test client (itself validated). */
export const roundTripSurface: Surface = {
  name: "fromFetchHandler(toFetchHandler(app)) in the test client",
  request(app, request) {
    const bridged = fromFetchHandler(toFetchHandler(app, { errors: new BufferedErrorStream() }));
    return testingSurface.request(bridged, request);
  },
  disconnect(app, request, after) {
    const bridged = fromFetchHandler(toFetchHandler(app, { errors: new BufferedErrorStream() }));
    return testingSurface.disconnect(bridged, request, after);
  },
};
