/**
 * S1: `run()` on node:http. Resolves once listening; the handle closes it,
 * letting in-flight requests finish and closing idle keep-alive sockets.
 */
import { createServer, type Server } from "node:http";
import type { Http2SecureServer, Http2Server } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { ERRORS, type ErrorCode, HttpError, reason } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import { type Check, checkOptions, count, delay, type Spec, secret, typeOf } from "../common/options.js";

/** Options of `run()`. */
export interface RunOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 5000; 0 picks a free port. */
  port?: number;
  /** S5: 1-100 or a name; sets the app's built-in logger level. */
  logLevel?: number | string;
  /** Largest request head in bytes (request line and headers), default 16 KiB: larger gets 431. */
  maxHeaderSize?: number;
  /** Time allowed to receive the request head, default 10 s. */
  headersTimeout?: number;
  /** Time allowed for a whole request, default 60 s. */
  requestTimeout?: number;
  /** Idle keep-alive time, default 5 s. */
  keepAliveTimeout?: number;
  /**
   * New connections the kernel holds until the server accepts them, default
   * 511 (node's; the kernel caps it at `net.core.somaxconn`). A burst of more
   * than that waits for SYN retries, seconds on a busy server: raise it for
   * many clients connecting at once.
   */
  backlog?: number;
  /** S4: serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * S6: serve HTTP/2 (node:http2): with `tls`, h2 and HTTP/1.1 on one port
   * (ALPN); without, h2c (HTTP/2 over TCP with prior knowledge, no HTTP/1.1).
   */
  http2?: boolean;
  /** Longest wait for in-flight requests on `close()` before their connections are cut, default 10 s. */
  drainTimeout?: number;
}

/** The server `run(options)` makes: node:http's (or https'), node:http2's with `http2: true`. */
export type ServerOf<O extends RunOptions> = "http2" extends keyof O
  ? O["http2"] extends true
    ? Http2Server | Http2SecureServer
    : O["http2"] extends false | undefined
      ? Server
      : Server | Http2Server | Http2SecureServer
  : Server;

/** A running server: `server` is node:http's, or node:http2's with `http2: true`. */
export interface ServerHandle<S extends Server | Http2Server | Http2SecureServer = Server> {
  /** e.g. "http://127.0.0.1:5000" */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly server: S;
  /**
   * Stops accepting, closes idle keep-alive connections, lets in-flight
   * requests finish (each connection closes after its answer), and after
   * `drainTimeout` cuts what is left.
   */
  close(): Promise<void>;
}

/** The JSON answer for a request Node's parser refuses before any listener runs. */
function clientErrorReply(err: NodeJS.ErrnoException): string {
  const code: ErrorCode =
    err.code === "HPE_HEADER_OVERFLOW"
      ? "USRV_ERR_HEADERS_TOO_LARGE"
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? "USRV_ERR_REQUEST_TIMEOUT"
        : "USRV_ERR_BAD_REQUEST";
  const error = new HttpError(code, ERRORS[code][1]);
  const body = JSON.stringify(error);
  return (
    `HTTP/1.1 ${error.status} ${reason(error.status)}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

const port: Check = (v) =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535 ? undefined : "a port, 0-65535";
const pem: Check = (v) =>
  v !== null &&
  typeof v === "object" &&
  ["cert", "key"].every((k) => typeof (v as any)[k] === "string" || Buffer.isBuffer((v as any)[k]))
    ? undefined
    : "{ cert, key }, each PEM text or a Buffer";

const RUN_OPTIONS: Spec = {
  host: typeOf("string"),
  port,
  logLevel: () => undefined, // checked by the app, which owns the logger
  maxHeaderSize: count("bytes", 1),
  headersTimeout: count("milliseconds"),
  requestTimeout: count("milliseconds"),
  keepAliveTimeout: count("milliseconds"),
  backlog: count("connections", 1),
  tls: secret(pem),
  http2: typeOf("boolean"),
  drainTimeout: delay(),
};

/** Starts a node:http server for a listener (node:https when `tls` is set). */
export async function serve(
  listener: Parameters<typeof createServer>[1] & {},
  logger: Logger,
  options: RunOptions = {},
): Promise<ServerHandle<Server | Http2Server | Http2SecureServer>> {
  checkOptions("run", options, RUN_OPTIONS, (m) => new TypeError(`[usrv] ${m}`));
  const host = options.host ?? "127.0.0.1";
  const headersTimeout = options.headersTimeout ?? 10_000;
  const requestTimeout = options.requestTimeout ?? 60_000;
  const settings = {
    maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeout ?? 5_000,
    // node:http enforces headersTimeout and requestTimeout only on this timer,
    // every 30 s by default: a 1 s headersTimeout let a slowloris hold its
    // socket ~30 s (test/hardening-slow.test.ts). Check four times per
    // shortest timeout, at most once a second (one walk of the active list).
    requireHostHeader: false, // checked by `guarded` below
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1000, Math.min(headersTimeout || 1000, requestTimeout || 1000) / 4),
    ),
  };
  // RFC 9112 section 3.2: an HTTP/1.1 request without Host is a 400. node:http's
  // own check (requireHostHeader) answers it with an empty body; this one
  // answers JSON like every other refusal (test/hardening-catalogue.test.ts).
  const guarded: typeof listener = (req, res) => {
    if (req.headers.host === undefined && req.httpVersionMinor === 1 && req.httpVersionMajor === 1) {
      res.writeHead(400, { "content-type": "application/json; charset=utf-8", connection: "close" });
      res.end(JSON.stringify(new HttpError("USRV_ERR_BAD_REQUEST", ERRORS.USRV_ERR_BAD_REQUEST[1])));
      return;
    }
    listener(req, res);
  };
  // node:https costs ~5 ms to import, node:http2 more: only a server with
  // TLS, or HTTP/2, loads them
  let closeIdle: () => void;
  let closeAll: () => void;
  let server: Server | Http2Server | Http2SecureServer;
  if (options.http2) {
    const h2 = (await import("./serve-h2.js")).createH2Server(guarded, settings, options.tls);
    ({ server, closeIdle, closeAll } = h2);
  } else {
    const h1: Server = options.tls
      ? (await import("node:https")).createServer(
          { ...settings, cert: options.tls.cert, key: options.tls.key },
          guarded,
        )
      : createServer(settings, guarded);
    // node:http silently drops the headers past the 1,000th: the handler would
    // see another request than the one sent (test/hardening-catalogue.test.ts).
    // Keep them all; maxHeaderSize bounds them, and answers 431 beyond.
    h1.maxHeadersCount = 0;
    closeIdle = () => h1.closeIdleConnections();
    closeAll = () => h1.closeAllConnections();
    server = h1;
  }
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    // As node:http's own handler: once an answer has started on this socket
    // (a pipelined request's streamed Response), a raw error would land inside
    // its body; cut the connection instead (test/hardening-catalogue.test.ts).
    const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === "ECONNRESET" || !socket.writable || answering?.headersSent) return socket.destroy();
    socket.end(clientErrorReply(err));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port ?? 5000, host, backlog: options.backlog }, () => {
      server.off("error", reject);
      const port = (server.address() as AddressInfo).port;
      const scheme = options.tls ? "https" : "http";
      const url = `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
      logger.info({ url }, `listening on ${url}`);
      resolve({
        url,
        host,
        port,
        server,
        close: () =>
          new Promise<void>((done, fail) => {
            const drainTimeout = options.drainTimeout ?? 10_000;
            const cut = setTimeout(() => {
              logger.warn(
                { drainTimeout },
                `drain timeout (${drainTimeout} ms): closing the connections still answering`,
              );
              closeAll();
            }, drainTimeout);
            cut.unref();
            server.close((e) => {
              clearTimeout(cut);
              if (e && (e as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING") fail(e);
              else done();
            });
            closeIdle();
          }),
      });
    });
  });
}
