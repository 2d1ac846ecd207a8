/**
 * The seal step for the answer to a v2 request (docs/wire-v2.md): sealed
 * under keys only that request's HPKE context derives, with its status and
 * Content-Type in every record's associated data. A handler's own Response
 * is sealed record by record as it streams: nothing is buffered whole.
 */
import { concatBytes } from "../bytes.js";
import type { Reply } from "../render.js";
import { b64encode } from "../secp256k1/encoding.js";
import type { Sealer } from "../secp256k1/records.js";
import type { V2Context } from "../secp256k1/v2-response.js";
import { loadV2, VERSIONS } from "./security.js";

const utf8 = new TextEncoder();

/** Step 7 for a v2 request: `reply` sealed for the request of `context`. */
export async function sealV2(context: V2Context, reply: Reply, method: string): Promise<Reply> {
  const response = reply.response;
  const headers: Record<string, string> = { ...reply.headers };
  response?.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const status = reply.status;
  const v2 = await loadV2();
  const { responseNonce, records } = await v2.sealResponse(context, {
    status,
    contentType: headers["content-type"] ?? "",
  });
  delete headers["content-length"];
  headers["usrv-encryption"] = VERSIONS;
  headers["response-nonce"] = responseNonce;
  const body = response ? response.body : reply.body;
  if (body === null || body === "" || method === "HEAD") {
    // no body to carry the records: the one empty record travels in a header
    await response?.body?.cancel();
    headers["usrv-record"] = b64encode((await records.finish())[0]!);
    return { status, headers, body: null, cause: reply.cause };
  }
  if (typeof body === "string" || body instanceof Uint8Array) {
    const sealed = [
      ...(await records.push(typeof body === "string" ? utf8.encode(body) : body)),
      ...(await records.finish()),
    ];
    const total = sealed.reduce((n, r) => n + r.length, 0);
    return { status, headers, body: concatBytes(sealed, total), cause: reply.cause };
  }
  const sealed = new Response(sealedStream(body, records), { status, headers });
  return { status, headers, body: null, response: sealed, cause: reply.cause };
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
