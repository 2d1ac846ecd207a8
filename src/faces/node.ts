/**
 * The Node face: a `(req, res)` listener for node:http, https, http2's
 * compatibility API, Express or Connect. It is the fast path: no WHATWG
 * Request or Response is built unless a handler returns a Response (R8).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { HttpError } from "../common/errors.js";
import { logError } from "../common/log.js";
import type { RequestHeaders } from "../common/types.js";
import { type Reply, renderThrown } from "../core/render.js";
import { requestId } from "../core/request-id.js";
import { type Core, handle, logReply } from "../pipeline.js";
import { clientLeft, type Incoming, tooLarge } from "./incoming.js";

/** The Node request as the pipeline sees it. */
class NodeIncoming implements Incoming {
  readonly method: string;
  readonly url: string;
  readonly headers: RequestHeaders;
  readonly hasBody: boolean;
  /** HTTP/2 (node:http2's compatibility API): no connection-specific headers, no Content-Length needed. */
  readonly h2: boolean;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #abort: AbortController | undefined;
  #id: string | undefined;

  constructor(req: IncomingMessage, res: ServerResponse) {
    this.#req = req;
    this.#res = res;
    this.method = req.method ?? "GET";
    this.url = originForm(req.url ?? "/");
    const h = req.headers;
    this.headers = h;
    // HTTP/2 frames its bodies: a request without Content-Length (the usual
    // case there) may still carry one, and its stream knows whether DATA
    // follows the headers. One property read on HTTP/1.1.
    this.h2 = req.httpVersionMajor === 2;
    if (this.h2) {
      this.hasBody = !(req as unknown as Http2ServerRequest).stream.endAfterHeaders;
    } else {
      const len = h["content-length"];
      this.hasBody = (len !== undefined && len !== "0") || h["transfer-encoding"] !== undefined;
    }
  }

  get requestId(): string {
    return (this.#id ??= requestId(this.headers));
  }

  get remoteAddress(): string | null {
    return this.#req.socket.remoteAddress ?? null;
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      const abort = new AbortController();
      this.#abort = abort;
      const res = this.#res;
      // 'close' before the answer is ended: the client left. (writableEnded,
      // not writableFinished: node:http2's compatibility answer says finished
      // once its stream is reset.)
      if (gone(res, this.h2)) abort.abort();
      else res.once("close", () => res.writableEnded || abort.abort());
    }
    return this.#abort.signal;
  }

  readBody(limit: number): Promise<Uint8Array | null> {
    return readBody(this.#req, this.#res, limit, this.h2);
  }

  bodyStream(limit: number): ReadableStream<Uint8Array> | null {
    return this.hasBody ? bodyStream(this.#req, this.#res, limit, this.h2) : null;
  }

  pipeBody(
    limit: number,
    write: (chunk: Uint8Array) => Promise<void> | undefined,
    stop: AbortSignal,
  ): Promise<void> {
    return this.hasBody ? pipeBody(this.#req, this.#res, limit, this.h2, write, stop) : Promise.resolve();
  }
}

/**
 * Whether the answer was closed before it ended: the client left, or it was
 * cut. node:http2's compatibility answer has no `destroyed`: its stream says.
 */
function gone(res: ServerResponse, h2: boolean): boolean {
  const closed = h2 ? (res as unknown as Http2ServerResponse).stream.destroyed : res.destroyed;
  return closed && !res.writableEnded;
}

const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/**
 * RFC 9112 section 3.2.2: a server must accept the absolute-form
 * (`GET http://host/path HTTP/1.1`, what clients send to proxies); node:http
 * hands it over as is. Routing uses the path and query only.
 */
function originForm(url: string): string {
  if (url.charCodeAt(0) === 47) return url; // "/": the origin-form, nearly always
  const authority = ABSOLUTE_FORM.exec(url);
  if (authority === null) return url; // "*" and the like: matched by no route
  const rest = url.slice(authority[0].length);
  return rest.charCodeAt(0) === 47 ? rest : `/${rest}`;
}

/**
 * Reads a request body, refusing it (413) from its Content-Length before
 * reading a byte, or as soon as the running total crosses the limit.
 * HTTP/1.1 then closes the connection whatever the answer (an onResponse
 * hook may change the 413), so the rest of the body is never read; on
 * HTTP/2 other streams share the connection, so the stream is reset instead.
 */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  h2: boolean,
): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const refuse = () => {
      if (!h2) {
        (res as { shouldKeepAlive: boolean }).shouldKeepAlive = false;
        return tooLarge(limit);
      }
      resetAfterAnswer(req as unknown as Http2ServerRequest);
      return new HttpError("USRV_ERR_BODY_TOO_LARGE", `the body is over the limit of ${limit} bytes`, {
        detail: { limit },
      });
    };
    if (req.readableEnded) return reject(consumed());
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) return reject(refuse());
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        cleanup();
        req.pause(); // read no more; the 413 closes the connection
        reject(refuse());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(total === 0 ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onClose = () => {
      cleanup();
      reject(clientLeft());
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onClose);
      req.off("close", onClose);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onClose);
    req.on("close", onClose);
  });
}

/**
 * A request body as a WHATWG stream, at the reader's pace (the request is
 * paused while the stream's queue is full, so a slow handler never grows
 * memory), counted against `limit` as it flows. Past it the stream errors
 * with the 413 and the answer closes the connection: the rest of the body
 * is never read.
 */
function bodyStream(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  h2: boolean,
): ReadableStream<Uint8Array> {
  const stop = new AbortController();
  let pulled: (() => void) | undefined;
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        const write = (chunk: Uint8Array) => {
          c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
          // the queue is full: the request waits for the reader's next pull
          return (c.desiredSize ?? 0) > 0 ? undefined : new Promise<void>((resolve) => (pulled = resolve));
        };
        pipeBody(req, res, limit, h2, write, stop.signal).then(
          () => c.close(),
          (e) => stop.signal.aborted || c.error(e),
        );
      },
      pull() {
        pulled?.();
        pulled = undefined;
      },
      cancel(reason) {
        stop.abort(reason); // what is left is discarded when the answer ends (node:http's dump)
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/**
 * Incoming.pipeBody on the Node face: the request's own chunks (Buffers),
 * paused while a promise of `write` is pending, counted against `limit`:
 * refused from the Content-Length before a byte is read, or as soon as the
 * running total crosses it, the rest never read (HTTP/1.1 closes the
 * connection, h2 resets the stream once answered). Spooled uploads read
 * with no WHATWG stream between; `bodyStream` is a stream over it.
 */
function pipeBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  h2: boolean,
  write: (chunk: Uint8Array) => Promise<void> | undefined,
  stop: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let total = 0;
    let settled = false;
    const settle = (e?: unknown) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onClose);
      req.off("close", onClose);
      stop.removeEventListener("abort", onStop);
      if (e === undefined) resolve();
      else reject(e);
    };
    const refuse = (e: HttpError) => {
      req.pause();
      // past the limit: HTTP/1.1 closes the connection whatever the answer, h2 resets only this
      // stream once answered
      if (e.status === 413 && h2) resetAfterAnswer(req as unknown as Http2ServerRequest);
      else if (e.status === 413) (res as { shouldKeepAlive: boolean }).shouldKeepAlive = false;
      settle(e);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) return refuse(tooLarge(limit));
      const wait = write(chunk);
      if (wait === undefined || settled) return;
      req.pause();
      wait.then(
        () => settled || req.resume(),
        () => {},
      );
    };
    const onEnd = () => settle();
    const onClose = () => refuse(clientLeft());
    const onStop = () => {
      settle(stop.reason);
      req.resume(); // what is left is discarded when the answer ends (node:http's dump)
    };
    if (stop.aborted) return onStop();
    if (req.readableEnded) return settle(consumed());
    if (Number(req.headers["content-length"]) > limit) return refuse(tooLarge(limit));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onClose);
    req.on("close", onClose);
    stop.addEventListener("abort", onStop, { once: true });
  });
}

/**
 * A body something read before this listener (a body parser mounted before
 * usrv in Express or Connect): a 500 whose log says so, rather than waiting
 * for data that never comes.
 */
function consumed(): Error {
  return new Error(
    "the request body was read before usrv's listener got the request: mount usrv before any body parser",
  );
}

/**
 * RFC 9113 section 8.1: once its answer is complete, a server may ask the
 * client to stop sending a body with RST_STREAM(NO_ERROR); until then the
 * paused stream's flow-control window holds the client back. The stream's
 * 'finish' comes when its end is queued, and a reset queued then would go out
 * before the answer's DATA: wait (polling; a refused h2 body is rare) until
 * the end is sent, for at most ~10 s (a client that reads nothing), then
 * CANCEL.
 */
export function resetAfterAnswer(req: Http2ServerRequest): void {
  const stream = req.stream;
  let polls = 0;
  // the paused, buffered rest must drain, or the closed stream lingers and holds the session (and
  // server.close()); Node 24 resets such a stream itself once answered, and keeps it until then too
  const done = () => {
    req.resume();
    setImmediate(() => stream.destroyed || stream.destroy());
  };
  const poll = () => {
    if (stream.destroyed) return;
    if (stream.closed) return done();
    const sent = stream.state.localClose === 1;
    if (sent || ++polls > 1000) {
      stream.close(sent ? 0 : 8); // NGHTTP2_NO_ERROR : NGHTTP2_CANCEL
      done();
    } else setTimeout(poll, 10).unref();
  };
  stream.once("finish", poll);
}

/**
 * Makes the Node listener of an app.
 *
 * @example
 * http.createServer(nodeListener(app)).listen(5000);
 */
export function nodeListener(
  app: Core & { readonly accessLog: boolean },
): (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void {
  return (request, response) => {
    // node:http2's compatibility objects have the members used here, under the same names
    const req = request as IncomingMessage;
    const res = response as ServerResponse;
    const start = app.accessLog ? performance.now() : 0;
    const inc = new NodeIncoming(req, res);
    let reply: Reply | Promise<Reply>;
    try {
      reply = handle(app, inc);
    } catch (e) {
      reply = renderThrown(e, inc.method, inc.url); // handle() never throws; belt and braces
    }
    if (reply instanceof Promise) {
      reply.then(
        (r) => deliver(app, inc, res, r, start),
        (e) => deliver(app, inc, res, renderThrown(e, inc.method, inc.url), start),
      );
    } else {
      deliver(app, inc, res, reply, start);
    }
  };
}

/** Sends a reply; if that throws (a Response node:http cannot write), a 500, or a cut connection once the head is out. */
function deliver(app: Core, inc: NodeIncoming, res: ServerResponse, reply: Reply, start: number): void {
  try {
    send(app, inc, res, reply, start);
  } catch (err) {
    if (!res.headersSent) {
      send(app, inc, res, renderThrown(err, inc.method, inc.url), 0); // logged with its cause
      return;
    }
    logError(
      app.logger,
      { err, method: inc.method, url: inc.url, requestId: inc.requestId },
      `${inc.method} ${inc.url}: the answer failed`,
    );
    cut(inc, res);
  }
}

function send(app: Core, inc: NodeIncoming, res: ServerResponse, reply: Reply, start: number): void {
  const left = gone(res, inc.h2);
  if (reply.cause !== undefined || start > 0) logReply(app, inc, reply, start, left);
  if (res.headersSent || left) {
    // the client left before the answer: a handler's stream is stopped as pump() would stop it (R12)
    reply.response?.body?.cancel().catch(() => {});
    return;
  }
  if (reply.response) {
    sendResponse(app, inc, res, reply.response);
    return;
  }
  const body = reply.body;
  const cookies = reply.cookies;
  const headers = inc.h2 ? withoutConnectionHeaders(reply.headers) : reply.headers;
  if (body === null) {
    res.writeHead(reply.status, cookies === undefined ? headers : flat(headers, cookies));
    res.end();
    return;
  }
  // writeHead() fixes the head before end() sees the body, so node:http would
  // fall back to chunked encoding: say the length ourselves (fewer bytes on
  // the wire, no chunk framing). A flat [name, value, ...] list spares an object.
  const head = flat(headers, cookies);
  head.push("content-length", String(Buffer.byteLength(body)));
  res.writeHead(reply.status, head);
  res.end(body);
}

/**
 * Cuts an answer that failed half-way. On HTTP/2 only its stream, with
 * RST_STREAM(INTERNAL_ERROR): a bare destroy() resets it with NO_ERROR, which
 * a client reads as a complete answer.
 */
function cut(inc: NodeIncoming, res: ServerResponse): void {
  if (inc.h2)
    (res as unknown as Http2ServerResponse).stream.close(2); // NGHTTP2_INTERNAL_ERROR
  else res.destroy();
}

/**
 * RFC 9113 section 8.2.2: an HTTP/2 message carrying a connection-specific
 * header is malformed. node:http2 drops `connection` with a warning and throws
 * on the others, so they go here; `http2-settings`, `host` and `te` (a request
 * header; node:http2 takes only `te: trailers`) are refused by node:http2 too.
 * Its compatibility answer keeps the headers of a head it refused, so the 500
 * sent instead would be refused again, out of any catch. A copy only when
 * there is one to remove.
 */
function withoutConnectionHeaders<T extends Record<string, string | string[]>>(headers: T): T {
  let out: T | undefined;
  for (const name of CONNECTION_HEADERS) {
    if (headers[name] !== undefined) {
      out ??= { ...headers };
      delete out[name];
    }
  }
  return out ?? headers;
}

const CONNECTION_HEADERS = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
  "http2-settings",
  "host",
  "te",
];

/** Headers as node:http's flat [name, value, ...] list, one Set-Cookie entry per cookie. */
function flat(headers: Record<string, string>, cookies: readonly string[] | undefined): string[] {
  const head: string[] = [];
  for (const k in headers) head.push(k, headers[k]!);
  if (cookies !== undefined) for (const c of cookies) head.push("set-cookie", c);
  return head;
}

/** R8: a handler's own Response, streamed out. */
function sendResponse(app: Core, inc: NodeIncoming, res: ServerResponse, response: Response): void {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, inc.h2 ? withoutConnectionHeaders(headers) : headers);
  if (!response.body || inc.method === "HEAD") {
    response.body?.cancel().catch(() => {}); // HEAD sends no body: the handler's stream stops
    res.end();
    return;
  }
  void pump(app, inc, response.body, res);
}

/**
 * A Response's body onto the socket, at the socket's pace (a slow reader
 * never grows server memory); the stream is cancelled when the client
 * leaves. A body that fails mid-way cuts the connection (the status is sent
 * already) and is logged (test/hardening-faulty.test.ts). No node:stream:
 * the core imports no node: module.
 */
async function pump(
  app: Core,
  inc: NodeIncoming,
  body: ReadableStream<Uint8Array>,
  res: ServerResponse,
): Promise<void> {
  const reader = body.getReader();
  let left = false;
  let wake: (() => void) | undefined;
  const onClose = () => {
    if (!res.writableEnded) {
      left = true;
      reader.cancel().catch(() => {});
    }
    wake?.();
  };
  res.once("close", onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || left) break;
      if (!res.write(value)) {
        if (left || gone(res, inc.h2)) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          res.once("drain", resolve);
        });
        res.off("drain", wake!);
        wake = undefined;
        if (left) break;
      }
    }
    if (!left) res.end();
  } catch (err) {
    if (!left) {
      logError(
        app.logger,
        { err, method: inc.method, url: inc.url, requestId: inc.requestId },
        `${inc.method} ${inc.url}: the body failed`,
      );
    }
    cut(inc, res);
  } finally {
    res.off("close", onClose);
  }
}
