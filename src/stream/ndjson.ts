/**
 * Newline-delimited JSON: a source of values as an `application/x-ndjson`
 * answer, one JSON text per line.
 */

import { knownKeys } from "../common/known-keys.js";
import { checkCount, checkHeartbeat, MAX_STREAMS, pull, type Source, type StreamContext } from "./pull.js";

/** Options of {@link ndjson}. */
export interface NdjsonOptions {
  /** An empty line every `heartbeat` ms unless a value already waits to be sent (most readers skip it); 0, the default, sends none. */
  readonly heartbeat?: number;
  /** The answer's status. Default 200. */
  readonly status?: number;
  /** Refuse this stream (503 `USRV_ERR_TOO_MANY_STREAMS`) when the process holds this many open streams already (SSE and NDJSON). Default 10,000. */
  readonly maxStreams?: number;
}

function line(value: unknown): string {
  // JSON.stringify escapes every CR and LF inside strings: a value is one line
  return `${JSON.stringify(value) ?? "null"}\n`;
}

/**
 * Streams `source` as NDJSON: one value per line, each taken from the source
 * only when the client can take more; when the client leaves, the source's
 * `return()` runs (a generator's `finally`) and `ctx.signal` fires. A value
 * that cannot be written as JSON (BigInt, circular) ends the stream as a
 * failure: the connection is cut, and the error logged.
 *
 * @example
 * import { ndjson } from "usrv/stream";
 * app.bind("/rows", (_, ctx) => ndjson(ctx, db.rows({ signal: ctx.signal })));
 * // {"id":1}\n{"id":2}\n...
 */
export function ndjson<T>(ctx: StreamContext, source: Source<T>, options: NdjsonOptions = {}): Response {
  knownKeys("ndjson", options, ["heartbeat", "status", "maxStreams"]);
  const heartbeat = checkHeartbeat("ndjson", options.heartbeat ?? 0);
  const maxStreams = checkCount("ndjson", "maxStreams", options.maxStreams ?? MAX_STREAMS);
  const body = pull(ctx, source, { encode: line, beat: "\n", heartbeat, maxStreams, name: "ndjson" });
  return new Response(body, {
    status: options.status ?? 200,
    headers: {
      "content-type": "application/x-ndjson",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
