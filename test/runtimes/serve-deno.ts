/**
 * The contract's Fetch handler on Deno's own server (`Deno.serve`), on a free loopback port
 * that it prints as `port N`. Run: `deno run --allow-net --allow-env --allow-read
 * test/runtimes/serve-deno.ts`.
 */
import { contractHandler } from "./contract-handler.ts";

/** The part of Deno's global this file uses. */
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen(address: { port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown;
};

Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log(`port ${port}`) },
  contractHandler,
);
