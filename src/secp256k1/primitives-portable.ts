/** Symmetric primitives on @noble/hashes, @noble/ciphers and WebCrypto's CSPRNG: runs in any JS runtime. */
import { ctr } from "@noble/ciphers/aes.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "./encoding.js";
import type { Primitives } from "./primitives.js";

/** Portable implementation of {@link Primitives}. */
export const portablePrimitives: Primitives = {
  name: "@noble/hashes+ciphers",
  sha256: (data) => sha256(data),
  pbkdf2Sha512: (password, salt, iterations, length) =>
    pbkdf2(sha512, password, salt, { c: iterations, dkLen: length }),
  aes256Ctr: (key, iv, data) => ctr(key, iv).encrypt(data),
  randomBytes(length) {
    // getRandomValues fills at most 65536 bytes per call
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
    return out;
  },
  toHex,
  fromHex,
};
