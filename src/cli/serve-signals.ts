/**
 * SIGTERM and SIGINT in `usrv serve`, caught from the first moment: no
 * signal ever meets Node's default action, which kills the primary without
 * a word and leaves its workers writing to a closed channel.
 *
 * - While starting, the primary (or the single process) stops the start:
 *   the `onAbort` cleanups run (workers told to stop and awaited), one line
 *   says so, and the exit code is the one a shell reports for that signal
 *   (130 for SIGINT, 143 for SIGTERM): nothing was served. A starting worker
 *   ignores them: its primary, which gets them too, leads.
 * - Once serving, the first signal drains, a second forces the exit.
 */
import { constants } from "node:os";

/**
 * The exit code a shell reports for a process killed by `signal`.
 *
 * @example
 * signalExitCode("SIGTERM"); // 143
 */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** The signal handling of one `usrv serve` process. */
export class Signals {
  #phase: "starting" | "serving" | "stopping" = "starting";
  readonly #cleanups: (() => unknown)[] = [];
  #drain!: (signal: NodeJS.Signals) => void;
  readonly #drained = new Promise<NodeJS.Signals>((resolve) => (this.#drain = resolve));
  #force: () => void = () => {};

  /** `whileStarting`: "abort" in the primary or single process, "ignore" in a worker. */
  constructor(whileStarting: "abort" | "ignore") {
    const handler = (signal: NodeJS.Signals) => {
      if (this.#phase === "serving") {
        this.#phase = "stopping";
        this.#drain(signal);
      } else if (this.#phase === "stopping") this.#force();
      else if (whileStarting === "abort") void this.#abort(signal);
    };
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
  }

  /** True once a signal has stopped the start or begun the drain. */
  get stopping(): boolean {
    return this.#phase === "stopping";
  }

  /** Adds a cleanup to run (and await) if a signal stops the start. */
  onAbort(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup);
  }

  /** Serving from now on: resolves with the first signal; a second one calls `force`. */
  serving(force: () => void): Promise<NodeJS.Signals> {
    this.#force = force;
    if (this.#phase === "starting") this.#phase = "serving";
    return this.#drained;
  }

  async #abort(signal: NodeJS.Signals): Promise<void> {
    this.#phase = "stopping";
    const code = signalExitCode(signal);
    this.#force = () => process.exit(code);
    let line = `usrv serve: stopped during start-up (${signal})\n`;
    if (process.stdin.isTTY && process.stdin.isRaw) {
      process.stdin.setRawMode(false); // a hidden PIN prompt was waiting
      line = `\n${line}`;
    }
    process.stderr.write(line);
    for (const cleanup of this.#cleanups) {
      try {
        await cleanup();
      } catch {}
    }
    process.exit(code);
  }
}
