/**
 * P2: the types of the Binance plugin: options of an account and of a call.
 */
import type { DebugLogger, FetchLike } from "../client/index.js";

/** Binance's API host, as the real service has it. */
export const BINANCE_URL = "https://api.binance.com";

/** Options of {@link createBinance}. */
export interface BinanceOptions {
  /** The API host; default {@link BINANCE_URL}. */
  baseUrl?: string;
  /** `recvWindow` sent with every signed call that does not give its own (Binance's default: 5000 ms). */
  recvWindow?: number;
  /**
   * What to do with a 429: try again after its Retry-After up to `retries`
   * times (default 1) when the wait is at most `maxDelay` ms (default 10,000).
   */
  retry?: { retries?: number; maxDelay?: number };
  /** The fetch under the client (default: the global one). */
  fetch?: FetchLike;
  /** Milliseconds for a whole call (default: the client's, 30,000). */
  timeout?: number;
  /** Gets one debug line per request; X-MBX-APIKEY is redacted, the query string left out. */
  logger?: DebugLogger;
  /** The local clock in ms (default `Date.now`): the timestamp is this plus the cached offset. */
  now?: () => number;
}

/** Options of one call. */
export interface BinanceCallOptions {
  /** Milliseconds for this call, instead of the instance's. */
  timeout?: number;
  /** Cancels the call, a back-off wait included. */
  signal?: AbortSignal;
  /** Resolve to `{ status, headers, data }` (the weight headers...) instead of the data. */
  full?: boolean;
}

/** Where {@link Binance.link} finds the stored secret when none is given. */
export interface SecretStoreOptions {
  /** The PIN; default `$USRV_PIN`. */
  pin?: string;
  /** Folder of the secret file; default `$USRV_HOME`, else `~/.usrv`. */
  home?: string;
  /** File name; default `secret.key`. */
  name?: string;
}

/** The four endpoint kinds: a public GET, and three signed methods. */
export type BinanceKind = "GET" | "SGET" | "SPOST" | "SDELETE";
