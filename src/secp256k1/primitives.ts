/**
 * Hashes, AES, randomness and hex behind one interface, like the curve:
 * node:crypto (primitives-node.ts) is 4-40x faster than pure JS for these, and
 * @noble/hashes + @noble/ciphers (primitives-portable.ts) run anywhere.
 */

/**
 * An AES-128-GCM key imported once for all the records of one message (the
 * v2 body encryption, docs/wire-v2.md): 16-byte tags, 12-byte nonces.
 */
export interface Aes128GcmKey {
  /** `ciphertext || tag` of `plaintext` under the 12-byte `nonce` and `aad`. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** The plaintext of `ciphertext || tag`, or `null` when the tag does not verify. */
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array | null>;
}

/** One implementation of the symmetric primitives. */
export interface Primitives {
  /** A name for reports and test titles, e.g. `"node:crypto"`. */
  readonly name: string;
  /** SHA-256 digest (32 bytes). */
  sha256(data: Uint8Array): Uint8Array;
  /** PBKDF2-HMAC-SHA512. */
  pbkdf2Sha512(password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array;
  /** AES-256-CTR with a full 16-byte big-endian counter block `iv`; encrypts and decrypts. */
  aes256Ctr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES-128-GCM under a 16-byte key (async: WebCrypto's is). */
  aes128Gcm(key: Uint8Array): Aes128GcmKey;
  /** `length` bytes from a CSPRNG. */
  randomBytes(length: number): Uint8Array;
  /** Lowercase hex. */
  toHex(bytes: Uint8Array): string;
  /** Bytes of an even-length hex string (either case), `null` when it is not one. */
  fromHex(hex: string): Uint8Array | null;
}
