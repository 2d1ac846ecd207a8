/**
 * What the secure steps (open.ts, seal.ts) need of an app, and the curve
 * code they load on the first request that carries keys.
 */
import type { ReplayStore, ReplayWindow } from "../replay.js";
import type { Keypair, Secp256k1 } from "../secp256k1/api.js";

/** What the secure steps need of an app. */
export interface Security {
  readonly replayStore: ReplayStore;
  readonly replayWindow: ReplayWindow;
  /** Most bytes of an answer sealed whole (v1 signs the whole ciphertext). */
  readonly sealLimit: number;
  /** The server's key pair (a random one is made on first use if none was set). */
  keypair(): Promise<Keypair>;
}

let curve: Promise<Secp256k1> | undefined;

/** The fast Node crypto, loaded once, on first use. */
export function loadCrypto(): Promise<Secp256k1> {
  return (curve ??= import("../secp256k1/node.js").then((m) => m.nodeSecp256k1));
}
