/**
 * The Node platform: the fast curve backend, files streamed from disk
 * (`fs.openAsBlob`: the Blob reads the file as the body is sent, and gives
 * fetch its size, so the request has a Content-Length, which the Python
 * peer's server needs), and the safe dump.
 */
import { openAsBlob } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { typeOfName } from "../common/mime.js";
import type { Secp256k1 } from "../secp256k1/api.js";
import type { V2 } from "../secp256k1/v2.js";
import { dumpParts } from "./dump-node.js";
import { ClientError } from "./errors.js";
import type { FileRef, Platform } from "./platform.js";

let v2: Promise<V2> | undefined;
let curve: Promise<Secp256k1> | undefined;

async function openFile(ref: FileRef): Promise<{ blob: Blob; filename: string; type: string }> {
  try {
    const info = await stat(ref.path);
    if (!info.isFile()) throw new Error("not a regular file");
    const filename = ref.filename ?? basename(ref.path);
    return { blob: await openAsBlob(ref.path), filename, type: ref.type ?? typeOfName(filename) };
  } catch (cause) {
    throw new ClientError(
      "USRV_ERR_CLIENT_FILE",
      `cannot read ${JSON.stringify(ref.path)}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** The Node {@link Platform}: what `#platform` is everywhere but under the `browser` condition. */
export const platform: Platform = {
  name: "node",
  loadCrypto: () => (curve ??= import("../secp256k1/index.js").then((m) => m.loadSecp256k1("node"))),
  loadV2: () => (v2 ??= import("../secp256k1/index.js").then((m) => m.loadV2("node"))),
  openFile,
  dump: dumpParts,
  // bodies from 1 MiB up; upload-node.ts is loaded on the first one only
  upload: {
    threshold: 1024 * 1024,
    fetch: (input, init) => import("./upload-node.js").then((m) => m.uploadFetch(input, init)),
  },
};
