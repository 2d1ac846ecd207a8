/**
 * Token buckets for `usrv/rate-limit` (issue 16 item 6): each key has a
 * bucket of `capacity` tokens that refills at `perSecond`; a request takes
 * one. In this process's memory (bounded: the least recently used key goes
 * first), or in Redis for several hosts: one Lua script per request, atomic
 * on the server and on its clock, so hosts whose clocks differ agree.
 */
import { RedisConnection, redisUrl } from "./redis.js";

/** A bucket's size and refill rate. */
export interface Bucket {
  /** Most tokens a bucket holds: the burst a client may send at once. */
  readonly capacity: number;
  /** Tokens added back per second. */
  readonly perSecond: number;
}

/** What taking a token gave. */
export interface Taken {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until one token is back (0 when allowed). */
  retryAfter: number;
  /** Seconds until the bucket is full again. */
  reset: number;
}

/** Where the buckets live. */
export interface RateLimitStore {
  /** Takes one token from `key`'s bucket. */
  take(key: string, bucket: Bucket): Taken | Promise<Taken>;
  close?(): Promise<void> | void;
}

/** The outcome of a bucket holding `tokens` (after refill, before taking one). */
export function outcome(tokens: number, bucket: Bucket): Taken {
  const allowed = tokens >= 1;
  const left = allowed ? tokens - 1 : tokens;
  return {
    allowed,
    remaining: Math.floor(left),
    retryAfter: allowed ? 0 : Math.ceil((1 - left) / bucket.perSecond),
    reset: Math.ceil((bucket.capacity - left) / bucket.perSecond),
  };
}

/**
 * Buckets in this process's memory, at most `maxKeys` of them (default
 * 100,000): past that, the least recently used key is forgotten (its next
 * request starts full), so a flood of new keys costs bounded memory.
 *
 * @example
 * app.use(rateLimit({ limit: 100, window: 60_000, store: new MemoryRateLimitStore({ maxKeys: 10_000 }) }));
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: { maxKeys?: number; now?: () => number } = {}) {
    this.#max = options.maxKeys ?? 100_000;
    if (!Number.isSafeInteger(this.#max) || this.#max < 1)
      throw new TypeError("[usrv] maxKeys is a whole number >= 1");
    this.#now = options.now ?? Date.now;
  }

  take(key: string, bucket: Bucket): Taken {
    const now = this.#now();
    const b = this.#buckets.get(key);
    let tokens = bucket.capacity;
    if (b !== undefined) {
      tokens = Math.min(bucket.capacity, b.tokens + ((now - b.at) / 1000) * bucket.perSecond);
      this.#buckets.delete(key); // re-inserted last: Map order is recency
    } else if (this.#buckets.size >= this.#max) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    const taken = outcome(tokens, bucket);
    this.#buckets.set(key, { tokens: taken.allowed ? tokens - 1 : tokens, at: now });
    return taken;
  }

  /** How many keys it holds. */
  get size(): number {
    return this.#buckets.size;
  }
}

// KEYS[1] the bucket; ARGV capacity, perSecond. Returns the tokens after refill, before taking one (as text:
// Lua numbers reach Redis as integers), and takes one if there is one. TIME: the server's clock for every host.
const TAKE = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = capacity
if b[1] then
  tokens = math.min(capacity, tonumber(b[1]) + (now - tonumber(b[2])) / 1000 * rate)
end
local left = tokens
if tokens >= 1 then left = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(left), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(tokens)
`;

/** Options of {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** Key prefix, default "usrv:rate:". */
  prefix?: string;
  /** Time to wait for a connection or a reply, default 1,000 ms. */
  timeout?: number;
}

/**
 * Buckets in Redis, shared by every host that uses the same server: one
 * atomic script per request (one round trip). A bucket expires once it
 * would be full again. Needs `@redis/client` (an optional peer dependency).
 *
 * @example
 * app.use(rateLimit({ limit: 100, window: 60_000, store: new RedisRateLimitStore("redis://127.0.0.1:6379") }));
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #prefix: string;
  readonly #redis: RedisConnection;

  constructor(url: string, options: RedisRateLimitStoreOptions = {}) {
    this.#prefix = options.prefix ?? "usrv:rate:";
    this.#redis = new RedisConnection(
      redisUrl(url, "a rate limit store"),
      options.timeout ?? 1_000,
      "RedisRateLimitStore",
    );
  }

  async take(key: string, bucket: Bucket): Promise<Taken> {
    const tokens = await this.#redis.run((client) =>
      client.eval(TAKE, {
        keys: [this.#prefix + key],
        arguments: [String(bucket.capacity), String(bucket.perSecond)],
      }),
    );
    return outcome(Number(tokens), bucket);
  }

  close(): Promise<void> {
    return this.#redis.close();
  }
}
