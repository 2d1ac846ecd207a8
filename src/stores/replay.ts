/**
 * Replay protection (docs/wire.md "Replay protection"): a request's `Nonce` is a
 * UTC ISO-8601 timestamp; it must be recent, not too far in the future, and
 * used once per identity (the sender key, else the client address).
 */
import { HttpError } from "../common/errors.js";

/**
 * Where used nonces are remembered. `checkAndAdd` must be atomic: of two
 * concurrent calls with the same key, exactly one gets `true`.
 */
export interface ReplayStore {
  /** Records `key` until `expiresAt` (ms since the epoch); false if it was already there. */
  checkAndAdd(key: string, expiresAt: number): Promise<boolean>;
  /** Releases timers and connections. */
  close?(): Promise<void> | void;
}

/** Options of the in-memory store. */
export interface MemoryReplayStoreOptions {
  /** Most entries kept; when full of live entries, new nonces are refused (503), never evicted. Default 100,000. */
  maxEntries?: number;
  /** Flush period in ms, default 5,000. The timer never keeps the process alive. */
  flushEvery?: number;
  /**
   * When full, forget the oldest entry instead of refusing (503). For nonces
   * that prove nothing (unsigned ones: anyone can change them), where a
   * flood must not lock anyone out. Default false.
   */
  evictOldest?: boolean;
}

/**
 * The default store: one process's memory. Entries leave once their nonce is
 * too old to be accepted anyway, so the size is bounded by the traffic of one
 * replay window, and by `maxEntries` under a flood.
 *
 * @example
 * const store = new MemoryReplayStore({ maxEntries: 10_000 });
 * await store.checkAndAdd("key|2026-11-24T05:52:02.266283+00:00", Date.now() + 10_000); // true
 */
export class MemoryReplayStore implements ReplayStore {
  // Insertion order is close to expiry order (same window for all), so a
  // flush stops at the first live entry.
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  readonly #evict: boolean;
  readonly #timer: ReturnType<typeof setInterval>;
  /** While full: the earliest expiry seen by the last full pass; no entry can leave before it. */
  #fullUntil = 0;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.#max = options.maxEntries ?? 100_000;
    this.#evict = options.evictOldest ?? false;
    this.#timer = setInterval(() => this.flush(), options.flushEvery ?? 5_000);
    this.#timer.unref?.();
  }

  /** Entries currently held. */
  get size(): number {
    return this.#entries.size;
  }

  async checkAndAdd(key: string, expiresAt: number): Promise<boolean> {
    const now = Date.now();
    const seen = this.#entries.get(key);
    if (seen !== undefined && seen > now) return false;
    if (this.#entries.size >= this.#max) {
      // A full pass per refused nonce made a flood against a full store cost
      // O(maxEntries) each: 0.6 ms at 100,000 entries, one core at ~1,700
      // req/s (test/hardening-floods.test.ts). Pass again only once one can expire.
      if (now >= this.#fullUntil) this.flush(now);
      if (this.#entries.size >= this.#max && this.#evict) {
        this.#entries.delete(this.#entries.keys().next().value!);
      } else if (this.#entries.size >= this.#max) {
        throw new HttpError("USRV_ERR_REPLAY_STORE", "the replay memory is full; retry in a few seconds", {
          headers: { "retry-after": "5" },
        });
      }
    }
    this.#entries.delete(key); // re-insert at the end: keeps the order close to expiry order
    this.#entries.set(key, expiresAt);
    return true;
  }

  /** Drops expired entries. */
  flush(now = Date.now()): void {
    let next = Number.POSITIVE_INFINITY;
    for (const [key, expiresAt] of this.#entries) {
      if (expiresAt > now) {
        // Out-of-order stragglers are caught by a full pass only when needed.
        if (this.#entries.size < this.#max) break;
        if (expiresAt < next) next = expiresAt;
        continue;
      }
      this.#entries.delete(key);
    }
    // Still full means nothing was deleted and every entry was seen: `next` is the earliest expiry.
    this.#fullUntil = this.#entries.size >= this.#max ? next : 0;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

// docs/wire.md "Replay protection": the spellings of Python's
// datetime.fromisoformat (3.11) that carry a UTC offset and whole seconds.
const NONCE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:Z|([+-])(\d{2})(?::?(\d{2}))?)$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Replay window settings. */
export interface ReplayWindow {
  /** Oldest accepted nonce, in ms (docs/wire.md: 10 s). */
  maxAge: number;
  /** Farthest accepted future, in ms (the reference has no bound; we default to 10 s). */
  maxSkew: number;
}

/**
 * Parses a Nonce into ms since the epoch, or throws a 412. Accepted: a
 * calendar date, `T` or a space, `HH:MM:SS`, an optional fraction (`.` or
 * `,`, 1-9 digits; beyond milliseconds truncated), and `Z`, `±HH:MM`,
 * `±HHMM` or `±HH`.
 *
 * @example
 * nonceTime("2026-11-24T05:52:02.266283+00:00"); // 1795499522266
 * nonceTime("2026-11-24 07:52:02+0200");          // 1795499522000
 */
export function nonceTime(nonce: string): number {
  const m = NONCE.exec(nonce);
  if (m === null) {
    throw new HttpError(
      "USRV_ERR_REPLAY",
      "the Nonce is not an ISO-8601 timestamp with a UTC offset, e.g. 2026-11-24T05:52:02.266283+00:00",
    );
  }
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const offsetHours = Number(m[9] ?? 0);
  const offsetMinutes = Number(m[10] ?? 0);
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS[month! - 1];
  if (
    days === undefined ||
    day! < 1 ||
    day! > days ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    throw new HttpError("USRV_ERR_REPLAY", "the Nonce is not a valid date");
  }
  const ms = Number((m[7] ?? "").slice(0, 3).padEnd(3, "0"));
  const offset = (m[8] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  // Date.UTC reads years 0-99 as 1900-1999: such a nonce is stale either way.
  return Date.UTC(year!, month! - 1, day, hour, minute, second, ms) - offset * 60_000;
}

/**
 * The first half of the replay check: refuses a malformed, stale or future
 * nonce (412) and returns its time. Nothing is stored: the secure steps
 * remember a nonce ({@link rememberNonce}) only once the request's key and
 * signature are proven, so junk costs no memory and cannot spend a
 * victim's nonce.
 */
export function checkNonce(window: ReplayWindow, nonce: string): number {
  const t = nonceTime(nonce);
  const now = Date.now();
  if (now - t > window.maxAge)
    throw new HttpError("USRV_ERR_REPLAY", `the Nonce is older than ${window.maxAge / 1000} s`);
  if (t - now > window.maxSkew)
    throw new HttpError("USRV_ERR_REPLAY", `the Nonce is more than ${window.maxSkew / 1000} s in the future`);
  return t;
}

/**
 * The second half: records (identity, nonce) until the nonce is too old to
 * be accepted anyway; a second use is a 412. `identity` is bounded by the
 * caller (a canonical key or a client address), and `nonce` by its grammar.
 */
export async function rememberNonce(
  store: ReplayStore,
  window: ReplayWindow,
  identity: string,
  nonce: string,
  time: number,
): Promise<void> {
  // Checked again: the body came between checkNonce and now. A nonce that
  // went stale meanwhile may have left the memory already (it is kept until
  // time + maxAge only), so a slow replay of it would pass.
  if (Date.now() >= time + window.maxAge) {
    throw new HttpError(
      "USRV_ERR_REPLAY",
      `the Nonce went older than ${window.maxAge / 1000} s while the body arrived`,
    );
  }
  if (!(await store.checkAndAdd(`${identity}\n${nonce}`, time + window.maxAge))) {
    throw new HttpError("USRV_ERR_REPLAY", "the Nonce was already used");
  }
}
