/**
 * Bridges between WSGI and the Fetch standard: `toFetchHandler(app)` runs a WSGI
 * application wherever a Fetch handler runs (Hono, Bun, Deno, workers);
 * `fromFetchHandler(handler)` runs a Fetch handler (a Hono app, say) on WSGI servers,
 * under the validator and in the test client.
 *
 * @module
 */
export {
  type FetchApplication,
  type FetchExecutionContext,
  isFetchApplication,
} from "./bridges/fetch-application.ts";
export {
  type FetchFunction,
  type FromFetchOptions,
  fromFetchHandler,
} from "./bridges/from-fetch.ts";
export {
  type FetchHandler,
  type ToFetchOptions,
  toFetchHandler,
} from "./bridges/to-fetch.ts";
