/**
 * WebSocket routes (`app.ws(path, handlers, options)`): what a route holds,
 * what its handlers get, and its options. Types only: `ws()` checks its
 * options at bind time in route.ts.
 */
import type { Scope } from "../app/hooks.js";
import type { Context, PathParams } from "../common/types.js";
import type { CookieKeys } from "../core/cookies.js";

/**
 * One WebSocket connection as its handlers see it: the `ws` package's
 * socket behind a small surface that does not tie your types to `ws`'s.
 */
export interface WsSocket<P extends string = string> {
  /** The path values by markup name, typed from the route string. */
  readonly params: PathParams<P>;
  /** The upgrade request's context: `state` (what onRequest put there), `requestId`, `headers`, `cookies`, `query`, `log`. */
  readonly ctx: Context;
  /** Bytes queued for this peer and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** 0 connecting, 1 open, 2 closing, 3 closed (the WebSocket API's numbers). */
  readonly readyState: number;
  /**
   * Sends one message (text as a text frame, bytes as a binary frame). The
   * promise resolves to `true` once the frame is written to the socket, or
   * `false` when the connection is closed or cut first; it never rejects, so
   * fire and forget is safe. Await it to send at the peer's pace.
   *
   * @example
   * for await (const row of rows) if (!(await ws.send(JSON.stringify(row)))) break;
   */
  send(data: string | Uint8Array): Promise<boolean>;
  /** Starts the closing handshake (default code 1000). */
  close(code?: number, reason?: string): void;
  /** Cuts the connection at once, without a closing handshake. */
  terminate(): void;
}

/** What a WebSocket route does; every handler may be async. */
export interface WsHandlers<P extends string = string> {
  /** The connection is open (after the upgrade); `ctx` is `ws.ctx`. */
  open?(ws: WsSocket<P>, ctx: Context): unknown;
  /**
   * One message: text as a string (checked UTF-8; 1007 otherwise), binary as
   * bytes. While an async `message` runs, the connection reads no further,
   * so messages are handled one at a time, in order.
   */
  message?(ws: WsSocket<P>, data: string | Uint8Array, isBinary: boolean): unknown;
  /** The connection closed: the peer's code and reason (1006 when it was cut). */
  close?(ws: WsSocket<P>, code: number, reason: string): unknown;
  /**
   * A handler threw or rejected (the connection is then closed with 1011),
   * or the socket failed (a frame over `maxPayload`: closed with 1009). For
   * your log or metrics; usrv logs it too, and never sends it.
   */
  error?(ws: WsSocket<P>, error: unknown): unknown;
}

/** Options of `app.ws(path, handlers, options)`. */
export interface WsOptions {
  /** Largest message in bytes, default 1 MiB: a larger one closes the connection with 1009. */
  maxPayload?: number;
  /**
   * Keep-alive: a ping every `pingInterval` ms (default 30,000; 0 turns it
   * off); a peer that has not answered the previous ping by then is cut.
   */
  pingInterval?: number;
  /**
   * Most bytes queued for a peer that does not read (default 8 MiB): a send
   * past it cuts the connection (its `close` gets 1006), so a slow or stalled
   * reader never grows server memory without bound.
   */
  maxBuffered?: number;
  /**
   * Most open connections on this route (default 10,000): past it an upgrade
   * is refused with a 503 `USRV_ERR_WS_FULL`, so a flood of idle connections
   * that answer pings cannot hold the server's memory without bound.
   */
  maxConnections?: number;
  /** Longest time in ms the async `onRequest` hooks may take before the upgrade is refused with a 503 (default: the group's, then the app's timeout). */
  timeout?: number;
}

/** @internal A bound WebSocket route, as the app's WebSocket router keeps it. */
export interface WsRoute {
  pattern: string;
  /** "WS /chat/<int:room>", for messages and logs. */
  label: string;
  handlers: WsHandlers;
  maxPayload: number;
  pingInterval: number;
  maxBuffered: number;
  maxConnections: number;
  timeout: number;
  cookieKeys: CookieKeys;
  /** The group's hooks: onRequest runs before the upgrade. */
  scope: Scope;
}
