/**
 * Step 5 of a call: one HTTP exchange through fetch, bounded in time (the
 * timeout covers the whole answer, body included, so nothing hangs even with
 * an injected fetch that never settles) and in size (C8: the body as read,
 * Content-Encoding undone, counted as it streams in), cancellable, and
 * retried for idempotent methods on network failures, timeouts and
 * 408/429/502/503/504, honouring Retry-After. Redirects are followed within
 * the peer's origin only, unless the call says otherwise (redirect.ts).
 */

import { concatBytes } from "../common/bytes.js";
import { deadline } from "./deadline.js";
import { ClientError } from "./errors.js";
import { follow, isRedirect, type Redirect, sendInit } from "./redirect.js";
import { retryAfter, sleep } from "./wait.js";

/** The fetch the client calls: the global one, or any look-alike (`(input, init) => app.request(input, init)`). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Retries of an idempotent call. */
export interface RetryOptions {
  /** How many times to try again after the first attempt (default 0). */
  retries: number;
  /** First backoff in ms when the server gives no Retry-After (default 200); doubles each time. */
  delay?: number;
  /** Longest wait in ms (default 10,000): a Retry-After beyond it ends the retries. */
  maxDelay?: number;
}

/** An answer with its whole body read. */
export interface Exchange {
  readonly response: Response;
  readonly bytes: Uint8Array;
}

/** What one call needs to be sent. */
export interface SendOptions {
  readonly timeout: number;
  readonly signal: AbortSignal | undefined;
  readonly retry: RetryOptions | undefined;
  /** Most bytes of an answer's body (decoded: after Content-Encoding), or Infinity. */
  readonly maxBodySize: number;
  /** Which redirects are followed (redirect.ts). */
  readonly redirect: Redirect;
  /** "GET http://host/path", for messages. */
  readonly label: string;
  /**
   * True for `client.stream`: a 1xx-3xx answer resolves with its head, its
   * body left unread for the caller (the timeout then covers the head only);
   * an error status is still read whole.
   */
  readonly streamed?: boolean;
}

const RETRY_STATUSES = new Set([408, 429, 502, 503, 504]);
const NOTHING = new Uint8Array(0);

function why(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error)?.message ?? String(e);
}

const MIB = 1024 * 1024;

function tooLarge(o: SendOptions, what: string): ClientError {
  const max = o.maxBodySize;
  const size = max >= MIB && max % MIB === 0 ? ` (${max / MIB} MiB)` : "";
  return new ClientError(
    "USRV_ERR_CLIENT_TOO_LARGE",
    `${o.label}: ${what} over maxBodySize, ${max} bytes${size}: pass a larger { maxBodySize } ` +
      "(bytes, or Infinity) to the call or to createClient",
  );
}

/** The Content-Length the body will have once read, or undefined when the header does not tell it. */
function declaredLength(headers: Headers): number | undefined {
  // with a Content-Encoding, the header counts the encoded bytes: the decoded ones are counted as read
  const coding = headers.get("content-encoding");
  if (coding !== null && coding.trim().toLowerCase() !== "identity") return undefined;
  const length = headers.get("content-length");
  return length !== null && /^\s*\d+\s*$/.test(length) ? Number(length) : undefined;
}

/**
 * The whole body, read with a reader the caller can cancel (arrayBuffer()
 * would lock the stream), and never more than `o.maxBodySize` bytes: a
 * Content-Length over it is refused before reading, and the stream is
 * cancelled (the connection closed) by the chunk that crosses it. fetch
 * inflates a compressed body as it is read, so a zip bomb stops there too.
 */
export async function readAll(
  response: Response,
  hold: (r: ReadableStreamDefaultReader<Uint8Array>) => void,
  o: SendOptions,
): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array(0);
  const declared = declaredLength(response.headers);
  if (declared !== undefined && declared > o.maxBodySize) {
    response.body.cancel().catch(() => undefined);
    throw tooLarge(o, `the answer's Content-Length, ${declared} bytes, is`);
  }
  const reader = response.body.getReader();
  hold(reader);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > o.maxBodySize) {
      reader.cancel().catch(() => undefined);
      throw tooLarge(o, `the answer goes`);
    }
    chunks.push(value);
  }
  return concatBytes(chunks, total);
}

function failure(e: unknown, o: SendOptions, timedOut: boolean): ClientError {
  if (timedOut) {
    return new ClientError(
      "USRV_ERR_CLIENT_TIMEOUT",
      `${o.label}: no complete answer within ${o.timeout} ms`,
      { cause: e },
    );
  }
  if (o.signal?.aborted) {
    return new ClientError("USRV_ERR_CLIENT_ABORTED", `${o.label}: aborted by the caller's signal`, {
      cause: o.signal.reason,
    });
  }
  if (e instanceof ClientError) return e;
  return new ClientError(
    "USRV_ERR_CLIENT_UNREACHABLE",
    `${o.label}: the peer cannot be reached (${why(e)})`,
    { cause: e },
  );
}

/**
 * One request and its whole answer. The promise is settled by whichever
 * comes first: the answer, the deadline, the caller's signal; so the caller
 * is released on time even by an injected fetch that never settles.
 */
function attempt(
  fetch: FetchLike,
  url: string,
  init: RequestInit | undefined,
  o: SendOptions,
): Promise<Exchange> {
  return new Promise<Exchange>((resolve, reject) => {
    let settled = false;
    let timedOut = false;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    const done = (): boolean => {
      if (settled) return false;
      settled = true;
      cancel?.();
      o.signal?.removeEventListener("abort", onAbort);
      return true;
    };
    const stop = (reason: unknown) => {
      if (!done()) return;
      // cancelling the body closes the connection: at once when the head
      // has come, else as soon as it comes (see head.then below)
      reader?.cancel().catch(() => undefined);
      reject(failure(reason, o, timedOut));
    };
    const onAbort = () => stop(o.signal!.reason);
    const cancel =
      o.timeout > 0 && Number.isFinite(o.timeout)
        ? deadline(o.timeout, () => {
            timedOut = true;
            stop(new DOMException("timeout", "TimeoutError"));
          })
        : undefined;
    // Only the caller's own signal goes to fetch. Node's fetch pays a
    // WeakRef and a FinalizationRegistry entry for any signal it is given:
    // measured at 15-30% of a local GET round trip (interleaved pairs, as in
    // bench/client.mjs), so the timeout does not use one; stop() releases
    // the connection instead.
    if (o.signal) {
      if (o.signal.aborted) return onAbort();
      o.signal.addEventListener("abort", onAbort, { once: true });
      init = { ...init, signal: o.signal };
    }
    // redirects come back to be checked, unless the call lets fetch follow them (redirect.ts)
    const chase = o.redirect === "same-origin" && init?.redirect !== "manual";
    const sent = sendInit(init, o.redirect);
    const fail = (e: unknown) => done() && reject(failure(e, o, false));
    const read = (response: Response) => {
      // a head that comes after the deadline: nobody waits for it, free the connection
      if (settled) return void response.body?.cancel().catch(() => undefined);
      if (o.streamed && response.status < 400) return void (done() && resolve({ response, bytes: NOTHING }));
      readAll(response, (r) => (reader = r), o).then((bytes) => done() && resolve({ response, bytes }), fail);
    };
    let head: Promise<Response>;
    try {
      head = fetch(url, sent);
    } catch (e) {
      return void fail(e);
    }
    head.then((response) => {
      if (chase && isRedirect(response))
        follow(fetch, url, sent, response, o.label, () => !settled).then(read, fail);
      else read(response);
    }, fail);
  });
}

/**
 * Sends a request built by `build` (called again for each retry, so an
 * encrypted request gets a fresh nonce and signature) and reads its answer.
 *
 * @example
 * const { response, bytes } = await exchange(fetch, () => ({ url, init: { method: "GET" } }), options);
 */
export function exchange(fetch: FetchLike, build: Build, o: SendOptions): Promise<Exchange> {
  if (!o.retry?.retries) {
    const built = build();
    if (built instanceof Promise) return built.then(({ url, init }) => attempt(fetch, url, init, o));
    return attempt(fetch, built.url, built.init, o);
  }
  return retrying(fetch, build, o);
}

/** Makes one attempt's request (a fresh Nonce each); async when the body is sealed in v2. */
export type Build = () => Built | Promise<Built>;
/** One attempt's request. */
export interface Built {
  url: string;
  init: RequestInit | undefined;
}

async function retrying(fetch: FetchLike, build: Build, o: SendOptions): Promise<Exchange> {
  const retries = o.retry?.retries ?? 0;
  const delay = o.retry?.delay ?? 200;
  const maxDelay = o.retry?.maxDelay ?? 10_000;
  for (let i = 0; ; i++) {
    const { url, init } = await build();
    const last = i >= retries;
    let wait: number;
    try {
      const ex = await attempt(fetch, url, init, o);
      if (last || !RETRY_STATUSES.has(ex.response.status)) return ex;
      wait = retryAfter(ex.response.headers.get("retry-after")) ?? delay * 2 ** i;
      if (wait > maxDelay) return ex; // the server asks for more patience than allowed: its answer stands
    } catch (e) {
      const code = (e as ClientError).code;
      if (last || (code !== "USRV_ERR_CLIENT_UNREACHABLE" && code !== "USRV_ERR_CLIENT_TIMEOUT")) throw e;
      wait = Math.min(delay * 2 ** i, maxDelay);
    }
    await sleep(wait, o.signal, o.label);
  }
}

/**
 * Checks and fills a retry option.
 *
 * @example
 * normalizeRetry(3); // { retries: 3 }
 */
export function normalizeRetry(retry: number | RetryOptions | undefined): RetryOptions | undefined {
  if (retry === undefined) return undefined;
  const r = typeof retry === "number" ? { retries: retry } : retry;
  const ok = (n: unknown, max: number) =>
    n === undefined || (Number.isInteger(n) && (n as number) >= 0 && (n as number) <= max);
  if (
    !r ||
    !ok(r.retries, 100) ||
    r.retries === undefined ||
    !ok(r.delay, 3_600_000) ||
    !ok(r.maxDelay, 3_600_000)
  ) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      "retry must be a count (0-100) or { retries, delay?, maxDelay? } in ms",
    );
  }
  return r;
}
