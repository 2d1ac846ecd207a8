/**
 * What the secure steps (open.ts, seal.ts) need of an app, and the curve
 * code they load on the first request that carries keys.
 */
import type { Incoming } from "../faces/incoming.js";
import type { Keypair, Secp256k1 } from "../secp256k1/api.js";
import type { V2 } from "../secp256k1/v2.js";
import type { ReplayStore, ReplayWindow } from "../stores/replay.js";

/** What the secure steps need of an app. */
export interface Security {
  readonly replayStore: ReplayStore;
  /** Nonces of unsigned requests, which prove nothing: kept apart, so that a flood of them never fills `replayStore`. */
  readonly unsignedNonces: ReplayStore;
  readonly replayWindow: ReplayWindow;
  /** Most bytes of an answer sealed whole (v1 signs the whole ciphertext). */
  readonly sealLimit: number;
  /** The server's key pair (a random one is made on first use if none was set). */
  keypair(): Promise<Keypair>;
}

let curve: Promise<Secp256k1> | undefined;

/**
 * The crypto, loaded once, on first use: the fast Node backend
 * (tiny-secp256k1's WASM, read from disk, and node:crypto) where it loads,
 * else the portable one (@noble, WebCrypto): workerd without Node
 * compatibility has neither `fs` nor `node:crypto`, and answered every
 * request with keys 500.
 */
export function loadCrypto(): Promise<Secp256k1> {
  return (curve ??= import("../secp256k1/node.js").then(
    (m) => m.nodeSecp256k1,
    () => import("../secp256k1/portable.js").then((m) => m.portable),
  ));
}

let v2: Promise<V2> | undefined;

/** The v2 operations (HPKE), loaded once, on the first v2 request: on the Node backend where it loads, as loadCrypto. */
export function loadV2(): Promise<V2> {
  return (v2 ??= import("../secp256k1/node-v2.js").then(
    (m) => m.nodeV2,
    () => import("../secp256k1/portable-v2.js").then((m) => m.portableV2),
  ));
}

/** The versions of the body encryption this server speaks, as announced in `Usrv-Encryption`. */
export const VERSIONS = "1, 2";

/** True when a request asks for any secure step. */
export function wantsSecurity(inc: Incoming): boolean {
  return carriesKeys(inc.headers);
}

/** True when request headers carry keys, a signature or a nonce (its answer will be sealed or signed). */
export function carriesKeys(h: Incoming["headers"]): boolean {
  return (
    h.nonce !== undefined ||
    h["usrv-encryption"] !== undefined ||
    h["sender-public-key"] !== undefined ||
    h["ephemeral-public-key"] !== undefined ||
    h["sender-signature"] !== undefined
  );
}

/** The secure steps (open, seal v1 and v2), loaded once, on the first request that needs them. */
let steps: Promise<typeof import("./steps.js")> | undefined;

export function loadSteps(): Promise<typeof import("./steps.js")> {
  // a failed load (EMFILE under load, say) is tried again by the next request, not cached
  return (steps ??= import("./steps.js").catch((e: unknown) => {
    steps = undefined;
    throw e;
  }));
}
