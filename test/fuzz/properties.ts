/**
 * The fuzz properties, with the number of runs as a parameter: test/server/fuzz.test.ts
 * runs them briefly in `npm test`, test/fuzz/run.ts (`npm run fuzz`) runs them long.
 *
 * - `parserStaysInsideTheGrammar`: every head the parser accepts, the independent RFC 9112
 *   recogniser (rfc9112.ts) accepts too, with the same method, target, version and fields.
 * - `serverAnswersAnyBytes`: any byte stream, sent to a real server socket in random
 *   pieces, gets exactly the responses the sans-I/O core predicts (one 200 per complete
 *   request, then the error's 4xx/5xx with `Connection: close` if the stream went bad),
 *   the connection closes, and nothing hangs.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import fc from "fast-check";
import { ServerConnection } from "../../src/http/connection.ts";
import { PROTOCOL_ERRORS, ProtocolError, type ProtocolErrorCode } from "../../src/http/errors.ts";
import type { WSGIApplication } from "../../src/types.ts";
import { exchange as coreExchange } from "../http/helpers.ts";
import { hostileHead, streamInPieces } from "./generators.ts";
import { isStrictTarget, recognise } from "./rfc9112.ts";

/** fast-check parameters: the runs, and `FUZZ_SEED` to replay a failure. */
export function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED;
  return seed === undefined ? { numRuns } : { numRuns, seed: Number(seed) };
}

/** What a run of `parserStaysInsideTheGrammar` saw, so a test can check it was not vacuous. */
export interface GrammarStats {
  accepted: number;
  rejected: number;
  /** Accepted heads whose target only the documented leniency allows. */
  lenientTargets: number;
}

/** HTTP/1.0 stays 1.0; 1.1 to 1.9 are read as 1.1 (RFC 9110 §2.5). */
const versionAsRead = (version: string) => (version === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1");

/** Property: the parser accepts no head outside the RFC 9112 grammar. */
export function parserStaysInsideTheGrammar(numRuns: number): GrammarStats {
  const stats: GrammarStats = { accepted: 0, rejected: 0, lenientTargets: 0 };
  fc.assert(
    fc.property(hostileHead, (head) => {
      const raw = Buffer.from(head, "latin1");
      const conn = new ServerConnection();
      conn.receive(raw);
      let event: ReturnType<ServerConnection["nextEvent"]>;
      try {
        event = conn.nextEvent();
      } catch (error) {
        assert.ok(error instanceof ProtocolError, String(error));
        stats.rejected++;
        return;
      }
      if (event.type !== "request") return;
      stats.accepted++;
      const consumed = raw.subarray(0, raw.length - conn.bufferedBytes).toString("latin1");
      const ref = recognise(consumed, { lenientTarget: true });
      assert.ok(
        ref !== null,
        `the parser accepted a head RFC 9112 does not: ${JSON.stringify(consumed)}`,
      );
      assert.equal(event.method, ref.method);
      assert.equal(event.target, ref.target);
      assert.equal(event.version, versionAsRead(ref.version));
      assert.deepEqual(event.headers, ref.headers);
      if (!isStrictTarget(event.target)) stats.lenientTargets++;
    }),
    fuzzParameters(numRuns),
  );
  return stats;
}

/**
 * The app the server runs under fuzzing: reads the whole body, answers
 * `METHOD TARGET BODY-LENGTH`.
 */
export const echoApp: WSGIApplication = async (environ, startResponse) => {
  const body = await environ["wsgi.input"].read();
  startResponse("200 OK", [["Content-Type", "text/plain"]]);
  return [Buffer.from(`${environ.REQUEST_METHOD} ${environ.RAW_URI} ${body.length}`, "latin1")];
};

/** The limits both the server (as options) and the core (as limits) use. */
export const FUZZ_BODY_LIMIT = 1024 * 1024;

/** Sends `raw` in pieces (one write each, a turn of the event loop apart), then half-closes. */
async function sendInPieces(
  port: number,
  raw: Buffer,
  cuts: readonly number[],
  ms: number,
): Promise<{ received: string; closed: boolean }> {
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  let closed = false;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    socket.on("close", () => {
      closed = true;
      clearTimeout(timer);
      resolve();
    });
  });
  socket.on("data", (d: Buffer) => chunks.push(d));
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  let at = 0;
  for (const cut of [...cuts, raw.length]) {
    if (cut > at && !socket.destroyed) socket.write(raw.subarray(at, cut));
    at = Math.max(at, cut);
    await new Promise((r) => setImmediate(r));
  }
  if (!socket.destroyed) socket.end();
  await done;
  socket.destroy();
  return { received: Buffer.concat(chunks).toString("latin1"), closed };
}

/** One final response parsed from the wire. */
interface WireResponse {
  status: number;
  headers: string;
  body: string;
}

/**
 * Parses responses with a Content-Length (or none: HEAD, 204, 304), skipping interim 1xx
 * responses. `isHead(i)` says whether the i-th final response answers a HEAD.
 */
function parseResponses(
  data: string,
  isHead: (i: number) => boolean,
): { responses: WireResponse[]; rest: string } {
  const responses: WireResponse[] = [];
  let pos = 0;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", pos);
    if (end === -1) break;
    const head = data.slice(pos, end + 2);
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
    assert.ok(Number.isInteger(status), `not a status line: ${JSON.stringify(head.slice(0, 40))}`);
    let next = end + 4;
    if (status < 200) {
      pos = next;
      continue;
    }
    const length = /\r\nContent-Length: (\d+)\r\n/i.exec(head);
    assert.doesNotMatch(head, /\r\nTransfer-Encoding:/i, "the echo app's answers have a length");
    let body = "";
    if (!isHead(responses.length) && status !== 204 && status !== 304) {
      assert.ok(length !== null, `no Content-Length: ${JSON.stringify(head)}`);
      body = data.slice(next, next + Number(length[1]));
      assert.equal(body.length, Number(length[1]), "a whole body");
      next += body.length;
    }
    responses.push({ status, headers: head, body });
    pos = next;
  }
  return { responses, rest: data.slice(pos) };
}

/**
 * What the sans-I/O core says the server must answer to `raw` followed by the client's
 * close: the same requests whole or in pieces. Which error a line with several faults
 * shows can depend on where the pieces were cut (a bare CR is found when it arrives, the
 * rest of a line when its LF does, or as an incomplete message at the close). The server
 * reads our pieces, or several of them merged (TCP may join writes), so every coarser
 * split of `cuts` is tried and each error code one gives is acceptable.
 */
function expectedAnswers(
  raw: Buffer,
  cuts: readonly number[],
): {
  answered: Array<{ method: string; target: string; bodyLength: number }>;
  /** The acceptable error codes, empty when the stream is fine. */
  codes: Set<string>;
  /** Methods of the final responses, in order (an error answers the request being read). */
  methods: string[];
} {
  const options = { limits: { maxBodySize: FUZZ_BODY_LIMIT } };
  const whole = coreExchange(raw, [], options, true);
  const codes = new Set<string>();
  for (let mask = 0; mask < 1 << cuts.length; mask++) {
    const { error } = coreExchange(
      raw,
      cuts.filter((_, i) => (mask >> i) & 1),
      options,
      true,
    );
    if (error === null) continue;
    if (!(error instanceof ProtocolError)) throw error;
    codes.add(error.code);
  }
  const answered: Array<{ method: string; target: string; bodyLength: number }> = [];
  const methods: string[] = [];
  let current: { method: string; target: string; bodyLength: number } | null = null;
  for (const event of whole.events) {
    if (event.type === "request") {
      current = { method: event.method, target: event.target, bodyLength: 0 };
      methods.push(event.method);
    } else if (event.type === "data" && current !== null) current.bodyLength += event.data.length;
    else if (event.type === "end" && current !== null) {
      answered.push(current);
      current = null;
    }
  }
  if (codes.size > 0 && current === null) methods.push("");
  return { answered, codes, methods };
}

/**
 * Property: a real server answers any bytes in any pieces as the core predicts, closes the
 * connection, and (checked by the caller) keeps serving.
 */
export function serverAnswersAnyBytes(
  port: number,
  numRuns: number,
  afterEach?: () => Promise<void>,
): Promise<void> {
  return fc.assert(
    fc.asyncProperty(streamInPieces, async ([raw, cuts]) => {
      const expected = expectedAnswers(raw, cuts);
      const { received, closed } = await sendInPieces(port, raw, cuts, 5000);
      assert.ok(
        closed,
        `the server did not close the connection (hang): ${JSON.stringify(received.slice(0, 200))}`,
      );
      const { responses, rest } = parseResponses(received, (i) => expected.methods[i] === "HEAD");
      assert.equal(rest, "", "nothing after the last response");
      const finals = expected.answered.length + (expected.codes.size === 0 ? 0 : 1);
      assert.equal(
        responses.length,
        finals,
        `responses: ${responses.map((r) => r.status).join(",")}`,
      );
      expected.answered.forEach((request, i) => {
        const response = responses[i] as WireResponse;
        assert.equal(response.status, 200);
        if (request.method !== "HEAD") {
          assert.equal(response.body, `${request.method} ${request.target} ${request.bodyLength}`);
        }
      });
      if (expected.codes.size > 0) {
        const last = responses[responses.length - 1] as WireResponse;
        assert.match(last.headers, /\r\nConnection: close\r\n/);
        const head = expected.methods[finals - 1] === "HEAD";
        const code = head ? undefined : /(ERR_[A-Z0-9_]+)\n$/.exec(last.body)?.[1];
        if (code !== undefined) {
          assert.ok(expected.codes.has(code), `${code} is not one of ${[...expected.codes]}`);
          assert.equal(last.status, PROTOCOL_ERRORS[code as ProtocolErrorCode].status);
        }
        assert.ok(last.status >= 400 && last.status < 600, "an error answer is a 4xx or 5xx");
      }
      await afterEach?.();
    }),
    fuzzParameters(numRuns),
  );
}
