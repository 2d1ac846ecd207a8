/**
 * Keys of a v2 answer, as Oblivious HTTP derives them (RFC 9458 section 4.4),
 * so that an answer opens only with the context of the request it answers:
 *
 *     secret         = context.Export("usrv/2 response", Nk)        (16 bytes)
 *     response_nonce = random(32)
 *     prk            = HKDF-Extract(salt = enc || response_nonce, ikm = secret)
 *     key            = HKDF-Expand(prk, "key", Nk)                   (16 bytes)
 *     base_nonce     = HKDF-Expand(prk, "nonce", Nn)                 (12 bytes)
 *
 * `enc` is the request's encapsulated key in SEC1 form (65 bytes). Record i
 * is sealed with nonce `base_nonce XOR I2OSP(i, Nn)` and the AAD of
 * {@link responseAad}; the framing is records.ts's.
 */
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { sec1 } from "./curve.js";
import { utf8 } from "./encoding.js";
import { CryptoError } from "./errors.js";
import { pointBytes } from "./keys.js";
import type { Primitives } from "./primitives.js";
import { createOpener, createSealer, type Opener, type Sealer } from "./records.js";
import { createSizedOpener, createSizedSealer } from "./sized-records.js";

/**
 * How an answer's records are cut on the wire: `"fixed"` (65,553 bytes each
 * but the last, back to back) or `"sized"` (each preceded by its length, so
 * a record may end early: sized-records.ts). Keys, nonces and AAD are the same.
 */
export type Framing = "fixed" | "sized";

/** What both ends hold of a request once its HPKE context is set up. */
export interface V2Context {
  /** The request's encapsulated key: base64 of the ephemeral public key `X || Y`. */
  readonly enc: string;
  /** HPKE's Export (RFC 9180 section 5.3): `length` secret bytes bound to this request's key schedule. */
  export(exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
}

/** The parts of an answer its records are bound to. */
export interface ResponseHead {
  /** The HTTP status, 100 to 999 (three digits in the AAD). */
  readonly status: number;
  /** The Content-Type header as sent, `""` or absent when there is none. */
  readonly contentType?: string | undefined;
}

/** Length of the response nonce (OHTTP uses max(Nn, Nk) = 16; 32 leaves a wide margin for random collisions). */
export const RESPONSE_NONCE_SIZE = 32;
const NK = 16;
const NN = 12;
const EXPORT_LABEL = utf8("usrv/2 response");
const LABEL_KEY = utf8("key");
const LABEL_NONCE = utf8("nonce");

/** UTF-8 of `"usrv/2 response\n" + status + "\n" + contentType`. */
export function responseAad(head: ResponseHead): Uint8Array {
  const { status, contentType = "" } = head ?? {};
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "status must be an integer from 100 to 999");
  }
  if (typeof contentType !== "string" || contentType.includes("\n")) {
    throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "contentType must be a string without a newline");
  }
  return utf8(`usrv/2 response\n${status}\n${contentType}`);
}

async function responseKey(
  context: V2Context,
  responseNonce: Uint8Array,
): Promise<{ key: Uint8Array; baseNonce: Uint8Array }> {
  const enc = sec1(pointBytes(context.enc, "enc"));
  const secret = await context.export(EXPORT_LABEL, NK);
  const salt = new Uint8Array(enc.length + responseNonce.length);
  salt.set(enc, 0);
  salt.set(responseNonce, enc.length);
  const prk = extract(sha256, secret, salt);
  return { key: expand(sha256, prk, LABEL_KEY, NK), baseNonce: expand(sha256, prk, LABEL_NONCE, NN) };
}

/** `base XOR I2OSP(i, Nn)`. */
function recordNonce(base: Uint8Array, i: number): Uint8Array {
  const nonce = base.slice();
  for (let j = NN - 1, x = i; x > 0; j--, x = Math.floor(x / 256)) nonce[j]! ^= x % 256;
  return nonce;
}

/** The sealer of an answer under `responseNonce` (32 bytes), in the framing asked (default fixed). */
export async function responseSealer(
  p: Primitives,
  context: V2Context,
  responseNonce: Uint8Array,
  head: ResponseHead,
  framing: Framing = "fixed",
): Promise<Sealer> {
  const aad = responseAad(head);
  const { key, baseNonce } = await responseKey(context, responseNonce);
  const gcm = p.aes128Gcm(key);
  let i = 0;
  return (framing === "sized" ? createSizedSealer : createSealer)((record) =>
    gcm.seal(recordNonce(baseNonce, i++), record, aad),
  );
}

/** The opener of an answer sent with `responseNonce` (32 bytes), in the framing it was sent in (default fixed). */
export async function responseOpener(
  p: Primitives,
  context: V2Context,
  responseNonce: Uint8Array,
  head: ResponseHead,
  framing: Framing = "fixed",
): Promise<Opener> {
  const aad = responseAad(head);
  const { key, baseNonce } = await responseKey(context, responseNonce);
  const gcm = p.aes128Gcm(key);
  let i = 0;
  return (framing === "sized" ? createSizedOpener : createOpener)((sealed) =>
    gcm.open(recordNonce(baseNonce, i++), sealed, aad),
  );
}
