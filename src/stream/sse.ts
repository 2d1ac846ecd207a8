/**
 * Server-sent events (WHATWG HTML, "Server-sent events"): a source of events
 * as a `text/event-stream` answer, with heartbeats, a reconnection delay and
 * the `Last-Event-ID` a reconnecting `EventSource` sends back.
 */

import { knownKeys } from "../common/known-keys.js";
import type { RequestHeaders } from "../common/types.js";
import { checkCount, checkHeartbeat, MAX_STREAMS, pull, type Source, type StreamContext } from "./pull.js";

/** One event. `data` that is not a string is sent as its JSON. */
export interface SseEvent {
  /** The event's data; several lines become several `data:` fields. */
  readonly data?: unknown;
  /** The event's id: the browser sends it back as `Last-Event-ID` when it reconnects. No CR, LF or NUL. */
  readonly id?: string;
  /** The event's type (`addEventListener(type)`); `message` when absent. No CR or LF. */
  readonly event?: string;
  /** The browser's reconnection delay from now on, in ms. */
  readonly retry?: number;
  /** A comment line (the browser ignores it). */
  readonly comment?: string;
}

/** Options of {@link sse}. */
export interface SseOptions {
  /** A comment line every `heartbeat` ms unless an event already waits to be sent, so that proxies keep the connection open; 0 sends none. Default 15,000. */
  readonly heartbeat?: number;
  /** The reconnection delay (ms) sent before the first event. */
  readonly retry?: number;
  /** The answer's status. Default 200. */
  readonly status?: number;
  /** Refuse this stream (503 `USRV_ERR_TOO_MANY_STREAMS`, Retry-After: 5) when the process holds this many open streams already (SSE and NDJSON). Default 10,000. */
  readonly maxStreams?: number;
}

/** The longest `Last-Event-ID` {@link lastEventId} takes, in characters. */
export const MAX_LAST_EVENT_ID = 1024;

const FIELDS = new Set(["data", "id", "event", "retry", "comment"]);
const LINES = /\r\n|\r|\n/;

function line(name: string, value: string, forbid: RegExp): string {
  if (forbid.test(value)) {
    throw new TypeError(
      `[usrv] sse: the event's ${name} ${JSON.stringify(value.slice(0, 64))} holds CR, LF${name === "id" ? " or NUL" : ""}, which would start another field`,
    );
  }
  return `${name}: ${value}\n`;
}

function retryField(ms: unknown): string {
  if (!Number.isSafeInteger(ms) || (ms as number) < 0) {
    throw new TypeError(`[usrv] sse: retry must be a whole number of milliseconds, got ${String(ms)}`);
  }
  return `retry: ${ms}\n`;
}

/**
 * One event as the text of the stream: a string is its data; an object's
 * fields in the order comment, event, id, retry, data; a blank line ends it.
 * A value that could inject a field (CR or LF in `event` or `id`) throws.
 *
 * @example
 * encodeEvent({ id: "7", event: "price", data: { eur: 12 } }); // 'event: price\nid: 7\ndata: {"eur":12}\n\n'
 * encodeEvent("two\nlines"); // 'data: two\ndata: lines\n\n'
 */
export function encodeEvent(e: SseEvent | string): string {
  if (typeof e === "string") return data(e);
  if (e === null || typeof e !== "object") {
    throw new TypeError(
      `[usrv] sse: an event is a string or { data, id, event, retry, comment }, got ${typeof e}`,
    );
  }
  let out = "";
  for (const k in e) {
    if (!FIELDS.has(k)) {
      throw new TypeError(
        `[usrv] sse: an event has the fields data, id, event, retry and comment, not "${k}"; send a value as { data: value }`,
      );
    }
  }
  if (e.comment !== undefined) for (const c of String(e.comment).split(LINES)) out += `: ${c}\n`;
  if (e.event !== undefined) out += line("event", String(e.event), /[\r\n]/);
  if (e.id !== undefined) out += line("id", String(e.id), /[\r\n\0]/);
  if (e.retry !== undefined) out += retryField(e.retry);
  if (e.data !== undefined)
    out += data(typeof e.data === "string" ? e.data : (JSON.stringify(e.data) ?? "null"), "");
  return out === "" ? "" : `${out}\n`;
}

function data(text: string, end = "\n"): string {
  let out = "";
  for (const l of text.split(LINES)) out += `data: ${l}\n`;
  return out + end;
}

/**
 * Streams `source` as server-sent events: a `text/event-stream` Response to
 * return from a handler. Each value is taken from the source only when the
 * client can take more; when the client leaves, the source's `return()` runs
 * (a generator's `finally`), and `ctx.signal` fires. A comment line is sent
 * every `heartbeat` ms unless something already waits to be sent.
 *
 * @example
 * import { lastEventId, sse } from "usrv/stream";
 * app.bind("/ticks", (_, ctx) =>
 *   sse(ctx, (async function* () {
 *     let n = Number(lastEventId(ctx) ?? 0);
 *     while (!ctx.signal.aborted) {
 *       yield { id: String(++n), data: { n } };
 *       await new Promise((r) => setTimeout(r, 1000));
 *     }
 *   })(), { retry: 2000 }),
 * );
 */
export function sse(
  ctx: StreamContext,
  source: Source<SseEvent | string>,
  options: SseOptions = {},
): Response {
  knownKeys("sse", options, ["heartbeat", "retry", "status", "maxStreams"]);
  const heartbeat = checkHeartbeat("sse", options.heartbeat ?? 15_000);
  const maxStreams = checkCount("sse", "maxStreams", options.maxStreams ?? MAX_STREAMS);
  const prelude = options.retry === undefined ? undefined : `${retryField(options.retry)}\n`;
  const body = pull(ctx, source, {
    encode: encodeEvent,
    prelude,
    beat: ":\n\n",
    heartbeat,
    maxStreams,
    name: "sse",
  });
  return new Response(body, {
    status: options.status ?? 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      // nginx buffers proxied answers unless told not to
      "x-accel-buffering": "no",
    },
  });
}

/**
 * The `Last-Event-ID` a reconnecting `EventSource` sends: the id of the last
 * event it received, or `null` when there is none, or when it is longer than
 * {@link MAX_LAST_EVENT_ID} characters or holds a control character (a
 * client's value, bounded before the handler trusts it).
 *
 * @example
 * const from = lastEventId(ctx); // "41" after a reconnection, else null
 */
export function lastEventId(ctx: { readonly headers: RequestHeaders }): string | null {
  const v = ctx.headers["last-event-id"];
  const id = Array.isArray(v) ? v[0] : v;
  if (id === undefined || id === "" || id.length > MAX_LAST_EVENT_ID) return null;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  return /[\0-\x1f\x7f]/.test(id) ? null : id;
}
