/**
 * A request as both faces (faces/node.ts, faces/fetch.ts) present it to
 * the pipeline and its steps.
 */
import { HttpError } from "../common/errors.js";
import type { RequestHeaders } from "../common/types.js";

/** A request as both faces present it to the pipeline. */
export interface Incoming {
  readonly method: string;
  /** Path and query, raw, as on the request line. */
  readonly url: string;
  readonly headers: RequestHeaders;
  readonly remoteAddress: string | null;
  /** True when the request announces a body (Content-Length > 0 or Transfer-Encoding). */
  readonly hasBody: boolean;
  /** The request's id (`x-request-id` when sane, else a UUID), made on first use (request-id.ts). */
  readonly requestId: string;
  /** Fires when the client leaves before the answer is sent (made on first use). */
  readonly signal: AbortSignal;
  /** Reads the whole body, rejecting with a 413 `HttpError` as soon as `limit` is crossed. */
  readBody(limit: number): Promise<Uint8Array | null>;
  /**
   * The body as it arrives (`null` without one), once: counted against
   * `limit` as it flows, erroring with a 413 `HttpError` (and the connection
   * closing) past it, or with a 400 when the client leaves mid-way.
   */
  bodyStream(limit: number): ReadableStream<Uint8Array> | null;
}

/** One header as a string (repeated headers joined by the face). */
export function header(headers: RequestHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

/** The 413 of a body past `limit`: the answer closes the connection, so the rest is never read. */
export function tooLarge(limit: number): HttpError {
  return new HttpError("USRV_ERR_BODY_TOO_LARGE", `the body is over the limit of ${limit} bytes`, {
    detail: { limit },
    headers: { connection: "close" },
  });
}
