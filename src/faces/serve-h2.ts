/**
 * S6: `run({ http2: true })`: node:http2 with the same listener, over TLS
 * with ALPN (h2, and http/1.1 for clients without HTTP/2 on the same port)
 * or, without `tls`, as h2c (HTTP/2 over TCP with prior knowledge). Loaded
 * only by a server that asks for it.
 */
import type { RequestListener } from "node:http";
import {
  constants,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from "node:http2";
import type { Socket } from "node:net";
import { ERRORS, type ErrorCode, HttpError } from "../common/errors.js";
import { resetAfterAnswer } from "./node.js";

/** The limits of `run()`, as serve.ts resolved them. */
export interface H2Limits {
  maxHeaderSize: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
}

/** An HTTP/2 server and how to close its connections (http2 servers have no closeIdleConnections of their own). */
export interface H2Server {
  server: Http2Server | Http2SecureServer;
  /** GOAWAY to every session: in-flight streams finish, then the connection closes; idle HTTP/1.1 connections close. */
  closeIdle(): void;
  /** Cuts every connection. */
  closeAll(): void;
}

/**
 * RFC 9113 section 5.1.2 leaves the stream limit to the server and node:http2
 * sets none (2^32-1): each open stream holds a request's state, so a client
 * gets 128 at a time (the RFC asks for no fewer than 100).
 */
const MAX_CONCURRENT_STREAMS = 128;

/** Makes the HTTP/2 server (node:http2's compatibility API) for `listener`. */
export function createH2Server(
  listener: RequestListener,
  limits: H2Limits,
  tls: { cert: string | Buffer; key: string | Buffer } | undefined,
): H2Server {
  const { requestTimeout, keepAliveTimeout } = limits;
  const settings = { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize: limits.maxHeaderSize };
  const timed: RequestListener = (req, res) => {
    if (req.httpVersionMajor === 2) {
      const h2req = req as unknown as Http2ServerRequest;
      // node:http2 advertises maxHeaderListSize but does not hold a client to
      // it: the head is measured here, as node:http does (431).
      if (headSize(req.rawHeaders) > limits.maxHeaderSize) {
        refuse(h2req, res as unknown as Http2ServerResponse, "USRV_ERR_HEADERS_TOO_LARGE");
        return;
      }
      // HTTP/2 has no request timer of node:http's: a body that trickles in
      // would hold its stream (and a share of the session's memory) for ever.
      // Only requests with a body pay for the timer; a headers-only request is
      // complete on arrival.
      if (requestTimeout > 0 && !h2req.stream.endAfterHeaders) {
        bodyDeadline(h2req, res as unknown as Http2ServerResponse, requestTimeout);
      }
    }
    listener(req, res);
  };
  const server = tls
    ? createSecureServer(
        {
          allowHTTP1: true,
          cert: tls.cert,
          key: tls.key,
          settings,
          handshakeTimeout: limits.headersTimeout || 120_000,
        },
        timed as never,
      )
    : createServer({ settings }, timed as never);
  if (tls) {
    // HTTP/1.1 clients on the TLS port are served by node:http's own code,
    // which reads these from the server object (node:http2 sets only the two
    // timeouts, to its own defaults): the same limits as `run()` without http2.
    Object.assign(server, {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeout,
      requestTimeout: limits.requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      connectionsCheckingInterval: limits.connectionsCheckingInterval,
      maxHeadersCount: 0,
    });
  }
  const sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    // keepAliveTimeout without a frame either way: GOAWAY. Streams still
    // answering finish first (a slow handler is not cut); the client opens a
    // new connection for its next request.
    if (keepAliveTimeout > 0) session.setTimeout(keepAliveTimeout, () => session.close());
  });
  return {
    server,
    closeIdle() {
      // node:http2's TLS server with allowHTTP1 has node:http's method (not typed)
      (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      for (const session of sessions) session.close();
    },
    closeAll() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * A request body not complete after `ms`: 408 `USRV_ERR_REQUEST_TIMEOUT` if
 * the answer has not started, and the stream is reset either way (the other
 * streams of the connection go on).
 */
function bodyDeadline(req: Http2ServerRequest, res: Http2ServerResponse, ms: number): void {
  const timer = setTimeout(() => {
    if (req.complete) return;
    if (res.headersSent) req.stream.close(constants.NGHTTP2_CANCEL);
    else refuse(req, res, "USRV_ERR_REQUEST_TIMEOUT");
  }, ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once("end", clear);
  res.once("close", clear);
}

/** Bytes of a head as RFC 9113 section 6.5.2 counts them: each field's name and value, plus 32. */
function headSize(raw: string[]): number {
  let size = 0;
  for (let i = 0; i < raw.length; i++) size += raw[i]!.length + (i % 2 === 0 ? 32 : 0);
  return size;
}

/** A JSON refusal, then RST_STREAM(NO_ERROR) once it is sent: the client stops sending its body. */
function refuse(req: Http2ServerRequest, res: Http2ServerResponse, code: ErrorCode): void {
  const error = new HttpError(code, ERRORS[code][1]);
  const body = JSON.stringify(error);
  resetAfterAnswer(req);
  res.writeHead(error.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(body);
}
