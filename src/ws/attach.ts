/**
 * `run()`'s server with WebSocket routes: an `upgrade` listener that loads
 * their face (upgrade.ts, then `ws`) on the first upgrade, so that a server
 * without them pays only this listener, and a `close()` that also closes
 * the open connections (1001) so that the server's own close can finish.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { ServerHandle } from "../faces/serve.js";
import type { UpgradeApp, UpgradeListener } from "./upgrade.js";

/** `handle` with WebSocket upgrades served for `app`. */
export function withUpgrades(app: UpgradeApp, handle: ServerHandle, drainTimeout?: number): ServerHandle {
  let upgrade: UpgradeListener | undefined;
  let loading: Promise<void> | undefined;
  handle.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (upgrade !== undefined) return upgrade(req, socket, head);
    loading ??= import("./upgrade.js").then((m) => {
      upgrade = m.nodeUpgrade(app);
    });
    loading.then(
      () => upgrade!(req, socket, head),
      () => socket.destroy(),
    );
  });
  return {
    ...handle,
    close: () => Promise.all([upgrade?.close(drainTimeout), handle.close()]).then(() => {}),
  };
}
