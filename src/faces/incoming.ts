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
  /**
   * Feeds the body, once, chunk by chunk as it arrives, to `write` (instead
   * of `bodyStream`): a promise `write` returns holds the next chunk back
   * until it settles. Counted against `limit` as `bodyStream` is; resolves
   * once the body has ended, rejects as `bodyStream` errors, or with
   * `stop`'s reason once it aborts (the rest of the body is then
   * discarded). The Node face feeds its request's own chunks, with no
   * WHATWG stream between (spooled uploads: core/uploads.ts).
   */
  pipeBody(
    limit: number,
    write: (chunk: Uint8Array) => Promise<void> | undefined,
    stop: AbortSignal,
  ): Promise<void>;
}

/**
 * `pipeBody` over a body stream (the fetch face's): each chunk read, then
 * written; `stop` cancels the stream, which ends a pending read.
 */
export async function pipeStream(
  body: ReadableStream<Uint8Array> | null,
  write: (chunk: Uint8Array) => Promise<void> | undefined,
  stop: AbortSignal,
): Promise<void> {
  if (body === null) return;
  const reader = body.getReader();
  const cancel = () => void reader.cancel(stop.reason).catch(() => {});
  if (stop.aborted) cancel();
  stop.addEventListener("abort", cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (stop.aborted) throw stop.reason;
      if (done) return;
      await write(value);
    }
  } finally {
    stop.removeEventListener("abort", cancel);
  }
}

/** One header as a string (repeated headers joined by the face). */
export function header(headers: RequestHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

/** The 400 of a body its client left before it ended: the request ends there, its handler never runs. */
export function clientLeft(): HttpError {
  return new HttpError("USRV_ERR_BAD_REQUEST", "the client closed the connection before the body ended");
}

/** The 413 of a body past `limit`: the answer closes the connection, so the rest is never read. */
export function tooLarge(limit: number): HttpError {
  return new HttpError("USRV_ERR_BODY_TOO_LARGE", `the body is over the limit of ${limit} bytes`, {
    detail: { limit },
    headers: { connection: "close" },
  });
}
