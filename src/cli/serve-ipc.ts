/** The messages between the `usrv serve` primary and its workers (besides the replay checks). */
import type { StartConfig } from "./serve-app.js";

/** Primary to worker: the configuration (answering "hello"), or the word to drain and exit. */
export type ToWorker = { usrv: "config"; config: StartConfig } | { usrv: "stop" };

/** Worker to primary: listening for messages, serving (with the banner), or failed to start. */
export type FromWorker =
  | { usrv: "hello" }
  | { usrv: "ready"; banner: string; warnings: string[] }
  | { usrv: "fatal"; message: string };
