/**
 * Hashes, AES, randomness and hex behind one interface, like the curve:
 * node:crypto (primitives-node.ts) is 4-40x faster than pure JS for these, and
 * @noble/hashes + @noble/ciphers (primitives-portable.ts) run anywhere.
 */

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
  /** `length` bytes from a CSPRNG. */
  randomBytes(length: number): Uint8Array;
  /** Lowercase hex. */
  toHex(bytes: Uint8Array): string;
  /** Bytes of an even-length hex string (either case), `null` when it is not one. */
  fromHex(hex: string): Uint8Array | null;
}
