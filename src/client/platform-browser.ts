/**
 * The browser platform: no node: import anywhere below this file. The curve
 * is the portable backend (@noble/*, WebCrypto's CSPRNG), and there is no
 * file system: files are Blobs or Files (from an `<input type="file">`).
 */
import type { Secp256k1 } from "../secp256k1/api.js";
import type { V2 } from "../secp256k1/v2.js";
import { ClientError } from "./errors.js";
import type { Platform } from "./platform.js";

let v2: Promise<V2> | undefined;
let curve: Promise<Secp256k1> | undefined;

const noFiles = (what: string) => () =>
  Promise.reject(
    new ClientError(
      "USRV_ERR_CLIENT_UNSUPPORTED",
      `${what}: a browser has no file system (append a Blob or a File instead)`,
    ),
  );

/** The browser {@link Platform}: what `#platform` is under the `browser` condition. */
export const platform: Platform = {
  name: "browser",
  loadCrypto: () => (curve ??= import("../secp256k1/portable.js").then((m) => m.portable)),
  loadV2: () => (v2 ??= import("../secp256k1/portable-v2.js").then((m) => m.portableV2)),
  openFile: noFiles("reading a file by path"),
  dump: noFiles("dump(folder)"),
};
