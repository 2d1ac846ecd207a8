/** The v2 operations on the fast Node backend (tiny-secp256k1 + node:crypto). */
import { nodeBackend } from "./node.js";
import { createV2, type V2 } from "./v2.js";

/** {@link createV2} over {@link nodeBackend}. */
export const nodeV2: V2 = createV2(nodeBackend);
