/**
 * The size limits of the HTTP/1.1 core, declared once with their defaults and reasons.
 *
 * Each limit bounds memory or work an unauthenticated peer can make us spend. `LIMITS`
 * is data, so the server's options table, CLI help and docs can be generated from it.
 *
 * @module
 */

/** The limits a `ServerConnection` enforces on requests; every field has a default. */
export interface Limits {
  /** Longest request line in bytes, without CRLF (leading empty lines count too). Past it: 414. */
  readonly maxRequestLineLength: number;
  /** Most field lines in the header section (and in the trailer section). Past it: 431. */
  readonly maxHeaderCount: number;
  /** Longest header section in bytes, field lines with their CRLFs. Past it: 431. */
  readonly maxHeaderBytes: number;
  /** Largest request body in bytes, declared or chunked. Past it: 413. */
  readonly maxBodySize: number;
  /** Longest chunk line in bytes: chunk-size plus chunk extensions, without CRLF. Past it: 400. */
  readonly maxChunkLineLength: number;
  /** Longest trailer section in bytes. Past it: 431. */
  readonly maxTrailerBytes: number;
  /**
   * Most unread request body bytes the core discards after the response ended, to keep the
   * connection alive; a longer remainder closes the connection instead.
   */
  readonly maxDrainBytes: number;
}

/** How one limit is documented: its default and why that default. */
export interface LimitDoc {
  /** The option name. */
  readonly name: keyof Limits;
  /** The default value. */
  readonly default: number;
  /** What happens past it. */
  readonly effect: string;
  /** Why this default. */
  readonly why: string;
}

/** Every limit with its default and the reasoning behind it. */
export const LIMITS: readonly LimitDoc[] = [
  {
    name: "maxRequestLineLength",
    default: 8 * 1024,
    effect: "414 URI Too Long (ERR_URI_TOO_LONG)",
    why: "RFC 9112 §3 recommends supporting request lines of at least 8000 octets; nginx and Apache stop at 8 KiB too.",
  },
  {
    name: "maxHeaderCount",
    default: 100,
    effect: "431 Request Header Fields Too Large (ERR_TOO_MANY_HEADERS)",
    why: "Apache's LimitRequestFields default; browsers send 10-20 fields, proxies add a handful.",
  },
  {
    name: "maxHeaderBytes",
    default: 16 * 1024,
    effect: "431 Request Header Fields Too Large (ERR_HEADERS_TOO_LARGE)",
    why: "Node's default --max-http-header-size; fits large cookie sets while keeping what a slow-header attacker makes us hold small.",
  },
  {
    name: "maxBodySize",
    default: Number.POSITIVE_INFINITY,
    effect: "413 Content Too Large (ERR_BODY_TOO_LARGE)",
    why: "The core never buffers a body (it hands out slices as they arrive), so it costs no memory; uploads of any size work unless the server sets a limit.",
  },
  {
    name: "maxChunkLineLength",
    default: 4 * 1024,
    effect: "400 Bad Request (ERR_CHUNK_EXTENSION_TOO_LONG)",
    why: "A chunk line is a hex size and rarely-used extensions (signed uploads put ~100 bytes there); 4 KiB is ample and bounds work per chunk (Node answers past 16 KiB since CVE-2024-22019).",
  },
  {
    name: "maxTrailerBytes",
    default: 16 * 1024,
    effect: "431 Request Header Fields Too Large (ERR_TRAILERS_TOO_LARGE)",
    why: "The same budget as the header section.",
  },
  {
    name: "maxDrainBytes",
    default: 64 * 1024,
    effect: "the connection closes after the response instead of reading the rest of the body",
    why: "Reading a small unread remainder is cheaper than a new connection; a large one is not worth the bandwidth, and an attacker should not make us read forever.",
  },
];

/** The default limits, as one object. */
export const DEFAULT_LIMITS: Limits = Object.freeze(
  Object.fromEntries(LIMITS.map((l) => [l.name, l.default])) as unknown as Limits,
);

/** Limits `resolveLimits` returned (frozen): given again (a server's, per connection), they are taken as they are. */
const RESOLVED = new WeakSet<object>([DEFAULT_LIMITS]);

/**
 * Fills in the defaults for the limits not given, and checks each is a non-negative number.
 * The result is frozen, and given again it is returned as it is (one check per server, not
 * per connection).
 *
 * @throws RangeError when a limit is negative or not a number
 */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  if (RESOLVED.has(partial)) return partial as Limits;
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in DEFAULT_LIMITS)) throw new RangeError(`unknown limit ${key}`);
    if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
      throw new RangeError(`limit ${key} must be a non-negative number, got ${String(value)}`);
    }
    out[key] = value;
  }
  const limits = Object.freeze(out) as unknown as Limits;
  RESOLVED.add(limits);
  return limits;
}
