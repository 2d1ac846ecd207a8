/**
 * Steps 1-2 of a call (`Client.call` chains them all): the call's options
 * settled over the client's, and the URL. Pure: the client's state comes in
 * as arguments.
 */
import { ClientError } from "./errors.js";
import { FormData } from "./form-data.js";
import { type CallOptions, type ClientOptions, DEFAULT_MAX_BODY_SIZE } from "./options.js";
import { normalizeRetry, type RetryOptions, type SendOptions } from "./transport.js";
import { buildUrl } from "./url.js";

/** Methods whose values go to the query string (the reference's list); the others send a body. */
export const QUERY_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"]);
/** RFC 9110 9.2.2: safe to send twice. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
const DEFAULT_TIMEOUT = 30_000;

/** The client's own defaults, its retry checked once. */
export type ClientDefaults = Omit<ClientOptions, "retry"> & { retry?: RetryOptions | undefined };

/**
 * 1. How the call is sent: its options over the client's: retries for idempotent methods
 * only (a POST may have been applied already), a timeout, a body bound,
 * the redirects followed.
 *
 * @example
 * settle("GET", { timeout: 50 }, {}, "GET http://x/a"); // { timeout: 50, retry: undefined, maxBodySize: 67108864, signal: undefined, redirect: "same-origin", label: "GET http://x/a" }
 */
export function settle(
  method: string,
  options: CallOptions,
  defaults: ClientDefaults,
  label: string,
): SendOptions {
  const idempotent = IDEMPOTENT.has(method);
  if (options.retry !== undefined && !idempotent) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `retry is for idempotent methods only: a ${method} may have been applied already`,
    );
  }
  const timeout = options.timeout ?? defaults.timeout ?? DEFAULT_TIMEOUT;
  if (typeof timeout !== "number" || !(timeout >= 0))
    throw new ClientError("USRV_ERR_CLIENT_BAD_ARGUMENT", "timeout must be a number of ms >= 0");
  return {
    timeout,
    retry: idempotent ? (normalizeRetry(options.retry) ?? defaults.retry) : undefined,
    maxBodySize: options.maxBodySize ?? defaults.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
    signal: options.signal,
    redirect: options.redirect ?? defaults.redirect ?? "same-origin",
    label,
  };
}

/**
 * 2. The URL: the peer, the segments, and the values as the query for the
 * methods without a body (an object of named values, never a form).
 *
 * @example
 * target("GET", ["api", "endpoint"], { a: 12 }, "http://127.0.0.1:5000"); // { url: "http://127.0.0.1:5000/api/endpoint?a=12", label: "GET http://127.0.0.1:5000/api/endpoint" }
 */
export function target(
  method: string,
  segments: readonly string[],
  values: unknown,
  peer: string,
): { url: string; label: string } {
  const inQuery = QUERY_METHODS.has(method);
  if (
    inQuery &&
    values !== undefined &&
    (values === null ||
      typeof values !== "object" ||
      Array.isArray(values) ||
      values instanceof FormData ||
      (typeof globalThis.FormData === "function" && values instanceof globalThis.FormData))
  ) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `${method} sends its values in the query string: pass an object of named values`,
    );
  }
  const url = buildUrl(
    peer,
    segments,
    inQuery ? (values as Record<string, unknown> | URLSearchParams | undefined) : undefined,
  );
  return { url, label: `${method} ${url.split("?")[0]}` };
}
