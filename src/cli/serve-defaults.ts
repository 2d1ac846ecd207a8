/**
 * S3/C2: the two routes a usrv client needs from any server: `HEAD /`, which
 * `connect` calls, and `GET /puk`, the server key to encrypt for. `usrv
 * serve` adds each one the served app does not answer itself (a GET `/`
 * answers HEAD too; `/<name>` answers `/puk`), unless --no-default-routes.
 */
import type { App } from "../app/app.js";

/**
 * Binds the default routes the app lacks; returns them as "METHOD /path".
 *
 * @example
 * bindDefaultRoutes(app); // ["HEAD /", "GET /puk"] for an app that binds neither
 */
export function bindDefaultRoutes(app: App): string[] {
  const added: string[] = [];
  if (!("value" in app.router.find("HEAD", "/"))) {
    app.bind("/", { methods: ["HEAD"] }, () => [200]);
    added.push("HEAD /");
  }
  if (!("value" in app.router.find("GET", "/puk"))) {
    app.bind("/puk", () => [200, app.publicKey]);
    added.push("GET /puk");
  }
  return added;
}
