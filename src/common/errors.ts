/**
 * Errors are values with codes: one `HttpError` class and one table of stable
 * codes. The README's error table is checked against `ERRORS` by a test.
 */
import { defineErrors } from "./define-errors.js";

/** Every error code usrv answers with, its HTTP status and what it means. */
export const ERRORS = {
  USRV_ERR_BAD_REQUEST: [400, "the request is malformed (request line, headers or framing)"],
  USRV_ERR_BAD_ENCODING: [400, "invalid percent-encoding in the path or the query string"],
  USRV_ERR_BAD_JSON: [400, "the body is declared as JSON but does not parse"],
  USRV_ERR_TOO_DEEP: [400, "a JSON body nests deeper than the route's maxDepth (default 64)"],
  USRV_ERR_BAD_UTF8: [400, "a JSON or form body is not valid UTF-8"],
  USRV_ERR_BAD_MULTIPART: [400, "a multipart body is malformed, truncated or over its part limits"],
  USRV_ERR_VALIDATION: [
    400,
    "a path value, the query, the headers or the body does not hold under the route's schema (every issue in detail.issues)",
  ],
  USRV_ERR_ENCRYPTED_STREAM: [
    400,
    'a signed or encrypted request to a route bound with body: "stream" or uploads',
  ],
  USRV_ERR_BAD_KEY: [400, "a public key header is not base64 of a point on secp256k1"],
  USRV_ERR_DECRYPT: [400, "an encrypted body does not decrypt with the server key"],
  USRV_ERR_BAD_SIGNATURE: [401, "the Sender-Signature does not verify for the Sender-Public-Key"],
  USRV_ERR_ENCRYPTION_REQUIRED: [403, "the route accepts only encrypted, signed requests"],
  USRV_ERR_FORBIDDEN_SENDER: [403, "the sender's public key is not allowed on this route"],
  USRV_ERR_NOT_FOUND: [404, "no route matches the path"],
  USRV_ERR_METHOD_NOT_ALLOWED: [405, "the path exists, but not for this method (see the Allow header)"],
  USRV_ERR_BAD_RESULT: [406, "the handler did not return [status, ...values] with an integer status"],
  USRV_ERR_STREAM_NEEDS_V2: [
    406,
    "the answer is an event stream (SSE, NDJSON) and the request asked for v1 encryption, which seals an answer whole: ask with v2",
  ],
  USRV_ERR_REPLAY: [412, "the Nonce is malformed, stale, in the future or already used"],
  USRV_ERR_PRECONDITION_FAILED: [
    412,
    "If-Match or If-Unmodified-Since does not hold for the current representation (usrv/conditional)",
  ],
  USRV_ERR_BODY_TOO_LARGE: [413, "the body is over the route's limit"],
  USRV_ERR_FILE_TOO_LARGE: [413, "a file part of a multipart body is over the route's uploads.maxFileSize"],
  USRV_ERR_UPLOAD_TOO_LARGE: [
    413,
    "the file parts of a multipart body together are over the route's uploads.maxTotal",
  ],
  USRV_ERR_TOO_MANY_FILES: [413, "a multipart body has more file parts than the route's uploads.maxFiles"],
  USRV_ERR_TOO_MANY_KEYS: [
    413,
    "a form body has more pairs, or a JSON object body more top-level keys, than the route's maxKeys (default 1,000)",
  ],
  USRV_ERR_REQUEST_TIMEOUT: [408, "the request head or body did not arrive within the server's timeouts"],
  USRV_ERR_URI_TOO_LONG: [414, "the request target is over the app's limit"],
  USRV_ERR_BAD_CHARSET: [415, "the body declares a charset this server cannot decode"],
  USRV_ERR_RATE_LIMITED: [429, "over the rate limit (usrv/rate-limit): wait Retry-After seconds"],
  USRV_ERR_HEADERS_TOO_LARGE: [431, "the request headers are over the server's limit"],
  USRV_ERR_INTERNAL: [500, "the handler threw or rejected (logged with its stack, never sent)"],
  USRV_ERR_UNSERIALIZABLE: [
    500,
    "the handler's values cannot be written as JSON (circular, BigInt, an async iterable: stream it with usrv/stream)",
  ],
  USRV_ERR_BAD_RESPONSE: [
    500,
    "the handler's answer does not hold under its route's response schema (checked when createApp({ checkResponses: true }))",
  ],
  USRV_ERR_UNSEALABLE: [
    500,
    "the answer to an encrypted request cannot be sealed: compressed, or over the app's sealLimit (v1 seals it whole)",
  ],
  USRV_ERR_HOOK_RESULT: [
    500,
    "a hook returned something that is not [status, ...values], a Response or nothing, or onResponse left a bad status, header or body",
  ],
  USRV_ERR_TIMEOUT: [503, "the handler did not answer within the route's timeout (logged)"],
  USRV_ERR_TOO_MANY_STREAMS: [
    503,
    "the process holds its limit of open event streams (usrv/stream's maxStreams): retry after Retry-After seconds",
  ],
  USRV_ERR_REPLAY_STORE: [503, "the replay memory is full or unreachable: requests with a Nonce fail closed"],
  USRV_ERR_WS_FULL: [
    503,
    "a WebSocket route holds its maxConnections open connections: the upgrade is refused",
  ],
  USRV_ERR_RATE_LIMIT_STORE: [
    503,
    'the rate limit store is unreachable and rateLimit\'s onStoreError is "refuse"',
  ],
  USRV_ERR_STATUS: [null, "the handler itself answered this error status (status >= 400)"],
} as const satisfies Record<string, readonly [number | null, string]>;

/** A stable error code, e.g. `USRV_ERR_NOT_FOUND`. */
export type ErrorCode = keyof typeof ERRORS;

/** What each code means, as the error factory's table. */
const MEANINGS = Object.fromEntries(Object.entries(ERRORS).map(([code, [, meaning]]) => [code, meaning])) as {
  readonly [Code in ErrorCode]: string;
};

/** Reason phrases for the statuses we answer; others fall back to "Error". */
const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  418: "I'm a Teapot",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** The reason phrase of an HTTP status (`404` -> `"Not Found"`). */
export function reason(status: number): string {
  return REASONS[status] ?? (status >= 500 ? "Server Error" : "Error");
}

/** Options of an `HttpError`. */
export interface HttpErrorOptions {
  /** The status, for codes whose status varies (`USRV_ERR_STATUS`). */
  status?: number;
  /** Sent under `detail` in the error body: keep it free of secrets. */
  detail?: unknown;
  /** Headers of the answer (e.g. `retry-after`). */
  headers?: Record<string, string>;
}

/**
 * An error that becomes an HTTP answer: `{"status", "error", "code", "message", "detail"?}`.
 * A handler throws one with a status (code `USRV_ERR_STATUS`, like a returned
 * `[409, ...]`) or with one of usrv's codes; anything else thrown is a 500.
 *
 * @example
 * throw new HttpError(409, "this name is taken", { detail: { name } });
 * throw new HttpError(404);                                   // message "Not Found"
 * throw new HttpError("USRV_ERR_BAD_JSON", "body is not JSON: Unexpected token }");
 */
export class HttpError extends defineErrors<typeof MEANINGS>("HttpError", MEANINGS, { prefix: "" }) {
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, message?: string, options?: Omit<HttpErrorOptions, "status">);
  constructor(code: ErrorCode, message: string, options?: HttpErrorOptions);
  constructor(codeOrStatus: ErrorCode | number, message?: string, options: HttpErrorOptions = {}) {
    const [code, status] = resolve(codeOrStatus, options.status);
    super(code, message ?? reason(status));
    this.status = status;
    this.detail = options.detail;
    this.headers = options.headers;
  }

  /** The JSON body sent to the client: never a stack, never an internal message. */
  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      status: this.status,
      error: reason(this.status),
      code: this.code,
      message: this.message,
    };
    if (this.detail !== undefined) body.detail = this.detail;
    return body;
  }
}

/** The code and status of a new HttpError, or a clear TypeError/RangeError (JavaScript callers get no type check). */
function resolve(codeOrStatus: unknown, status: number | undefined): [ErrorCode, number] {
  const check = (n: unknown): number => {
    if (Number.isInteger(n) && (n as number) >= 400 && (n as number) <= 599) return n as number;
    throw new RangeError(`[usrv] an HttpError's status is an integer from 400 to 599, not ${String(n)}`);
  };
  if (typeof codeOrStatus === "number") return ["USRV_ERR_STATUS", check(codeOrStatus)];
  if (typeof codeOrStatus !== "string" || !Object.hasOwn(ERRORS, codeOrStatus)) {
    throw new TypeError(
      `[usrv] new HttpError(${JSON.stringify(codeOrStatus) ?? String(codeOrStatus)}, ...): pass a status (new HttpError(409, "message")) or one of the codes in ERRORS`,
    );
  }
  const code = codeOrStatus as ErrorCode;
  // USRV_ERR_STATUS has no status of its own: a handler's, else 500
  return [code, status === undefined ? (ERRORS[code][0] ?? 500) : check(status)];
}

/** Thrown at bind time for a mistake in the route or the function (B3, B4, bad options). */
export class BindError extends Error {
  constructor(message: string) {
    super(`[usrv] ${message}`);
    this.name = "BindError";
  }
}

/** B3: the same path pattern bound twice for one method. */
export class EndpointAlreadyDefined extends BindError {
  constructor(method: string, path: string, previous: string) {
    super(
      `${method} ${path} is already bound (as ${previous}): bind each method and path once; for another handler, choose another path or method`,
    );
    this.name = "EndpointAlreadyDefined";
  }
}
