/**
 * The HPKE suite of the v2 body encryption (docs/wire-v2.md): KEM
 * DHKEM(secp256k1, HKDF-SHA256) 0x0016, KDF HKDF-SHA256 0x0001, AEAD
 * AES-128-GCM 0x0001. @hpke/core runs the key schedule, the nonce sequence
 * and the exporter; the backend supplies the curve and the AES-GCM.
 */
import { type AeadEncryptionContext, AeadId, type AeadInterface } from "@hpke/common";
import { CipherSuite } from "@hpke/core";
import type { DhkemSecp256k1 } from "./dhkem-secp256k1.js";
import { HkdfSha256Noble } from "./hkdf-sha256.js";
import type { Primitives } from "./primitives.js";

function bytesOf(input: ArrayBufferLike | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(input)
    ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8Array(input);
}

/** An ArrayBuffer of exactly these bytes, without a copy when `bytes` spans its whole buffer. */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const b = bytes.buffer;
  return b instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === b.byteLength
    ? b
    : bytes.slice().buffer;
}

/**
 * AES-128-GCM for @hpke/core over the backend's primitives: node:crypto on
 * Node, where @hpke/core's own (WebCrypto) ran 3x slower per 64 KiB record.
 */
export function aes128GcmAead(p: Primitives): AeadInterface {
  return {
    id: AeadId.Aes128Gcm,
    keySize: 16,
    nonceSize: 12,
    tagSize: 16,
    createEncryptionContext(key): AeadEncryptionContext {
      const k = p.aes128Gcm(bytesOf(key).slice());
      return {
        seal: async (iv, data, aad) => exactBuffer(await k.seal(bytesOf(iv), bytesOf(data), bytesOf(aad))),
        async open(iv, data, aad) {
          const out = await k.open(bytesOf(iv), bytesOf(data), bytesOf(aad));
          // @hpke/core turns this into its OpenError
          if (out === null) throw new Error("AES-128-GCM tag mismatch");
          return exactBuffer(out);
        },
      };
    },
  };
}

/** The v2 suite on one backend, around its `kem`. */
export function v2Suite(kem: DhkemSecp256k1, primitives: Primitives): CipherSuite {
  return new CipherSuite({ kem, kdf: new HkdfSha256Noble(), aead: aes128GcmAead(primitives) });
}
