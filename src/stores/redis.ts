/**
 * One connection to Redis for the stores that share hosts through it (the
 * replay memory, the rate limiter): made on first use, bounded in time,
 * failing fast while disconnected (a queued command would hang a request),
 * started over when it never connected. @redis/client is an optional peer
 * dependency, loaded then.
 */
import { importPeer } from "../common/peer.js";

/** What the stores use of @redis/client's client. */
export interface RedisClient {
  set(key: string, value: string, options: object): Promise<string | null>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  connect(): Promise<unknown>;
  close?(): Promise<void>;
  quit?(): Promise<unknown>;
  on(event: string, fn: (e: Error) => void): unknown;
}

/**
 * The Redis client library, or a `MissingPeerError` naming it: `usrv serve`
 * calls this at start-up so that a missing package stops it with one line.
 */
export function loadRedisClient(
  feature = "a Redis replay store (--replay-store redis://)",
): Promise<{ createClient(options: object): unknown }> {
  return importPeer("@redis/client", feature, () => import("@redis/client"));
}

/** Checks a store's Redis URL. */
export function redisUrl(url: string, what: string): string {
  if (typeof url !== "string" || !/^rediss?:\/\//.test(url))
    throw new TypeError(`[usrv] ${what} URL starts with redis:// or rediss://, not ${JSON.stringify(url)}`);
  return url;
}

/** A lazily made connection whose every command is bounded by `timeout` ms. */
export class RedisConnection {
  readonly #url: string;
  readonly #timeout: number;
  readonly #feature: string | undefined;
  #client: Promise<RedisClient> | undefined;

  /** `feature` names what needs @redis/client when it is missing. */
  constructor(url: string, timeout: number, feature?: string) {
    this.#url = url;
    this.#timeout = timeout;
    this.#feature = feature;
  }

  #connect(): Promise<RedisClient> {
    this.#client ??= loadRedisClient(this.#feature).then(async ({ createClient }) => {
      let connected = false;
      const client = createClient({
        url: this.#url,
        disableOfflineQueue: true,
        socket: {
          connectTimeout: this.#timeout,
          // once connected, reconnect with a backoff; a first connection that fails ends this
          // client (connect() rejects) and the next command makes a new one
          reconnectStrategy: (n: number) => (connected ? Math.min(100 * 2 ** n, 2_000) : false),
        },
      }) as RedisClient;
      client.on("error", () => {}); // failures surface per command
      await client.connect();
      connected = true;
      return client;
    });
    return this.#client;
  }

  /** Runs one command; rejects after `timeout` ms, or at once while disconnected. */
  async run<T>(command: (client: RedisClient) => Promise<T>): Promise<T> {
    const pending = this.#connect();
    try {
      const client = await within(pending, this.#timeout);
      return await within(command(client), this.#timeout);
    } catch (e) {
      // never connected: the next command starts over (without waiting for this attempt to end)
      pending.then(
        () => {},
        () => {
          if (this.#client === pending) this.#client = undefined;
        },
      );
      throw e;
    }
  }

  async close(): Promise<void> {
    const client = await this.#client?.catch(() => null);
    this.#client = undefined;
    await (client?.close?.() ?? client?.quit?.());
  }
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
