/**
 * Newline-delimited JSON: a source of values as an `application/x-ndjson`
 * answer, one JSON text per line.
 */
import { pull, type Source, type StreamContext } from "./pull.js";

/** Options of {@link ndjson}. */
export interface NdjsonOptions {
  /** An empty line every `heartbeat` ms while no value is sent (most readers skip it); 0, the default, sends none. */
  readonly heartbeat?: number;
  /** The answer's status. Default 200. */
  readonly status?: number;
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
  const heartbeat = options.heartbeat ?? 0;
  if (!Number.isFinite(heartbeat) || heartbeat < 0) {
    throw new TypeError(`[usrv] ndjson: heartbeat must be milliseconds >= 0, got ${String(heartbeat)}`);
  }
  const body = pull(ctx, source, { encode: line, beat: "\n", heartbeat });
  return new Response(body, {
    status: options.status ?? 200,
    headers: {
      "content-type": "application/x-ndjson",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
