/** Symmetric primitives on node:crypto and Buffer: the fast path on Node. */
import { createCipheriv, createHash, pbkdf2Sync, randomFillSync } from "node:crypto";
import type { Primitives } from "./primitives.js";

// Buffer.from(hex) stops silently at the first bad character, so validate first.
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** A plain Uint8Array view of a Buffer, so callers never see Buffer-only methods or prototypes. */
function plain(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** node:crypto implementation of {@link Primitives}. */
export const nodePrimitives: Primitives = {
  name: "node:crypto",
  sha256: (data) => plain(createHash("sha256").update(data).digest()),
  pbkdf2Sha512: (password, salt, iterations, length) =>
    plain(pbkdf2Sync(password, salt, iterations, length, "sha512")),
  aes256Ctr(key, iv, data) {
    const cipher = createCipheriv("aes-256-ctr", key, iv);
    return plain(Buffer.concat([cipher.update(data), cipher.final()]));
  },
  randomBytes: (length) => randomFillSync(new Uint8Array(length)),
  toHex: (bytes) => asBuffer(bytes).toString("hex"),
  fromHex: (hex) => (typeof hex === "string" && HEX_RE.test(hex) ? plain(Buffer.from(hex, "hex")) : null),
};
