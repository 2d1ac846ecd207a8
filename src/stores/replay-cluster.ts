/**
 * The replay memory of a multi-process server (node:cluster): the primary
 * holds one in-memory store and the workers ask it over IPC, so a nonce used
 * on one worker is refused on all of them with no external service. An
 * unanswered check fails closed (503).
 */
import type { Worker } from "node:cluster";
import { HttpError } from "../common/errors.js";
import type { MemoryReplayStore, ReplayStore } from "./replay.js";

interface Ask {
  usrv: "replay";
  id: number;
  key: string;
  expiresAt: number;
}
interface Answer {
  usrv: "replay";
  id: number;
  ok?: boolean;
  full?: boolean;
}

/**
 * Worker side: a store that asks the primary, which answers with
 * {@link serveReplay}; an unanswered check (1,000 ms by default) is a 503.
 *
 * @example
 * if (cluster.isPrimary) {
 *   const store = new MemoryReplayStore();
 *   cluster.on("fork", (worker) => serveReplay(worker, store));
 *   cluster.fork(); cluster.fork();
 * } else {
 *   createApp({ replayStore: new ClusterReplayStore() }).run({ port: 5000 });
 * }
 */
export class ClusterReplayStore implements ReplayStore {
  readonly #pending = new Map<number, (a: Answer) => void>();
  readonly #timeout: number;
  #next = 0;

  constructor(timeout = 1_000) {
    if (!process.send) throw new Error("[usrv] ClusterReplayStore runs in a cluster worker only");
    this.#timeout = timeout;
    process.on("message", (m: Answer) => {
      if (m?.usrv === "replay") this.#pending.get(m.id)?.(m);
    });
  }

  checkAndAdd(key: string, expiresAt: number): Promise<boolean> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const fail = () => {
        this.#pending.delete(id);
        reject(
          new HttpError("USRV_ERR_REPLAY_STORE", "the replay memory did not answer", {
            headers: { "retry-after": "1" },
          }),
        );
      };
      const timer = setTimeout(fail, this.#timeout);
      this.#pending.set(id, (a) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        if (a.full)
          return reject(
            new HttpError("USRV_ERR_REPLAY_STORE", "the replay memory is full; retry in a few seconds", {
              headers: { "retry-after": "5" },
            }),
          );
        resolve(a.ok === true);
      });
      const ask: Ask = { usrv: "replay", id, key, expiresAt };
      process.send!(ask, undefined, undefined, (e) => e && fail());
    });
  }
}

/**
 * Primary side: answers a worker's checks from one memory store.
 *
 * @example
 * cluster.on("fork", (w) => serveReplay(w, store));
 */
export function serveReplay(worker: Worker, store: MemoryReplayStore): void {
  worker.on("message", (m: Ask) => {
    if (m?.usrv !== "replay") return;
    store.checkAndAdd(m.key, m.expiresAt).then(
      (ok) => worker.isConnected() && worker.send({ usrv: "replay", id: m.id, ok } satisfies Answer),
      () => worker.isConnected() && worker.send({ usrv: "replay", id: m.id, full: true } satisfies Answer),
    );
  });
}
