/**
 * A replay store shared across hosts: one Redis `SET key 1 NX PXAT t` per
 * nonce, atomic on the server, expiring on its own. When Redis cannot be
 * reached the check fails closed (503): a nonce is never accepted unrecorded.
 * The client library (@redis/client, an optional peer dependency) is loaded
 * only when this store is used.
 */
import { HttpError } from "../common/errors.js";
import { importPeer, MissingPeerError } from "../common/peer.js";
import type { ReplayStore } from "./replay.js";

/** Options of the Redis store. */
export interface RedisReplayStoreOptions {
  /** Key prefix, default "usrv:nonce:". */
  prefix?: string;
  /** Time to wait for a connection or a reply, default 1,000 ms. */
  timeout?: number;
}

type Client = {
  set(key: string, value: string, options: object): Promise<string | null>;
  connect(): Promise<unknown>;
  close?(): Promise<void>;
  quit?(): Promise<unknown>;
  on(event: string, fn: (e: Error) => void): unknown;
  isReady: boolean;
};

/**
 * @example
 * const app = createApp({ replayStore: new RedisReplayStore("redis://127.0.0.1:6379") });
 */
export class RedisReplayStore implements ReplayStore {
  readonly url: string;
  readonly #prefix: string;
  readonly #timeout: number;
  #client: Promise<Client> | undefined;

  constructor(url: string, options: RedisReplayStoreOptions = {}) {
    if (!/^rediss?:\/\//.test(url))
      throw new TypeError(
        `[usrv] a replay store URL starts with redis:// or rediss://, not ${JSON.stringify(url)}`,
      );
    this.url = url;
    this.#prefix = options.prefix ?? "usrv:nonce:";
    this.#timeout = options.timeout ?? 1_000;
  }

  #connect(): Promise<Client> {
    this.#client ??= loadRedisClient().then(async ({ createClient }) => {
      const client = createClient({
        url: this.url,
        // Fail fast while disconnected instead of queueing: a queued check would hang the request.
        disableOfflineQueue: true,
        socket: {
          connectTimeout: this.#timeout,
          reconnectStrategy: (n: number) => Math.min(100 * 2 ** n, 2_000),
        },
      }) as unknown as Client;
      client.on("error", () => {}); // reconnects on its own; failures surface per request as 503
      await client.connect();
      return client;
    });
    return this.#client;
  }

  async checkAndAdd(key: string, expiresAt: number): Promise<boolean> {
    try {
      const client = await withTimeout(this.#connect(), this.#timeout);
      const reply = await withTimeout(
        client.set(this.#prefix + key, "1", {
          condition: "NX",
          expiration: { type: "PXAT", value: Math.ceil(expiresAt) },
        }),
        this.#timeout,
      );
      return reply === "OK";
    } catch (e) {
      // Never connected: start over next time. Once connected, the client reconnects by itself.
      if ((await this.#client?.catch(() => null)) === null) this.#client = undefined;
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

  async close(): Promise<void> {
    const client = await this.#client?.catch(() => null);
    this.#client = undefined;
    await (client?.close?.() ?? client?.quit?.());
  }
}

/**
 * The Redis client library, or a `MissingPeerError` naming it: `usrv serve`
 * calls this at start-up so that a missing package stops it with one line.
 */
export function loadRedisClient(): Promise<{ createClient(options: object): unknown }> {
  return importPeer(
    "@redis/client",
    "a Redis replay store (--replay-store redis://)",
    () => import("@redis/client"),
  );
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
