/**
 * The client: a peer, a fetch, an identity, and the one place that chains
 * the steps of a call (C1-C5), in `call` below; each step is a function in
 * a file named after it (prepare.ts, encode.ts, sealing.ts, transport.ts,
 * answer.ts).
 */

import { platform } from "#platform";
import type { Keypair } from "../secp256k1/api.js";
import { answer, openAnswer } from "./answer.js";
import { type Endpoint, type EndpointSend, endpoint } from "./builder.js";
import { encodeBody } from "./encode.js";
import { ClientError } from "./errors.js";
import type { CallOptions, ClientOptions, FullAnswer } from "./options.js";
import { CALL_OPTIONS, CLIENT_OPTIONS, CONNECT_OPTIONS, checkClientOptions, seedOptions } from "./options.js";
import { type ClientDefaults, QUERY_METHODS, settle, target } from "./prepare.js";
import { CLIENT_VERSIONS, V2_HEADERS } from "./seal-v2.js";
import { sealing } from "./sealing.js";
import { type StreamedAnswer, streamAnswer } from "./stream.js";
import { exchange, type FetchLike, normalizeRetry } from "./transport.js";
import { normalizePeer } from "./url.js";

/**
 * An isolated client; see {@link createClient}.
 *
 * @example
 * const client = new Client({ peer: "http://127.0.0.1:5000" }); // as createClient does
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
  readonly #options: ClientDefaults;
  readonly #fetch: FetchLike;
  readonly #ownFetch: boolean;
  #peer: string | undefined;
  #identity: Promise<Keypair> | undefined;
  #connectError: ClientError | undefined;
  /** The encryption versions each peer said it speaks (`Usrv-Encryption`). */
  readonly #versions = new Map<string, Set<string>>();

  constructor(options: ClientOptions = {}) {
    checkClientOptions("createClient", options, CLIENT_OPTIONS);
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

  /**
   * The endpoint of any method, e.g. `client.endpoint("PROPFIND")`.
   *
   * @example
   * await client.endpoint("PROPFIND").files("a"); // PROPFIND /files/a
   */
  endpoint(method: string): Endpoint {
    return endpoint(method, sendOn(this));
  }

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
    return platform.loadCrypto().then((crypto) => {
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
    const { label, how, mode, spoken, headers, peer, sealed } = await this.#prepare(
      method,
      segments,
      values,
      options,
      false,
    );
    // 5. send, with timeout, signal and retries
    const { response, bytes } = await exchange(sealed.upload ?? this.#fetch, sealed.build, how);
    // connect asks which versions a peer speaks: learnt once, from that answer
    if (mode === "auto" && spoken === undefined && headers?.has(V2_HEADERS.version))
      this.#learn(peer, response);
    // 6. open: an answer that claims encryption is verified and decrypted, or refused
    let opened = openAnswer(response, bytes, sealed, label, () => this.keypair());
    if (opened instanceof Promise) opened = await opened;
    // 7. decode by Content-Type; 8. an error status is a typed error
    return answer(response, opened, label, options.full) as T;
  }

  /**
   * One call whose answer is read as it comes (an event stream of
   * usrv/stream, a large download): resolves once the head has come (the
   * timeout covers the head only) to a {@link StreamedAnswer}, an async
   * iterable of the body's chunks. Sealed in v2, it asks for sized records
   * (`Usrv-Records: sized`, docs/wire-v2.md "Live answers"), so that each
   * event opens and is yielded as soon as the server sends it. An error
   * status throws as `call` does; `full` has no effect.
   *
   * @example
   * const feed = await client.stream("GET", ["feed"], undefined, { puk });
   * for await (const event of feed) console.log(new TextDecoder().decode(event)); // "data: a\n\n"
   */
  async stream(
    method: string,
    segments: readonly string[],
    values?: unknown,
    options: CallOptions = {},
  ): Promise<StreamedAnswer> {
    const { label, how, sealed } = await this.#prepare(method, segments, values, options, true);
    const streamed = { ...how, streamed: true };
    const { response, bytes } = await exchange(sealed.upload ?? this.#fetch, sealed.build, streamed);
    return streamAnswer(response, bytes, sealed, label, () => this.keypair(), streamed);
  }

  /** Steps 1-4 of a call: its options, URL, body and sealing (`sized`: ask for sized records in v2). */
  async #prepare(
    method: string,
    segments: readonly string[],
    values: unknown,
    options: CallOptions,
    sized: boolean,
  ) {
    // 1. options: the call's over the client's; where (the peer), then how
    // long, how often, how much, which redirects (once step 2 names the call)
    checkClientOptions(sized ? "stream" : "call", options, CALL_OPTIONS);
    const peer = this.#peerFor(method, segments, options);
    // 2. URL: segments, and the values as the query for bodiless methods
    const { url, label } = target(method, segments, values, peer);
    const how = settle(method, options, this.#options, label);
    // 3. body: the values encoded
    const hasBody = !QUERY_METHODS.has(method) && values !== undefined;
    const encoded = hasBody ? await encodeBody(values, options.encoder) : undefined;
    // 4. seal: in clear, or for the server key, afresh for each attempt
    const headers = this.#headers(options);
    const mode = options.encryption ?? this.#options.encryption ?? "auto";
    const spoken = this.#versions.get(peer);
    let sealed = sealing({
      method,
      url,
      encoded,
      headers,
      puk: options.puk,
      mode,
      spoken,
      ownFetch: this.#ownFetch,
      keypair: () => this.keypair(),
      sized,
    });
    if (sealed instanceof Promise) sealed = await sealed;
    return { peer, label, how, mode, spoken, headers, sealed };
  }

  /** The peer of a call: its own, else the client's, else an error that says why there is none. */
  #peerFor(method: string, segments: readonly string[], options: CallOptions): string {
    if (options.peer !== undefined) return normalizePeer(options.peer);
    if (this.#peer !== undefined) return this.#peer;
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

  /** The client's headers and the call's, merged; undefined when neither has any (a bare request). */
  #headers(options: CallOptions): Headers | undefined {
    const mine = this.#options.headers;
    if (mine === undefined && options.headers === undefined) return undefined;
    const headers = new Headers(mine);
    if (options.headers) for (const [k, v] of new Headers(options.headers)) headers.set(k, v);
    return headers;
  }

  /**
   * The versions the peer speaks, when it says; silence to our question is
   * v1. Learnt once, from the answer to connect's question: no later answer
   * (where a proxy could add or change the header) moves a client back to v1.
   */
  #learn(peer: string, response: Response): void {
    if (response.status >= 400) return;
    const announced = response.headers.get(V2_HEADERS.version);
    this.#versions.set(peer, new Set((announced ?? "1").split(",").map((v) => v.trim())));
  }
}

/**
 * What the client's endpoints send through: the seed's underscore keys
 * taken out of the values and options, then `client.call`.
 *
 * @example
 * const GET = endpoint("GET", sendOn(client));
 */
export function sendOn(client: Client): EndpointSend {
  return (method, segments, values, given) => {
    const { values: rest, options } = seedOptions(values, given);
    return client.call(method, segments, rest, options);
  };
}
