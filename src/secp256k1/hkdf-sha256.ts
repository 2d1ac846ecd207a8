/**
 * HKDF-SHA256 for @hpke/core on @noble/hashes. @hpke/core's own runs on
 * WebCrypto, where each HMAC is a thread-pool round trip in Node: ~70 µs a
 * call plus ~20 µs a key import, and one v2 request's KEM and key schedule
 * make about fifteen (1.1 ms of a 1.5 ms openRequest, bench/v2-records.mjs).
 * The labels (RFC 9180 LabeledExtract / LabeledExpand) stay @hpke/core's.
 */
import { HkdfSha256 } from "@hpke/core";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";

function bytesOf(input: ArrayBufferLike | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(input)
    ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8Array(input);
}

const buffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

/** RFC 5869 HKDF-SHA256, synchronous inside, with @hpke/core's interface. */
export class HkdfSha256Noble extends HkdfSha256 {
  // an empty salt is HMAC's all-zero key, as RFC 5869 says for a salt not provided
  override async extract(salt: ArrayBufferLike | ArrayBufferView, ikm: ArrayBufferLike | ArrayBufferView) {
    return buffer(extract(sha256, bytesOf(ikm), bytesOf(salt)));
  }

  override async expand(
    prk: ArrayBufferLike | ArrayBufferView,
    info: ArrayBufferLike | ArrayBufferView,
    length: number,
  ) {
    return buffer(expand(sha256, bytesOf(prk), bytesOf(info), length));
  }

  override async extractAndExpand(
    salt: ArrayBufferLike | ArrayBufferView,
    ikm: ArrayBufferLike | ArrayBufferView,
    info: ArrayBufferLike | ArrayBufferView,
    length: number,
  ) {
    return buffer(expand(sha256, extract(sha256, bytesOf(ikm), bytesOf(salt)), bytesOf(info), length));
  }
}
