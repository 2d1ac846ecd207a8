/**
 * A WebSocket route compiled at bind time (`app.ws`): its handlers and
 * options checked, its defaults filled in. Nothing of `ws` is loaded here:
 * the package is imported on the first upgrade (socket.ts).
 */
import type { Scope } from "../app/hooks.js";
import { BindError } from "../common/errors.js";
import { checkOptions, count, delay, type Spec } from "../common/options.js";
import type { CookieKeys } from "../core/cookies.js";
import type { WsHandlers, WsOptions, WsRoute } from "./types.js";

const WS_OPTIONS: Spec = {
  maxPayload: count("bytes", 1),
  pingInterval: delay(),
  maxBuffered: count("bytes", 1),
  maxConnections: count("connections", 1),
  timeout: delay(1),
};

const HANDLERS = ["open", "message", "close", "error"];

/** What the enclosing group gives a WebSocket route. */
export interface WsSettings {
  timeout: number;
  cookieKeys: CookieKeys;
  scope: Scope;
  /** The group demands encrypted, signed requests (`encrypted` or `allow`). */
  sealed: boolean;
}

/** A WebSocket route for `full` (the group's prefix included); throws a `BindError` that says how to fix a mistake. */
export function wsRoute(full: string, handlers: WsHandlers, options: WsOptions, s: WsSettings): WsRoute {
  const where = `ws("${full}")`;
  if (handlers === null || typeof handlers !== "object" || Array.isArray(handlers)) {
    throw new BindError(
      `${where} needs its handlers as an object, e.g. { message: (ws, data) => ws.send(data) }`,
    );
  }
  for (const [key, fn] of Object.entries(handlers)) {
    if (!HANDLERS.includes(key) || typeof fn !== "function") {
      throw new BindError(`${where}: "${key}" is not a handler function (handlers: ${HANDLERS.join(", ")})`);
    }
  }
  checkOptions(where, options, WS_OPTIONS, (m) => new BindError(m));
  // A WebSocket carries no sealed body: binding one where requests must be
  // encrypted and signed would open a door around the group's policy.
  if (s.sealed) {
    throw new BindError(
      `${where}: its group demands encrypted, signed requests (encrypted, allow), which a WebSocket upgrade cannot carry; bind it outside that group and authenticate in an onRequest hook`,
    );
  }
  return {
    pattern: full,
    label: `WS ${full}`,
    handlers,
    maxPayload: options.maxPayload ?? 1024 * 1024,
    pingInterval: options.pingInterval ?? 30_000,
    maxBuffered: options.maxBuffered ?? 8 * 1024 * 1024,
    maxConnections: options.maxConnections ?? 10_000,
    timeout: options.timeout ?? s.timeout,
    cookieKeys: s.cookieKeys,
    scope: s.scope,
  };
}
