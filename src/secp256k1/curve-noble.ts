/** {@link Curve} on @noble/curves: pure JS, audited, runs in any JS runtime (the portable path). */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { type Curve, sec1 } from "./curve.js";
import { CryptoError } from "./errors.js";

const { Point } = secp256k1;

/** @noble/curves implementation of {@link Curve}. */
export const nobleCurve: Curve = {
  name: "@noble/curves",
  getPublicKey: (d) => secp256k1.getPublicKey(d, false).subarray(1),
  ecdhX(d, xy) {
    try {
      if (xy.length !== 64) throw new RangeError("point is not 64 bytes");
      return secp256k1.getSharedSecret(d, sec1(xy), true).subarray(1);
    } catch (cause) {
      throw new CryptoError("USRV_ERR_BAD_KEY", "public key is not a point on secp256k1", { cause });
    }
  },
  // noble negates d for odd Y and checks its own signature before returning it
  schnorrSign: (msg, d, aux) => schnorr.sign(msg, d, aux),
  schnorrVerify(sig, msg, xOnly) {
    try {
      // noble accepts any message length (BIP340 allows it); the interface is 32 bytes
      return sig.length === 64 && msg.length === 32 && xOnly.length === 32 && schnorr.verify(sig, msg, xOnly);
    } catch {
      return false;
    }
  },
  isPoint(xy) {
    try {
      if (!(xy instanceof Uint8Array) || xy.length !== 64) return false;
      Point.fromBytes(sec1(xy)).assertValidity();
      return true;
    } catch {
      return false;
    }
  },
  decompress(compressed) {
    try {
      if (compressed.length !== 33 || (compressed[0] !== 2 && compressed[0] !== 3)) return null;
      return Point.fromBytes(compressed).toBytes(false).subarray(1);
    } catch {
      return null;
    }
  },
};
