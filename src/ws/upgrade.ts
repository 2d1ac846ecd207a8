/**
 * The Node face of WebSocket routes: node:http's `upgrade` event, routed by
 * the app's WebSocket router, through the route's `onRequest` hooks, then
 * handed to the `ws` package (socket.ts, loaded on the first upgrade that
 * gets that far). A refusal (no route, a hook's answer, a hook that throws
 * or outlives the route's timeout) is written as a plain HTTP answer on the
 * socket, which is then closed: it is never upgraded. The route's onResponse
 * hooks see the refusal, or the 101, which they may keep or replace.
 *
 * `app.run()` and `usrv serve` wire it themselves; a server of your own
 * takes it from `usrv/ws`.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { hookResult, runHooks } from "../app/hooks.js";
import type { Route } from "../app/route.js";
import { HttpError } from "../common/errors.js";
import type { RequestHeaders } from "../common/types.js";
import { RequestContext } from "../core/context.js";
import { type Reply, renderError, renderThrown } from "../core/render.js";
import { requestId } from "../core/request-id.js";
import type { Match, Router } from "../core/router.js";
import type { Incoming } from "../faces/incoming.js";
import { type Core, hookDeadline, logReply, responseHooks, stamped } from "../pipeline.js";
import { writeReply } from "./answer.js";
import type { Sockets } from "./socket.js";
import type { WsRoute } from "./types.js";

export type { WsHandlers, WsOptions, WsSocket } from "./types.js";

/** What the upgrade face needs of an app. */
export interface UpgradeApp extends Core {
  readonly wsRouter: Router<WsRoute>;
  readonly accessLog: boolean;
}

/** node:http's `upgrade` listener for an app's WebSocket routes, with what a server's shutdown needs. */
export interface UpgradeListener {
  (req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open WebSocket connections. */
  readonly size: number;
  /** Loads `ws` now rather than on the first upgrade; rejects with a one-line `MissingPeerError` when it is not installed. */
  ready(): Promise<void>;
  /**
   * Closes every open connection with 1001 (going away) and resolves once
   * all are closed; those still open after `timeout` ms (default 10,000) are cut.
   */
  close(timeout?: number): Promise<void>;
}

/** The upgrade request as the pipeline's context sees it: no body, and a signal that fires when the connection ends. */
class UpgradeIncoming implements Incoming {
  readonly method: string;
  readonly url: string;
  readonly headers: RequestHeaders;
  readonly hasBody = false;
  readonly remoteAddress: string | null;
  readonly #socket: Duplex;
  #abort: AbortController | undefined;
  #id: string | undefined;

  constructor(req: IncomingMessage, url: string, socket: Duplex) {
    this.method = req.method ?? "GET";
    this.url = url;
    this.headers = req.headers;
    this.remoteAddress = req.socket.remoteAddress ?? null;
    this.#socket = socket;
  }

  get requestId(): string {
    return (this.#id ??= requestId(this.headers));
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      const abort = new AbortController();
      this.#abort = abort;
      if (this.#socket.destroyed) abort.abort();
      else this.#socket.once("close", () => abort.abort());
    }
    return this.#abort.signal;
  }

  readBody(): Promise<Uint8Array | null> {
    return Promise.resolve(null);
  }

  bodyStream(): ReadableStream<Uint8Array> | null {
    return null;
  }

  pipeBody(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Makes the `upgrade` listener of an app's WebSocket routes, for a server of
 * your own that serves `app.listener` (`app.run()` and `usrv serve` already
 * wire one).
 *
 * @example
 * import { createServer } from "node:http";
 * import { nodeUpgrade } from "usrv/ws";
 * const server = createServer(app.listener);
 * const upgrade = nodeUpgrade(app);
 * server.on("upgrade", upgrade);
 * // on shutdown: await upgrade.close(); server.close();
 */
export function nodeUpgrade(app: UpgradeApp): UpgradeListener {
  let sockets: Promise<Sockets> | undefined;
  let loaded: Sockets | undefined;
  const load = () =>
    (sockets ??= import("./socket.js").then(async ({ Sockets }) => {
      loaded = await Sockets.load(app.logger);
      return loaded;
    })).catch((e) => {
      sockets = undefined; // the next upgrade tries again (ws installed meanwhile)
      throw e;
    });
  const listener = ((req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy()); // a peer that resets mid-handshake: ws adds its own once it has the socket
    const start = app.accessLog ? performance.now() : 0;
    const url = req.url ?? "/";
    const inc = new UpgradeIncoming(req, url, socket);
    const send = (answer: Reply) => {
      const reply = stamped(inc, answer); // usrv's error body names the request id, as over HTTP
      logReply(app, inc, reply, start);
      void writeReply(socket, reply);
    };
    if (url.length > app.maxUrlLength) {
      return send(
        renderError(
          new HttpError("USRV_ERR_URI_TOO_LONG", `the request target is over ${app.maxUrlLength} bytes`),
          "GET",
        ),
      );
    }
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    let hit: ReturnType<Router<WsRoute>["find"]>;
    try {
      hit = app.wsRouter.find(inc.method, path);
    } catch (e) {
      return send(renderThrown(e, inc.method, `${inc.method} ${path}`)); // a path that does not decode: 400
    }
    if ("status" in hit) {
      const message = `no WebSocket route at ${path.slice(0, 200)}`;
      return send(renderError(new HttpError("USRV_ERR_NOT_FOUND", message), inc.method));
    }
    const route = hit.value;
    // the context reads only the route's pattern: a WebSocket route is no handler's Route
    const ctx = new RequestContext(
      inc,
      path,
      q < 0 ? "" : url.slice(q + 1),
      route as unknown as Route,
      route.cookieKeys,
      app.logger,
    ).bound(hit as unknown as Match<Route>, null, null);
    const hooks = route.scope.chains;
    const bounded = <T>(work: Promise<T>, hook: string) =>
      hookDeadline(work, hook, ctx, route.label, route.timeout);
    const thrown = (e: unknown) => ctx.complete(renderThrown(e, inc.method, route.label));
    /** The route's onResponse hooks on what leaves: a refusal, or the 101 (`upgrade`), which they may keep or replace. */
    const leave = (reply: Reply, upgrade: boolean, go: (reply: Reply) => void) => {
      const out = responseHooks(ctx, hooks.onResponse, reply, route.label, route.timeout, upgrade);
      if (out instanceof Promise) void out.then(go);
      else go(out);
    };
    const refuse = (reply: Reply) => leave(reply, false, send);
    const accept = () => {
      if (socket.destroyed) return;
      (loaded ? Promise.resolve(loaded) : load()).then(
        (s) => {
          if (socket.destroyed) return;
          // headers and cookies the hooks added through ctx go on the 101
          leave(ctx.complete({ status: 101, headers: {}, body: null }), true, (added) => {
            if (added.status !== 101) return send(added);
            if (socket.destroyed) return;
            const opened = () => {
              if (start > 0) logReply(app, inc, { status: 101, headers: {}, body: null }, start);
            };
            const lines = Object.entries(added.headers).map(([k, v]) => `${k}: ${v}`);
            for (const c of added.cookies ?? []) lines.push(`set-cookie: ${c}`);
            try {
              s.accept(route, req, socket, head, ctx, hit.names, hit.values, opened, lines);
            } catch (e) {
              send(thrown(e));
            }
          });
        },
        (e) => refuse(thrown(e)),
      );
    };
    if (hooks.onRequest.length === 0) return accept();
    const answered = (answer: unknown) => {
      if (answer === undefined) return accept();
      let reply: Reply;
      try {
        reply = ctx.complete(hookResult(answer, "onRequest", inc.method, route.label));
      } catch (e) {
        reply = thrown(e);
      }
      refuse(reply);
    };
    let answer: unknown;
    try {
      answer = runHooks(hooks.onRequest, ctx, undefined, ctx);
    } catch (e) {
      return refuse(thrown(e));
    }
    if (!(answer instanceof Promise)) return answered(answer);
    bounded(answer, "onRequest").then(answered, (e) => refuse(thrown(e)));
  }) as UpgradeListener;
  Object.defineProperty(listener, "size", { get: () => loaded?.size ?? 0 });
  listener.ready = () => load().then(() => {});
  listener.close = (timeout = 10_000) => loaded?.close(timeout) ?? Promise.resolve();
  return listener;
}
