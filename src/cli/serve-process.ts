/**
 * The processes of `usrv serve`: one process (-t 1), or a node:cluster
 * primary with N workers on one port. The primary makes the identity and
 * the TLS files once, holds the shared replay memory, replaces crashed
 * workers and drains them on SIGTERM/SIGINT.
 */
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import type { ServerHandle } from "../adapter/serve.js";
import { bindDemo } from "../demo.js";
import { defaultApp } from "../index.js";
import { ConsoleLogger } from "../log.js";
import { MemoryReplayStore, type ReplayStore } from "../replay.js";
import { ClusterReplayStore, serveReplay } from "../replay-cluster.js";
import { loadRedisClient, RedisReplayStore } from "../replay-redis.js";
import { loadBindings, requirePeer, UsageError } from "./serve-bindings.js";
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
  identity: string;
  replayStore: string | undefined;
  drainTimeout: number;
}

type Message = { usrv: "ready"; banner: string } | { usrv: "fatal"; message: string } | { usrv: "stop" };

/** Starts the server; resolves with the exit code once it has stopped. */
export async function runServer(c: ServeConfig): Promise<number> {
  if (cluster.isWorker) return runWorker(c);
  if (c.replayStore) await requirePeer(loadRedisClient());
  const secret = await resolveIdentity(c.identity);
  if (c.tlsSelfSigned) ({ cert: c.tlsCert, key: c.tlsKey } = selfSigned());
  if (c.tlsCert && c.tlsKey) readTls(c.tlsCert, c.tlsKey); // fail with one line before forking
  if (c.threads === 1) return runSingle(c, secret);
  return runPrimary(c, secret);
}

async function resolveIdentity(identity: string): Promise<string> {
  if (identity === "random") return randomBytes(32).toString("hex");
  if (identity.startsWith("secret:")) return identity.slice("secret:".length);
  const { loadSecret } = await import("../secp256k1/secret-store.js");
  let pin = process.env.USRV_PIN;
  if (pin === undefined) {
    const { createPrompter } = await import("./secret-prompt.js");
    const prompt = createPrompter();
    try {
      pin = await prompt.ask("PIN of the stored secret: ");
    } finally {
      prompt.close();
    }
  }
  try {
    return await loadSecret(pin);
  } catch (e) {
    throw new UsageError(
      `usrv serve: cannot load the stored identity: ${(e as Error).message.replace("[usrv] ", "")}`,
    );
  }
}

/** Binds, identifies and listens in this process. */
async function startApp(
  c: ServeConfig,
  secret: string,
  store: ReplayStore,
): Promise<{ server: ServerHandle; banner: string }> {
  const app = defaultApp();
  if (app.logger instanceof ConsoleLogger) {
    app.logger.level = c.logLevel;
    if (cluster.isWorker) app.logger.name = `usrv[${process.pid}]`;
  }
  app.replayStore = store;
  if (c.bindings.length === 0) bindDemo(app);
  const owners = await loadBindings(app, c.bindings);
  await app.identify(secret);
  let server: ServerHandle;
  try {
    server = await app.run({
      host: c.host,
      port: c.port,
      drainTimeout: c.drainTimeout,
      tls: c.tlsCert && c.tlsKey ? readTls(c.tlsCert, c.tlsKey) : undefined,
    });
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
  const workers = c.threads === 1 ? "1 process" : `${c.threads} workers`;
  return {
    server,
    banner: `usrv serving on ${server.url} (${workers}, public key ${app.publicKey})\n${routes.join("\n")}\n`,
  };
}

function storeFor(c: ServeConfig, shared: () => ReplayStore): ReplayStore {
  return c.replayStore ? new RedisReplayStore(c.replayStore) : shared();
}

/** Resolves on the first SIGTERM/SIGINT; a second one calls `force`. */
function onSignals(force: () => void): Promise<string> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: string) => {
      if (seen) return force();
      seen = true;
      resolve(signal);
    };
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
  });
}

async function runSingle(c: ServeConfig, secret: string): Promise<number> {
  const store = storeFor(c, () => new MemoryReplayStore());
  const { server, banner } = await startApp(c, secret, store);
  process.stdout.write(banner);
  await onSignals(() => process.exit(1));
  await server.close();
  await store.close?.();
  return 0;
}

async function runWorker(c: ServeConfig): Promise<number> {
  // Listen for the word to stop before anything else: a worker still booting
  // when the primary drains must not miss it.
  const stop = new Promise<void>((resolve) => {
    process.on("message", (m: Message) => m?.usrv === "stop" && resolve());
    process.once("disconnect", () => resolve()); // the primary is gone
    void onSignals(() => process.exit(1)).then(() => resolve());
  });
  const secret = process.env.USRV_WORKER_SECRET ?? "";
  const store = storeFor(c, () => new ClusterReplayStore());
  let started: { server: ServerHandle; banner: string };
  try {
    started = await startApp(c, secret, store);
  } catch (e) {
    const message = e instanceof UsageError ? e.message : `usrv serve: ${(e as Error).message}`;
    process.send!({ usrv: "fatal", message } satisfies Message);
    process.disconnect?.();
    return 1;
  }
  if (process.connected) process.send!({ usrv: "ready", banner: started.banner } satisfies Message);
  await stop;
  // Without a primary, a cluster server's close() may never call back: bound it.
  setTimeout(() => process.exit(1), c.drainTimeout + 1_000).unref();
  await started.server.close();
  await store.close?.();
  process.exit(0);
}

async function runPrimary(c: ServeConfig, secret: string): Promise<number> {
  const memory = c.replayStore ? undefined : new MemoryReplayStore();
  const env = {
    USRV_WORKER_SECRET: secret,
    USRV_TLS_CERT: c.tlsCert ?? "",
    USRV_TLS_KEY: c.tlsKey ?? "",
    USRV_TLS_SELF_SIGNED: "",
  };
  let stopping = false;
  const crashes: number[] = [];
  const fork = (): Worker => {
    const w = cluster.fork(env);
    // IPC to a worker that has just exited fails with EPIPE (node 24 reports it,
    // e.g. when the port is in use and every worker quits at once): the exit
    // itself is handled below, so the write error is no crash.
    w.on("error", () => {});
    if (memory) serveReplay(w, memory);
    return w;
  };

  // Start N workers; all must be ready, or none serves.
  const ready = await new Promise<string | Error>((resolve) => {
    let count = 0;
    for (let i = 0; i < c.threads; i++) {
      const w = fork();
      w.on("message", (m: Message) => {
        if (m?.usrv === "fatal") resolve(new UsageError(m.message));
        else if (m?.usrv === "ready" && ++count === c.threads) resolve(m.banner);
      });
      w.once("exit", (code) =>
        resolve(new UsageError(`usrv serve: a worker exited during start-up (code ${code})`)),
      );
    }
  });
  if (ready instanceof Error) {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGKILL");
    memory?.close();
    throw ready;
  }
  process.stdout.write(ready);

  // Replace crashed workers, but stop a crash loop.
  cluster.on("exit", (w, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    crashes.push(now);
    while (crashes[0]! < now - 10_000) crashes.shift();
    process.stderr.write(
      `usrv serve: worker ${w.process.pid} died (${signal ?? `code ${code}`}); starting another\n`,
    );
    if (crashes.length > 10) {
      process.stderr.write("usrv serve: workers keep crashing (more than 10 in 10 s); stopping\n");
      process.kill(process.pid, "SIGTERM");
      return;
    }
    fork();
  });

  const forceAll = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGKILL");
    process.exit(1);
  };
  await onSignals(forceAll);
  stopping = true;
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const timer = setTimeout(forceAll, c.drainTimeout + 2_000);
  timer.unref();
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          w.once("exit", () => resolve());
          if (w.isConnected()) w.send({ usrv: "stop" } satisfies Message);
        }),
    ),
  );
  clearTimeout(timer);
  memory?.close();
  return 0;
}
