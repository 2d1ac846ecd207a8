/**
 * The browser platform: no node: import anywhere below this file. The curve
 * is the portable backend (@noble/*, WebCrypto's CSPRNG), multipart answers
 * are read by the browser's own `Response.formData()`, and there is no file
 * system: files are Blobs or Files (from an `<input type="file">`).
 */
import type { Secp256k1 } from "../secp256k1/api.js";
import { ClientError } from "./errors.js";
import type { FormPart, Platform } from "./platform.js";

let curve: Promise<Secp256k1> | undefined;
const utf8 = new TextEncoder();

async function decodeMultipart(bytes: Uint8Array, contentType: string): Promise<FormPart[]> {
  let native: globalThis.FormData;
  try {
    native = await new Response(bytes as BodyInit, { headers: { "content-type": contentType } }).formData();
  } catch (e) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_BODY",
      `the answer is not a valid multipart body: ${(e as Error).message}`,
    );
  }
  const parts: FormPart[] = [];
  for (const [name, value] of native) {
    if (typeof value === "string") parts.push({ name, type: "", headers: {}, data: utf8.encode(value) });
    else
      parts.push({
        name,
        filename: value.name,
        type: value.type,
        headers: {},
        data: new Uint8Array(await value.arrayBuffer()),
      });
  }
  return parts;
}

const noFiles = (what: string) => () =>
  Promise.reject(
    new ClientError(
      "USRV_ERR_CLIENT_UNSUPPORTED",
      `${what}: a browser has no file system (append a Blob or a File instead)`,
    ),
  );

/** The browser {@link Platform}. */
export const browserPlatform: Platform = {
  name: "browser",
  loadCrypto: () => (curve ??= import("../secp256k1/portable.js").then((m) => m.portable)),
  openFile: noFiles("reading a file by path"),
  decodeMultipart,
  dump: noFiles("dump(folder)"),
};
