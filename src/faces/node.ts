/**
 * The Node face: a `(req, res)` listener for node:http, https, http2's
 * compatibility API, Express or Connect. It is the fast path: no WHATWG
 * Request or Response is built unless a handler returns a Response (R8).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "../common/errors.js";
import type { RequestHeaders } from "../common/types.js";
import { type Reply, renderThrown } from "../core/render.js";
import { requestId } from "../core/request-id.js";
import { type Core, handle, logReply } from "../pipeline.js";
import { type Incoming, tooLarge } from "./incoming.js";

/** The Node request as the pipeline sees it. */
class NodeIncoming implements Incoming {
  readonly method: string;
  readonly url: string;
  readonly headers: RequestHeaders;
  readonly hasBody: boolean;
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
    const len = h["content-length"];
    this.hasBody = (len !== undefined && len !== "0") || h["transfer-encoding"] !== undefined;
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
      // 'close' before the answer is finished: the client left
      if (res.destroyed && !res.writableFinished) abort.abort();
      else res.once("close", () => res.writableFinished || abort.abort());
    }
    return this.#abort.signal;
  }

  readBody(limit: number): Promise<Uint8Array | null> {
    return readBody(this.#req, limit);
  }

  bodyStream(limit: number): ReadableStream<Uint8Array> | null {
    return this.hasBody ? bodyStream(this.#req, this.#res, limit) : null;
  }
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
 */
function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) return reject(tooLarge(limit));
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        cleanup();
        req.pause(); // read no more; the 413 closes the connection
        reject(tooLarge(limit));
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
      reject(new HttpError("USRV_ERR_BAD_REQUEST", "the client closed the connection before the body ended"));
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
function bodyStream(req: IncomingMessage, res: ServerResponse, limit: number): ReadableStream<Uint8Array> {
  let total = 0;
  let cleanup = () => {};
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        const fail = (e: HttpError) => {
          cleanup();
          req.pause();
          if (e.status === 413) (res as { shouldKeepAlive: boolean }).shouldKeepAlive = false;
          c.error(e);
        };
        const onData = (chunk: Buffer) => {
          total += chunk.length;
          if (total > limit) return fail(tooLarge(limit));
          c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
          if ((c.desiredSize ?? 0) <= 0) req.pause();
        };
        const onEnd = () => {
          cleanup();
          c.close();
        };
        const onClose = () =>
          fail(
            new HttpError("USRV_ERR_BAD_REQUEST", "the client closed the connection before the body ended"),
          );
        cleanup = () => {
          req.off("data", onData);
          req.off("end", onEnd);
          req.off("error", onClose);
          req.off("close", onClose);
        };
        if (Number(req.headers["content-length"]) > limit) return fail(tooLarge(limit));
        req.on("data", onData);
        req.on("end", onEnd);
        req.on("error", onClose);
        req.on("close", onClose);
      },
      pull() {
        req.resume();
      },
      cancel() {
        cleanup(); // what is left is discarded when the answer ends (node:http's dump)
        req.resume();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/**
 * Makes the Node listener of an app.
 *
 * @example
 * http.createServer(nodeListener(app)).listen(5000);
 */
export function nodeListener(app: Core & { readonly accessLog: boolean }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
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
function deliver(app: Core, inc: Incoming, res: ServerResponse, reply: Reply, start: number): void {
  try {
    send(app, inc, res, reply, start);
  } catch (err) {
    if (!res.headersSent) {
      send(app, inc, res, renderThrown(err, inc.method, inc.url), 0); // logged with its cause
      return;
    }
    app.logger.error(
      { err, method: inc.method, url: inc.url, requestId: inc.requestId },
      `${inc.method} ${inc.url}: the answer failed`,
    );
    res.destroy();
  }
}

function send(app: Core, inc: Incoming, res: ServerResponse, reply: Reply, start: number): void {
  if (reply.cause !== undefined || start > 0) logReply(app, inc, reply, start);
  if (res.headersSent || res.destroyed) return;
  if (reply.response) {
    sendResponse(app, inc, res, reply.response);
    return;
  }
  const body = reply.body;
  const cookies = reply.cookies;
  if (body === null) {
    res.writeHead(reply.status, cookies === undefined ? reply.headers : flat(reply.headers, cookies));
    res.end();
    return;
  }
  // writeHead() fixes the head before end() sees the body, so node:http would
  // fall back to chunked encoding: say the length ourselves (fewer bytes on
  // the wire, no chunk framing). A flat [name, value, ...] list spares an object.
  const head = flat(reply.headers, cookies);
  head.push("content-length", String(Buffer.byteLength(body)));
  res.writeHead(reply.status, head);
  res.end(body);
}

/** Headers as node:http's flat [name, value, ...] list, one Set-Cookie entry per cookie. */
function flat(headers: Record<string, string>, cookies: readonly string[] | undefined): string[] {
  const head: string[] = [];
  for (const k in headers) head.push(k, headers[k]!);
  if (cookies !== undefined) for (const c of cookies) head.push("set-cookie", c);
  return head;
}

/** R8: a handler's own Response, streamed out. */
function sendResponse(app: Core, inc: Incoming, res: ServerResponse, response: Response): void {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
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
  inc: Incoming,
  body: ReadableStream<Uint8Array>,
  res: ServerResponse,
): Promise<void> {
  const reader = body.getReader();
  let left = false;
  let wake: (() => void) | undefined;
  const onClose = () => {
    if (!res.writableFinished) {
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
        if (left || res.destroyed) break;
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
      app.logger.error(
        { err, method: inc.method, url: inc.url, requestId: inc.requestId },
        `${inc.method} ${inc.url}: the body failed`,
      );
    }
    res.destroy();
  } finally {
    res.off("close", onClose);
  }
}
