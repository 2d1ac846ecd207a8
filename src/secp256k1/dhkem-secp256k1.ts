/**
 * DHKEM(secp256k1, HKDF-SHA256), KEM id 0x0016: RFC 9180's DHKEM (section
 * 4.1, run by @hpke/common's `Dhkem`) with the parameters of
 * draft-wahby-cfrg-hpke-kem-secp256k1: Nsecret 32, Nenc 65, Npk 65
 * (uncompressed SEC1), Nsk 32, Ndh 32 (the X coordinate of the shared point),
 * DeriveKeyPair as for P-256 with the bitmask 0xff.
 *
 * The curve work goes through our {@link Curve}, so the KEM runs on either
 * backend: tiny-secp256k1 on Node, @noble/curves anywhere.
 */
import {
  DeriveKeyPairError,
  DeserializeError,
  Dhkem,
  type DhkemPrimitives,
  type KdfInterface,
  KEM_USAGES,
  type KemId,
  LABEL_DKP_PRK,
  NotSupportedError,
  SerializeError,
  XCryptoKey,
} from "@hpke/common";
import { type Curve, isPrivateKey, sec1 } from "./curve.js";
import { utf8 } from "./encoding.js";
import { HkdfSha256Noble } from "./hkdf-sha256.js";

/** The KEM id the draft asks IANA for (0x0013-0x0015 went to compact NIST points). */
export const KEM_SECP256K1 = 0x0016;

const NSK = 32;
const NPK = 65;
const ALG = "ECDH";
const EMPTY = new Uint8Array(0);
const LABEL_CANDIDATE = utf8("candidate");

/** Fresh ArrayBuffer holding a copy of `bytes` (what the HPKE interfaces return). */
function buffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

function bytesOf(input: ArrayBufferLike | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(input)
    ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8Array(input);
}

/** The raw bytes of one of our keys, checked for its type and length. */
function raw(key: CryptoKey, type: "public" | "private"): Uint8Array {
  if (!(key instanceof XCryptoKey) || key.type !== type || key.algorithm.name !== ALG) {
    throw new Error(`not a secp256k1 ${type} key of this KEM`);
  }
  const bytes = key.key;
  if (bytes.length !== (type === "public" ? NPK : NSK)) throw new Error(`bad ${type} key length`);
  return bytes;
}

const publicKey = (sec1Bytes: Uint8Array) => new XCryptoKey(ALG, sec1Bytes, "public");
const privateKey = (d: Uint8Array) => new XCryptoKey(ALG, d, "private", KEM_USAGES);

/**
 * The DHKEM primitives of secp256k1 over `curve`. `kdf` must be the instance
 * the `Dhkem` initialises with the KEM's suite id (DeriveKeyPair's labels use it).
 */
function secp256k1Primitives(
  curve: Curve,
  randomBytes: (n: number) => Uint8Array,
  kdf: KdfInterface,
): DhkemPrimitives {
  /** RFC 9180 7.1.4: an uncompressed SEC1 point on the curve (never infinity, whose SEC1 form is 0x00). */
  function importPublic(bytes: Uint8Array): CryptoKey {
    if (bytes.length !== NPK || bytes[0] !== 4 || !curve.isPoint(bytes.subarray(1))) {
      throw new Error("not an uncompressed SEC1 point on secp256k1");
    }
    return publicKey(bytes.slice());
  }
  function importPrivate(bytes: Uint8Array): CryptoKey {
    if (!isPrivateKey(bytes)) throw new Error("not a 32-byte scalar in [1, N-1]");
    return privateKey(bytes.slice());
  }
  function derivePublic(sk: CryptoKey): CryptoKey {
    return publicKey(sec1(curve.getPublicKey(raw(sk, "private"))));
  }

  return {
    async serializePublicKey(key) {
      try {
        return buffer(raw(key, "public"));
      } catch (e) {
        throw new SerializeError(e);
      }
    },
    async deserializePublicKey(key) {
      try {
        return importPublic(bytesOf(key));
      } catch (e) {
        throw new DeserializeError(e);
      }
    },
    async serializePrivateKey(key) {
      try {
        return buffer(raw(key, "private"));
      } catch (e) {
        throw new SerializeError(e);
      }
    },
    async deserializePrivateKey(key) {
      try {
        return importPrivate(bytesOf(key));
      } catch (e) {
        throw new DeserializeError(e);
      }
    },
    async importKey(format, key, isPublic) {
      try {
        if (format !== "raw" || !(key instanceof ArrayBuffer)) throw new Error("only raw keys are supported");
        return isPublic ? importPublic(new Uint8Array(key)) : importPrivate(new Uint8Array(key));
      } catch (e) {
        throw new DeserializeError(e);
      }
    },
    async generateKeyPair() {
      try {
        // rejection sampling: a draw >= N has probability ~2^-128
        let d = randomBytes(NSK);
        while (!isPrivateKey(d)) d = randomBytes(NSK);
        const sk = privateKey(d);
        return { privateKey: sk, publicKey: derivePublic(sk) };
      } catch (e) {
        throw new NotSupportedError(e);
      }
    },
    async deriveKeyPair(ikm) {
      // RFC 9180 7.1.3 for the NIST curves, with the draft's order N and bitmask
      // 0xff (which keeps every bit of the candidate)
      try {
        const prk = await kdf.labeledExtract(EMPTY, LABEL_DKP_PRK, bytesOf(ikm));
        for (let counter = 0; counter < 256; counter++) {
          const candidate = new Uint8Array(
            await kdf.labeledExpand(prk, LABEL_CANDIDATE, Uint8Array.of(counter), NSK),
          );
          if (isPrivateKey(candidate)) {
            const sk = privateKey(candidate);
            return { privateKey: sk, publicKey: derivePublic(sk) };
          }
        }
        throw new Error("no scalar in [1, N-1] within 256 candidates");
      } catch (e) {
        throw new DeriveKeyPairError(e);
      }
    },
    async derivePublicKey(key) {
      try {
        return derivePublic(key);
      } catch (e) {
        throw new DeserializeError(e);
      }
    },
    async dh(sk, pk) {
      // Ndh = 32: the X coordinate of sk·pk; ecdhX refuses a point off the
      // curve, and sk in [1, N-1] on a prime-order group never gives infinity
      try {
        return buffer(curve.ecdhX(raw(sk, "private"), raw(pk, "public").subarray(1)));
      } catch (e) {
        throw new SerializeError(e);
      }
    },
  };
}

/**
 * DHKEM(secp256k1, HKDF-SHA256) for @hpke/core's `CipherSuite`, over one of
 * our curves.
 *
 * @example
 * import { Aes128Gcm, CipherSuite, HkdfSha256 } from "@hpke/core";
 * const suite = new CipherSuite({
 *   kem: new DhkemSecp256k1(nobleCurve, portablePrimitives.randomBytes),
 *   kdf: new HkdfSha256(),
 *   aead: new Aes128Gcm(),
 * });
 */
export class DhkemSecp256k1 extends Dhkem {
  override readonly secretSize = 32;
  override readonly encSize = NPK;
  override readonly publicKeySize = NPK;
  override readonly privateKeySize = NSK;

  constructor(curve: Curve, randomBytes: (n: number) => Uint8Array) {
    const kdf = new HkdfSha256Noble();
    // 0x0016 is not in @hpke/common's KemId list yet; the library only writes it into suite ids
    super(KEM_SECP256K1 as KemId, secp256k1Primitives(curve, randomBytes, kdf), kdf);
  }
}
