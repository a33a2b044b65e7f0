/**
 * The contract's Fetch handler on Bun's own server (`Bun.serve`), on a free loopback port
 * that it prints as `port N`. Run: `bun test/runtimes/serve-bun.ts`.
 */
import { contractHandler } from "./contract-handler.ts";

/** The part of Bun's global this file uses. */
declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch: (request: Request) => Promise<Response>;
  }): { port: number };
};

const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: contractHandler });
console.log(`port ${server.port}`);
