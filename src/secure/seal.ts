/**
 * The seal step of the pipeline (docs/wire.md, step 4 of the server): the
 * answer encrypted for the sender and signed over hex body + ephemeral key.
 * A handler's own Response is sealed too (a client that asked for
 * encryption never gets plaintext), read within bounds (answer-text.ts).
 */
import type { Incoming } from "../incoming.js";
import type { Reply } from "../render.js";
import type { Route } from "../route.js";
import type { Secp256k1 } from "../secp256k1/api.js";
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
  // render() makes text; only the v2 seal makes bytes
  let text = reply.body instanceof Uint8Array ? new TextDecoder().decode(reply.body) : reply.body;
  const headers = { ...reply.headers };
  if (reply.response) {
    text = await answerText(reply.response, {
      limit: app.sealLimit,
      timeout: route.timeout,
      signal: inc.signal,
      label: route.label,
    });
    reply.response.headers.forEach((v, k) => {
      headers[k] = v;
    });
  }
  if (text === null || text === "") {
    // nothing to seal; a Response read to its (empty) end cannot be sent again
    return reply.response ? { status: reply.status, headers, body: null, cause: reply.cause } : reply;
  }
  const server = await app.keypair();
  const { R, ciphertext } = crypto.encrypt(sender, text);
  delete headers["content-length"];
  headers["ephemeral-public-key"] = R;
  headers["sender-public-key"] = server.publicKey;
  headers["sender-signature"] = crypto.sign(ciphertext + R, server.privateKey);
  return { status: reply.status, headers, body: ciphertext, cause: reply.cause };
}
