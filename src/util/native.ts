/**
 * PEP 3333 native strings: request bytes as latin-1 text, one char per byte. Converting
 * them to and from real text (`decodeNative`, `encodeNative`), and percent-decoding a path
 * into one (`unquoteLatin1`), as every server builds `PATH_INFO`.
 *
 * @module
 */
import { latin1Bytes, latin1Text, utf8Bytes } from "../bytes.ts";

/** The encodings `decodeNative` and `encodeNative` convert between text and bytes with. */
export type NativeEncoding = "utf-8" | "utf8" | "latin1";

/** What to do with bytes that do not decode, or text that does not encode. */
export type EncodingErrors = "strict" | "replace";

/** An unpaired UTF-16 surrogate: text that has no UTF-8 form. */
const LONE_SURROGATE = /\p{Cs}/u;

function checkEncoding(encoding: string, caller: string): void {
  if (encoding !== "utf-8" && encoding !== "utf8" && encoding !== "latin1") {
    throw new RangeError(`${caller}: unsupported encoding ${JSON.stringify(encoding)}`);
  }
}

/**
 * Turns a PEP 3333 native string (one char per byte, as environ values are) back into
 * text: its bytes are decoded as `encoding`, UTF-8 by default. With `errors` `"strict"`
 * (the default) bytes that are not valid UTF-8 throw; with `"replace"` they become U+FFFD.
 *
 * @throws TypeError when `value` has a char above U+00FF (it is not a native string), or
 *   when it does not decode and `errors` is `"strict"`.
 * @example decodeNative(environ.PATH_INFO) // "/caf%C3%A9" arrives as "/cafÃ©"; this gives "/café"
 */
export function decodeNative(
  value: string,
  encoding: NativeEncoding = "utf-8",
  errors: EncodingErrors = "strict",
): string {
  checkEncoding(encoding, "decodeNative()");
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0xff) {
      throw new TypeError(
        `decodeNative(): not a native (latin-1) string: ${JSON.stringify(value[i])} at index ${i}`,
      );
    }
  }
  if (encoding === "latin1") return value;
  try {
    return new TextDecoder("utf-8", { fatal: errors === "strict", ignoreBOM: true }).decode(
      latin1Bytes(value),
    );
  } catch {
    throw new TypeError(`decodeNative(): ${JSON.stringify(value)} is not valid UTF-8`);
  }
}

/**
 * Turns text into a PEP 3333 native string, for headers or environ values: the text is
 * encoded as `encoding` (UTF-8 by default) and each byte becomes one char. With `errors`
 * `"strict"` (the default) text that cannot be encoded throws (a char above U+00FF for
 * latin-1, a lone surrogate for UTF-8); with `"replace"` it becomes `?` or U+FFFD.
 *
 * @example encodeNative("/café") // "/cafÃ©"
 */
export function encodeNative(
  text: string,
  encoding: NativeEncoding = "utf-8",
  errors: EncodingErrors = "strict",
): string {
  checkEncoding(encoding, "encodeNative()");
  if (encoding === "latin1") {
    let out = "";
    for (const ch of text) {
      if (ch.charCodeAt(0) <= 0xff) {
        out += ch;
      } else if (errors === "replace") {
        out += "?";
      } else {
        throw new TypeError(`encodeNative(): ${JSON.stringify(ch)} cannot be encoded as latin-1`);
      }
    }
    return out;
  }
  if (errors === "strict" && LONE_SURROGATE.test(text)) {
    throw new TypeError(`encodeNative(): ${JSON.stringify(text)} has a lone surrogate`);
  }
  return latin1Text(utf8Bytes(text));
}

/**
 * Percent-decodes a path into a PEP 3333 native string, each byte one char, as
 * `urllib.parse.unquote(path, "iso-8859-1")` does: every server builds `PATH_INFO` with
 * it. An invalid escape (`%zz`, a lone `%`) is left as it is.
 *
 * @example unquoteLatin1("/caf%C3%A9") // "/cafÃ©"
 */
export function unquoteLatin1(path: string): string {
  if (!path.includes("%")) return path;
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_m, digits: string) =>
    String.fromCharCode(Number.parseInt(digits, 16)),
  );
}
