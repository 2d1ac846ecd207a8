/**
 * The curve operations usrv needs, behind one small interface so that two
 * implementations can pass the same conformance tests:
 * - curve-tiny.ts: tiny-secp256k1 (libsecp256k1 compiled to WASM), the Node
 *   server path; measured ~10x faster than pure JS for sign, verify and ECDH;
 * - curve-noble.ts: @noble/curves, pure JS, for browsers and audits.
 *
 * Points travel as 64 bytes `X || Y` (the wire form, without the SEC1 0x04
 * prefix); scalars as 32 big-endian bytes. Callers validate scalars with
 * `isPrivateKey` before calling; points are checked by the implementation.
 */

/** The order `N` of secp256k1's group. */
export const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const N_BYTES = Uint8Array.from(N.toString(16).match(/../g)!, (h) => Number.parseInt(h, 16));

/** True when `d` is 32 bytes holding an integer in [1, N-1]. */
export function isPrivateKey(d: Uint8Array): boolean {
  if (!(d instanceof Uint8Array) || d.length !== 32) return false;
  let zero = true;
  let less = false;
  // big-endian compare against N; decided at the first differing byte
  for (let i = 0; i < 32; i++) {
    const a = d[i]!;
    if (a !== 0) zero = false;
    if (!less) {
      const b = N_BYTES[i]!;
      if (a < b) less = true;
      else if (a > b) return false;
    }
  }
  return less && !zero;
}

/** Prefixes `xy` (64 bytes) with 0x04, the SEC1 uncompressed form both libraries read. */
export function sec1(xy: Uint8Array): Uint8Array {
  const out = new Uint8Array(65);
  out[0] = 4;
  out.set(xy, 1);
  return out;
}

/** One implementation of the curve operations (see the file comment). */
export interface Curve {
  /** A name for reports and test titles, e.g. `"tiny-secp256k1"`. */
  readonly name: string;
  /** `X || Y` of `d·G`; `d` must satisfy {@link isPrivateKey}. */
  getPublicKey(d: Uint8Array): Uint8Array;
  /** X (32 bytes) of `d·P`; throws a `CryptoError("USRV_ERR_BAD_KEY")` when `P` is not a curve point. */
  ecdhX(d: Uint8Array, xy: Uint8Array): Uint8Array;
  /** BIP340 signature (64 bytes) of the 32-byte `msg`, negating `d` internally when `d·G` has odd Y. */
  schnorrSign(msg: Uint8Array, d: Uint8Array, aux: Uint8Array): Uint8Array;
  /** BIP340 verification against an x-only key; returns false, never throws, on any bad input. */
  schnorrVerify(sig: Uint8Array, msg: Uint8Array, xOnly: Uint8Array): boolean;
  /** True when `xy` is 64 bytes `X || Y` of a point on the curve; never throws. */
  isPoint(xy: Uint8Array): boolean;
  /** `X || Y` of a 33-byte compressed SEC1 point, or `null` when it is not one. */
  decompress(compressed: Uint8Array): Uint8Array | null;
}
