/** Symmetric primitives on @noble/hashes, @noble/ciphers and WebCrypto's CSPRNG: runs in any JS runtime. */
import { ctr } from "@noble/ciphers/aes.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "./encoding.js";
import { CryptoError } from "./errors.js";
import type { Aes128GcmKey, Primitives } from "./primitives.js";

/**
 * AES-128-GCM on WebCrypto (browsers in a secure context, Deno, Bun, Workers,
 * Node): the implementation @hpke/core uses too, native and constant-time.
 */
function aes128Gcm(key: Uint8Array): Aes128GcmKey {
  if (!(key instanceof Uint8Array) || key.length !== 16) {
    throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "AES-128-GCM key must be 16 bytes");
  }
  const subtle = globalThis.crypto.subtle;
  let imported: Promise<CryptoKey> | undefined;
  // imported on first use, so that a key never used leaves no pending promise behind
  const k = () => (imported ??= subtle.importKey("raw", copy(key), "AES-GCM", false, ["encrypt", "decrypt"]));
  return {
    async seal(nonce, plaintext, aad) {
      const params = { name: "AES-GCM", iv: copy(nonce), additionalData: copy(aad) };
      return new Uint8Array(await subtle.encrypt(params, await k(), copy(plaintext)));
    },
    async open(nonce, sealed, aad) {
      const params = { name: "AES-GCM", iv: copy(nonce), additionalData: copy(aad) };
      try {
        return new Uint8Array(await subtle.decrypt(params, await k(), copy(sealed)));
      } catch {
        return null; // OperationError: the tag does not verify
      }
    },
  };
}

/** A copy on a plain ArrayBuffer, the BufferSource WebCrypto's types want. */
function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** Portable implementation of {@link Primitives}. */
export const portablePrimitives: Primitives = {
  name: "@noble/hashes+ciphers",
  sha256: (data) => sha256(data),
  pbkdf2Sha512: (password, salt, iterations, length) =>
    pbkdf2(sha512, password, salt, { c: iterations, dkLen: length }),
  aes256Ctr: (key, iv, data) => ctr(key, iv).encrypt(data),
  aes128Gcm,
  randomBytes(length) {
    // getRandomValues fills at most 65536 bytes per call
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
    return out;
  },
  toHex,
  fromHex,
};
