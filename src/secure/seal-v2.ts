/**
 * The seal step for the answer to a v2 request (docs/wire-v2.md): sealed
 * under keys only that request's HPKE context derives, with its status and
 * Content-Type in every record's associated data. A handler's own Response
 * is sealed record by record as it streams: nothing is buffered whole.
 */
import type { Reply } from "../core/render.js";
import { b64encode } from "../secp256k1/encoding.js";
import { recordStream, runAll } from "../secp256k1/records.js";
import type { V2Context } from "../secp256k1/v2-response.js";
import { answerHeaders, refuseEncoded, sealedReply } from "./answer-head.js";
import { loadV2, VERSIONS } from "./security.js";

const utf8 = new TextEncoder();

/** Step 7 for a v2 request: `reply` sealed for the request of `context`. */
export async function sealV2(
  context: V2Context,
  reply: Reply,
  method: string,
  label: string,
): Promise<Reply> {
  const response = reply.response;
  const headers = answerHeaders(reply);
  refuseEncoded(headers, label);
  const status = reply.status;
  const v2 = await loadV2();
  const { responseNonce, records } = await v2.sealResponse(context, {
    status,
    contentType: headers.get("content-type") ?? "",
  });
  headers.set("usrv-encryption", VERSIONS);
  headers.set("response-nonce", responseNonce);
  const body = response ? response.body : reply.body;
  if (body === null || body === "" || method === "HEAD") {
    // no body to carry the records: the one empty record travels in a header
    await response?.body?.cancel();
    headers.set("usrv-record", b64encode(await runAll(records, new Uint8Array(0))));
    return sealedReply(reply, status, headers, null);
  }
  if (typeof body === "string" || body instanceof Uint8Array) {
    const plain = typeof body === "string" ? utf8.encode(body) : body;
    return sealedReply(reply, status, headers, await runAll(records, plain));
  }
  // record by record as it flows; cancelling the answer cancels the handler's stream
  return sealedReply(
    reply,
    status,
    headers,
    recordStream(records, body as unknown as AsyncIterable<Uint8Array>),
  );
}
