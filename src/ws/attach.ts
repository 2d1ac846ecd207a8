/**
 * `run()`'s server with WebSocket routes: an `upgrade` listener that loads
 * their face (upgrade.ts, then `ws`) on the first upgrade, so that a server
 * without them pays only this listener, and a `close()` that also closes
 * the open connections (1001) so that the server's own close can finish.
 * An app that has WebSocket routes when it starts loads them at once
 * (`prepare`): a missing `ws` fails `run()`, not the first client.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Http2SecureServer, Http2Server } from "node:http2";
import type { Duplex } from "node:stream";
import type { ServerHandle } from "../faces/serve.js";
import type { UpgradeApp, UpgradeListener } from "./upgrade.js";

/**
 * The upgrade listener, loaded now when `app` has WebSocket routes (rejects
 * with a `MissingPeerError` without `ws`). On an h2c server (`h2c`), which
 * no WebSocket client can reach, it warns instead, naming the routes.
 */
export async function prepare(app: UpgradeApp, h2c = false): Promise<UpgradeListener | undefined> {
  const routes = app.wsRouter.routes();
  if (routes.length === 0) return undefined;
  if (h2c) {
    const names = routes.map(([, p]) => p).join(", ");
    app.logger.warn(
      { routes: names },
      `WebSocket routes (${names}) cannot be reached on an h2c server (http2 without tls): a WebSocket opens with an HTTP/1.1 upgrade; serve them with tls (HTTP/1.1 by ALPN) or without http2`,
    );
    return undefined;
  }
  const upgrade = (await import("./upgrade.js")).nodeUpgrade(app);
  await upgrade.ready();
  return upgrade;
}

/** `handle` with WebSocket upgrades served for `app` (through `upgrade` when prepared). */
export function withUpgrades<H extends ServerHandle<Server | Http2Server | Http2SecureServer>>(
  app: UpgradeApp,
  handle: H,
  drainTimeout?: number,
  prepared?: UpgradeListener,
): H {
  let upgrade = prepared;
  let loading: Promise<void> | undefined;
  // node:http's upgrade event; node:http2's TLS server emits it for its HTTP/1.1 clients (ALPN), h2c never
  (handle.server as Server).on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
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
  } as H;
}
