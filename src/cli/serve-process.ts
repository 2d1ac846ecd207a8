/**
 * The processes of `usrv serve`: one process (-t 1), or a node:cluster
 * primary with N workers on one port (serve-primary.ts). The first process
 * traps the signals, checks the options, makes the identity and reads the
 * certificate once.
 */
import { MemoryReplayStore } from "../stores/replay.js";
import { loadRedisClient } from "../stores/replay-redis.js";
import { requirePeer } from "./errors.js";
import { type StartConfig, startApp, storeFor } from "./serve-app.js";
import { resolveIdentity } from "./serve-identity.js";
import { runPrimary } from "./serve-primary.js";
import { Signals } from "./serve-signals.js";
import { readTls, selfSigned } from "./tls.js";

/** The checked options of `usrv serve`. */
export interface ServeConfig {
  bindings: string[];
  threads: number;
  logLevel: number;
  host: string;
  port: number;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  tlsSelfSigned: boolean;
  /** S6: HTTP/2 (h2 with TLS, h2c without). */
  http2: boolean;
  identity: string;
  /** --identity or USRV_IDENTITY was given (else random, unless the served app identified itself). */
  identityGiven: boolean;
  /** USRV_PIN, for `--identity stored`. */
  pin: string | undefined;
  replayStore: string | undefined;
  drainTimeout: number;
  defaultRoutes: boolean;
}

/**
 * Starts the server; resolves with the exit code once it has stopped.
 *
 * @example
 * const config = parseServeArgs(["-t", "2", "app.mjs"]);
 * if (typeof config === "object") process.exitCode = await runServer(config);
 */
export async function runServer(c: ServeConfig): Promise<number> {
  const signals = new Signals("abort"); // before the first await: a PIN prompt can take a while
  const secret = await resolveIdentity(c.identity, c.pin);
  const files = c.tlsSelfSigned
    ? selfSigned()
    : c.tlsCert && c.tlsKey
      ? { cert: c.tlsCert, key: c.tlsKey }
      : undefined;
  const pem = files && readTls(files.cert, files.key); // fails with one line, before any fork
  if (c.replayStore) await requirePeer(loadRedisClient()); // so does a missing @redis/client
  const start: StartConfig = {
    bindings: c.bindings,
    threads: c.threads,
    logLevel: c.logLevel,
    host: c.host,
    port: c.port,
    tls: pem && { cert: pem.cert.toString("utf8"), key: pem.key.toString("utf8") },
    http2: c.http2,
    secret,
    identityGiven: c.identityGiven,
    replayStore: c.replayStore,
    drainTimeout: c.drainTimeout,
    defaultRoutes: c.defaultRoutes,
  };
  if (c.threads === 1) return runSingle(start, signals);
  return runPrimary(start, signals);
}

async function runSingle(c: StartConfig, signals: Signals): Promise<number> {
  const store = storeFor(c, () => new MemoryReplayStore());
  const { server, banner, warnings } = await startApp(c, store);
  for (const line of warnings) process.stderr.write(`${line}\n`);
  process.stdout.write(banner);
  await signals.serving(() => process.exit(1));
  await server.close();
  await store.close?.();
  // as a worker does: a handler's timer or a module's open socket must not hold the exit
  process.exit(0);
}
