/**
 * The seal step for the answer to a v2 request (docs/wire-v2.md): sealed
 * under keys only that request's HPKE context derives, with its status and
 * Content-Type in every record's associated data. A handler's own Response
 * is sealed record by record as it streams: nothing is buffered whole.
 */
import type { Reply } from "../render.js";
import { b64encode } from "../secp256k1/encoding.js";
import { runAll, type Sealer } from "../secp256k1/records.js";
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
  return sealedReply(reply, status, headers, sealedStream(body, records));
}

/** A body stream sealed record by record; cancelling it cancels the source. */
function sealedStream(source: ReadableStream<Uint8Array>, records: Sealer): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(out) {
        for (;;) {
          if (done) return;
          const next = await reader.read();
          const ready = next.done ? await records.finish() : await records.push(next.value);
          for (const r of ready) out.enqueue(r);
          if (next.done) {
            done = true;
            out.close();
            return;
          }
          if (ready.length > 0) return; // one record out per pull: the reader sets the pace
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
