/** A key header read as one sender: its canonical spelling (E1), or a 400 naming the header. */

import { HttpError } from "../common/errors.js";
import type { Secp256k1 } from "../secp256k1/api.js";
import { canonicalKey } from "../secp256k1/canonical.js";

/**
 * The canonical form of a key header (`canonicalKey`), or a 400
 * `USRV_ERR_BAD_KEY` naming the header when it is not a curve point.
 */
export function canonical(crypto: Secp256k1, key: string, name: string): string {
  try {
    return canonicalKey(crypto, key);
  } catch {
    throw new HttpError("USRV_ERR_BAD_KEY", `${name} is not base64 of X||Y of a point on secp256k1`);
  }
}
