/**
 * The sans-I/O HTTP/1.1 core: a request parser and a connection state machine that turn
 * bytes into events and responses into bytes. See `docs/http-core.md`.
 *
 * @module
 */
export { ChunkedDecoder } from "./chunked.ts";
export {
  type Phase,
  type SendOptions,
  ServerConnection,
  type ServerConnectionOptions,
} from "./connection.ts";
export { environKey, hasUnderscore } from "./environ-key.ts";
export {
  escapeBytes,
  LocalProtocolError,
  type LocalProtocolErrorCode,
  PROTOCOL_ERRORS,
  ProtocolError,
  type ProtocolErrorCode,
  type ProtocolErrorInfo,
} from "./errors.ts";
export {
  CLOSED,
  type ClosedEvent,
  type ConnectionEvent,
  type DataEvent,
  type EndEvent,
  NEED_DATA,
  type NeedDataEvent,
  PAUSED,
  type PausedEvent,
} from "./events.ts";
export { DEFAULT_LIMITS, LIMITS, type LimitDoc, type Limits, resolveLimits } from "./limits.ts";
export { HeadParser, type RequestHead } from "./parser.ts";
export { type BodyMode, chunkFrame, errorResponse, type ResponseHeader } from "./response.ts";
export {
  REQUEST_STATES,
  RESPONSE_STATES,
  type RequestState,
  type ResponseState,
  type Trigger,
} from "./states.ts";
export { REASON_PHRASES, reasonPhrase, statusForbidsBody } from "./status.ts";
