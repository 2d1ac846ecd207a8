/**
 * The head of an answer being sealed (v1 or v2): its headers gathered from
 * the reply and a handler's own Response, Set-Cookie lines kept apart, and
 * the answers that cannot be sealed refused.
 */

import { HttpError } from "../common/errors.js";
import type { Reply } from "../core/render.js";

/** The answer's headers, each Set-Cookie line kept (a plain copy keeps the last one only). */
export function answerHeaders(reply: Reply): Headers {
  const headers = new Headers(reply.headers);
  for (const c of reply.cookies ?? []) headers.append("set-cookie", c);
  const response = reply.response;
  if (response) {
    response.headers.forEach((v, k) => {
      if (k !== "set-cookie") headers.set(k, v);
    });
    for (const cookie of response.headers.getSetCookie()) headers.append("set-cookie", cookie);
  }
  headers.delete("content-length"); // the sealed body has its own
  return headers;
}

/**
 * Refuses an answer whose body is compressed: its plaintext would be the
 * compressed bytes, and a Content-Encoding on the sealed body would make the
 * client's fetch inflate ciphertext.
 */
export function refuseEncoded(headers: Headers, label: string): void {
  const coding = headers.get("content-encoding");
  if (coding !== null && coding.trim().toLowerCase() !== "identity") {
    throw new HttpError(
      "USRV_ERR_UNSEALABLE",
      `the answer of ${label} has Content-Encoding: ${coding}; usrv seals uncompressed answers only`,
    );
  }
}

/** A sealed answer: as a Response when the handler gave one (its Set-Cookie lines kept), else as a reply. */
export function sealedReply(
  reply: Reply,
  status: number,
  headers: Headers,
  body: string | Uint8Array | ReadableStream<Uint8Array> | null,
): Reply {
  if (reply.response || body instanceof ReadableStream) {
    const response = new Response(body as BodyInit | null, { status, headers });
    return { status, headers: {}, body: null, response, cause: reply.cause };
  }
  const cookies = headers.getSetCookie();
  headers.delete("set-cookie");
  const sealed: Reply = { status, headers: Object.fromEntries(headers), body, cause: reply.cause };
  if (cookies.length > 0) sealed.cookies = cookies;
  return sealed;
}
