/**
 * What `run()` loads before it listens: the optional peers the app's routes
 * need, so that a missing one fails the start, naming it, not the first
 * client (busboy for `uploads` routes; ws for WebSocket routes, through
 * their upgrade face), and the server's WebSocket upgrades.
 */
import type { Router } from "../core/router.js";
import { prepare, withUpgrades } from "../ws/attach.js";
import type { UpgradeApp } from "../ws/upgrade.js";
import type { Route } from "./route.js";

export { withUpgrades };

/** Loads the peers of `app`'s routes; the upgrade listener when it has WebSocket routes (none on h2c). */
export async function loadPeers(app: UpgradeApp & { readonly router: Router<Route> }, h2c: boolean) {
  if (app.router.entries().some(([, route]) => route.intake !== null && route.intake !== "stream")) {
    await (await import("../core/uploads.js")).loadBusboy();
  }
  return prepare(app, h2c);
}
