/**
 * The test client (`wsgiref/testing`): call a WSGI application in-process, with no
 * socket, under the validator, and inspect its response. A hostile client is one option
 * away: a request body a byte at a time, a slow reader, a hang-up after N bytes. `replay`
 * sends the same request to the production server over loopback.
 *
 * @module
 */

export {
  type ReplayOptions,
  type ReplayServer,
  replay,
  type ServeFunction,
} from "./server/replay.ts";
export {
  type CallOptions,
  Client,
  type ClientOptions,
  call,
  type TestRequestInit,
  TestResponse,
} from "./testing/client.ts";
export type { ClientBehaviour } from "./testing/handler.ts";
export type { TestBody, TestHeaders, TestRequest } from "./testing/request.ts";
