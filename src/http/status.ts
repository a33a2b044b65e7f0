/**
 * Status codes as the wire knows them: the reason phrase the core writes when it is given
 * only a number, and which statuses forbid a body. One owner for both rules; the handlers,
 * the validator and the bridges import them from here.
 *
 * @module
 */

/**
 * The reason phrase of each registered status (the IANA HTTP Status Code Registry, as
 * Node's `http.STATUS_CODES` spells them), kept here so the sans-I/O core needs no
 * `node:http`.
 */
export const REASON_PHRASES: ReadonlyMap<number, string> = new Map([
  [100, "Continue"],
  [101, "Switching Protocols"],
  [102, "Processing"],
  [103, "Early Hints"],
  [200, "OK"],
  [201, "Created"],
  [202, "Accepted"],
  [203, "Non-Authoritative Information"],
  [204, "No Content"],
  [205, "Reset Content"],
  [206, "Partial Content"],
  [207, "Multi-Status"],
  [208, "Already Reported"],
  [226, "IM Used"],
  [300, "Multiple Choices"],
  [301, "Moved Permanently"],
  [302, "Found"],
  [303, "See Other"],
  [304, "Not Modified"],
  [305, "Use Proxy"],
  [307, "Temporary Redirect"],
  [308, "Permanent Redirect"],
  [400, "Bad Request"],
  [401, "Unauthorized"],
  [402, "Payment Required"],
  [403, "Forbidden"],
  [404, "Not Found"],
  [405, "Method Not Allowed"],
  [406, "Not Acceptable"],
  [407, "Proxy Authentication Required"],
  [408, "Request Timeout"],
  [409, "Conflict"],
  [410, "Gone"],
  [411, "Length Required"],
  [412, "Precondition Failed"],
  [413, "Payload Too Large"],
  [414, "URI Too Long"],
  [415, "Unsupported Media Type"],
  [416, "Range Not Satisfiable"],
  [417, "Expectation Failed"],
  [418, "I'm a Teapot"],
  [421, "Misdirected Request"],
  [422, "Unprocessable Entity"],
  [423, "Locked"],
  [424, "Failed Dependency"],
  [425, "Too Early"],
  [426, "Upgrade Required"],
  [428, "Precondition Required"],
  [429, "Too Many Requests"],
  [431, "Request Header Fields Too Large"],
  [451, "Unavailable For Legal Reasons"],
  [500, "Internal Server Error"],
  [501, "Not Implemented"],
  [502, "Bad Gateway"],
  [503, "Service Unavailable"],
  [504, "Gateway Timeout"],
  [505, "HTTP Version Not Supported"],
  [506, "Variant Also Negotiates"],
  [507, "Insufficient Storage"],
  [508, "Loop Detected"],
  [509, "Bandwidth Limit Exceeded"],
  [510, "Not Extended"],
  [511, "Network Authentication Required"],
]);

/** The reason phrase for `code`, or `"Unknown"` for an unregistered one. */
export function reasonPhrase(code: number): string {
  return REASON_PHRASES.get(code) ?? "Unknown";
}

/** True for statuses whose responses never carry a body: 1xx, 204 and 304 (RFC 9110 §6.4.1). */
export function statusForbidsBody(code: number): boolean {
  return code < 200 || code === 204 || code === 304;
}
