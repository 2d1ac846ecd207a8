/**
 * `usrv/plugins/pinata`: pin files on IPFS through Pinata (row P1), over the
 * usrv client. The module-level functions are the seed's (`link`, `pinFile`,
 * `updateMetadata`) on a default account at Pinata's own hosts; the v3 files
 * API is `files`; `createPinata` gives an account with its own hosts.
 *
 * @example
 * import * as pinata from "usrv/plugins/pinata";
 * pinata.link(process.env.PINATA_JWT!);
 * const pin = await pinata.pinFile("cat.png", "./cat.png", {}, { owner: "me" });
 * await pinata.updateMetadata("cat v2.png", pin.IpfsHash, { owner: "you" });
 * const file = await pinata.files.upload("private", "report.pdf", "./report.pdf");
 */
import { createPinata, type Pinata } from "./pinata-api.js";
import type { FilesApi, KeyValues, PinataCallOptions, PinOptions, PinResult } from "./pinata-types.js";

export type { DebugLogger } from "../client/index.js";
export { createPinata, Pinata } from "./pinata-api.js";
export {
  PINATA_ERRORS,
  PinataError,
  type PinataErrorCode,
  type PinataErrorDetails,
} from "./pinata-errors.js";
export {
  type FilesApi,
  type KeyValues,
  type LegacyApi,
  type Network,
  PINATA_API_URL,
  PINATA_UPLOADS_URL,
  type PinataCallOptions,
  type PinataFile,
  type PinataOptions,
  type PinOptions,
  type PinResult,
  type UploadOptions,
} from "./pinata-types.js";

let main: Pinata | undefined;

/**
 * The account behind the module-level functions (Pinata's own hosts).
 *
 * @example
 * defaultPinata().linked; // false until link(jwt)
 */
export function defaultPinata(): Pinata {
  return (main ??= createPinata());
}

/**
 * Sets the JWT of the default account (the seed's `link(token)`).
 *
 * @example
 * link(process.env.PINATA_JWT!);
 */
export function link(jwt: string): void {
  defaultPinata().link(jwt);
}

/**
 * Checks the default account's JWT: `GET /data/testAuthentication`.
 *
 * @example
 * await testAuthentication(); // { message: "Congratulations! ..." }
 */
export function testAuthentication(call?: PinataCallOptions): Promise<{ message: string }> {
  return defaultPinata().testAuthentication(call);
}

/**
 * The seed's `pinFile`: `defaultPinata().legacy.pinFile` (legacy pinning API).
 *
 * @example
 * const { IpfsHash, isDuplicate } = await pinFile("cat.png", "./cat.png", { cidVersion: 0 });
 */
export function pinFile(
  name: string,
  path: string,
  options?: PinOptions,
  keyvalues?: KeyValues,
  call?: PinataCallOptions,
): Promise<PinResult> {
  return defaultPinata().legacy.pinFile(name, path, options, keyvalues, call);
}

/**
 * The seed's `updateMetadata`: `defaultPinata().legacy.updateMetadata` (legacy pinning API).
 *
 * @example
 * await updateMetadata("cat v2.png", "bafkrei...", { owner: "you" });
 */
export function updateMetadata(
  name: string,
  hash: string,
  keyvalues?: Record<string, string | number | boolean | null>,
  call?: PinataCallOptions,
): Promise<void> {
  return defaultPinata().legacy.updateMetadata(name, hash, keyvalues, call);
}

/**
 * The default account's v3 files API (`defaultPinata().files`).
 *
 * @example
 * const file = await files.upload("public", "cat.png", "./cat.png");
 * await files.update("public", file.id, { name: "cat-2.png" });
 */
export const files: FilesApi = {
  upload: (network, name, path, options) => defaultPinata().files.upload(network, name, path, options),
  update: (network, id, changes, call) => defaultPinata().files.update(network, id, changes, call),
};
