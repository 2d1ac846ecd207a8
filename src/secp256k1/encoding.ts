/**
 * Portable byte encodings (base64, hex, UTF-8, big-endian integers). No Node
 * API here: this file also runs in a browser. The Node backend swaps in
 * `Buffer`-based hex for large bodies (see primitives-node.ts).
 */
import { CryptoError } from "./errors.js";

// Standard alphabet, padded: the only form the Python peer emits.
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const NOT_B64 = 64;
// Value of each ASCII character in the alphabet, NOT_B64 for the others ("=" included).
const B64_VALUE = Uint8Array.from({ length: 128 }, (_, c) => {
  const v = B64.indexOf(String.fromCharCode(c));
  return v < 0 ? NOT_B64 : v;
});

/**
 * Standard base64 with padding.
 *
 * @example
 * b64encode(new Uint8Array([1, 2, 3])); // "AQID"
 */
export function b64encode(bytes: Uint8Array): string {
  // a table walk: a third of btoa(String.fromCharCode(...)) for a 64-byte key
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + B64[n & 63]!;
  }
  if (i + 1 === bytes.length) {
    const n = bytes[i]! << 16;
    out += `${B64[n >>> 18]!}${B64[(n >>> 12) & 63]!}==`;
  } else if (i + 2 === bytes.length) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${B64[n >>> 18]!}${B64[(n >>> 12) & 63]!}${B64[(n >>> 6) & 63]!}=`;
  }
  return out;
}

/**
 * Strict standard base64: padding required, no whitespace, no URL alphabet,
 * no stray bits in the last character (so each byte string has one spelling).
 * Throws `CryptoError("USRV_ERR_BAD_BASE64")` on anything else, where Python's
 * lenient decoder would silently drop characters.
 *
 * @example
 * b64decode("AQID"); // Uint8Array [1, 2, 3]
 * b64decode("AQI");  // throws CryptoError USRV_ERR_BAD_BASE64
 */
export function b64decode(text: string): Uint8Array {
  if (typeof text !== "string" || text.length % 4 !== 0) throw notBase64();
  const length = text.length;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const data = length - pad; // characters before the padding; "=" among them is refused below
  // A table walk, not atob or Buffer: on an AVX-512 CPU (this server's), Node's
  // SIMD base64 decoder costs ~13 µs of stalled curve work after it, while
  // this loop decodes an 88-character key in ~0.3 µs.
  const out = new Uint8Array((length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < length; i += 4) {
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = i + 2 < data ? sextet(text, i + 2) : 0;
    const d = i + 3 < data ? sextet(text, i + 3) : 0;
    out[o++] = (a << 2) | (b >> 4);
    if (i + 2 < data) out[o++] = ((b & 0x0f) << 4) | (c >> 2);
    if (i + 3 < data) out[o++] = ((c & 0x03) << 6) | d;
    // canonical: the bits the padding drops must be zero (one spelling per byte string)
    if (i + 4 === length && ((pad === 2 && (b & 0x0f) !== 0) || (pad === 1 && (c & 0x03) !== 0))) {
      throw new CryptoError("USRV_ERR_BAD_BASE64", "non-canonical base64 (stray bits before the padding)");
    }
  }
  return out;
}

function sextet(text: string, i: number): number {
  const code = text.charCodeAt(i);
  const v = code < 128 ? B64_VALUE[code]! : NOT_B64;
  if (v === NOT_B64) throw notBase64();
  return v;
}

function notBase64(): CryptoError {
  return new CryptoError("USRV_ERR_BAD_BASE64", "not standard padded base64");
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTE[bytes[i]!];
  return out;
}

/** Value of one hex digit's char code (already validated by HEX_RE). */
function nibble(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87; // '0'-'9', then 'a'-'f' / 'A'-'F'
}

/** Bytes of an even-length hex string (either case), or `null` when it is not one. */
export function fromHex(hex: string): Uint8Array | null {
  if (typeof hex !== "string" || !HEX_RE.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++)
    out[i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  return out;
}

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is a decryption failure (docs/wire.md); ignoreBOM keeps a
// leading U+FEFF as Python's bytes.decode("utf-8") does.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Strict UTF-8 decoding: `null` when the bytes are not valid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** Big-endian unsigned integer of `bytes`. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}

/** `n` as 32 big-endian bytes (`0 <= n < 2^256`). */
export function bigIntTo32(n: bigint): Uint8Array {
  if (n < 0n || n >= 1n << 256n) {
    throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "integer out of 32-byte range");
  }
  return fromHex(n.toString(16).padStart(64, "0"))!;
}
