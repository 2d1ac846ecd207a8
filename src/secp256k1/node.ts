/** The fast Node backend: tiny-secp256k1 (WASM) for the curve, node:crypto for the rest. */
import { type Backend, createSecp256k1, type Secp256k1 } from "./api.js";
import { tinyCurve } from "./curve-tiny.js";
import { nodePrimitives } from "./primitives-node.js";

/** tiny-secp256k1 + node:crypto. */
export const nodeBackend: Backend = { name: "node", curve: tinyCurve, primitives: nodePrimitives };

/** The operations of `usrv/secp256k1` on {@link nodeBackend}. */
export const nodeSecp256k1: Secp256k1 = createSecp256k1(nodeBackend);
