/**
 * `usrv/secp256k1`: keys, Schnorr signatures and body encryption compatible
 * with the Python usrv 0.4.3 peer (docs/wire.md), on the fast Node backend
 * (tiny-secp256k1 + node:crypto); and the v2 body encryption (HPKE, records
 * bound to the request, docs/wire-v2.md), loaded on first use. The HTTP core
 * imports this module lazily, so an app that never encrypts never loads curve code.
 *
 * @example
 * import { encrypt, decrypt, generateKeypair, sign, verify } from "usrv/secp256k1";
 * const server = generateKeypair("server secret");
 * const { R, ciphertext } = encrypt(server.publicKey, '{"a": 1}');
 * decrypt(server.privateKey, R, ciphertext); // '{"a": 1}'
 */
import type { Encrypted, Keypair, Secp256k1 } from "./api.js";
import { canonicalKey as canonical } from "./canonical.js";
import { nodeSecp256k1 as fast } from "./node.js";
import type { Opener } from "./records.js";
import type {
  OpenedRequest,
  OpenRequestOptions,
  SealedRequest,
  SealedResponse,
  SealRequestOptions,
  SealResponseOptions,
  V2,
} from "./v2.js";
import type { Framing, ResponseHead, V2Context } from "./v2-response.js";

export type { Encrypted, Keypair, Secp256k1 } from "./api.js";
export type { DhkemSecp256k1 } from "./dhkem-secp256k1.js";
export { b64decode, b64encode } from "./encoding.js";
export { CRYPTO_ERRORS, CryptoError, type CryptoErrorCode } from "./errors.js";
export {
  type Opener,
  RECORD_SIZE,
  runAll,
  SEALED_RECORD_SIZE,
  type Sealer,
  sealedLength,
  transformRecords,
} from "./records.js";
export {
  DEFAULT_SCRYPT,
  type DumpSecretOptions,
  dumpSecret,
  type LoadSecretOptions,
  loadSecret,
  migrateSecret,
  type ScryptParams,
  type SecretOptions,
  secretPath,
} from "./secret-store.js";
export { createSizedOpener, createSizedSealer, LENGTH_SIZE, MAX_SIZED_RECORD } from "./sized-records.js";
export type {
  OpenedRequest,
  OpenRequestOptions,
  RequestHead,
  SealedRequest,
  SealedResponse,
  SealRequestOptions,
  SealResponseOptions,
  V2,
} from "./v2.js";
export type { Framing, ResponseHead, V2Context } from "./v2-response.js";

/**
 * The operations on a named backend: `"node"` (tiny-secp256k1 + node:crypto,
 * what the functions of this module use) or `"portable"` (pure JS, loaded on
 * demand). Both give identical results.
 *
 * @example
 * const portable = await loadSecp256k1("portable");
 * portable.verify("hello", signature, publicKey);
 */
export async function loadSecp256k1(name: "node" | "portable"): Promise<Secp256k1> {
  if (name === "node") return fast;
  if (name === "portable") return (await import("./portable.js")).portable;
  throw new TypeError(`[usrv] unknown secp256k1 backend ${JSON.stringify(name)} (known: node, portable)`);
}

/**
 * The BIP39 seed function (no mnemonic check): PBKDF2-HMAC-SHA512 of
 * `NFKD(secret)` with salt `NFKD("mnemonic" + passphrase)`, 2048 rounds, 64 bytes.
 *
 * @example
 * bip39Hash("secret"); // Uint8Array(64) [0x19, 0x38, 0x42, ...]
 */
export function bip39Hash(secret: string, passphrase = "SALT"): Uint8Array {
  return fast.bip39Hash(secret, passphrase);
}

/**
 * A key pair derived from `secret` (`int(bip39Hash(secret, passphrase)) mod N`),
 * or a random one (CSPRNG) without a secret.
 *
 * @example
 * generateKeypair("secret").publicKey; // "lry3Vlb34Rr0W4uCPVjKpAgx3RaU...qXM36g=="
 * generateKeypair(); // random
 */
export function generateKeypair(secret?: string, passphrase = "SALT"): Keypair {
  return fast.generateKeypair(secret, passphrase);
}

/**
 * Compressed SEC1 form (66 hex characters, `02`/`03` + X) of a base64 `X || Y`
 * public key. Throws `USRV_ERR_BAD_KEY` when it is not a curve point.
 *
 * @example
 * compress(generateKeypair("secret").publicKey); // "0296bcb75656f7e1...a0ae5a"
 */
export function compress(publicKey: string): string {
  return fast.encode(publicKey);
}

/**
 * {@link compress} under the Python usrv peer's name.
 *
 * @example
 * encode(generateKeypair("secret").publicKey) === compress(generateKeypair("secret").publicKey); // true
 */
export const encode: (publicKey: string) => string = compress;

/**
 * The canonical form of a base64 `X || Y` public key: the point with the
 * same X and an even Y. BIP340 signatures prove X only, so a server
 * identifies a sender by this form (`Context.senderPublicKey`). Throws
 * `USRV_ERR_BAD_KEY` when the key is not a curve point.
 *
 * @example
 * const k = generateKeypair("secret").publicKey;
 * canonicalKey(k) === k; // true when k's Y is even; else the (X, p - Y) spelling
 */
export function canonicalKey(publicKey: string): string {
  return canonical(fast, publicKey);
}

/**
 * Base64 `X || Y` public key of a compressed SEC1 point (66 hex characters).
 * Throws `USRV_ERR_BAD_KEY` when it is not one.
 *
 * @example
 * decompress("0296bcb75656f7e11af45b8b823d58caa40831dd169474287c1316b47d14a0ae5a"); // "lry3Vlb3...qXM36g=="
 */
export function decompress(compressedHex: string): string {
  return fast.decode(compressedHex);
}

/**
 * {@link decompress} under the Python usrv peer's name.
 *
 * @example
 * decode(compress(publicKey)) === publicKey; // true
 */
export const decode: (compressedHex: string) => string = decompress;

/**
 * Steps 3-4 of the body encryption on their own: AES-256-CTR (counter block 1)
 * of UTF-8 `text` with key `SHA256(UTF-8(secret))`, as lowercase hex.
 *
 * @example
 * aesEncrypt("hello", "k"); // "5f49bbe659"
 */
export function aesEncrypt(text: string, secret: string): string {
  return fast.aesEncrypt(text, secret);
}

/**
 * Inverse of {@link aesEncrypt}. Throws `USRV_ERR_DECRYPT` when the input is
 * not hex or the result is not valid UTF-8.
 *
 * @example
 * aesDecrypt("5f49bbe659", "k"); // "hello"
 */
export function aesDecrypt(ciphertextHex: string, secret: string): string {
  return fast.aesDecrypt(ciphertextHex, secret);
}

/**
 * Encrypts `text` for `publicKey` (docs/wire.md, body encryption): a fresh
 * ephemeral key `R`, ECDH, AES-256-CTR. Throws `USRV_ERR_BAD_KEY` for a
 * malformed key or one off the curve.
 *
 * @example
 * const { R, ciphertext } = encrypt(serverPublicKey, JSON.stringify({ a: 1 }));
 * // headers: Ephemeral-Public-Key: R; body: ciphertext
 */
export function encrypt(publicKey: string, text: string): Encrypted {
  return fast.encrypt(publicKey, text);
}

/**
 * Decrypts a ciphertext made by {@link encrypt} for `privateKey`'s public key.
 * Throws `USRV_ERR_BAD_KEY` for a malformed `R` or one off the curve,
 * `USRV_ERR_DECRYPT` for non-hex ciphertext or a result that is not UTF-8.
 * The format has no MAC: a ciphertext for another key usually fails the UTF-8
 * check, but may decrypt to garbage text; the signature is what authenticates.
 *
 * @example
 * decrypt(server.privateKey, headers["ephemeral-public-key"], body);
 */
export function decrypt(privateKey: string, R: string, ciphertextHex: string): string {
  return fast.decrypt(privateKey, R, ciphertextHex);
}

/**
 * BIP340 Schnorr signature of `SHA256(UTF-8(message))`, as base64 of `r || s`.
 * `aux` is BIP340's auxiliary randomness (32 bytes), random by default.
 *
 * @example
 * const signature = sign(hexBody + ephemeralB64 + nonce, client.privateKey);
 */
export function sign(message: string, privateKey: string, aux?: Uint8Array): string {
  return fast.sign(message, privateKey, aux);
}

/**
 * Checks a {@link sign} signature against a base64 `X || Y` public key. Never
 * throws: bad base64, wrong lengths or a point off the curve give `false`.
 *
 * @example
 * verify(hexBody + ephemeralB64 + nonce, headers["sender-signature"], headers["sender-public-key"]); // true
 */
export function verify(message: string, signature: string, publicKey: string): boolean {
  return fast.verify(message, signature, publicKey);
}

/**
 * The reference's `raw_sign`: a signature (128 lowercase hex characters,
 * `r || s`) with the key pair derived from `secret` and `passphrase = salt`.
 *
 * @example
 * rawSign("payload", "usrv", "salt1"); // "9768f78f...", random aux: differs each call
 */
export function rawSign(message: string, secret: string, salt = ""): string {
  return fast.rawSign(message, secret, salt);
}

// v2 (docs/wire-v2.md): @hpke/core costs ~40 ms to load, so it loads on first use
let nodeV2: Promise<V2> | undefined;
const fastV2 = () => (nodeV2 ??= import("./node-v2.js").then((m) => m.nodeV2));

/**
 * The v2 operations on a named backend: `"node"` (what the v2 functions of
 * this module use) or `"portable"` (pure JS). Both give identical results.
 *
 * @example
 * const portable = await loadV2("portable");
 */
export async function loadV2(backend: "node" | "portable"): Promise<V2> {
  if (backend === "node") return fastV2();
  if (backend === "portable") return (await import("./portable-v2.js")).portableV2;
  throw new TypeError(`[usrv] unknown secp256k1 backend ${JSON.stringify(backend)} (known: node, portable)`);
}

/**
 * Client side of v2: sets up HPKE (Auth mode: the client's key is bound into
 * the key schedule) for the server's key, and returns `enc` for a header, the
 * sealer of the body's records, and the context that opens the answer.
 * Throws `USRV_ERR_BAD_KEY` for a malformed key or one off the curve,
 * `USRV_ERR_BAD_ARGUMENT` for a field with a newline.
 *
 * @example
 * const { enc, records, context } = await sealRequest({
 *   serverPublicKey, senderPrivateKey: client.privateKey,
 *   method: "POST", target: "/items?id=3", contentType: "application/json", nonce,
 * });
 * const body = await runAll(records, new TextEncoder().encode('{"a":1}')); // or transformRecords(records, stream)
 */
export async function sealRequest(options: SealRequestOptions): Promise<SealedRequest> {
  return (await fastV2()).sealRequest(options);
}

/**
 * Server side of v2: sets up HPKE from the request's `enc` and the client's
 * public key, and returns the opener of the body's records (bound to the
 * method, target, Content-Type and nonce given here) and the context that
 * seals the answer. Throws `USRV_ERR_BAD_KEY` for a malformed key or `enc`;
 * the opener throws `USRV_ERR_DECRYPT` on any record that does not open, is
 * out of place or missing.
 *
 * @example
 * const { records, context } = await openRequest({
 *   serverPrivateKey, senderPublicKey: headers["sender-public-key"], enc: headers["enc"],
 *   method: req.method, target: req.url, contentType: headers["content-type"], nonce: headers["nonce"],
 * });
 * for await (const chunk of transformRecords(records, req)) handle(chunk);
 */
export async function openRequest(options: OpenRequestOptions): Promise<OpenedRequest> {
  return (await fastV2()).openRequest(options);
}

/**
 * Server side of v2: a fresh 32-byte response nonce (base64, for a header)
 * and the sealer of the answer's records, bound to the request of `context`,
 * the status and the Content-Type.
 *
 * @example
 * const { responseNonce, records } = await sealResponse(context, { status: 200, contentType: "application/json" });
 * res.setHeader("response-nonce", responseNonce);
 * res.end(await runAll(records, answerBytes));
 */
export async function sealResponse(
  context: V2Context,
  options: SealResponseOptions,
): Promise<SealedResponse> {
  return (await fastV2()).sealResponse(context, options);
}

/**
 * Client side of v2: the opener of the answer to the request of `context`,
 * sent with `responseNonce` under this status and Content-Type. Its records
 * throw `USRV_ERR_DECRYPT` when the answer was not made for this request, or
 * for another status or type, or was cut short.
 *
 * @example
 * const records = await openResponse(context, res.headers.get("response-nonce"), { status: res.status, contentType: res.headers.get("content-type") ?? "" });
 * const answer = await runAll(records, new Uint8Array(await res.arrayBuffer()));
 * // an answer with `Usrv-Records: sized` (the request asked for it): openResponse(context, nonce, head, "sized")
 */
export async function openResponse(
  context: V2Context,
  responseNonce: string,
  head: ResponseHead,
  framing?: Framing,
): Promise<Opener> {
  return (await fastV2()).openResponse(context, responseNonce, head, framing);
}
