/**
 * The checks `start_response` makes (PEP 3333 "The start_response() Callable"): CPython's
 * assertions, plus the grammar the HTTP/1.1 core frames responses with, so that a head
 * the core would refuse is refused here, with a message that names the bad value, while
 * the application can still catch it. Deliberate differences from CPython are listed in
 * docs/handlers-and-cgi.md.
 *
 * @module
 */
import { AssertionError } from "../assertion.ts";
import { isFieldName, isFieldValue } from "../http/grammar.ts";
import { contentLengthValue } from "../http/response.ts";
import type { HeaderTuple } from "../types.ts";
import { isHopByHop } from "../util.ts";
import { describe } from "./support.ts";

/** Status strings already checked, with their codes: an application gives the same few again and again. */
const checkedStatuses = new Map<string, number>();

function fail(message: string): never {
  throw new AssertionError({ message });
}

function checkString(value: unknown, title: string): string {
  if (typeof value === "string") return value;
  fail(`${title} must be of type string (got ${describe(value)})`);
}

/**
 * Checks a WSGI status and returns its code: a string `NNN reason` (CPython's checks), the
 * code from 100 to 599 (RFC 9110 §15) and not informational, except `101 Switching
 * Protocols` (a 1xx is never a final response: RFC 9110 §15.2), and a reason phrase of
 * field-value chars: latin-1, no control byte but HTAB (RFC 9112 §4).
 *
 * @throws AssertionError naming the bad status
 */
export function checkStatus(status: string): number {
  const cached = checkedStatuses.get(status);
  if (cached !== undefined) return cached;
  checkString(status, "Status");
  if (status.length < 4) fail(`Status must be at least 4 characters: ${describe(status)}`);
  if (!/^\d{3}$/.test(status.slice(0, 3))) {
    fail(`Status message must begin w/3-digit code: ${describe(status)}`);
  }
  if (status[3] !== " ") fail(`Status message must have a space after code: ${describe(status)}`);
  const code = Number(status.slice(0, 3));
  if (code < 100 || code > 599) fail(`Status code must be from 100 to 599: ${describe(status)}`);
  if (code < 200 && code !== 101) {
    fail(`An informational (1xx) status cannot be the final response: ${describe(status)}`);
  }
  if (!isFieldValue(status.slice(4))) {
    fail(`Status reason must be latin-1 text without control characters: ${describe(status)}`);
  }
  if (checkedStatuses.size < 256) checkedStatuses.set(status, code);
  return code;
}

/**
 * Checks response headers: a list of `[name, value]` string pairs (CPython's checks), no
 * hop-by-hop field (PEP 3333), each name a token (RFC 9110 §5.6.2), each value
 * field-value chars (latin-1, no control byte but HTAB: RFC 9110 §5.5), and at most one
 * `Content-Length`, a decimal number (RFC 9110 §8.6).
 *
 * @throws AssertionError naming the bad header
 */
export function checkHeaders(headers: unknown): asserts headers is HeaderTuple[] {
  if (!Array.isArray(headers)) {
    fail(`Headers must be an array of [name, value] (got ${describe(headers)})`);
  }
  let contentLength: string | undefined;
  for (const header of headers as unknown[]) {
    if (!Array.isArray(header) || header.length !== 2) {
      fail(`Each header must be a [name, value] pair (got ${describe(header)})`);
    }
    const name = checkString(header[0], "Header name");
    const value = checkString(header[1], "Header value");
    if (isHopByHop(name)) fail(`Hop-by-hop header, '${name}: ${value}', not allowed`);
    if (!isFieldName(name)) {
      fail(`Header name ${describe(name)} is not a token (RFC 9110 §5.6.2)`);
    }
    if (!isFieldValue(value)) {
      fail(
        `Header ${name} has a value that is not latin-1 text without control characters: ${describe(value)}`,
      );
    }
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      if (contentLengthValue(value) < 0) {
        fail(`Content-Length must be a decimal number: ${describe(value)}`);
      }
      if (contentLength !== undefined) {
        fail(`Content-Length given twice: ${describe(contentLength)} and ${describe(value)}`);
      }
      contentLength = value;
    }
  }
}
