/**
 * The portable face: a standard fetch handler `(Request) => Promise<Response>`
 * for Node, Bun, Deno and edge runtimes. No node: import here.
 */

import { concatBytes } from "../common/bytes.js";
import { responseAsIs } from "../common/response.js";
import type { RequestHeaders } from "../common/types.js";
import { type Reply, renderThrown } from "../core/render.js";
import { requestId } from "../core/request-id.js";
import { type Core, handle, logReply } from "../pipeline.js";
import { clientLeft, type Incoming, pipeStream, tooLarge } from "./incoming.js";

class FetchIncoming implements Incoming {
  readonly method: string;
  readonly url: string;
  readonly headers: RequestHeaders;
  readonly hasBody: boolean;
  readonly remoteAddress: string | null;
  readonly #request: Request;
  #id: string | undefined;

  constructor(request: Request, remoteAddress: string | null) {
    this.#request = request;
    this.method = request.method;
    const u = request.url;
    const slash = u.indexOf("/", u.indexOf("//") + 2);
    const hash = u.indexOf("#");
    this.url = slash < 0 ? "/" : hash < 0 ? u.slice(slash) : u.slice(slash, hash);
    // A prototype-less copy (V7, V9); repeated headers arrive joined by ", ".
    const headers: Record<string, string> = Object.create(null);
    request.headers.forEach((v, k) => {
      headers[k] = v;
    });
    this.headers = headers;
    this.hasBody = request.body !== null;
    this.remoteAddress = remoteAddress;
  }

  get requestId(): string {
    return (this.#id ??= requestId(this.headers));
  }

  get signal(): AbortSignal {
    return this.#request.signal;
  }

  /**
   * A read of the request's body. A runtime fails the body of a client that
   * left (Deno, Bun: the connection dropped) and aborts the request's signal:
   * that is the Node face's 400, not a failure of the server (a 500 logged).
   */
  #read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<ReadableStreamReadResult<Uint8Array>> {
    return reader.read().catch((e) => {
      throw this.#request.signal.aborted ? clientLeft() : e;
    });
  }

  bodyStream(limit: number): ReadableStream<Uint8Array> | null {
    const body = this.#request.body;
    if (!body) return null;
    const reader = body.getReader();
    const read = () => this.#read(reader);
    let total = Number(this.headers["content-length"]) > limit ? limit + 1 : 0;
    const refuse = (c: ReadableStreamDefaultController<Uint8Array>) => {
      reader.cancel().catch(() => {}); // the rest is never read
      c.error(tooLarge(limit));
    };
    return new ReadableStream<Uint8Array>(
      {
        start(c) {
          if (total > limit) refuse(c);
        },
        async pull(c) {
          const { done, value } = await read();
          if (done) return c.close();
          total += value.byteLength;
          if (total > limit) refuse(c);
          else c.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 }, // read as the handler reads
    );
  }

  pipeBody(
    limit: number,
    write: (chunk: Uint8Array) => Promise<void> | undefined,
    stop: AbortSignal,
  ): Promise<void> {
    return pipeStream(this.bodyStream(limit), write, stop);
  }

  async readBody(limit: number): Promise<Uint8Array | null> {
    if (Number(this.headers["content-length"]) > limit) throw tooLarge(limit);
    const body = this.#request.body;
    if (!body) return null;
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await this.#read(reader);
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel();
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
    if (total === 0) return null;
    return concatBytes(chunks, total);
  }
}

/**
 * Makes the fetch handler of an app.
 *
 * @example
 * Bun.serve({ fetch: app.fetch });
 * Deno.serve(app.fetch);
 */
export function fetchHandler(app: Core & { readonly accessLog: boolean }) {
  return async (request: Request, info?: unknown): Promise<Response> => {
    const start = app.accessLog ? performance.now() : 0;
    const inc = new FetchIncoming(request, remoteAddress(request, info));
    let reply: Reply;
    try {
      reply = await handle(app, inc);
    } catch (e) {
      // As the Node face: a handler's hostile value (a revoked Proxy throws
      // even from `instanceof`) is a logged 500, not a rejection for the runtime.
      reply = renderThrown(e, inc.method, inc.url);
    }
    let response: Response;
    try {
      response = toResponse(inc.method, reply);
    } catch (e) {
      // a header fetch's Headers refuses (a handler's Response can carry none; a checked one never does)
      reply = renderThrown(e, inc.method, inc.url);
      response = toResponse(inc.method, reply);
    }
    if (reply.cause !== undefined || start > 0) logReply(app, inc, reply, start, inc.signal.aborted);
    return response;
  };
}

/**
 * The client address from what the runtime passes beside the request: Bun
 * passes its server (`requestIP`), Deno `{ remoteAddr: { hostname } }`,
 * others may pass `{ remoteAddress }`.
 */
function remoteAddress(request: Request, info: unknown): string | null {
  if (!info || typeof info !== "object") return null;
  const i = info as {
    requestIP?: (r: Request) => { address?: string } | null;
    remoteAddr?: { hostname?: string };
    remoteAddress?: string;
  };
  if (typeof i.requestIP === "function") return i.requestIP(request)?.address ?? null;
  return i.remoteAddr?.hostname ?? i.remoteAddress ?? null;
}

function toResponse(method: string, reply: Reply): Response {
  const r = reply.response;
  if (r) {
    if (method !== "HEAD" || !r.body) return r;
    r.body.cancel().catch(() => {}); // HEAD sends no body: the handler's stream stops
    return new Response(null, { status: r.status, statusText: r.statusText, headers: r.headers });
  }
  const cookies = reply.cookies;
  if (cookies === undefined) {
    return responseAsIs(reply.body as BodyInit | null, reply.status, reply.headers);
  }
  const headers = new Headers(reply.headers);
  for (const c of cookies) headers.append("set-cookie", c);
  return responseAsIs(reply.body as BodyInit | null, reply.status, headers);
}
