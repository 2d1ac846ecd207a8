/**
 * The client: a peer, a fetch, an identity, and the one place that chains
 * the steps of a call (C1-C5). Platform-free: each entry (index.ts for
 * Node, browser.ts) gives it a {@link Runtime}.
 */

import { isTextBody, sealedText } from "../common/sealed-body.js";
import type { Keypair, Secp256k1 } from "../secp256k1/api.js";
import type { V2 } from "../secp256k1/v2.js";
import type { V2Context } from "../secp256k1/v2-response.js";
import { type Dispatch, type Endpoint, endpoint } from "./builder.js";
import { decodeBody } from "./decode.js";
import { encodeBody } from "./encode.js";
import { ClientError, ClientHttpError } from "./errors.js";
import type { FormDataBase } from "./form-data.js";
import type { CallOptions, ClientOptions, FullAnswer } from "./options.js";
import {
  CLIENT_OPTIONS,
  CONNECT_OPTIONS,
  checkClientOptions,
  DEFAULT_MAX_BODY_SIZE,
  splitArgs,
} from "./options.js";
import type { Platform } from "./platform.js";
import { checkServerKey, claimsEncryption, HEADERS, open, seal } from "./seal.js";
import { CLIENT_VERSIONS, openV2, sealedV2, sealV2, sealV2Stream, V2_HEADERS } from "./seal-v2.js";
import { type Built, exchange, type FetchLike, normalizeRetry, type RetryOptions } from "./transport.js";
import { buildUrl, normalizePeer } from "./url.js";

/** What an entry plugs into the client. */
export interface Runtime {
  readonly platform: Platform;
  readonly FormData: typeof FormDataBase;
}

/** Methods whose values go to the query string (the reference's list); the others send a body. */
const QUERY_METHODS = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"]);
/**
 * docs/wire-v2.md: the statuses a usrv server sends in clear to a v2 request,
 * its refusals before the body opened (no context exists to seal them). Any
 * other unsealed answer to a v2 request is refused: a path could forge it.
 */
const CLEAR_REFUSALS = new Set([400, 401, 403, 404, 405, 408, 412, 413, 414, 415, 429, 431, 503]);
/** RFC 9110 9.2.2: safe to send twice. */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
const DEFAULT_TIMEOUT = 30_000;

const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();

/** The text to encrypt for a body (sealed-body.ts): as the reference's client, binary parts included. */
async function plaintext(body: string | Uint8Array | Blob, contentType: string): Promise<string> {
  if (typeof body === "string" && isTextBody(contentType)) return body;
  const bytes =
    typeof body === "string"
      ? utf8.encode(body)
      : body instanceof Blob
        ? new Uint8Array(await body.arrayBuffer())
        : body;
  const text = sealedText(bytes, contentType);
  if (text === null) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `an encrypted ${contentType.split(";")[0]} body must be UTF-8 text`,
    );
  }
  return text;
}

/**
 * An isolated client; see {@link createClient}.
 *
 * @example
 * const client = new Client(runtime, { peer: "http://127.0.0.1:5000" });
 * await client.GET.api.endpoint({ a: 12, b: "test" });
 */
export class Client {
  readonly GET: Endpoint;
  readonly POST: Endpoint;
  readonly PUT: Endpoint;
  readonly PATCH: Endpoint;
  readonly DELETE: Endpoint;
  readonly HEAD: Endpoint;
  readonly OPTIONS: Endpoint;
  readonly #runtime: Runtime;
  readonly #options: ClientOptions & { retry?: RetryOptions | undefined };
  readonly #fetch: FetchLike;
  readonly #ownFetch: boolean;
  #peer: string | undefined;
  #identity: Promise<Keypair> | undefined;
  #connectError: ClientError | undefined;
  /** The encryption versions each peer said it speaks (`Usrv-Encryption`). */
  readonly #versions = new Map<string, Set<string>>();

  constructor(runtime: Runtime, options: ClientOptions = {}) {
    checkClientOptions("createClient", options, CLIENT_OPTIONS);
    this.#runtime = runtime;
    this.#options = { ...options, retry: normalizeRetry(options.retry) };
    this.#peer = options.peer === undefined ? undefined : normalizePeer(options.peer);
    const given = options.fetch;
    // looked up at each call, so a fetch installed later (or a test's stub) is used
    this.#fetch = given ?? ((input, init) => globalThis.fetch(input, init));
    this.#ownFetch = given === undefined;
    this.GET = this.endpoint("GET");
    this.POST = this.endpoint("POST");
    this.PUT = this.endpoint("PUT");
    this.PATCH = this.endpoint("PATCH");
    this.DELETE = this.endpoint("DELETE");
    this.HEAD = this.endpoint("HEAD");
    this.OPTIONS = this.endpoint("OPTIONS");
  }

  /** The peer calls go to, once set by `connect`, the options, or assignment. */
  get peer(): string | undefined {
    return this.#peer;
  }

  set peer(peer: string | undefined) {
    this.#peer = peer === undefined ? undefined : normalizePeer(peer);
  }

  /** The endpoint builder for any method, e.g. `client.endpoint("PROPFIND")`. */
  endpoint(method: string): Endpoint {
    return endpoint(method, Object.freeze([]), this.dispatch);
  }

  /** Calls an endpoint with its raw arguments (what the builder does); a bad argument is a rejection, never a throw. */
  readonly dispatch: Dispatch = (method, segments, args) => {
    try {
      const { segments: more, values, options } = splitArgs(args);
      return this.call(method, more.length === 0 ? segments : [...segments, ...more], values, options);
    } catch (e) {
      return Promise.reject(e);
    }
  };

  /**
   * C2: HEAD on the peer's `/`; on a 2xx answer, remembers the peer and
   * resolves to the status, else to `false` (unreachable, error status,
   * timeout), keeps why in {@link Client.connectError} and forgets the peer
   * before it, so that no call goes to another server than the one asked
   * for. A malformed peer URL throws.
   *
   * @example
   * await client.connect("http://127.0.0.1:5000"); // 200
   */
  async connect(
    peer: string,
    options: { timeout?: number; signal?: AbortSignal } = {},
  ): Promise<number | false> {
    checkClientOptions("connect", options, CONNECT_OPTIONS);
    const base = normalizePeer(peer);
    let status: number;
    try {
      ({ status } = await this.call<FullAnswer>("HEAD", [], undefined, {
        ...options,
        peer: base,
        full: true,
        // which encryption versions does it speak? (an old peer ignores the question)
        headers: { [V2_HEADERS.version]: CLIENT_VERSIONS },
      }));
    } catch (e) {
      this.#peer = undefined; // see below
      this.#connectError =
        e instanceof ClientError
          ? e
          : new ClientError("USRV_ERR_CLIENT_UNREACHABLE", `HEAD ${base}/: ${(e as Error).message}`, {
              cause: e,
            });
      return false;
    }
    if (status < 200 || status > 299) {
      // A failed connect forgets the peer before it: calls must not go on,
      // silently, to another server than the one asked for.
      this.#peer = undefined;
      this.#connectError = new ClientError(
        "USRV_ERR_CLIENT_HTTP",
        `HEAD ${base}/ answered ${status}, not 2xx`,
      );
      return false;
    }
    this.#peer = base;
    this.#connectError = undefined;
    return status;
  }

  /**
   * Why the last `connect` failed (its status or error), until one succeeds;
   * a call made with no peer after it says so too.
   *
   * @example
   * if ((await client.connect(url)) === false) console.error(client.connectError?.message);
   */
  get connectError(): ClientError | undefined {
    return this.#connectError;
  }

  /**
   * I1: sets the client's key pair: derived from a secret, given as a pair,
   * or random without an argument. Resolves to the public key.
   *
   * @example
   * await client.identify("client secret"); // "TT95WQA0/OYO..."
   */
  identify(identity?: string | Keypair): Promise<string> {
    const pair = this.#pair(identity);
    this.#identity = pair;
    return pair.then((p) => p.publicKey);
  }

  #pair(identity: string | Keypair | undefined): Promise<Keypair> {
    return this.#runtime.platform.loadCrypto().then((crypto) => {
      if (identity === undefined || typeof identity === "string") return crypto.generateKeypair(identity);
      let matches = false;
      try {
        matches = crypto.verify("usrv", crypto.sign("usrv", identity.privateKey), identity.publicKey);
      } catch {}
      if (!matches) {
        throw new ClientError(
          "USRV_ERR_CLIENT_BAD_KEY",
          "identity must be a key pair { privateKey: 64 hex, publicKey: its base64 X||Y }",
        );
      }
      return { privateKey: identity.privateKey, publicKey: identity.publicKey };
    });
  }

  /** The client's key pair (private key included): the `identity` option's, or a random one, made on first need. */
  keypair(): Promise<Keypair> {
    return (this.#identity ??= this.#pair(this.#options.identity));
  }

  /**
   * One call, through the steps below. The builder's `GET.a.b(values, options)`
   * is `call("GET", ["a", "b"], values, options)`.
   *
   * @example
   * await client.call("GET", ["api", "endpoint"], { a: 12, b: "test" }); // ["12", "test"]
   */
  async call<T = unknown>(
    method: string,
    segments: readonly string[],
    values?: unknown,
    options: CallOptions = {},
  ): Promise<T> {
    const { platform, FormData } = this.#runtime;
    const defaults = this.#options;
    // 1. options: the call's over the client's
    const peer = options.peer !== undefined ? normalizePeer(options.peer) : this.#peer;
    if (peer === undefined) {
      const failed = this.#connectError;
      throw new ClientError(
        "USRV_ERR_CLIENT_NO_PEER",
        `${method} /${segments.join("/")}: no peer to reach: ${
          failed
            ? `connect failed (${failed.message.replace(/^\[usrv\] /, "")}): start the server or fix the peer, then connect again, or pass { peer }`
            : "connect(peer) first or pass { peer }"
        }`,
        failed && { cause: failed },
      );
    }
    if (options.retry !== undefined && !IDEMPOTENT.has(method)) {
      throw new ClientError(
        "USRV_ERR_CLIENT_BAD_ARGUMENT",
        `retry is for idempotent methods only: a ${method} may have been applied already`,
      );
    }
    const retry = IDEMPOTENT.has(method) ? (normalizeRetry(options.retry) ?? defaults.retry) : undefined;
    const timeout = options.timeout ?? defaults.timeout ?? DEFAULT_TIMEOUT;
    if (typeof timeout !== "number" || !(timeout >= 0))
      throw new ClientError("USRV_ERR_CLIENT_BAD_ARGUMENT", "timeout must be a number of ms >= 0");

    // 2. URL: segments, and the values as the query for bodiless methods
    const inQuery = QUERY_METHODS.has(method);
    if (
      inQuery &&
      values !== undefined &&
      (values === null ||
        typeof values !== "object" ||
        Array.isArray(values) ||
        values instanceof FormData ||
        (typeof globalThis.FormData === "function" && values instanceof globalThis.FormData))
    ) {
      throw new ClientError(
        "USRV_ERR_CLIENT_BAD_ARGUMENT",
        `${method} sends its values in the query string: pass an object of named values`,
      );
    }
    const url = buildUrl(
      peer,
      segments,
      inQuery ? (values as Record<string, unknown> | URLSearchParams | undefined) : undefined,
    );
    const label = `${method} ${url.split("?")[0]}`;

    // 3. body: the values encoded
    const encoded =
      !inQuery && values !== undefined ? await encodeBody(values, options.encoder, FormData) : undefined;

    // 4. seal: encrypted for the server key, signed (v1) or in HPKE's Auth
    // mode (v2), with a fresh nonce per attempt
    let crypto: Secp256k1 | undefined;
    let identity: Keypair | undefined;
    let puk: string | undefined;
    let text: string | undefined;
    let v2: V2 | undefined;
    let v2Body: Uint8Array | undefined;
    let context: V2Context | undefined;
    const mode = options.encryption ?? defaults.encryption ?? "auto";
    const spoken = this.#versions.get(peer);
    // the Content-Type sent: the caller's, else the encoder's
    const given = new Headers(defaults.headers);
    if (options.headers) for (const [k, v] of new Headers(options.headers)) given.set(k, v);
    const contentType = given.get("content-type") ?? encoded?.contentType;
    // a large file body with the runtime's fetch goes through the platform's
    // streaming upload (Node); in v2 its records are sealed as it is read
    const upload = platform.upload;
    const big =
      upload && this.#ownFetch && encoded?.body instanceof Blob && encoded.body.size >= upload.threshold;
    if (options.puk !== undefined) {
      crypto = await platform.loadCrypto();
      puk = checkServerKey(crypto, options.puk);
      identity = await this.keypair();
      if (mode === "v2" || (mode === "auto" && spoken?.has("2"))) {
        v2 = await platform.loadV2();
        if (!big) {
          v2Body = encoded
            ? new Uint8Array(await new Response(encoded.body as BodyInit).arrayBuffer())
            : new Uint8Array(0);
        }
      } else if (encoded) {
        text = await plaintext(encoded.body, contentType!);
      }
    }
    // connect asks which versions a peer speaks; a sealed call's request stays the reference's
    const probe = mode === "auto" && spoken === undefined && given.has(V2_HEADERS.version);
    const bare = !encoded && puk === undefined && !defaults.headers && !options.headers;
    const build = (): Built | Promise<Built> => {
      // a plain GET sets no header and passes no init: fetch's shortest path
      if (bare) return { url, init: method === "GET" ? undefined : { method } };
      const headers = new Headers(given);
      if (encoded && !headers.has("content-type")) headers.set("content-type", encoded.contentType);
      let body = encoded?.body;
      if (v2 !== undefined) {
        const { pathname, search } = new URL(url);
        const head = {
          method,
          target: pathname + search,
          contentType: headers.get("content-type") ?? undefined,
        };
        const sealing = big
          ? sealV2Stream(v2, identity!, puk!, head, encoded!.body as Blob)
          : sealV2(v2, identity!, puk!, head, v2Body!);
        return sealing.then((sealed) => {
          context = sealed.context; // the last attempt's: the answer that comes back is to it
          for (const [k, v] of Object.entries(sealed.headers)) headers.set(k, v);
          // a redirect would send the sealed body, bound to this target, elsewhere
          const init = {
            method,
            headers,
            body: sealed.body as BodyInit | undefined,
            redirect: "manual" as const,
          };
          return { url, init };
        });
      }
      if (puk !== undefined) {
        headers.set(HEADERS.sender, identity!.publicKey);
        if (text !== undefined) {
          const sealed = seal(crypto!, identity!, puk, text);
          body = sealed.body;
          for (const [k, v] of Object.entries(sealed.headers)) headers.set(k, v);
        }
      }
      return { url, init: { method, headers, body: body as BodyInit | undefined } };
    };

    // 5. send, with timeout, signal and retries
    const { response, bytes } = await exchange(big ? upload.fetch : this.#fetch, build, {
      timeout,
      signal: options.signal,
      retry,
      maxBodySize: options.maxBodySize ?? defaults.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
      label,
    });

    // the versions the peer speaks, when it says; silence to our question is v1
    // learnt once, from the answer to connect's question: no later answer
    // (where a proxy could add or change the header) moves a client back to v1
    if (probe && response.status < 400) {
      const announced = response.headers.get(V2_HEADERS.version);
      this.#versions.set(peer, new Set((announced ?? "1").split(",").map((v) => v.trim())));
    }

    // 6. open: an answer that claims encryption is verified and decrypted, or refused
    let plain = bytes;
    let encrypted = claimsEncryption(response.headers);
    if (context !== undefined) {
      // v2: only an answer sealed for this very request opens
      encrypted = sealedV2(response.headers);
      if (encrypted) plain = await openV2(v2!, context, response.status, response.headers, bytes);
      else if (!CLEAR_REFUSALS.has(response.status) || claimsEncryption(response.headers)) {
        // a server answers in clear only the refusals made before the body opened
        throw new ClientError(
          "USRV_ERR_CLIENT_NOT_ENCRYPTED",
          `${label}: a v2-sealed answer was asked for and ${claimsEncryption(response.headers) ? "a v1" : `a plaintext ${response.status}`} one came back: refused`,
        );
      }
    } else if (encrypted) {
      crypto ??= await platform.loadCrypto();
      identity ??= await this.keypair();
      plain = utf8.encode(open(crypto, identity, puk, response.headers, latin1.decode(bytes)));
    } else if (puk !== undefined && bytes.length > 0 && response.status < 400) {
      throw new ClientError(
        "USRV_ERR_CLIENT_NOT_ENCRYPTED",
        `${label}: an encrypted answer was asked for and a plaintext one came back: refused`,
      );
    }

    // 7. decode by Content-Type; 8. an error status is a typed error
    const type = response.headers.get("content-type");
    if (response.status >= 400) {
      let body: unknown;
      try {
        body = await decodeBody(plain, type, FormData);
      } catch {
        body = new TextDecoder().decode(plain);
      }
      throw new ClientHttpError(response.status, body, response.headers, label);
    }
    let data: unknown = decodeBody(plain, type, FormData);
    if (data instanceof Promise) data = await data; // multipart only: the common path takes no extra turn
    return (
      options.full
        ? {
            status: response.status,
            headers: response.headers,
            data,
            encrypted,
            encryption: encrypted ? (context !== undefined ? "v2" : "v1") : null,
          }
        : data
    ) as T;
  }
}
