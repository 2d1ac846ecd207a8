/**
 * The portable entry of `usrv/secp256k1`: the same operations on pure JS
 * (@noble/curves, @noble/hashes, @noble/ciphers, WebCrypto's CSPRNG), with no
 * Node API and no WASM, for browsers and other runtimes. No secret store here
 * (it needs a file system). In Node, `loadSecp256k1("portable")` of
 * `usrv/secp256k1` loads it; a bundle for the browser imports this file.
 *
 * @example
 * import { portable } from "./secp256k1/portable.js";
 * const { privateKey, publicKey } = portable.generateKeypair();
 * portable.verify("hi", portable.sign("hi", privateKey), publicKey); // true
 */
import { type Backend, createSecp256k1, type Secp256k1 } from "./api.js";
import { nobleCurve } from "./curve-noble.js";
import { portablePrimitives } from "./primitives-portable.js";

export { type Backend, createSecp256k1, type Encrypted, type Keypair, type Secp256k1 } from "./api.js";
export type { Curve } from "./curve.js";
export { b64decode, b64encode } from "./encoding.js";
export { CRYPTO_ERRORS, CryptoError, type CryptoErrorCode } from "./errors.js";
export type { Primitives } from "./primitives.js";

/** @noble/curves + @noble/hashes + @noble/ciphers. */
export const portableBackend: Backend = {
  name: "portable",
  curve: nobleCurve,
  primitives: portablePrimitives,
};

/** The operations of `usrv/secp256k1` on {@link portableBackend}. */
export const portable: Secp256k1 = createSecp256k1(portableBackend);
