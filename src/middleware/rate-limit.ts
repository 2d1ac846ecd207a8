/**
 * Rate limiting (`usrv/rate-limit`, issue 16 item 6): a token bucket per key
 * (the client's address, its verified public key, or your function), in
 * memory or in Redis. Past the limit a request is a 429
 * `USRV_ERR_RATE_LIMITED` with `Retry-After`; every answer carries the IETF
 * RateLimit fields (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy`
 * and `RateLimit`). The address is checked in `onRequest`, before the body
 * is read; the sender's key in `beforeHandle`, once its signature verified
 * (a key no one proved is not a key to count by).
 *
 * @example
 * import { rateLimit } from "usrv/rate-limit";
 * app.use(rateLimit({ limit: 100, window: 60_000 }));             // 100 a minute per address
 * app.group("/pay", { hooks: rateLimit({ limit: 5, window: 1_000, key: "sender" }) }, ...);
 */
import type { Hooks } from "../app/hooks.js";
import { HttpError } from "../common/errors.js";
import { knownKeys } from "../common/known-keys.js";
import type { Context } from "../common/types.js";
import { type Bucket, MemoryRateLimitStore, type RateLimitStore, type Taken } from "../stores/rate-limit.js";

export {
  type Bucket,
  MemoryRateLimitStore,
  type RateLimitStore,
  RedisRateLimitStore,
  type RedisRateLimitStoreOptions,
  type Taken,
} from "../stores/rate-limit.js";

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Requests admitted per `window`, on average. */
  limit: number;
  /** The window in milliseconds (`limit` tokens refill over it). */
  window: number;
  /** The most requests at once (the bucket's size), default `limit`. */
  burst?: number;
  /**
   * What a bucket belongs to: `"address"` (the client's IP, the default;
   * behind a proxy give a function that reads what your proxy sets),
   * `"sender"` (the verified Sender-Public-Key; unsigned requests count by
   * address), or a function (`undefined`: not limited).
   */
  key?: "address" | "sender" | ((ctx: Context) => string | undefined);
  /** Where the buckets live, default a `MemoryRateLimitStore` of this process. */
  store?: RateLimitStore;
  /** The policy's name in the RateLimit fields, default "default". */
  name?: string;
  /**
   * When the store fails (Redis down): `"allow"` the request (the default:
   * a limiter should not take the API down with it; each failure is logged)
   * or `"refuse"` it with a 503.
   */
  onStoreError?: "allow" | "refuse";
}

const NAME = /^[a-z*][a-z0-9_.*-]*$/; // a structured field token

/**
 * The rate-limiting hook. Throws a TypeError for options it cannot honour.
 *
 * @example
 * app.use(rateLimit({ limit: 10, window: 1_000, burst: 20, key: (ctx) => ctx.headers["x-api-key"] as string }));
 */
export function rateLimit(options: RateLimitOptions): Hooks {
  const fail = (why: string): never => {
    throw new TypeError(`[usrv] rateLimit: ${why}`);
  };
  if (options === null || typeof options !== "object") fail("needs options: rateLimit({ limit, window })");
  knownKeys("rateLimit", options, ["limit", "window", "burst", "key", "store", "name", "onStoreError"]);
  const { limit, window } = options;
  const burst = options.burst ?? limit;
  if (!Number.isSafeInteger(limit) || limit < 1) fail("limit must be a whole number >= 1");
  if (!Number.isSafeInteger(window) || window < 1) fail("window must be whole milliseconds >= 1");
  if (!Number.isSafeInteger(burst) || burst < 1) fail("burst must be a whole number >= 1");
  const key = options.key ?? "address";
  if (key !== "address" && key !== "sender" && typeof key !== "function")
    fail('key is "address", "sender" or a function');
  const name = options.name ?? "default";
  if (!NAME.test(name)) fail(`name must be a lower-case token, not ${JSON.stringify(name)}`);
  const store = options.store ?? new MemoryRateLimitStore();
  const refuse = options.onStoreError === "refuse";
  const bucket: Bucket = { capacity: burst, perSecond: (limit * 1000) / window };
  const policy = `"${name}";q=${limit};w=${Math.ceil(window / 1000)}`;

  let warned = false;
  const keyOf = (ctx: Context): string | undefined => {
    if (typeof key === "function") return key(ctx);
    if (key === "sender" && ctx.senderPublicKey !== null) return `k:${ctx.senderPublicKey}`;
    if (ctx.remoteAddress !== null) return `a:${ctx.remoteAddress}`;
    // a fetch face that is not told the address: say so once, rather than limit nothing in silence
    if (!warned) {
      warned = true;
      ctx.log.warn(
        {},
        "rateLimit: this face does not know the client's address; requests are not limited (give key a function)",
      );
    }
    return undefined;
  };

  const settle = (ctx: Context, taken: Taken): undefined => {
    const fields = {
      "ratelimit-policy": policy,
      ratelimit: `"${name}";r=${taken.remaining};t=${taken.reset}`,
    };
    if (!taken.allowed) {
      throw new HttpError(
        "USRV_ERR_RATE_LIMITED",
        `over ${limit} requests in ${window} ms: retry in ${taken.retryAfter} s`,
        {
          headers: { ...fields, "retry-after": String(taken.retryAfter) },
        },
      );
    }
    ctx.header("ratelimit-policy", fields["ratelimit-policy"]).header("ratelimit", fields.ratelimit);
    return undefined;
  };

  const failed = (ctx: Context, e: unknown): undefined => {
    if (refuse) {
      throw new HttpError("USRV_ERR_RATE_LIMIT_STORE", "the rate limit store is unreachable", {
        headers: { "retry-after": "1" },
      });
    }
    ctx.log.warn({ err: e }, "rate limit store failed: request admitted (onStoreError: allow)");
    return undefined;
  };

  // sync with the memory store: no promise per request
  const check = (ctx: Context): undefined | Promise<undefined> => {
    const id = keyOf(ctx);
    if (id === undefined) return undefined;
    let taken: Taken | Promise<Taken>;
    try {
      taken = store.take(id, bucket);
    } catch (e) {
      return failed(ctx, e);
    }
    if (!(taken instanceof Promise)) return settle(ctx, taken);
    return taken.then(
      (t) => settle(ctx, t),
      (e) => failed(ctx, e),
    );
  };
  return key === "sender" ? { beforeHandle: (_, ctx) => check(ctx) } : { onRequest: check };
}
