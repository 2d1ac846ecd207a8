/**
 * P2: Binance's REST API over the usrv client: public `GET`, and `SGET`,
 * `SPOST`, `SDELETE` signed with the account's secret. The steps of one
 * call are numbered in {@link Binance.request}.
 */
import {
  type Client,
  ClientHttpError,
  createClient,
  type Endpoint,
  endpoint,
  type FullAnswer,
  loggingFetch,
} from "../client/index.js";
import { sleep } from "../client/wait.js";
import { type Check, checkOptions, typeOf } from "../common/options.js";
import { BinanceError, fromAnswer, translate } from "./binance-errors.js";
import { signingFetch, toParams } from "./binance-sign.js";
import {
  BINANCE_URL,
  type BinanceCallOptions,
  type BinanceKind,
  type BinanceOptions,
  type SecretStoreOptions,
} from "./binance-types.js";

const ms: Check = (v) => (typeof v === "number" && v >= 0 ? undefined : "a number of milliseconds >= 0");
/** The options of a call: a typo is an error, never an option silently left out. */
const CALL_OPTIONS = {
  timeout: ms,
  signal: (v: unknown) =>
    v !== null && typeof v === "object" && typeof (v as AbortSignal).aborted === "boolean"
      ? undefined
      : "an AbortSignal",
  full: typeOf("boolean"),
};

function checkCount(value: unknown, max: number, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > max)
    throw new BinanceError("USRV_ERR_BINANCE_BAD_ARGUMENT", `${what} must be an integer from 0 to ${max}`);
  return value as number;
}

/**
 * A Binance account: its key and secret, the clock offset to Binance's
 * server, the last used weight, and any back-off Binance asked for.
 *
 * @example
 * const binance = createBinance();
 * await binance.link(process.env.BINANCE_KEY!);          // secret from the store, PIN from USRV_PIN
 * const account = await binance.SGET.api.v3.account();
 */
export class Binance {
  readonly baseUrl: string;
  /**
   * Public endpoints, values in the query string.
   *
   * @example
   * await binance.GET.api.v3.ticker.price({ symbol: "BTCUSDT" }); // { symbol: "BTCUSDT", price: "..." }
   */
  readonly GET: Endpoint;
  /**
   * Signed GET, parameters in the query string.
   *
   * @example
   * await binance.SGET.api.v3.openOrders({ symbol: "BTCUSDT" });
   */
  readonly SGET: Endpoint;
  /**
   * Signed POST, parameters in a form body.
   *
   * @example
   * await binance.SPOST.api.v3.order({ symbol: "LTCBTC", side: "BUY", type: "LIMIT", timeInForce: "GTC", quantity: "1", price: "0.1" });
   */
  readonly SPOST: Endpoint;
  /**
   * Signed DELETE, parameters in the query string.
   *
   * @example
   * await binance.SDELETE.api.v3.order({ symbol: "LTCBTC", orderId: 28 });
   */
  readonly SDELETE: Endpoint;
  readonly #public: Client;
  readonly #signed: Client;
  readonly #now: () => number;
  readonly #recvWindow: number | undefined;
  readonly #retries: number;
  readonly #maxDelay: number;
  #apiKey: string | undefined;
  #secret: string | undefined;
  #offset = 0;
  #usedWeight: number | undefined;
  #pausedUntil = 0;
  #bannedUntil = 0;

  constructor(options: BinanceOptions = {}) {
    let url: URL | undefined;
    try {
      url = new URL(options.baseUrl ?? BINANCE_URL);
    } catch {}
    if (!url || !/^https?:$/.test(url.protocol) || url.search)
      throw new BinanceError(
        "USRV_ERR_BINANCE_BAD_ARGUMENT",
        "baseUrl must be an absolute http(s) URL without query",
      );
    this.baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    this.#now = options.now ?? Date.now;
    this.#recvWindow = checkCount(options.recvWindow, 60_000, "recvWindow");
    this.#retries = checkCount(options.retry?.retries, 100, "retry.retries") ?? 1;
    this.#maxDelay = checkCount(options.retry?.maxDelay, 3_600_000, "retry.maxDelay") ?? 10_000;
    const base = loggingFetch(options.logger, {
      name: "binance",
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      fields: (response) => ({ weight: response.headers.get("x-mbx-used-weight-1m") }),
    });
    const timeout = options.timeout === undefined ? {} : { timeout: options.timeout };
    this.#public = createClient({ peer: this.baseUrl, fetch: base, ...timeout });
    const credentials = () => ({ apiKey: this.#apiKey!, secret: this.#secret! });
    this.#signed = createClient({
      peer: this.baseUrl,
      fetch: signingFetch(base, credentials, () => this.timestamp()),
      ...timeout,
    });
    const kind = (k: BinanceKind) =>
      endpoint(k, (_, segments, values, opts) => this.request(k, segments, values, opts));
    this.GET = kind("GET");
    this.SGET = kind("SGET");
    this.SPOST = kind("SPOST");
    this.SDELETE = kind("SDELETE");
  }

  /**
   * Sets the API key and the secret. Without a secret, it is read from
   * usrv's secret store (`usrv secret dump`), opened with `store.pin` or `$USRV_PIN`.
   *
   * @example
   * await binance.link(apiKey, secret);
   * await binance.link(apiKey);                                   // stored secret, PIN from USRV_PIN
   * await binance.link(apiKey, undefined, { pin: "482913", name: "binance.key" });
   */
  async link(apiKey: string, secret?: string, store: SecretStoreOptions = {}): Promise<void> {
    if (typeof apiKey !== "string" || apiKey.trim() === "" || /[\r\n]/.test(apiKey))
      throw new BinanceError("USRV_ERR_BINANCE_NO_KEY", "link(apiKey) needs a Binance API key");
    if (secret === undefined) {
      const pin = store.pin ?? process.env.USRV_PIN;
      if (!pin)
        throw new BinanceError(
          "USRV_ERR_BINANCE_NO_SECRET",
          "no secret given, and no PIN to open the stored one: pass { pin } or set USRV_PIN",
        );
      // the store alone, not usrv/secp256k1's index: no curve code is loaded for an HMAC
      const { loadSecret } = await import("../secp256k1/secret-store.js");
      try {
        secret = await loadSecret(pin, { home: store.home, name: store.name });
      } catch (cause) {
        throw new BinanceError(
          "USRV_ERR_BINANCE_NO_SECRET",
          `the stored secret did not open: ${(cause as Error).message}`,
          { cause },
        );
      }
    }
    if (typeof secret !== "string" || secret === "")
      throw new BinanceError("USRV_ERR_BINANCE_NO_SECRET", "the secret must be a non-empty string");
    this.#apiKey = apiKey.trim();
    this.#secret = secret;
  }

  /** True once {@link Binance.link} has set a key and a secret. */
  get linked(): boolean {
    return this.#apiKey !== undefined && this.#secret !== undefined;
  }

  /** Binance's clock minus ours, in ms, as last measured (0 until a -1021 asks for a measure). */
  get clockOffset(): number {
    return this.#offset;
  }

  /** The last `X-MBX-USED-WEIGHT-1M` Binance sent: the request weight used this minute. */
  get usedWeight(): number | undefined {
    return this.#usedWeight;
  }

  /**
   * The timestamp of the next signed request: the local clock plus the cached offset.
   *
   * @example
   * binance.timestamp(); // 1499827319559
   */
  timestamp(): number {
    return Math.round(this.#now() + this.#offset);
  }

  /**
   * Binance's clock: `GET /api/v3/time`.
   *
   * @example
   * await binance.serverTime(); // 1499827319559
   */
  async serverTime(call: Omit<BinanceCallOptions, "full"> = {}): Promise<number> {
    const data = (await this.request("GET", ["api", "v3", "time"], undefined, { ...call, full: false })) as {
      serverTime?: unknown;
    };
    if (typeof data.serverTime !== "number" || !Number.isFinite(data.serverTime))
      throw new BinanceError(
        "USRV_ERR_BINANCE_BAD_ANSWER",
        `GET /api/v3/time: no numeric serverTime in ${JSON.stringify(data).slice(0, 80)}`,
        { body: data },
      );
    return data.serverTime;
  }

  /**
   * Measures the offset to Binance's clock (done for you after a -1021) and resolves to it.
   *
   * @example
   * await binance.syncClock(); // -42: our clock is 42 ms ahead
   */
  async syncClock(call: Omit<BinanceCallOptions, "full"> = {}): Promise<number> {
    const before = this.#now();
    const server = await this.serverTime(call);
    this.#offset = Math.round(server - (before + this.#now()) / 2);
    return this.#offset;
  }

  /**
   * One call, what the endpoints do: `binance.SGET.api.v3.account(values)` is
   * `request("SGET", ["api", "v3", "account"], values)`.
   *
   * @example
   * await binance.request("SGET", ["api", "v3", "account"], { omitZeroBalances: true });
   */
  async request(
    kind: BinanceKind,
    segments: readonly string[],
    values?: unknown,
    options: BinanceCallOptions = {},
  ): Promise<any> {
    const signed = kind !== "GET";
    const method = signed ? kind.slice(1) : "GET";
    const label = `${kind} /${segments.join("/")}`;
    // 1. credentials, then the parameters as flat text (never JSON)
    if (signed && this.#apiKey === undefined)
      throw new BinanceError("USRV_ERR_BINANCE_NO_KEY", `${label}: no API key: call link(apiKey) first`);
    if (signed && this.#secret === undefined)
      throw new BinanceError(
        "USRV_ERR_BINANCE_NO_SECRET",
        `${label}: no secret: call link(apiKey, secret) first`,
      );
    checkOptions(label, options, CALL_OPTIONS, (m) => new BinanceError("USRV_ERR_BINANCE_BAD_ARGUMENT", m));
    const params = toParams(values, signed);
    if (signed && this.#recvWindow !== undefined && params.recvWindow === undefined)
      params.recvWindow = String(this.#recvWindow);
    const client = signed ? this.#signed : this.#public;
    const call = {
      timeout: options.timeout,
      signal: options.signal,
      full: true,
      ...(method === "POST" ? { encoder: "form" as const } : {}),
    };
    let resynced = false;
    let retried = 0;
    for (;;) {
      // 2. a back-off or ban Binance asked for holds every call of this account
      await this.#gate(label, options.signal);
      try {
        // 3. send: timestamp and signature are added in the fetch (binance-sign.ts), fresh per attempt
        const answer = await client.call<FullAnswer>(method, segments, params, call);
        this.#weigh(answer.headers);
        // 4. Binance answers JSON objects or arrays, nothing else
        if (answer.data === null || typeof answer.data !== "object" || answer.data instanceof Uint8Array)
          throw new BinanceError(
            "USRV_ERR_BINANCE_BAD_ANSWER",
            `${label}: not JSON (${answer.headers.get("content-type") ?? "no content type"})`,
            { status: answer.status, body: answer.data },
          );
        return options.full ? answer : answer.data;
      } catch (err) {
        if (!(err instanceof ClientHttpError)) throw translate(err, label);
        this.#weigh(err.headers);
        const e = fromAnswer(err, label);
        // 5. 418: banned, nothing more until Retry-After; 429: wait Retry-After, then again
        if (e.status === 418) {
          if (e.retryAfter !== undefined) this.#bannedUntil = Date.now() + e.retryAfter;
          throw e;
        }
        if (e.status === 429) {
          if (e.retryAfter === undefined) throw e;
          this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + e.retryAfter);
          if (retried >= this.#retries || e.retryAfter > this.#maxDelay) throw e;
          retried++;
          continue;
        }
        // 6. -1021: our clock drifted from Binance's: measure the offset, sign again, once
        if (signed && e.apiCode === -1021 && !resynced) {
          resynced = true;
          await this.syncClock({ timeout: options.timeout, signal: options.signal });
          continue;
        }
        throw e;
      }
    }
  }

  async #gate(label: string, signal: AbortSignal | undefined): Promise<void> {
    const now = Date.now();
    if (now < this.#bannedUntil) {
      const left = this.#bannedUntil - now;
      throw new BinanceError(
        "USRV_ERR_BINANCE_BANNED",
        `${label}: not sent: banned (418) for ${left} more ms`,
        {
          status: 418,
          retryAfter: left,
        },
      );
    }
    if (now < this.#pausedUntil) {
      const left = this.#pausedUntil - now;
      if (left > this.#maxDelay)
        throw new BinanceError(
          "USRV_ERR_BINANCE_RATE_LIMITED",
          `${label}: not sent: rate limited (429) for ${left} more ms`,
          { status: 429, retryAfter: left },
        );
      await sleep(left, signal, `${label}: backing off`);
    }
  }

  #weigh(headers: Headers): void {
    const weight = headers.get("x-mbx-used-weight-1m");
    if (weight !== null && /^\d+$/.test(weight)) this.#usedWeight = Number(weight);
  }
}

/**
 * An isolated Binance account (its own key, secret, host and clock offset).
 *
 * @example
 * const binance = createBinance({ baseUrl: "https://testnet.binance.vision", recvWindow: 5000 });
 * await binance.link(apiKey, secret);
 */
export function createBinance(options?: BinanceOptions): Binance {
  return new Binance(options);
}
