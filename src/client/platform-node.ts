/**
 * The Node platform: the fast curve backend, files streamed from disk
 * (`fs.openAsBlob`: the Blob reads the file as the body is sent, and gives
 * fetch its size, so the request has a Content-Length, which the Python
 * peer's server needs), busboy for multipart, and the safe dump.
 */
import { openAsBlob } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Secp256k1 } from "../secp256k1/api.js";
import { dumpParts } from "./dump-node.js";
import { ClientError } from "./errors.js";
import { typeOfName } from "./mime.js";
import type { FileRef, FormPart, Platform } from "./platform.js";

let curve: Promise<Secp256k1> | undefined;
const utf8 = new TextEncoder();

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

async function decodeMultipart(bytes: Uint8Array, contentType: string): Promise<FormPart[]> {
  const { default: busboy } = await import("busboy");
  const parts: FormPart[] = [];
  return new Promise<FormPart[]>((resolve, reject) => {
    let failed = false;
    const fail = (why: string) => {
      if (failed) return;
      failed = true;
      reject(new ClientError("USRV_ERR_CLIENT_BAD_BODY", `the answer is not a valid multipart body: ${why}`));
    };
    let bb: ReturnType<typeof busboy>;
    try {
      // the whole body is in memory already: no field size limit to truncate it
      bb = busboy({
        headers: { "content-type": contentType },
        defParamCharset: "utf8",
        limits: { fieldSize: bytes.length },
      });
    } catch (e) {
      return fail((e as Error).message);
    }
    bb.on("field", (name, value, info) => {
      parts.push({
        name,
        type: info.mimeType === "text/plain" ? "" : info.mimeType,
        headers: {},
        data: utf8.encode(value),
      });
    });
    bb.on("file", (name, stream, info) => {
      const at = parts.length;
      parts.push({
        name,
        filename: info.filename ?? "",
        type: info.mimeType,
        headers: {},
        data: new Uint8Array(),
      });
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const buf = Buffer.concat(chunks);
        parts[at] = { ...parts[at]!, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
      });
    });
    bb.on("error", (e: Error) => fail(e.message));
    bb.on("close", () => {
      if (!failed) resolve(parts);
    });
    bb.end(bytes);
  });
}

/** The Node {@link Platform}. */
export const nodePlatform: Platform = {
  name: "node",
  loadCrypto: () => (curve ??= import("../secp256k1/index.js").then((m) => m.loadSecp256k1("node"))),
  openFile,
  decodeMultipart,
  dump: dumpParts,
  // bodies from 1 MiB up; upload-node.ts is loaded on the first one only
  upload: {
    threshold: 1024 * 1024,
    fetch: (input, init) => import("./upload-node.js").then((m) => m.uploadFetch(input, init)),
  },
};
