/**
 * The state machines of `ServerConnection`, as data: the states of each direction, the
 * triggers, and the transitions, compiled to index tables the connection runs on.
 *
 * ## Theory of operation
 *
 * Bytes go in with `receive(bytes)` (an empty array means the peer closed its side) and come
 * out as events from `nextEvent()`: a `request` head, `data` pieces of its body, its `end`,
 * then `paused` until our response is finished. The response goes the other way:
 * `sendResponse(status, headers)` returns the bytes of the head, `sendData(chunk)` the
 * framed bytes of each body piece, `sendEnd()` the bytes that end it. The caller writes
 * those bytes; the core never touches a socket, a timer or a stream.
 *
 * Two state machines, one per direction, move on the triggers in `REQUEST_STATES` and
 * `RESPONSE_STATES` below (h11's design). An exchange goes:
 *
 * ```
 * request side:  AWAIT_HEAD --head--> BODY --bodyEnd--> DONE ---------cycle--> AWAIT_HEAD
 * response side: IDLE --responseStart--> BODY --responseEnd--> DONE --cycle--> IDLE
 * ```
 *
 * `cycle` fires when both sides are DONE and the connection stays open. If the response
 * ends first, an unread request body is discarded in DRAIN (up to `maxDrainBytes`) before
 * the next request; a bigger remainder, `Connection: close`, an HTTP/1.0 client without
 * keep-alive or a close-delimited body fire `close` instead: both sides go CLOSED and
 * `nextEvent()` answers `closed`. A `101` response moves both sides to SWITCHED and the
 * bytes after the head are in `trailingData`. A `ProtocolError` from `nextEvent()`, or a
 * `LocalProtocolError` from the response side, moves both to ERROR; if no response had
 * started, `sendErrorResponse(error)` gives the bytes of the answer; then close.
 *
 * Pipelined requests simply wait in the buffer: `nextEvent()` answers `paused` until the
 * current response ended, then parses the next head from what is already there.
 *
 * @module
 */

/** The request side: what we expect to read next. */
export type RequestState =
  | "AWAIT_HEAD"
  | "BODY"
  | "DONE"
  | "DRAIN"
  | "SWITCHED"
  | "CLOSED"
  | "ERROR";
/** The response side: what we may write next. */
export type ResponseState = "IDLE" | "BODY" | "DONE" | "SWITCHED" | "CLOSED" | "ERROR";
/** What moves the state machines. */
export type Trigger =
  | "head"
  | "bodyEnd"
  | "drain"
  | "responseStart"
  | "responseEnd"
  | "cycle"
  | "switch"
  | "close"
  | "error";

/** The request side's transitions: from each state, the trigger and the state it leads to. */
export const REQUEST_STATES: Readonly<
  Record<RequestState, Partial<Record<Trigger, RequestState>>>
> = {
  AWAIT_HEAD: { head: "BODY", close: "CLOSED", error: "ERROR" },
  BODY: { bodyEnd: "DONE", drain: "DRAIN", switch: "SWITCHED", close: "CLOSED", error: "ERROR" },
  DONE: { cycle: "AWAIT_HEAD", switch: "SWITCHED", close: "CLOSED", error: "ERROR" },
  DRAIN: { cycle: "AWAIT_HEAD", close: "CLOSED", error: "ERROR" },
  SWITCHED: {},
  CLOSED: { close: "CLOSED", error: "ERROR" },
  ERROR: { error: "ERROR" },
};

/** The response side's transitions. */
export const RESPONSE_STATES: Readonly<
  Record<ResponseState, Partial<Record<Trigger, ResponseState>>>
> = {
  IDLE: { responseStart: "BODY", switch: "SWITCHED", close: "CLOSED", error: "ERROR" },
  BODY: { responseEnd: "DONE", error: "ERROR" },
  DONE: { cycle: "IDLE", drain: "DONE", close: "CLOSED", error: "ERROR" },
  SWITCHED: {},
  CLOSED: { close: "CLOSED", error: "ERROR" },
  ERROR: { error: "ERROR" },
};

/** The states and triggers in index order: the machines run on indexes, compiled from the tables above. */
export const REQUEST_STATE_NAMES: readonly RequestState[] = [
  "AWAIT_HEAD",
  "BODY",
  "DONE",
  "DRAIN",
  "SWITCHED",
  "CLOSED",
  "ERROR",
];
/** The response states, in index order. */
export const RESPONSE_STATE_NAMES: readonly ResponseState[] = [
  "IDLE",
  "BODY",
  "DONE",
  "SWITCHED",
  "CLOSED",
  "ERROR",
];
/** The triggers, in index order. */
export const TRIGGER_NAMES: readonly Trigger[] = [
  "head",
  "bodyEnd",
  "drain",
  "responseStart",
  "responseEnd",
  "cycle",
  "switch",
  "close",
  "error",
];

/** Request-state indexes (R_), response-state indexes (W_) and trigger indexes (T_), for the compiled tables. */
export const R_AWAIT_HEAD = 0;
export const R_BODY = 1;
export const R_DONE = 2;
export const R_DRAIN = 3;
export const R_SWITCHED = 4;
export const R_CLOSED = 5;
export const R_ERROR = 6;
export const W_IDLE = 0;
export const W_BODY = 1;
export const W_DONE = 2;
export const T_HEAD = 0;
export const T_BODY_END = 1;
export const T_DRAIN = 2;
export const T_RESPONSE_START = 3;
export const T_RESPONSE_END = 4;
export const T_CYCLE = 5;
export const T_SWITCH = 6;
export const T_CLOSE = 7;
export const T_ERROR = 8;

/** `next[state * triggers + trigger]`: the next state's index, or -1 when not allowed. */
function compile<S extends string>(
  names: readonly S[],
  table: Readonly<Record<S, Partial<Record<Trigger, S>>>>,
): Int8Array {
  const next = new Int8Array(names.length * TRIGGER_NAMES.length).fill(-1);
  names.forEach((state, i) => {
    TRIGGER_NAMES.forEach((trigger, j) => {
      const to = table[state][trigger];
      if (to !== undefined) next[i * TRIGGER_NAMES.length + j] = names.indexOf(to);
    });
  });
  return next;
}

/** The request side's transitions compiled: `REQUEST_NEXT[state * TRIGGERS + trigger]`. */
export const REQUEST_NEXT = compile(REQUEST_STATE_NAMES, REQUEST_STATES);
/** The response side's transitions compiled, the same way. */
export const RESPONSE_NEXT = compile(RESPONSE_STATE_NAMES, RESPONSE_STATES);
/** How many triggers there are: the stride of the compiled tables. */
export const TRIGGERS = TRIGGER_NAMES.length;
