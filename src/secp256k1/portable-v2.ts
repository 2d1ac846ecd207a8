/**
 * The v2 operations on the portable backend (@noble/curves, WebCrypto's
 * AES-GCM and HMAC through @hpke/core): no Node API, no WASM, for browsers
 * in a secure context and other runtimes. In Node, `loadV2("portable")` of
 * `usrv/secp256k1` loads it; a bundle for the browser imports this file.
 *
 * @example
 * import { portableV2, runAll } from "./secp256k1/portable-v2.js";
 * const { enc, records, context } = await portableV2.sealRequest({ serverPublicKey, senderPrivateKey, method: "POST", target: "/", nonce });
 * const body = await runAll(records, new TextEncoder().encode('{"a":1}'));
 */
import { portableBackend } from "./portable.js";
import { createV2, type V2 } from "./v2.js";

export { DhkemSecp256k1, KEM_SECP256K1 } from "./dhkem-secp256k1.js";
export { type Opener, runAll, type Sealer, sealedLength, transformRecords } from "./records.js";
export {
  createV2,
  type OpenedRequest,
  type OpenRequestOptions,
  type RequestHead,
  type SealedRequest,
  type SealedResponse,
  type SealRequestOptions,
  type SealResponseOptions,
  type V2,
} from "./v2.js";
export type { Framing, ResponseHead, V2Context } from "./v2-response.js";

/** {@link createV2} over the portable backend. */
export const portableV2: V2 = createV2(portableBackend);
