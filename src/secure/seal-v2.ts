/**
 * The seal step for the answer to a v2 request (docs/wire-v2.md): sealed
 * under keys only that request's HPKE context derives, with its status and
 * Content-Type in every record's associated data. A handler's own Response
 * is sealed record by record as it streams: nothing is buffered whole; to a
 * request that asks for sized records (`Usrv-Records: sized`) each chunk of
 * it is sealed and sent at once, its records preceded by their length.
 */
import type { Reply } from "../core/render.js";
import { b64encode } from "../secp256k1/encoding.js";
import { recordStream, runAll } from "../secp256k1/records.js";
import type { V2Context } from "../secp256k1/v2-response.js";
import { answerHeaders, refuseEncoded, sealedReply } from "./answer-head.js";
import { loadV2, VERSIONS } from "./security.js";

const utf8 = new TextEncoder();

/** docs/wire-v2.md's header of sized records: asked for by a request, confirmed by the answer. */
export const RECORDS_HEADER = "usrv-records";

/**
 * True when a request's `Usrv-Records` asks for sized records: the token
 * `sized`, in any case, among comma-separated ones (unknown ones ignored, so
 * a later framing can be offered beside it).
 */
export function asksSized(value: string | undefined): boolean {
  if (value === undefined) return false;
  return value.split(",").some((token) => token.trim().toLowerCase() === "sized");
}

/** The body of an answer to seal: none, whole, or a stream. */
function bodyOf(reply: Reply, method: string): null | string | Uint8Array | AsyncIterable<Uint8Array> {
  const body = reply.response ? reply.response.body : reply.body;
  if (body === null || body === "" || method === "HEAD") return null;
  return body as string | Uint8Array | AsyncIterable<Uint8Array>;
}

/**
 * Step 7 for a v2 request: `reply` sealed for the request of `context`; a
 * streamed answer in sized records when the request asked (`sized`).
 */
export async function sealV2(
  context: V2Context,
  reply: Reply,
  method: string,
  label: string,
  sized = false,
): Promise<Reply> {
  const headers = answerHeaders(reply);
  refuseEncoded(headers, label);
  const status = reply.status;
  const body = bodyOf(reply, method);
  const whole = body === null || typeof body === "string" || body instanceof Uint8Array;
  const framing = sized && !whole ? "sized" : "fixed";
  const v2 = await loadV2();
  const { responseNonce, records } = await v2.sealResponse(context, {
    status,
    contentType: headers.get("content-type") ?? "",
    framing,
  });
  headers.set("usrv-encryption", VERSIONS);
  headers.set("response-nonce", responseNonce);
  if (body === null) {
    // no body to carry the records: the one empty record travels in a header
    await reply.response?.body?.cancel();
    headers.set("usrv-record", b64encode(await runAll(records, new Uint8Array(0))));
    return sealedReply(reply, status, headers, null);
  }
  if (typeof body === "string" || body instanceof Uint8Array) {
    const plain = typeof body === "string" ? utf8.encode(body) : body;
    return sealedReply(reply, status, headers, await runAll(records, plain));
  }
  if (framing === "sized") headers.set(RECORDS_HEADER, "sized");
  // record by record as it flows; cancelling the answer cancels the handler's stream
  return sealedReply(reply, status, headers, recordStream(records, body));
}
