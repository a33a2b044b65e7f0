/**
 * Process-wide listeners (signals, cluster messages) added for one server's lifetime and
 * removed together when it stops.
 *
 * @module
 */

/** A `process` event and its listener. */
export type ProcessListener = readonly [event: string, listener: (...args: unknown[]) => void];

/** Adds the listeners to `process`; returns the function that removes them all again. */
export function addProcessListeners(listeners: readonly ProcessListener[]): () => void {
  for (const [event, listener] of listeners) process.on(event, listener);
  return () => {
    for (const [event, listener] of listeners) process.off(event, listener);
  };
}
