/**
 * A replay store shared across hosts: one Redis `SET key 1 NX PXAT t` per
 * nonce, atomic on the server, expiring on its own. When Redis cannot be
 * reached the check fails closed (503): a nonce is never accepted unrecorded.
 * The client library (@redis/client, an optional peer dependency) is loaded
 * only when this store is used.
 */
import { HttpError } from "../common/errors.js";
import { MissingPeerError } from "../common/peer.js";
import { RedisConnection, redisUrl } from "./redis.js";
import type { ReplayStore } from "./replay.js";

/** Options of the Redis store. */
export interface RedisReplayStoreOptions {
  /** Key prefix, default "usrv:nonce:". */
  prefix?: string;
  /** Time to wait for a connection or a reply, default 1,000 ms. */
  timeout?: number;
}

/**
 * @example
 * const app = createApp({ replayStore: new RedisReplayStore("redis://127.0.0.1:6379") });
 */
export class RedisReplayStore implements ReplayStore {
  readonly url: string;
  readonly #prefix: string;
  readonly #redis: RedisConnection;

  constructor(url: string, options: RedisReplayStoreOptions = {}) {
    this.url = redisUrl(url, "a replay store");
    this.#prefix = options.prefix ?? "usrv:nonce:";
    this.#redis = new RedisConnection(url, options.timeout ?? 1_000);
  }

  async checkAndAdd(key: string, expiresAt: number): Promise<boolean> {
    try {
      const reply = await this.#redis.run((client) =>
        client.set(this.#prefix + key, "1", {
          condition: "NX",
          expiration: { type: "PXAT", value: Math.ceil(expiresAt) },
        }),
      );
      return reply === "OK";
    } catch (e) {
      if (e instanceof MissingPeerError) throw e; // a 500 whose log line says what to install
      throw new HttpError(
        "USRV_ERR_REPLAY_STORE",
        "the replay store is unreachable; requests with a Nonce are refused until it is back",
        {
          headers: { "retry-after": "1" },
        },
      );
    }
  }

  close(): Promise<void> {
    return this.#redis.close();
  }
}

export { loadRedisClient } from "./redis.js";
