/**
 * Helpers for the HTTP core tests: latin-1 conversions and a driver that feeds bytes to a
 * `ServerConnection` in given pieces and collects the events.
 */
import { ServerConnection, type ServerConnectionOptions } from "../../src/http/connection.ts";
import type { ConnectionEvent } from "../../src/http/events.ts";

/** Latin-1 string to bytes. */
export const bytes = (s: string): Buffer => Buffer.from(s, "latin1");

/** Bytes to a latin-1 string. */
export const text = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

/** An event with body bytes turned into text, so events compare with `deepEqual`. */
export type PlainEvent =
  | { type: "request"; method: string; target: string; headers: string[] }
  | { type: "data"; data: string }
  | { type: "end"; trailers: readonly string[] }
  | { type: "need-data" | "paused" | "closed" };

/** A comparable summary of an event. */
export function plain(event: ConnectionEvent): PlainEvent {
  switch (event.type) {
    case "request":
      return {
        type: "request",
        method: event.method,
        target: event.target,
        headers: event.headers,
      };
    case "data":
      return { type: "data", data: text(event.data) };
    case "end":
      return { type: "end", trailers: [...event.trailers] };
    default:
      return { type: event.type };
  }
}

/** Calls `nextEvent` until it needs data, pauses or closes; returns the events before that and the last one. */
export function drain(conn: ServerConnection, max = 100_000): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (let i = 0; i < max; i++) {
    const event = conn.nextEvent();
    events.push(event);
    if (event.type === "need-data" || event.type === "paused" || event.type === "closed") {
      return events;
    }
  }
  throw new Error("nextEvent did not settle");
}

/**
 * Feeds `raw` in pieces cut at `cuts` (sorted offsets), draining events after each piece,
 * answering every request with an empty 200 once its body ended. Returns the merged plain
 * events (adjacent data joined, need-data dropped) or the error thrown.
 */
export function exchange(
  raw: Uint8Array,
  cuts: readonly number[],
  options: ServerConnectionOptions = {},
  halfClose = false,
): { events: PlainEvent[]; error: unknown } {
  const conn = new ServerConnection(options);
  const events: PlainEvent[] = [];
  const push = (event: ConnectionEvent) => {
    const p = plain(event);
    const last = events[events.length - 1];
    if (p.type === "need-data") return;
    if (p.type === "data" && last?.type === "data") last.data += p.data;
    else events.push(p);
  };
  try {
    let at = 0;
    for (const cut of [...cuts, raw.length]) {
      const to = Math.min(cut, raw.length);
      if (to > at) conn.receive(raw.subarray(at, to));
      at = Math.max(at, to);
      settle(conn, push);
    }
    if (halfClose) {
      conn.receive(new Uint8Array(0));
      settle(conn, push);
    }
    return { events, error: null };
  } catch (error) {
    return { events, error };
  }
}

function settle(conn: ServerConnection, push: (e: ConnectionEvent) => void): void {
  for (let i = 0; i < 100_000; i++) {
    const event = conn.nextEvent();
    push(event);
    if (event.type === "paused") {
      conn.respond(200, [], new Uint8Array(0));
      continue;
    }
    if (event.type === "need-data" || event.type === "closed") return;
  }
  throw new Error("nextEvent did not settle");
}
