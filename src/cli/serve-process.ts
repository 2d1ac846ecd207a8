/**
 * The processes of `usrv serve`: one process (-t 1), or a node:cluster
 * primary with N workers on one port. The primary checks the options,
 * makes the identity and reads the certificate once, hands them to each
 * worker over IPC, holds the shared replay memory, replaces crashed workers
 * and drains them on SIGTERM/SIGINT.
 */
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryReplayStore } from "../replay.js";
import { serveReplay } from "../replay-cluster.js";
import { UsageError } from "./errors.js";
import { type StartConfig, startApp, storeFor } from "./serve-app.js";
import type { FromWorker, ToWorker } from "./serve-ipc.js";
import { onSignals } from "./serve-signals.js";
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
  /** USRV_PIN, for `--identity stored`. */
  pin: string | undefined;
  replayStore: string | undefined;
  drainTimeout: number;
}

/** Starts the server; resolves with the exit code once it has stopped. */
export async function runServer(c: ServeConfig): Promise<number> {
  const secret = await resolveIdentity(c.identity, c.pin);
  const files = c.tlsSelfSigned
    ? selfSigned()
    : c.tlsCert && c.tlsKey
      ? { cert: c.tlsCert, key: c.tlsKey }
      : undefined;
  const pem = files && readTls(files.cert, files.key); // fails with one line, before any fork
  const start: StartConfig = {
    bindings: c.bindings,
    threads: c.threads,
    logLevel: c.logLevel,
    host: c.host,
    port: c.port,
    tls: pem && { cert: pem.cert.toString("utf8"), key: pem.key.toString("utf8") },
    secret,
    replayStore: c.replayStore,
    drainTimeout: c.drainTimeout,
  };
  if (c.threads === 1) return runSingle(start);
  return runPrimary(start);
}

async function resolveIdentity(identity: string, pin: string | undefined): Promise<string> {
  if (identity === "random") return randomBytes(32).toString("hex");
  if (identity.startsWith("secret:")) return identity.slice("secret:".length);
  if (identity.startsWith("file:")) return readIdentityFile(identity.slice("file:".length));
  const { loadSecret } = await import("../secp256k1/secret-store.js");
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

function readIdentityFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UsageError(`usrv serve: cannot read the identity file ${file}: ${why}`);
  }
  if (text === "") throw new UsageError(`usrv serve: the identity file ${file} is empty`);
  return text;
}

async function runSingle(c: StartConfig): Promise<number> {
  const store = storeFor(c, () => new MemoryReplayStore());
  const { server, banner } = await startApp(c, store);
  process.stdout.write(banner);
  await onSignals(() => process.exit(1));
  await server.close();
  await store.close?.();
  // as a worker does: a handler's timer or a module's open socket must not hold the exit
  process.exit(0);
}

/** The worker program next to this file (.js once built, .ts when run from the sources). */
const WORKER = fileURLToPath(
  new URL(`./serve-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

async function runPrimary(c: StartConfig): Promise<number> {
  const memory = c.replayStore ? undefined : new MemoryReplayStore();
  // Workers run their own program with no arguments: they get the checked
  // configuration over IPC instead of parsing the primary's argv and env again.
  cluster.setupPrimary({ exec: WORKER, args: [] });
  let stopping = false;
  const crashes: number[] = [];
  const send = (w: Worker, message: ToWorker) => {
    if (w.isConnected()) w.send(message, undefined, () => {});
  };
  const fork = (): Worker => {
    const w = cluster.fork();
    // IPC to a worker that has just exited fails with EPIPE (node 24 reports it,
    // e.g. when the port is in use and every worker quits at once): the exit
    // itself is handled below, so the write error is no crash.
    w.on("error", () => {});
    w.on("message", (m: FromWorker) => m?.usrv === "hello" && send(w, { usrv: "config", config: c }));
    if (memory) serveReplay(w, memory);
    return w;
  };

  // Start N workers; all must be ready, or none serves.
  const ready = await new Promise<string | Error>((resolve) => {
    let count = 0;
    for (let i = 0; i < c.threads; i++) {
      const w = fork();
      w.on("message", (m: FromWorker) => {
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
          send(w, { usrv: "stop" });
        }),
    ),
  );
  clearTimeout(timer);
  memory?.close();
  return 0;
}
