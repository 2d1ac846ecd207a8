/**
 * A source the handler iterates (an async generator, any async or sync
 * iterable) as a byte stream pulled at the reader's pace: a value is taken
 * from the source only while a read waits for one, so a reader that stops
 * reading stops the source (the Node face writes at the
 * socket's pace, faces/node.ts). Ending the stream, from either side, ends
 * the iteration: the source's `return()` runs, and with it a generator's
 * `finally` blocks.
 */

import { HttpError } from "../common/errors.js";
import { MAX_DELAY } from "../common/options.js";

/** What a streamed answer needs of the handler's context. */
export interface StreamContext {
  /** Fires when the client leaves (`Context.signal`). */
  readonly signal: AbortSignal;
}

/** How values become text, and what is sent on the side. */
export interface Framing<T> {
  /** One value of the source as the text to send. Throwing ends the stream as a failure. */
  readonly encode: (value: T) => string;
  /** Sent before the first value, if any (SSE's `retry:`). */
  readonly prelude?: string;
  /** Sent every `heartbeat` ms unless something already waits to be sent. */
  readonly beat?: string;
  /** Milliseconds between two beats; 0 sends none. */
  readonly heartbeat: number;
  /** Refuse the stream (503) when the process holds this many open already. */
  readonly maxStreams: number;
  /** "sse" or "ndjson", for messages. */
  readonly name: string;
}

/** The default of `maxStreams`: about 300 MB of open streams on Node (bench/sse-fanout.mjs). */
export const MAX_STREAMS = 10_000;

let open = 0;

/**
 * How many streamed answers of usrv/stream this process holds open now (begun
 * and not yet ended, by their source's end, a failure or the client leaving).
 *
 * @example
 * app.bind("/health", () => [200, { streams: openStreams() }]);
 */
export function openStreams(): number {
  return open;
}

/** Checks a `maxStreams` option: a number >= 0. */
export function checkCount(name: string, option: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0) || value === Number.POSITIVE_INFINITY) {
    throw new TypeError(`[usrv] ${name}: ${option} must be a number >= 0, got ${String(value)}`);
  }
  return value;
}

/** Checks a `heartbeat` option: a timer's delay, 0 to {@link MAX_DELAY} ms (0: none). */
export function checkHeartbeat(name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0 && value <= MAX_DELAY)) {
    throw new TypeError(
      `[usrv] ${name}: heartbeat must be a number of milliseconds from 0 to ${MAX_DELAY} (about 24.8 days: a timer set longer fires at once), got ${String(value)}`,
    );
  }
  return value;
}

const utf8 = new TextEncoder();

/** The values a handler may stream: an async generator, any async iterable, or a sync one. */
export type Source<T> = AsyncIterable<T> | Iterable<T>;

function iteratorOf<T>(source: Source<T>): AsyncIterator<T> | Iterator<T> {
  const s = source as Partial<AsyncIterable<T> & Iterable<T>> | null;
  const make = (s?.[Symbol.asyncIterator] ?? s?.[Symbol.iterator]) as
    | ((this: unknown) => AsyncIterator<T> | Iterator<T>)
    | undefined;
  if (typeof make !== "function") {
    throw new TypeError(
      "[usrv] a streamed answer takes an async iterable, an iterable or an async generator",
    );
  }
  return make.call(source);
}

/**
 * `source` framed into a `ReadableStream` of UTF-8 bytes.
 *
 * @example
 * new Response(pull(ctx, gen(), { encode: (v) => `${JSON.stringify(v)}\n`, heartbeat: 0 }));
 */
export function pull<T>(
  ctx: StreamContext,
  source: Source<T>,
  framing: Framing<T>,
): ReadableStream<Uint8Array> {
  const it = iteratorOf(source);
  if (open >= framing.maxStreams) {
    // a client that opens stream after stream must not hold the process's memory: each one costs ~30 KB
    throw new HttpError(
      "USRV_ERR_TOO_MANY_STREAMS",
      `${framing.name}: this process holds ${open} open stream${open === 1 ? "" : "s"}, its limit (maxStreams ${framing.maxStreams})`,
      { headers: { "retry-after": "5" } },
    );
  }
  open++;
  let timer: ReturnType<typeof setInterval> | undefined;
  let over = false;
  let onAbort: (() => void) | undefined;
  const signal = ctx.signal;

  // Ends the iteration once, whoever ends first. return() is not awaited: a
  // generator suspended in an await runs it (and its finally) only when that
  // await settles, and nothing here may hang on it.
  const end = (early: boolean) => {
    if (over) return;
    over = true;
    open--;
    clearInterval(timer);
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    if (early) {
      try {
        const r = it.return?.();
        if (r instanceof Promise) r.catch(() => {});
      } catch {
        // a throwing return() has nothing to say to a client that left
      }
    }
  };

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (framing.prelude) controller.enqueue(utf8.encode(framing.prelude));
        if (signal.aborted) {
          end(true);
          controller.close();
          return;
        }
        onAbort = () => {
          end(true);
          try {
            controller.close();
          } catch {
            // closed or cancelled already
          }
        };
        signal.addEventListener("abort", onAbort, { once: true });
      },
      async pull(controller) {
        // beats start with the first read: a Response never read (dropped by a hook) holds no timer
        if (timer === undefined && framing.heartbeat > 0 && framing.beat && !over) {
          const beat = utf8.encode(framing.beat);
          timer = setInterval(() => {
            // only into an empty queue: a reader that does not read gets one beat, not a pile
            if (!over && (controller.desiredSize ?? -1) >= 0) controller.enqueue(beat);
          }, framing.heartbeat);
        }
        // a value that frames to nothing is skipped here: a pull that enqueues nothing is not called again
        for (;;) {
          if (over) return;
          let next: IteratorResult<T>;
          try {
            next = await it.next();
          } catch (e) {
            end(false); // the generator threw: it has finished already
            throw e;
          }
          if (over) return; // cancelled while the source was producing
          if (next.done) {
            end(false);
            controller.close();
            return;
          }
          let text: string;
          try {
            text = framing.encode(next.value);
          } catch (e) {
            end(true);
            throw e;
          }
          if (text !== "") {
            controller.enqueue(utf8.encode(text));
            return;
          }
        }
      },
      cancel() {
        end(true);
      },
    },
    // nothing ahead: pull() runs only while a read waits, so the reader's pace is the source's
    { highWaterMark: 0 },
  );
}
