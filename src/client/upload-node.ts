/**
 * Large Blob bodies (files from disk) sent through node:http instead of
 * fetch. Node's fetch keeps every chunk of a request body in memory until
 * the request ends (nodejs/undici#4058, measured here: a 300 MB file held
 * 300 MB of ArrayBuffers on Node 20 and 24, for a Blob and for a stream
 * body alike); node:http's pipeline holds a few chunks. The answer comes
 * back as a standard Response, so the rest of the client is unchanged.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FetchLike } from "./transport.js";

// the statuses a Response may not carry a body with (fetch's null body statuses)
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function answer(res: IncomingMessage, method: string): Response {
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2)
    headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  const status = res.statusCode ?? 500;
  const empty = method === "HEAD" || NULL_BODY.has(status);
  if (empty) res.resume();
  const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  return new Response(body, {
    status: status < 200 || status > 599 ? 500 : status,
    statusText: res.statusMessage,
    headers,
  });
}

/**
 * A fetch for one request whose body is a Blob: streamed with backpressure,
 * with its Content-Length (the Python peer's server needs one).
 *
 * @example
 * const res = await uploadFetch(url, { method: "POST", body: await openAsBlob("big.iso"), headers });
 */
export const uploadFetch: FetchLike = (input, init = {}) => {
  const url = new URL(input);
  const body = init.body as Blob;
  const method = (init.method ?? "POST").toUpperCase();
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => {
    headers[k] = v;
  });
  headers["content-length"] = String(body.size);
  if (body.type && !headers["content-type"]) headers["content-type"] = body.type;
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const req = send(url, { method, headers, signal: init.signal ?? undefined }, (res) => {
      try {
        resolve(answer(res, method));
      } catch (e) {
        reject(e);
      }
    });
    req.once("error", reject);
    // a server may answer (413...) before reading the whole body: the answer counts, not the broken upload
    pipeline(Readable.fromWeb(body.stream() as import("node:stream/web").ReadableStream), req).catch(
      () => undefined,
    );
  });
};
