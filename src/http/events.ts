/**
 * The events `ServerConnection.nextEvent()` returns, besides the request head itself
 * (`RequestHead`, in `parser.ts`). The ones without data are shared frozen objects.
 *
 * @module
 */
import type { RequestHead } from "./parser.ts";

/** A piece of the request body: a view of the received bytes, valid until you drop it. */
export interface DataEvent {
  readonly type: "data";
  readonly data: Uint8Array;
}
/** The request body ended; `trailers` are the chunked trailer fields `[name0, value0, ...]`. */
export interface EndEvent {
  readonly type: "end";
  readonly trailers: readonly string[];
}
/** Nothing more can be decoded until `receive` brings more bytes. */
export interface NeedDataEvent {
  readonly type: "need-data";
}
/** The request was read; the next one waits until the response ended (`sendEnd`). */
export interface PausedEvent {
  readonly type: "paused";
}
/** The connection is over: close the socket once the written bytes are flushed. */
export interface ClosedEvent {
  readonly type: "closed";
}
/** What `nextEvent()` returns. */
export type ConnectionEvent =
  | RequestHead
  | DataEvent
  | EndEvent
  | NeedDataEvent
  | PausedEvent
  | ClosedEvent;

/** The `need-data` event (one shared object). */
export const NEED_DATA: NeedDataEvent = Object.freeze({ type: "need-data" });
/** The `paused` event (one shared object). */
export const PAUSED: PausedEvent = Object.freeze({ type: "paused" });
/** The `closed` event (one shared object). */
export const CLOSED: ClosedEvent = Object.freeze({ type: "closed" });
/** The `end` event of a body without trailers (one shared object). */
export const END_NO_TRAILERS: EndEvent = Object.freeze({
  type: "end",
  trailers: Object.freeze([]),
});
