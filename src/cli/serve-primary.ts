/**
 * The node:cluster primary of `usrv serve -t N`: forks N workers on one
 * port and hands each the start configuration over IPC, holds the shared
 * replay memory, replaces crashed workers, and drains them on SIGTERM or
 * SIGINT (during start-up too).
 */
import cluster, { type Worker } from "node:cluster";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryReplayStore } from "../stores/replay.js";
import { serveReplay } from "../stores/replay-cluster.js";
import { UsageError } from "./errors.js";
import type { StartConfig } from "./serve-app.js";
import type { FromWorker, ToWorker } from "./serve-ipc.js";
import type { Signals } from "./serve-signals.js";

/**
 * The worker program: src/cli/serve-worker.ts under tsx, dist/cli/serve-worker.js once built, where this
 * code may sit in dist/chunks/, hence the way through `../cli/`.
 */
const WORKER = fileURLToPath(
  new URL(`../cli/serve-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

const send = (w: Worker, message: ToWorker) => {
  if (w.isConnected()) w.send(message, undefined, () => {});
};

const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);

/** Tells every worker to stop and waits for them all; SIGKILL after `ms`, when given. */
function stopAll(ms?: number): Promise<void> {
  const timer =
    ms === undefined
      ? undefined
      : setTimeout(() => {
          for (const w of alive()) w.process.kill("SIGKILL");
        }, ms).unref();
  return Promise.all(
    alive().map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          w.once("exit", () => resolve());
          send(w, { usrv: "stop" });
        }),
    ),
  ).then(() => clearTimeout(timer));
}

/**
 * Runs the primary; resolves with the exit code once every worker has stopped.
 *
 * @example
 * process.exitCode = await runPrimary(config, new Signals("abort"));
 */
export async function runPrimary(c: StartConfig, signals: Signals): Promise<number> {
  const memory = c.replayStore ? undefined : new MemoryReplayStore();
  // Workers run their own program with no arguments: they get the checked
  // configuration over IPC instead of parsing the primary's argv and env again.
  cluster.setupPrimary({ exec: WORKER, args: [] });
  const crashes: number[] = [];
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
  signals.onAbort(() => stopAll(c.drainTimeout + 2_000));

  // Start N workers; all must be ready, or none serves. A signal meanwhile
  // stops them all (Signals), and their exits are then no failure.
  const ready = await new Promise<Extract<FromWorker, { usrv: "ready" }> | Error>((resolve) => {
    let count = 0;
    for (let i = 0; i < c.threads; i++) {
      const w = fork();
      w.on("message", (m: FromWorker) => {
        if (signals.stopping) return;
        if (m?.usrv === "fatal") resolve(new UsageError(m.message));
        else if (m?.usrv === "ready" && ++count === c.threads) resolve(m);
      });
      w.once("exit", (code) => {
        if (!signals.stopping)
          resolve(new UsageError(`usrv serve: a worker exited during start-up (code ${code})`));
      });
    }
  });
  if (ready instanceof Error) {
    for (const w of alive()) w.process.kill("SIGKILL");
    memory?.close();
    throw ready;
  }
  for (const line of ready.warnings) process.stderr.write(`${line}\n`);
  process.stdout.write(ready.banner);

  // Replace crashed workers, but stop a crash loop.
  cluster.on("exit", (w, code, signal) => {
    if (signals.stopping) return;
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
    for (const w of alive()) w.process.kill("SIGKILL");
    process.exit(1);
  };
  await signals.serving(forceAll);
  const timer = setTimeout(forceAll, c.drainTimeout + 2_000);
  timer.unref();
  await stopAll();
  clearTimeout(timer);
  memory?.close();
  return 0;
}
