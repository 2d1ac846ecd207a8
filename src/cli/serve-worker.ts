/**
 * The program of a `usrv serve` worker: node:cluster runs this file with no
 * arguments. A worker reads neither its command line nor its environment:
 * it says hello and the primary answers with the configuration it checked
 * and resolved (identity secret and certificate included), over IPC.
 */
import cluster from "node:cluster";
import { ClusterReplayStore } from "../replay-cluster.js";
import { UsageError, unexpected } from "./errors.js";
import { type StartConfig, type Started, startApp, storeFor } from "./serve-app.js";
import type { FromWorker, ToWorker } from "./serve-ipc.js";
import { onSignals } from "./serve-signals.js";

/** Sends to the primary, which may be gone: a failed send is no crash. */
function tell(message: FromWorker): void {
  if (process.connected) process.send!(message, undefined, undefined, () => {});
}

async function runWorker(): Promise<number> {
  let configure!: (c: StartConfig) => void;
  const configured = new Promise<StartConfig>((resolve) => (configure = resolve));
  // Listen for the word to stop before anything else: a worker still booting
  // when the primary drains must not miss it.
  const stop = new Promise<void>((resolve) => {
    process.on("message", (m: ToWorker) => {
      if (m?.usrv === "config") configure(m.config);
      else if (m?.usrv === "stop") resolve();
    });
    process.once("disconnect", () => resolve()); // the primary is gone
    void onSignals(() => process.exit(1)).then(() => resolve());
  });
  tell({ usrv: "hello" });
  const c = await Promise.race([configured, stop.then(() => undefined)]);
  if (c === undefined) return 0; // told to stop before it had anything to serve
  const store = storeFor(c, () => new ClusterReplayStore());
  let started: Started;
  try {
    started = await startApp(c, store);
  } catch (e) {
    const message = e instanceof UsageError ? e.message : `usrv serve: ${unexpected(e)}`;
    tell({ usrv: "fatal", message });
    return 1;
  }
  tell({ usrv: "ready", banner: started.banner });
  await stop;
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
