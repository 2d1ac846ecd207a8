/**
 * One serving process of `usrv serve` (the only one at -t 1, else each
 * worker): loads the bindings, sets the identity, the log level and the
 * replay store, listens, and describes itself in the start-up banner.
 */
import cluster from "node:cluster";
import type { App } from "../app/app.js";
import { ConsoleLogger } from "../common/log.js";
import { bindDemo } from "../demo-routes.js";
import type { RunOptions, ServerHandle, ServerOf } from "../faces/serve.js";
import { defaultApp } from "../index.js";
import type { ReplayStore } from "../stores/replay.js";
import { loadRedisClient, RedisReplayStore } from "../stores/replay-redis.js";
import { requirePeer, UsageError } from "./errors.js";
import { loadBindings } from "./serve-bindings.js";
import { bindDefaultRoutes } from "./serve-defaults.js";

/**
 * What a serving process starts from: the checked options, with what the
 * first process resolved once (the identity secret, the certificate's PEM).
 * Workers get it over IPC, never from their command line or environment.
 */
export interface StartConfig {
  bindings: string[];
  threads: number;
  logLevel: number;
  host: string;
  port: number;
  /** PEM text of the certificate and its key, for HTTPS. */
  tls: { cert: string; key: string } | undefined;
  /** S6: HTTP/2 (h2 with TLS, h2c without). */
  http2: boolean;
  /** The identity secret (a random one for `--identity random`). */
  secret: string;
  /** --identity or USRV_IDENTITY was given: it wins over an identity the served app set itself. */
  identityGiven: boolean;
  replayStore: string | undefined;
  drainTimeout: number;
  /** Add `HEAD /` and `GET /puk` when the bindings do not answer them. */
  defaultRoutes: boolean;
}

/** A listening server and the banner that describes it. */
export interface Started {
  server: ServerHandle<ServerOf<RunOptions>>;
  banner: string;
  /** Lines for stderr (modules that bind nothing), printed once by the first process. */
  warnings: string[];
}

/** The replay store of one process: Redis when asked, else `shared()` (this process's or the primary's memory). */
export function storeFor(c: StartConfig, shared: () => ReplayStore): ReplayStore {
  return c.replayStore ? new RedisReplayStore(c.replayStore) : shared();
}

/** The built-in logger at the server's level, named after its process in a worker. */
function setLogger(app: App, level: number): void {
  if (!(app.logger instanceof ConsoleLogger)) return; // the user's own logger is theirs
  app.logger.level = level;
  if (cluster.isWorker) app.logger.name = `usrv[${process.pid}]`;
}

/**
 * Binds, identifies and listens in this process.
 *
 * @example
 * const { server, banner, warnings } = await startApp(config, new MemoryReplayStore());
 */
export async function startApp(c: StartConfig, store: ReplayStore): Promise<Started> {
  const main = defaultApp();
  setLogger(main, c.logLevel); // before the modules load: they may log
  if (c.bindings.length === 0) bindDemo(main);
  const { app, owners, warnings } = await loadBindings(c.bindings, main);
  setLogger(app, c.logLevel);
  app.replayStore = store;
  if (c.defaultRoutes) for (const route of bindDefaultRoutes(app)) owners.set(route, "default route");
  // an app that identified itself keeps its key, unless --identity says otherwise
  if (c.identityGiven || app.publicKey === undefined) await app.identify(c.secret);
  // loaded now rather than at the first Nonce, whose check has 1 s to connect
  if (c.replayStore) await requirePeer(loadRedisClient());
  let server: ServerHandle<ServerOf<RunOptions>>;
  try {
    server = await app.run({
      host: c.host,
      port: c.port,
      drainTimeout: c.drainTimeout,
      tls: c.tls,
      http2: c.http2,
    } as RunOptions);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UsageError(`usrv serve: port ${c.port} on ${c.host} is in use`);
    if (code === "EACCES") throw new UsageError(`usrv serve: no permission to listen on ${c.host}:${c.port}`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND")
      throw new UsageError(`usrv serve: cannot listen on ${c.host}: no such local address`);
    throw e;
  }
  const routes = app.router
    .routes()
    .map(
      ([m, p]) => `  ${m.padEnd(7)} ${p}${owners.has(`${m} ${p}`) ? `   (${owners.get(`${m} ${p}`)})` : ""}`,
    );
  for (const [, p] of app.wsRouter.routes()) routes.push(`  ${"WS".padEnd(7)} ${p}`);
  const workers = c.threads === 1 ? "1 process" : `${c.threads} workers`;
  return {
    server,
    banner: `usrv serving on ${server.url} (${workers}${c.http2 ? ", HTTP/2" : ""}, public key ${app.publicKey})\n${routes.join("\n")}\n`,
    warnings,
  };
}
