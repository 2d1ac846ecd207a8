/**
 * The open step of the pipeline, for requests that carry a Nonce or keys
 * and routes that demand them (docs/wire.md): the route's policy (403), the
 * nonce's form and age (412), the sender key (400), the body, its
 * signature (401), the replay memory (412), decryption (400). Each check
 * runs before anything costlier: the policy before the body is read, and
 * the replay memory only for proven keys and signatures.
 */

import type { Route } from "../app/route.js";
import { HttpError } from "../common/errors.js";
import { sealedBytes } from "../common/sealed-body.js";
import { header, type Incoming } from "../faces/incoming.js";
import type { Secp256k1 } from "../secp256k1/api.js";
import type { V2Context } from "../secp256k1/v2-response.js";
import { checkNonce, rememberNonce } from "../stores/replay.js";
import { openV2 } from "./open-v2.js";
import { loadCrypto, type Security } from "./security.js";

export { wantsSecurity } from "./security.js";

import { canonical } from "./sender-key.js";

/** A request once opened: its plain body, and who sent it. */
export interface Opened {
  /** The body, decrypted when it came encrypted. */
  readonly bytes: Uint8Array | null;
  /** The sender's canonical key, proven by its signature; null for an unsigned request. */
  readonly sender: string | null;
  /** v1: whom to seal the answer for, the canonical `Sender-Public-Key`, proven or not. */
  readonly answerTo: string | null;
  readonly crypto: Secp256k1 | null;
  /** v2: the request's HPKE context, under which the answer is sealed. */
  readonly context?: V2Context;
}

const latin1 = new TextDecoder("latin1");

/** Steps 1-2: opens a request with keys or a nonce, or one for a route that demands them. */
export async function open(app: Security, inc: Incoming, route: Route): Promise<Opened> {
  const h = inc.headers;
  const nonce = header(h, "nonce");
  const sender = header(h, "sender-public-key");
  const ephemeral = header(h, "ephemeral-public-key");
  const signature = header(h, "sender-signature");
  const signed = ephemeral !== undefined || signature !== undefined;
  if (header(h, "usrv-encryption") === "2") {
    const v2 = await openV2(app, inc, route);
    return { bytes: v2.bytes, sender: v2.sender, answerTo: null, crypto: null, context: v2.context };
  }

  // the route's policy, on the headers alone: a plain request is refused unread
  if (route.encrypted === "v2" || (route.encrypted && !signed)) {
    throw new HttpError(
      "USRV_ERR_ENCRYPTION_REQUIRED",
      route.encrypted === "v2"
        ? `${route.label} accepts only v2-encrypted requests (usrv's client: connect() first, or pass encryption: "v2")`
        : `${route.label} accepts only encrypted, signed requests`,
    );
  }
  if (signed && (sender === undefined || ephemeral === undefined || signature === undefined)) {
    throw new HttpError(
      "USRV_ERR_BAD_SIGNATURE",
      "an encrypted request needs all of Ephemeral-Public-Key, Sender-Public-Key and Sender-Signature",
    );
  }
  if (route.encrypted && nonce === undefined) {
    throw new HttpError("USRV_ERR_REPLAY", `${route.label} accepts only requests with a Nonce`);
  }
  const time = nonce === undefined ? 0 : checkNonce(app.replayWindow, nonce);
  const crypto = sender !== undefined ? await loadCrypto() : null;
  // one spelling per signer before anything compares or stores it
  const key = sender === undefined ? null : canonical(crypto!, sender, "Sender-Public-Key");
  if (route.allow && !route.allow(key!)) {
    // the claimed key; a claim that passes is proven by the signature below
    throw new HttpError("USRV_ERR_FORBIDDEN_SENDER", `this sender's key is not allowed on ${route.label}`);
  }

  if (!signed) {
    // an unsigned Nonce proves nothing (anyone can change it): its uses are
    // counted apart, in a memory of their own that forgets the oldest when full
    if (nonce !== undefined) {
      const identity = key === null ? `a:${inc.remoteAddress ?? "?"}` : `k:${key}`;
      await rememberNonce(app.unsignedNonces, app.replayWindow, identity, nonce, time);
    }
    const bytes = inc.hasBody ? await inc.readBody(route.bodyLimit) : null;
    return { bytes, sender: null, answerTo: key, crypto };
  }

  const raw = inc.hasBody ? await inc.readBody(route.bodyLimit) : null;
  const hexBody = raw ? latin1.decode(raw) : "";
  // docs/wire.md: the client signs hex body + ephemeral key + nonce, concatenated
  if (!crypto!.verify(hexBody + ephemeral! + (nonce ?? ""), signature!, sender!)) {
    throw new HttpError(
      "USRV_ERR_BAD_SIGNATURE",
      "the Sender-Signature does not verify for this body, key and nonce",
    );
  }
  if (nonce !== undefined) await rememberNonce(app.replayStore, app.replayWindow, `s:${key}`, nonce, time);
  const { privateKey } = await app.keypair();
  let plain: string;
  try {
    plain = crypto!.decrypt(privateKey, ephemeral!, hexBody);
  } catch {
    canonical(crypto!, ephemeral!, "Ephemeral-Public-Key");
    throw new HttpError(
      "USRV_ERR_DECRYPT",
      "the body does not decrypt with this server's key (is it hex, made for our /puk?)",
    );
  }
  const bytes = plain === "" ? null : sealedBytes(plain, header(h, "content-type"));
  return { bytes, sender: key, answerTo: key, crypto };
}
