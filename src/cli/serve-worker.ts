/**
 * The program of a `usrv serve` worker: node:cluster runs this file with no
 * arguments. A worker reads neither its command line nor its environment:
 * it says hello and the primary answers with the configuration it checked
 * and resolved (identity secret and certificate included), over IPC.
 */
import cluster from "node:cluster";
import { ClusterReplayStore } from "../stores/replay-cluster.js";
import { UsageError, unexpected } from "./errors.js";
import { type StartConfig, type Started, startApp, storeFor } from "./serve-app.js";
import type { FromWorker, ToWorker } from "./serve-ipc.js";
import { Signals } from "./serve-signals.js";

/** Sends to the primary, which may be gone: a failed send is no crash. */
function tell(message: FromWorker): void {
  if (process.connected) process.send!(message, undefined, undefined, () => {});
}

async function runWorker(): Promise<number> {
  // Signals reach a worker too (Ctrl-C goes to the whole process group);
  // while starting it leaves them to the primary, which tells it to stop.
  const signals = new Signals("ignore");
  let serving = false;
  let configure!: (c: StartConfig) => void;
  const configured = new Promise<StartConfig>((resolve) => (configure = resolve));
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const stopNow = () => (serving ? stop() : process.exit(0)); // nothing to drain before serving
  process.on("message", (m: ToWorker) => {
    if (m?.usrv === "config") configure(m.config);
    else if (m?.usrv === "stop") stopNow();
  });
  process.once("disconnect", stopNow); // the primary is gone
  tell({ usrv: "hello" });
  const c = await configured;
  const store = storeFor(c, () => new ClusterReplayStore());
  let started: Started;
  try {
    started = await startApp(c, store);
  } catch (e) {
    const message = e instanceof UsageError ? e.message : `usrv serve: ${unexpected(e)}`;
    tell({ usrv: "fatal", message });
    return 1;
  }
  serving = true;
  if (!process.connected) return 0; // the primary went while this one was starting
  tell({ usrv: "ready", banner: started.banner, warnings: started.warnings });
  await Promise.race([stopped, signals.serving(() => process.exit(1))]);
  // Without a primary, a cluster server's close() may never call back: bound it.
  setTimeout(() => process.exit(1), c.drainTimeout + 1_000).unref();
  await started.server.close();
  await store.close?.();
  return 0;
}

if (cluster.isWorker) {
  // exit at once: the IPC channel and a Redis client would keep the process alive
  void runWorker().then((code) => process.exit(code));
}
