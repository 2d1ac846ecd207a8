/**
 * `usrv/client` in a browser (the `browser` condition of the `./client`
 * export): the same API as on Node, encryption included, with no node:
 * import: the curve is the portable backend (@noble/*, WebCrypto's CSPRNG),
 * files are Blobs or Files, multipart answers are read by the browser.
 *
 * @example
 * import { createClient } from "usrv/client";
 * const client = createClient({ peer: location.origin });
 * const puk = await client.GET.puk();
 * await client.POST.api.endpoint({ value1: 1 }, { puk }); // encrypted both ways
 */
import type { Keypair } from "../secp256k1/api.js";
import type { Endpoint } from "./builder.js";
import type { Client } from "./client.js";
import { defineEntry } from "./entry.js";
import { FormDataBase } from "./form-data.js";
import type { ClientOptions } from "./options.js";
import { browserPlatform } from "./platform-browser.js";

export * from "./exports.js";

/**
 * A multipart form (RFC 7578, C6) whose files are Blobs or Files; `decode`
 * uses the browser's own multipart reader. No `dump` (no file system).
 *
 * @example
 * const form = new FormData().appendValue("note", "hi").appendFile("file", input.files[0]);
 * await POST.upload(form);
 */
export class FormData extends FormDataBase {
  static override platform = browserPlatform;
}

const entry = defineEntry({ platform: browserPlatform, FormData });

/**
 * An isolated client.
 *
 * @example
 * const client = createClient({ peer: location.origin, identity: "my client secret" });
 */
export function createClient(options?: ClientOptions): Client {
  return entry.createClient(options);
}

/** The client behind the module-level `GET`, `POST`..., `connect` and `identify`. */
export function defaultClient(): Client {
  return entry.defaultClient();
}

/**
 * C2: HEAD on the peer's `/`; remembers the peer on a 2xx answer.
 *
 * @example
 * await connect(location.origin); // 200, or false
 */
export function connect(
  peer: string,
  options?: { timeout?: number; signal?: AbortSignal },
): Promise<number | false> {
  return entry.defaultClient().connect(peer, options);
}

/**
 * I1: the default client's key pair, from a secret or a pair (random otherwise).
 *
 * @example
 * await identify("my client secret");
 */
export function identify(identity?: string | Keypair): Promise<string> {
  return entry.defaultClient().identify(identity);
}

/** GET through the default client. @example await GET.api.endpoint({ a: 12 }); */
export const GET: Endpoint = entry.GET;
/** POST through the default client. @example await POST.api.endpoint({ value1: 1 }, { puk }); */
export const POST: Endpoint = entry.POST;
/** PUT through the default client. @example await PUT.items("7", { name: "x" }); */
export const PUT: Endpoint = entry.PUT;
/** PATCH through the default client. @example await PATCH.items("7", { name: "y" }); */
export const PATCH: Endpoint = entry.PATCH;
/** DELETE through the default client. @example await DELETE.items("7"); */
export const DELETE: Endpoint = entry.DELETE;
/** HEAD through the default client. @example await HEAD.file({}, { full: true }); */
export const HEAD: Endpoint = entry.HEAD;
/** OPTIONS through the default client. @example await OPTIONS.api({}, { full: true }); */
export const OPTIONS: Endpoint = entry.OPTIONS;
