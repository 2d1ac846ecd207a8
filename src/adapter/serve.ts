/**
 * S1: `run()` on node:http. Resolves once listening; the handle closes it,
 * letting in-flight requests finish and closing idle keep-alive sockets.
 */
import { createServer, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { ERRORS, type ErrorCode, reason } from "../errors.js";
import type { Logger } from "../log.js";

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
  /** S4: serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Longest wait for in-flight requests on `close()` before their connections are cut, default 10 s. */
  drainTimeout?: number;
}

/** A running server. */
export interface ServerHandle {
  /** e.g. "http://127.0.0.1:5000" */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly server: Server;
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
    err.code === "HPE_HEADER_OVERFLOW" ? "USRV_ERR_HEADERS_TOO_LARGE" : "USRV_ERR_BAD_REQUEST";
  const status = ERRORS[code][0];
  const body = JSON.stringify({ status, error: reason(status), code, message: ERRORS[code][1] });
  return (
    `HTTP/1.1 ${status} ${reason(status)}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Starts a node:http server for a listener. */
export function serve(
  listener: Parameters<typeof createServer>[1] & {},
  logger: Logger,
  options: RunOptions = {},
): Promise<ServerHandle> {
  const host = options.host ?? "127.0.0.1";
  const settings = {
    maxHeaderSize: options.maxHeaderSize ?? 16 * 1024,
    headersTimeout: options.headersTimeout ?? 10_000,
    requestTimeout: options.requestTimeout ?? 60_000,
    keepAliveTimeout: options.keepAliveTimeout ?? 5_000,
  };
  const server: Server = options.tls
    ? createTlsServer({ ...settings, cert: options.tls.cert, key: options.tls.key }, listener)
    : createServer(settings, listener);
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) return socket.destroy();
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      const body =
        '{"status":408,"error":"Request Timeout","code":"USRV_ERR_BAD_REQUEST","message":"the request took too long"}';
      socket.end(
        `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    socket.end(clientErrorReply(err));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 5000, host, () => {
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
            const cut = setTimeout(() => server.closeAllConnections(), options.drainTimeout ?? 10_000);
            cut.unref();
            server.close((e) => {
              clearTimeout(cut);
              if (e && (e as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING") fail(e);
              else done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}
