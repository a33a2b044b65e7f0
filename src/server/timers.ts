/**
 * The clocks of one connection. A session runs at most one timer at a time, chosen by
 * where it is (reading a head, waiting idle between requests, reading a body, running the
 * application, finishing a graceful shutdown, lingering after its close); the server's
 * sweep (`sweepTimers`, a few times a second) fires those whose deadline passed, and checks
 * two rates that run beside the timer: a client that takes no response bytes
 * (`sendTimeout`, with `Progress`) and a request body that arrives too slowly
 * (`minBodyRate`). The HTTP core keeps no clock: the session asks it for the answer.
 *
 * @module
 */

/** Where a session is, for its one timer. */
export type TimerKind = "header" | "keepAlive" | "body" | "response" | "graceful" | "linger";

/** What the sweep needs of a session. */
export interface Timed {
  /** Fires the session's timer if its deadline passed, and checks its rates. */
  sweep(now: number): void;
}

/** One connection's timer: a kind and a deadline, read against a clock that tests can drive. */
export class ConnectionTimer {
  /** When the timer fires (ms on `clock`), or 0 for none. */
  deadline = 0;
  /** What the timer is for. */
  kind: TimerKind = "header";
  /** The time of the data event being handled, else 0: one reading per event. */
  private eventTime = 0;
  private readonly clock: () => number;

  /** @param clock the time in ms (`Date.now` unless a test drives it) */
  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  /** Starts a timer of `kind` that fires after `ms`; 0 means it never fires. */
  arm(kind: TimerKind, ms: number): void {
    this.kind = kind;
    this.deadline = ms > 0 ? this.now() + ms : 0;
  }

  /** Stops the timer. */
  clear(): void {
    this.deadline = 0;
  }

  /** The time: read once per data event, so a synchronous exchange arms its timers with one reading. */
  now(): number {
    return this.eventTime || this.clock();
  }

  /** A data event begins: the clock is read once for all of it, until `eventEnded`. */
  eventStarted(): void {
    this.eventTime = this.clock();
  }

  /** The data event is over: `now()` reads the clock again. */
  eventEnded(): void {
    this.eventTime = 0;
  }
}

/** Fires the timers of `sessions` whose deadline is at or before `now`, and checks their rates. */
export function sweepTimers(sessions: Iterable<Timed>, now: number): void {
  for (const session of sessions) session.sweep(now);
}

/** Watches a count of bytes for progress: stalled once it has not moved for a while. */
export class Progress {
  private last = -1;
  private since = 0;

  /** True when `count` has not changed for `ms` up to `now` (the first reading starts the clock). */
  stalled(count: number, now: number, ms: number): boolean {
    if (count !== this.last) {
      this.last = count;
      this.since = now;
      return false;
    }
    return now - this.since >= ms;
  }

  /** Forgets the last reading: nothing is waiting. */
  reset(): void {
    this.last = -1;
  }
}
