/**
 * How `CONTENT_LENGTH` bounds `wsgi.input`, written once for every gateway: a body is
 * read no further than its declared length, so an application that reads "everything"
 * never waits for bytes that are not coming (PEP 3333 "Input and Error Streams").
 *
 * @module
 */

/** The body length a CGI environ declares (`CONTENT_LENGTH`, digits), or undefined when it declares none. */
export function declaredLength(environ: Readonly<Record<string, unknown>>): number | undefined {
  const value = environ.CONTENT_LENGTH;
  if (typeof value !== "string") return undefined;
  const digits = value.trim();
  if (!/^\d+$/.test(digits)) return undefined;
  return Number(digits);
}

/**
 * How many bytes `wsgi.input` may read: the declared `CONTENT_LENGTH`, else `missing`
 * (unbounded for a gateway whose body ends by itself, such as a chunked one; 0 under CGI,
 * where no `CONTENT_LENGTH` means no body: RFC 3875 §4.1.2).
 */
export function inputLimit(
  environ: Readonly<Record<string, unknown>>,
  missing = Number.POSITIVE_INFINITY,
): number {
  return declaredLength(environ) ?? missing;
}
