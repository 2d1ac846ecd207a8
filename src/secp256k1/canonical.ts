/**
 * One spelling per signer. BIP340 verifies a signature against the X
 * coordinate alone, so (X, Y) and (X, p - Y) are the same signer; the
 * canonical form of a public key is the point with even Y, as BIP340's
 * `lift_x` gives, re-encoded from its bytes.
 */
import type { Secp256k1 } from "./api.js";
import { b64decode, b64encode, bigIntTo32, bytesToBigInt } from "./encoding.js";

/** The field prime of secp256k1. */
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

/**
 * The canonical form of a base64 `X || Y` public key: the same X with the
 * even Y. Throws `USRV_ERR_BAD_KEY` unless the key is a point on the curve.
 *
 * @example
 * canonicalKey(curve, oddYKey);        // the (X, p - Y) spelling of it
 * canonicalKey(curve, canonicalKey(curve, k)) === canonicalKey(curve, k); // true
 */
export function canonicalKey(crypto: Secp256k1, publicKey: string): string {
  const compressed = crypto.encode(publicKey); // the curve check
  if (compressed.startsWith("02")) return publicKey; // b64decode allows one spelling per byte string
  const xy = b64decode(publicKey);
  xy.set(bigIntTo32(P - bytesToBigInt(xy.subarray(32))), 32);
  return b64encode(xy);
}
