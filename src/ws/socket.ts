/**
 * WebSocket connections on the `ws` package (RFC 6455 framing, masking,
 * UTF-8 checks and close handshakes are its own): one `WebSocketServer`
 * per route (each has its own `maxPayload`), keep-alive pings, the
 * handlers called one message at a time, close codes, and a bound on what
 * is queued for a peer that does not read.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { HttpError } from "../common/errors.js";
import { type Logger, logError } from "../common/log.js";
import { importNamed, importPeer } from "../common/peer.js";
import type { Context } from "../common/types.js";
import { renderError } from "../core/render.js";
import { writeReply } from "./answer.js";
import type { WsRoute, WsSocket } from "./types.js";

type WsModule = typeof import("ws");

/** RFC 6455 section 7.4.1: "going away" (a server shutting down), "internal error". */
const GOING_AWAY = 1001;
const INTERNAL_ERROR = 1011;
/** The code ws closed with on a peer's fault (its own close event then says 1006: it reads no echo). */
const FAULTS: Record<string, number> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
  WS_ERR_INVALID_UTF8: 1007,
};

/** Every route's server and every open connection of one upgrade listener. */
export class Sockets {
  readonly #ws: WsModule;
  readonly #logger: Logger;
  readonly #servers = new Map<WsRoute, Server>();
  /** Open connections, whatever their route. */
  readonly peers = new Set<Peer>();

  private constructor(ws: WsModule, logger: Logger) {
    this.#ws = ws;
    this.#logger = logger;
  }

  /** Loads `ws` (an optional peer): one line naming what to install when it is missing. */
  static async load(logger: Logger): Promise<Sockets> {
    const ws = await importPeer("ws", "app.ws (WebSocket routes)", () => importNamed<WsModule>("ws"));
    return new Sockets(ws, logger);
  }

  get size(): number {
    return this.peers.size;
  }

  /** Completes the handshake (ws answers a malformed one with 400 itself) and opens the connection. */
  accept(
    route: WsRoute,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    ctx: Context,
    names: readonly string[],
    values: unknown[],
    opened: () => void,
    lines: string[],
  ): void {
    let server = this.#servers.get(route);
    if (server === undefined) this.#servers.set(route, (server = new Server(this.#ws, route, this.#logger)));
    if (server.size >= route.maxConnections) {
      throw new HttpError(
        "USRV_ERR_WS_FULL",
        `${route.label} holds its ${route.maxConnections} connections (maxConnections)`,
      );
    }
    const params: Record<string, unknown> = Object.create(null);
    names.forEach((n, i) => {
      params[n] = values[i];
    });
    if (lines.length > 0) server.extra.set(req, lines);
    server.wss.handleUpgrade(req, socket, head, (raw) => {
      const peer = new Peer(raw, ctx, params, route, this.#logger);
      this.peers.add(peer);
      server.add(peer);
      raw.once("close", () => {
        this.peers.delete(peer);
        server.delete(peer);
      });
      opened();
      peer.open();
    });
  }

  /** 1001 to every connection; those still open after `timeout` ms are cut. */
  close(timeout: number): Promise<void> {
    if (this.peers.size === 0) return Promise.resolve();
    return new Promise((done) => {
      const left = new Set(this.peers);
      const cut = setTimeout(() => {
        for (const p of left) p.terminate();
      }, timeout);
      cut.unref();
      for (const p of left) {
        p.raw.once("close", () => {
          left.delete(p);
          if (left.size === 0) {
            clearTimeout(cut);
            done();
          }
        });
        p.close(GOING_AWAY, "server shutting down");
      }
    });
  }
}

/** One route's `WebSocketServer` and its keep-alive timer, which runs while it has connections. */
class Server {
  readonly wss: WebSocketServer;
  readonly #route: WsRoute;
  readonly #peers = new Set<Peer>();
  /** Header lines the hooks added for an upgrade, written on its 101. */
  readonly extra = new WeakMap<IncomingMessage, string[]>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(ws: WsModule, route: WsRoute, logger: Logger) {
    this.#route = route;
    this.wss = new ws.WebSocketServer({
      noServer: true,
      maxPayload: route.maxPayload,
      clientTracking: false, // Sockets keeps them
      perMessageDeflate: false, // no inflate bombs; compress at the proxy if needed
    });
    this.wss.on("headers", (headers, req) => {
      const lines = this.extra.get(req);
      if (lines !== undefined) headers.push(...lines);
    });
    this.wss.on("wsClientError", (err, socket) => {
      // ws's own messages ("Missing or invalid Sec-WebSocket-Key header"): no stack, nothing of ours
      const error = new HttpError("USRV_ERR_BAD_REQUEST", `${route.label}: ${err.message}`);
      logger.info({ route: route.label, status: 400 }, error.message);
      void writeReply(socket, renderError(error, "GET"));
    });
  }

  get size(): number {
    return this.#peers.size;
  }

  add(peer: Peer): void {
    this.#peers.add(peer);
    const every = this.#route.pingInterval;
    if (every > 0 && this.#timer === undefined) {
      // one timer per route, not per connection: a tick pings every peer
      // that answered the last ping and cuts the others
      this.#timer = setInterval(() => {
        for (const p of this.#peers) p.beat();
      }, every);
      this.#timer.unref();
    }
  }

  delete(peer: Peer): void {
    this.#peers.delete(peer);
    if (this.#peers.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

type Call = () => unknown;

/** One connection, as its handlers see it (`WsSocket`). */
class Peer implements WsSocket {
  readonly raw: WebSocket;
  readonly ctx: Context;
  readonly params: Record<string, unknown>;
  readonly #route: WsRoute;
  readonly #logger: Logger;
  #alive = true;
  /** A handler's promise is pending: what comes meanwhile waits in `#queue`, and the socket is paused. */
  #busy = false;
  readonly #queue: Call[] = [];
  #failed = false;
  /** The code ws closed with after a peer's fault, told to `close` instead of 1006. */
  #fault: number | undefined;

  constructor(raw: WebSocket, ctx: Context, params: Record<string, unknown>, route: WsRoute, logger: Logger) {
    this.raw = raw;
    this.ctx = ctx;
    this.params = params;
    this.#route = route;
    this.#logger = logger;
    const h = route.handlers;
    raw.on("pong", () => {
      this.#alive = true;
    });
    const message = h.message;
    if (message !== undefined) {
      raw.on("message", (data: Buffer, isBinary: boolean) => {
        const value = isBinary ? data : data.toString("utf8");
        if (this.#busy) {
          this.#queue.push(() => message(this, value, isBinary));
          return;
        }
        if (this.#failed) return;
        // the common case inline, no closure: a message while none is pending
        let out: unknown;
        try {
          out = message(this, value, isBinary);
        } catch (e) {
          this.#fail(e);
          return;
        }
        if (out instanceof Promise) this.#wait(out);
      });
    }
    raw.on("error", (err: Error & { code?: string }) => {
      const where = { route: route.label, requestId: ctx.requestId, code: err.code };
      if (err.code?.startsWith("WS_ERR_")) {
        // the peer's fault, and ws has already closed with its code (1009 over maxPayload, 1002 bad
        // framing, 1007 bad UTF-8): a line, no stack, since any client can cause it
        this.#fault = FAULTS[err.code] ?? 1002;
        this.#logger.info(where, `${route.label}: ${err.message}`);
      } else this.#logger.warn({ err, ...where }, `${route.label}: ${err.message}`);
      this.#tell(err);
    });
    raw.once("close", (code: number, why: Buffer) => {
      this.#queue.length = 0;
      if (h.close === undefined) return;
      try {
        const fault = code === 1006 ? this.#fault : undefined;
        const out = h.close(this, fault ?? code, fault === undefined ? why.toString("utf8") : "");
        if (out instanceof Promise) out.catch((e) => this.#log(e, "the close handler"));
      } catch (e) {
        this.#log(e, "the close handler");
      }
    });
  }

  get bufferedAmount(): number {
    return this.raw.bufferedAmount;
  }

  get readyState(): number {
    return this.raw.readyState;
  }

  open(): void {
    const open = this.#route.handlers.open;
    if (open !== undefined) this.#run(() => open(this, this.ctx));
  }

  send(data: string | Uint8Array): Promise<boolean> {
    const raw = this.raw;
    if (raw.readyState !== 1) return Promise.resolve(false);
    const size = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    if (raw.bufferedAmount + size > this.#route.maxBuffered) {
      this.#logger.warn(
        { route: this.#route.label, requestId: this.ctx.requestId, buffered: raw.bufferedAmount },
        `${this.#route.label}: the peer reads too slowly (over maxBuffered, ${this.#route.maxBuffered} bytes): connection cut`,
      );
      raw.terminate();
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      raw.send(data, { binary: typeof data !== "string" }, (err) => resolve(err == null));
    });
  }

  close(code?: number, reason?: string): void {
    this.raw.close(code, reason);
  }

  terminate(): void {
    this.raw.terminate();
  }

  /** Keep-alive tick: cut a peer that did not answer the last ping, else ping it. */
  beat(): void {
    if (this.#busy) return; // not reading while a handler runs: its pong may wait unread, no verdict
    if (!this.#alive) {
      this.#logger.info(
        { route: this.#route.label, requestId: this.ctx.requestId },
        `${this.#route.label}: no pong since the last ping: connection cut`,
      );
      this.raw.terminate();
      return;
    }
    this.#alive = false;
    this.raw.ping();
  }

  /**
   * Calls a handler, or queues it behind the one still running: a message
   * handler that awaits pauses the socket, so that a fast sender fills
   * the kernel's buffers, not the server's memory.
   */
  #run(call: Call): void {
    if (this.#busy) {
      this.#queue.push(call);
      return;
    }
    for (let next: Call | undefined = call; next !== undefined && !this.#failed; next = this.#queue.shift()) {
      let out: unknown;
      try {
        out = next();
      } catch (e) {
        this.#fail(e);
        return;
      }
      if (out instanceof Promise) {
        this.#wait(out);
        return;
      }
    }
  }

  /** A handler's promise is pending: read no further until it settles, then what queued meanwhile. */
  #wait(out: Promise<unknown>): void {
    this.#busy = true;
    this.raw.pause();
    out.then(
      () => {
        this.#busy = false;
        const queued = this.#queue.shift();
        if (queued !== undefined) this.#run(queued);
        if (!this.#busy && !this.#failed) this.raw.resume();
      },
      (e) => {
        this.#busy = false;
        this.#fail(e);
      },
    );
  }

  /** A handler failed: logged with its stack, told to `error`, and the peer gets 1011 and nothing more. */
  #fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#queue.length = 0;
    this.#log(e, "a handler");
    this.#tell(e);
    this.raw.resume(); // to read the peer's answer to the close below
    if (this.raw.readyState === 0 || this.raw.readyState === 1)
      this.raw.close(INTERNAL_ERROR, "internal error");
  }

  #tell(e: unknown): void {
    const error = this.#route.handlers.error;
    if (error === undefined) return;
    try {
      const out = error(this, e);
      if (out instanceof Promise) out.catch((x) => this.#log(x, "error"));
    } catch (x) {
      this.#log(x, "the error handler");
    }
  }

  #log(err: unknown, which: string): void {
    logError(
      this.#logger,
      { err, route: this.#route.label, requestId: this.ctx.requestId },
      `${this.#route.label}: ${which} failed`,
    );
  }
}
