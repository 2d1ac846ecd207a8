/**
 * `usrv/stores`: where an app remembers the nonces of signed requests, so
 * that a replayed request is refused (412). One process needs nothing from
 * here (`createApp` keeps a `MemoryReplayStore`); several hosts share a
 * `RedisReplayStore` (`@redis/client`, an optional peer dependency loaded on
 * first use); the workers of your own node:cluster share the primary's
 * memory through `ClusterReplayStore` and `serveReplay` (what `usrv serve -t N`
 * does).
 *
 * @example
 * import { createApp } from "usrv";
 * import { RedisReplayStore } from "usrv/stores";
 * const app = createApp({ replayStore: new RedisReplayStore("redis://127.0.0.1:6379") });
 */

export { MemoryReplayStore, type MemoryReplayStoreOptions, type ReplayStore } from "./replay.js";
export { ClusterReplayStore, serveReplay } from "./replay-cluster.js";
export { RedisReplayStore, type RedisReplayStoreOptions } from "./replay-redis.js";
