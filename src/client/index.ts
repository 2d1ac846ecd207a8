/**
 * `usrv/client` on Node: call a usrv server (ours or a Python one) or any
 * JSON API in one line, with encrypted bodies on demand (docs/wire.md). Rows
 * C1-C7 of the behaviour spec. Browsers get `./browser.ts` through the
 * `browser` export condition: same API, no node: imports.
 *
 * @example
 * import { connect, GET, POST, FormData } from "usrv/client";
 * await connect("http://127.0.0.1:5000");                      // 200, or false
 * const puk = await GET.puk();
 * await GET.api.endpoint({ a: 12, b: "test" });                // GET /api/endpoint?a=12&b=test -> ["12", "test"]
 * await POST.api.endpoint({ value1: 1, value2: 2 }, { puk });  // encrypted both ways
 * await POST.upload({ file: FormData.file("./a.png"), note: "hi" }, { encoder: "multipart" });
 */
import type { Keypair } from "../secp256k1/api.js";
import type { Endpoint } from "./builder.js";
import type { Client } from "./client.js";
import { defineEntry } from "./entry.js";
import { FormDataBase } from "./form-data.js";
import type { ClientOptions } from "./options.js";
import { nodePlatform } from "./platform-node.js";

export * from "./exports.js";

/**
 * A multipart form (RFC 7578, C6): files are streamed from disk as the body
 * is sent; `decode` reads one (the server's own reader, so both read the
 * Python peer's forms alike); `dump` writes the parts into a
 * folder and never outside it.
 *
 * @example
 * const form = new FormData().appendValue("note", "hi").appendFile("file", "./a.png");
 * await POST.upload(form);
 * const written = await (await FormData.decode(body, contentType)).dump("./uploads");
 */
export class FormData extends FormDataBase {
  static override platform = nodePlatform;
}

const entry = defineEntry({ platform: nodePlatform, FormData });

/**
 * An isolated client: its own peer, fetch, identity and defaults.
 *
 * @example
 * const app = createApp(); app.bind("/hi", () => [200, "hi"]);
 * const client = createClient({ peer: "http://app", fetch: (input, init) => app.request(input, init) });
 * await client.GET.hi(); // "hi", without a socket
 */
export function createClient(options?: ClientOptions): Client {
  return entry.createClient(options);
}

/** The client behind the module-level `GET`, `POST`..., `connect` and `identify`. */
export function defaultClient(): Client {
  return entry.defaultClient();
}

/**
 * C2: HEAD on the peer's `/`; remembers the peer on a 2xx answer and
 * resolves to its status, else to `false`.
 *
 * @example
 * await connect("http://127.0.0.1:5000"); // 200
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
 * await identify("my client secret"); // resolves to the public key
 */
export function identify(identity?: string | Keypair): Promise<string> {
  return entry.defaultClient().identify(identity);
}

/**
 * GET through the default client: `GET.api.endpoint({ a: 12 })` requests `GET /api/endpoint?a=12`.
 *
 * @example
 * await GET.api.endpoint({ a: 12, b: "test" }); // ["12", "test"]
 * await GET.user("42");                         // GET /user/42
 */
export const GET: Endpoint = entry.GET;
/**
 * POST through the default client: the values are the body (JSON by default).
 *
 * @example
 * await POST.api.endpoint({ value1: 1 }, { puk }); // encrypted for the server
 */
export const POST: Endpoint = entry.POST;
/**
 * PUT through the default client (a body; idempotent, so `retry` is allowed).
 *
 * @example
 * await PUT.items("7", { name: "x" }, { retry: 2 });
 */
export const PUT: Endpoint = entry.PUT;
/**
 * PATCH through the default client (a body).
 *
 * @example
 * await PATCH.items("7", { name: "y" });
 */
export const PATCH: Endpoint = entry.PATCH;
/**
 * DELETE through the default client (values in the query).
 *
 * @example
 * await DELETE.items("7");
 */
export const DELETE: Endpoint = entry.DELETE;
/**
 * HEAD through the default client (resolves to `null`; `{ full: true }` gives the status and headers).
 *
 * @example
 * (await HEAD.file({}, { full: true })).status; // 200
 */
export const HEAD: Endpoint = entry.HEAD;
/**
 * OPTIONS through the default client (values in the query).
 *
 * @example
 * await OPTIONS.api({}, { full: true });
 */
export const OPTIONS: Endpoint = entry.OPTIONS;
