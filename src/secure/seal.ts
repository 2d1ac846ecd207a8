/**
 * The seal step of the pipeline (docs/wire.md, step 4 of the server): the
 * answer encrypted for the sender and signed over hex body + ephemeral key.
 * A handler's own Response is sealed too (a client that asked for
 * encryption never gets plaintext), read within bounds (answer-text.ts).
 */

import type { Route } from "../app/route.js";
import { HttpError } from "../common/errors.js";
import { mediaType } from "../common/media-type.js";
import type { Reply } from "../core/render.js";
import type { Incoming } from "../faces/incoming.js";
import type { Secp256k1 } from "../secp256k1/api.js";
import { answerHeaders, refuseEncoded, sealedReply } from "./answer-head.js";
import { answerText } from "./answer-text.js";
import type { Security } from "./security.js";

/** Step 8: `reply` encrypted for `sender`, the canonical key of the request. */
export async function seal(
  app: Security,
  crypto: Secp256k1,
  sender: string,
  reply: Reply,
  inc: Incoming,
  route: Route,
): Promise<Reply> {
  const headers = answerHeaders(reply);
  refuseEncoded(headers, route.label);
  const response = reply.response;
  if (inc.method === "HEAD") {
    // no body to seal: the handler's stream stops
    await response?.body?.cancel();
    return sealedReply(reply, reply.status, headers, null);
  }
  // render() makes text; only the v2 seal makes bytes
  let text = reply.body instanceof Uint8Array ? new TextDecoder().decode(reply.body) : reply.body;
  if (response) {
    refuseEventStream(headers, response, route.label);
    text = await answerText(response, {
      limit: app.sealLimit,
      timeout: route.timeout,
      signal: inc.signal,
      label: route.label,
    });
  }
  // nothing to seal; a Response read to its (empty) end cannot be sent again
  if (text === null || text === "") return response ? sealedReply(reply, reply.status, headers, null) : reply;
  const server = await app.keypair();
  const { R, ciphertext } = crypto.encrypt(sender, text);
  headers.set("ephemeral-public-key", R);
  headers.set("sender-public-key", server.publicKey);
  headers.set("sender-signature", crypto.sign(ciphertext + R, server.privateKey));
  return sealedReply(reply, reply.status, headers, ciphertext);
}

/**
 * Issue 17 item 5: v1 seals an answer whole, so an event stream (endless,
 * or at least meant to be read as it comes) would be held until it ended or
 * crossed sealLimit. It is refused at once, its source stopped; v2 seals it
 * record by record (seal-v2.ts).
 */
function refuseEventStream(headers: Headers, response: Response, label: string): void {
  const type = mediaType(headers.get("content-type"));
  if (type !== "text/event-stream" && type !== "application/x-ndjson") return;
  response.body?.cancel().catch(() => {}); // the handler's source stops: its return() runs
  throw new HttpError(
    "USRV_ERR_STREAM_NEEDS_V2",
    `the answer of ${label} is a stream (${type}); v1 encryption seals an answer whole, so a stream is sealed only for a v2 request`,
  );
}
