/**
 * `usrv/client`: call a usrv server (ours or a Python one) or any JSON API
 * in one line, with encrypted bodies on demand (docs/wire.md). Rows C1-C7
 * of the behaviour spec. One entry for Node and browsers: what differs
 * (the curve backend, files) is `#platform`, which package.json's `imports`
 * resolves to platform-node.ts, or to platform-browser.ts (no node: import)
 * under the `browser` condition.
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
import { type Endpoint, endpoint } from "./builder.js";
import { Client, sendOn } from "./client.js";
import type { ClientOptions } from "./options.js";
import type { RouteTable, TypedClient } from "./typed.js";

// What a user names: the client, its errors, its options and answers, FormData's
// vocabulary; the plumbing between the steps (the platform, an exchange) stays inside.
export { type Endpoint, type EndpointSend, endpoint } from "./builder.js";
export { Client } from "./client.js";
export type { EncodedBody, Encoder } from "./encode.js";
export { CLIENT_ERRORS, ClientError, type ClientErrorCode, ClientHttpError } from "./errors.js";
export { type DumpOptions, type EncodedForm, type FileOptions, FormData } from "./form-data.js";
export { type DebugLogger, type LoggingFetchOptions, loggingFetch } from "./logging-fetch.js";
export { type CallOptions, type ClientOptions, DEFAULT_MAX_BODY_SIZE, type FullAnswer } from "./options.js";
export type { DumpedPart, FileRef, FormPart } from "./platform.js";
export type { StreamedAnswer } from "./stream.js";
export type { FetchLike, RetryOptions } from "./transport.js";
export {
  type Attempt,
  attempt,
  type DataOf,
  type ErrorOf,
  type RouteHttpError,
  type RoutePromise,
  type TypedCall,
  type TypedClient,
  type UsrvHttpError,
  type ValidationIssue,
} from "./typed.js";

/**
 * An isolated client: its own peer, fetch, identity and defaults.
 *
 * @example
 * const app = createApp(); app.bind("/hi", () => [200, "hi"]);
 * const client = createClient({ peer: "http://app", fetch: (input, init) => app.request(input, init) });
 * await client.GET.hi(); // "hi", without a socket
 */
/**
 * An isolated client typed by the route table `T` that `usrv types BINDINGS`
 * writes: each call takes and returns its route's types.
 *
 * @example
 * import type { Routes } from "./api.js"; // usrv types routes.ts -o api.ts
 * const client = createClient<Routes>({ peer: "http://127.0.0.1:5000" });
 * const user = await client.GET.user(42, { x: "foo" }); // typed by the handler's answer
 */
// Without a type argument T is its constraint, `object`, and the rest
// parameter `[never]` refuses every call: the untyped overload, last (so
// that `ReturnType<typeof createClient>` is `Client`), takes it.
export function createClient<T extends RouteTable>(
  ...options: object extends T ? [never] : [options?: ClientOptions]
): TypedClient<T>;
export function createClient(options?: ClientOptions): Client;
export function createClient(options?: ClientOptions): Client {
  return new Client(options);
}

let main: Client | undefined;

/**
 * The client behind the module-level `GET`, `POST`..., `connect` and
 * `identify`, made on first use (not at import).
 *
 * @example
 * defaultClient().connectError; // why the last connect failed
 */
export function defaultClient(): Client {
  return (main ??= new Client());
}

/** A module-level endpoint: bound to the default client at each call, so nothing is made at import. */
const root = (method: string): Endpoint =>
  endpoint(method, (m, segments, values, options) => sendOn(defaultClient())(m, segments, values, options));

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
  return defaultClient().connect(peer, options);
}

/**
 * I1: the default client's key pair, from a secret or a pair (random otherwise).
 *
 * @example
 * await identify("my client secret"); // resolves to the public key
 */
export function identify(identity?: string | Keypair): Promise<string> {
  return defaultClient().identify(identity);
}

/**
 * GET through the default client: `GET.api.endpoint({ a: 12 })` requests `GET /api/endpoint?a=12`.
 *
 * @example
 * await GET.api.endpoint({ a: 12, b: "test" }); // ["12", "test"]
 * await GET.user("42");                         // GET /user/42
 */
export const GET: Endpoint = root("GET");
/**
 * POST through the default client: the values are the body (JSON by default).
 *
 * @example
 * await POST.api.endpoint({ value1: 1 }, { puk }); // encrypted for the server
 */
export const POST: Endpoint = root("POST");
/**
 * PUT through the default client (a body; idempotent, so `retry` is allowed).
 *
 * @example
 * await PUT.items("7", { name: "x" }, { retry: 2 });
 */
export const PUT: Endpoint = root("PUT");
/**
 * PATCH through the default client (a body).
 *
 * @example
 * await PATCH.items("7", { name: "y" });
 */
export const PATCH: Endpoint = root("PATCH");
/**
 * DELETE through the default client (values in the query).
 *
 * @example
 * await DELETE.items("7");
 */
export const DELETE: Endpoint = root("DELETE");
/**
 * HEAD through the default client (resolves to `null`; `{ full: true }` gives the status and headers).
 *
 * @example
 * (await HEAD.file({}, { full: true })).status; // 200
 */
export const HEAD: Endpoint = root("HEAD");
/**
 * OPTIONS through the default client (values in the query).
 *
 * @example
 * await OPTIONS.api({}, { full: true });
 */
export const OPTIONS: Endpoint = root("OPTIONS");
