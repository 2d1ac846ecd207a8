/**
 * Keys as the API takes them (docs/wire.md): private keys as 64 hex
 * characters, public keys as base64 of the 64 bytes `X || Y`. Shared by the
 * v1 operations (api.ts) and the v2 ones (v2.ts).
 */
import { isPrivateKey } from "./curve.js";
import { b64decode } from "./encoding.js";
import { CryptoError } from "./errors.js";

/** The 32 bytes of a private key given as 64 hex characters; `USRV_ERR_BAD_KEY` otherwise. */
export function privateKeyBytes(privateKey: string, fromHex: (hex: string) => Uint8Array | null): Uint8Array {
  const d = typeof privateKey === "string" && privateKey.length === 64 ? fromHex(privateKey) : null;
  if (d === null || !isPrivateKey(d)) {
    throw new CryptoError(
      "USRV_ERR_BAD_KEY",
      "private key must be 64 hex characters of an integer in [1, N-1]",
    );
  }
  return d;
}

/**
 * The 64 bytes `X || Y` of a base64 point: base64 and length only, the curve
 * check is left to the operation that uses the point. `what` names it in errors.
 */
export function pointBytes(b64: string, what: string): Uint8Array {
  let xy: Uint8Array;
  try {
    xy = b64decode(b64);
  } catch (cause) {
    throw new CryptoError("USRV_ERR_BAD_KEY", `${what} is not standard padded base64`, { cause });
  }
  if (xy.length !== 64) {
    throw new CryptoError(
      "USRV_ERR_BAD_KEY",
      `${what} must be base64 of 64 bytes X || Y, got ${xy.length} bytes`,
    );
  }
  return xy;
}
