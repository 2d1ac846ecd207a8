/**
 * The app: a route table and its settings, with the two faces (`listener`,
 * `fetch`), `request` for tests without a socket, and `run`.
 */

import { ConsoleLogger, type Logger, parseLevel } from "../common/log.js";
import {
  type Check,
  checkOptions,
  count,
  delay,
  type Spec,
  secret,
  typeOf,
  withMethods,
} from "../common/options.js";
import { type CookieKeys, cookieKeys } from "../core/cookies.js";
import { Router } from "../core/router.js";
import { fetchHandler } from "../faces/fetch.js";
import type { nodeListener } from "../faces/node.js";
import type { RunOptions, ServerHandle, ServerOf } from "../faces/serve.js";
import type { Core } from "../pipeline.js";
import type { Keypair } from "../secp256k1/api.js";
import { loadCrypto } from "../secure/security.js";
import { MemoryReplayStore, type ReplayStore, type ReplayWindow } from "../stores/replay.js";
import type { WsRoute } from "../ws/types.js";
import { Group } from "./group.js";
import type { Hooks } from "./hooks.js";
import type { OpenAPIDocument, OpenAPIOptions } from "./openapi.js";
import type { Route } from "./route.js";

export type { Bind, GroupOptions } from "./group.js";

/** Options of `createApp`. */
export interface AppOptions {
  /** S5: level of the built-in logger, 1-100 or a name (default 20, info: an access line per request). */
  logLevel?: number | string;
  /** A pino-compatible logger instead of the built-in one. */
  logger?: Logger;
  /** Body limit in bytes for every route (default 1 MiB); `bind` can set its own. */
  bodyLimit?: number;
  /** Most pairs of a form body, or top-level keys of a JSON object body, default 1,000 (413 past it). */
  maxKeys?: number;
  /** Most nesting of a JSON body, default 64 (400 past it). */
  maxDepth?: number;
  /** Longest time in ms an async handler may take before a 503 USRV_ERR_TIMEOUT, default 30,000; `bind` can set its own. */
  timeout?: number;
  /** Longest request target (path and query) in bytes before a 414, default 8 KiB. */
  maxUrlLength?: number;
  /** Where used nonces are remembered (default: this process's memory). */
  replayStore?: ReplayStore;
  /** Oldest accepted Nonce in ms (default 10,000, as the reference). */
  maxNonceAge?: number;
  /** Farthest accepted future Nonce in ms (default 10,000; the reference has no bound). */
  maxNonceSkew?: number;
  /**
   * Most bytes of a handler's own Response sealed for a client that asked for
   * an encrypted answer (v1 encrypts and signs an answer whole), default
   * 8 MiB; a larger answer is a 500 `USRV_ERR_UNSEALABLE`.
   */
  sealLimit?: number;
  /**
   * Secrets for signed cookies (`ctx.setCookie(name, value, { signed: true })`),
   * each at least 32 bytes: the first signs, every one verifies, so a new key
   * goes first and an old one stays listed until its cookies expire.
   */
  cookieKeys?: readonly (string | Uint8Array)[];
  /** Hooks of every route (see "Hooks" in the README); `app.onRequest(...)` and the like add more. */
  hooks?: Hooks;
  /**
   * Check each answer against its route's `response` schema (a mismatch is a
   * 500 `USRV_ERR_BAD_RESPONSE` naming the route), default `false`: turn it
   * on in development and tests. Read when routes are bound.
   */
  checkResponses?: boolean;
}

const level: Check = (v) => {
  if (typeof v !== "number" && typeof v !== "string") return "a level, 1-100 or a name";
  try {
    parseLevel(v);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^\[usrv\] invalid log level .*?: use /, "");
  }
};

/** A list of secrets (text or bytes). */
const keyList: Check = (v) =>
  Array.isArray(v) && v.every((k) => typeof k === "string" || k instanceof Uint8Array)
    ? undefined
    : "a list of secrets (strings or Uint8Array), e.g. { cookieKeys: [process.env.COOKIE_KEY] }";

const APP_OPTIONS: Spec = {
  logLevel: level,
  logger: withMethods("a logger", "debug", "info", "warn", "error"),
  bodyLimit: count("bytes"),
  maxKeys: count("keys", 1),
  maxDepth: count("levels", 1),
  timeout: delay(1),
  maxUrlLength: count("bytes", 1),
  replayStore: secret(withMethods("a replay store", "checkAndAdd")), // a Redis URL in its place may hold a password
  maxNonceAge: count("milliseconds", 0, true),
  maxNonceSkew: count("milliseconds", 0, true),
  sealLimit: count("bytes"),
  cookieKeys: secret(keyList),
  hooks: typeOf("object"),
  checkResponses: typeOf("boolean"),
};

/** Default body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Default seal limit: 8 MiB. */
export const DEFAULT_SEAL_LIMIT = 8 * 1024 * 1024;

/** Most pairs of a form body, or top-level keys of a JSON object: no normal API reaches it (Express's urlencoded parameterLimit is 1,000 too). */
export const DEFAULT_MAX_KEYS = 1000;
/** Most nesting of a JSON body. */
export const DEFAULT_MAX_DEPTH = 64;

type NodeListener = ReturnType<typeof nodeListener>;
let nodeFace: Promise<typeof import("../faces/node.js")> | undefined;
/** The Node face's code (faces/node.ts): loaded once, by the first app whose `listener` is read, or by `run()`. */
const loadNodeFace = () => (nodeFace ??= import("../faces/node.js"));

/**
 * An app's Node listener, its code loading now: a request that comes before
 * it has loaded waits for it, in order. After that one call more per request.
 */
function lazyListener(app: App): NodeListener {
  let face: NodeListener | undefined;
  const loading = loadNodeFace().then((m) => {
    face = m.nodeListener(app);
  });
  return (req, res) => {
    if (face !== undefined) face(req, res);
    else void loading.then(() => face!(req, res));
  };
}

/**
 * An isolated usrv application.
 *
 * @example
 * const app = createApp();
 * app.bind("/<int:b>/<a>", ({ a, b }) => [200, a, b]);
 * const res = await app.request("/5/test"); // ["test", 5]
 */
export class App extends Group<""> implements Core {
  readonly router = new Router<Route>();
  logger: Logger;
  bodyLimit: number;
  readonly maxKeys: number;
  readonly maxDepth: number;
  /** Default handler timeout in ms. */
  timeout: number;
  /** Longest request target in bytes (414 beyond). */
  maxUrlLength: number;
  /** Most bytes of a handler's own Response sealed whole (500 beyond). */
  sealLimit: number;
  /**
   * The standard fetch handler `(Request) => Promise<Response>` (S2). Given
   * a URL or a path instead, it is `app.request(input, init)`, so that it
   * can stand in for `fetch` too (`createClient({ fetch: app.fetch })`).
   */
  readonly fetch: (request: Request | string | URL, info?: unknown) => Promise<Response>;
  readonly #options: AppOptions;
  #replayStore: ReplayStore | undefined;
  #unsigned: ReplayStore | undefined;
  /** @internal The keys of signed cookies: the first signs, each verifies. */
  readonly cookieKeys: CookieKeys;
  /** @internal Whether answers are checked against response schemas. */
  readonly checkResponses: boolean;
  #keypair: Promise<Keypair> | undefined;
  #publicKey: string | undefined;
  readonly replayWindow: ReplayWindow;
  #wsRouter: Router<WsRoute> | undefined;
  #listener: NodeListener | undefined;

  constructor(options: AppOptions = {}) {
    checkOptions("createApp", options, APP_OPTIONS, (m) => new TypeError(`[usrv] ${m}`));
    super(null, null, "", { hooks: options.hooks });
    this.#options = options;
    this.logger = options.logger ?? new ConsoleLogger(options.logLevel ?? 20);
    this.bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    this.maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.timeout = options.timeout ?? 30_000;
    this.maxUrlLength = options.maxUrlLength ?? 8 * 1024;
    this.sealLimit = options.sealLimit ?? DEFAULT_SEAL_LIMIT;
    this.cookieKeys = cookieKeys(options.cookieKeys ?? []);
    this.checkResponses = options.checkResponses ?? false;
    this.replayWindow = { maxAge: options.maxNonceAge ?? 10_000, maxSkew: options.maxNonceSkew ?? 10_000 };
    const handler = fetchHandler(this);
    this.fetch = (request, info) =>
      typeof request === "string" || request instanceof URL
        ? this.request(request, info as RequestInit | undefined)
        : handler(request, info);
  }

  /**
   * The Node `(req, res)` listener (S2), the fast path, for node:http,
   * node:https, http2's compatibility API, Express or Connect. Its code loads
   * when this is first read (an app served by `fetch` alone never loads it);
   * a request that comes before it has loaded waits for it.
   *
   * @example
   * http.createServer(app.listener).listen(5000);
   */
  get listener(): NodeListener {
    return (this.#listener ??= lazyListener(this));
  }

  /**
   * The memory of unsigned requests' nonces, this process's (10,000 entries,
   * the oldest forgotten first): a Nonce without a signature proves nothing,
   * so a flood of them must never fill the signed requests' `replayStore`.
   */
  get unsignedNonces(): ReplayStore {
    return (this.#unsigned ??= new MemoryReplayStore({ maxEntries: 10_000, evictOldest: true }));
  }

  /** The WebSocket routes (`app.ws`), made on first use. */
  get wsRouter(): Router<WsRoute> {
    return (this.#wsRouter ??= new Router());
  }

  /** The replay memory; the in-memory default is made on first use. */
  get replayStore(): ReplayStore {
    return (this.#replayStore ??= this.#options.replayStore ?? new MemoryReplayStore());
  }

  set replayStore(store: ReplayStore) {
    this.#replayStore = store;
  }

  /** The server's public key (base64 of X||Y), once `identify` ran or an encrypted request came. */
  get publicKey(): string | undefined {
    return this.#publicKey;
  }

  /**
   * I1: sets the server's key pair: random without an argument, derived from
   * a secret string, or from the secret stored with `usrv secret dump` when
   * given `{ pin }`. Resolves to the public key.
   *
   * @example
   * const puk = await app.identify("my secret passphrase");
   * app.bind("/puk", () => [200, app.publicKey]);
   */
  identify(secret?: string | { pin: string; home?: string }): Promise<string> {
    const pair = (async () => {
      const crypto = await loadCrypto();
      if (secret !== undefined && typeof secret === "object") {
        const { loadSecret } = await import("../secp256k1/secret-store.js");
        return crypto.generateKeypair(await loadSecret(secret.pin, { home: secret.home }));
      }
      return crypto.generateKeypair(secret);
    })();
    this.#keypair = pair;
    return pair.then((p) => (this.#publicKey = p.publicKey));
  }

  /**
   * The key pair the secure steps use (private key included: keep it on the
   * server); a random one is made on first need, with a warning.
   */
  keypair(): Promise<Keypair> {
    if (!this.#keypair) {
      this.logger.warn({}, "no identity set (app.identify): using a random key pair for this process");
      void this.identify();
    }
    return this.#keypair!;
  }

  /** Whether access lines are written (info enabled); checked per request so a logger's level can change. */
  get accessLog(): boolean {
    const l = this.logger;
    return l.isLevelEnabled ? l.isLevelEnabled("info") : true;
  }

  /**
   * Answers a request without a socket, through the fetch face. It is bound
   * and fetch-shaped, so it can stand in for `fetch` (e.g. in usrv/client).
   *
   * @example
   * const res = await app.request("/test?a=1", { method: "POST", body: "{}" });
   * const client = createClient({ peer: "http://app", fetch: app.request });
   */
  readonly request = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (input instanceof Request) return this.fetch(init ? new Request(input, init) : input);
    const path = String(input);
    const url = /^https?:\/\//.test(path)
      ? path
      : `http://localhost${path.startsWith("/") ? "" : "/"}${path}`;
    return this.fetch(new Request(url, init));
  };

  /**
   * S1: serves the app on node:http (S6: node:http2 with `http2: true`);
   * resolves once listening.
   *
   * @example
   * const server = await app.run({ host: "127.0.0.1", port: 5000, logLevel: 20 });
   * await server.close();
   * // HTTP/2 and HTTP/1.1 on one TLS port
   * await app.run({ port: 8443, http2: true, tls: { cert, key } });
   */
  async run<O extends RunOptions = {}>(options?: O): Promise<ServerHandle<ServerOf<O>>> {
    if (options?.logLevel !== undefined) {
      if (!(this.logger instanceof ConsoleLogger)) {
        throw new TypeError(
          "[usrv] run({ logLevel }) sets the built-in logger; set the level on your own logger instead",
        );
      }
      this.logger.level = parseLevel(options.logLevel);
    }
    const [{ serve }, peers] = await Promise.all([
      import("../faces/serve.js"), // node:http: loaded only to serve
      import("./peers.js"),
      loadNodeFace(), // loaded before the first request comes
    ]);
    const upgrade = await peers.loadPeers(this, options?.http2 === true && options.tls === undefined);
    const handle = (await serve(this.listener, this.logger, options)) as ServerHandle<ServerOf<O>>;
    return peers.withUpgrades(this, handle, options?.drainTimeout, upgrade);
  }

  /**
   * The OpenAPI 3.1 document of the routes bound so far (mounted and grouped
   * ones included): path markups as typed parameters, schemas as JSON
   * Schema, the error envelope. Loads its code on first call.
   *
   * @example
   * const doc = await app.openapi({ title: "Shop", version: "1.2.0" });
   * writeFileSync("openapi.json", JSON.stringify(doc, null, 2));
   */
  async openapi(options?: OpenAPIOptions): Promise<OpenAPIDocument> {
    const { openapi } = await import("./openapi.js");
    return openapi(
      this.router.entries().map(([, route]) => route),
      options,
    );
  }

  /**
   * Opt in: serves the OpenAPI document at `path` (GET and HEAD, default
   * `/openapi.json`), made on its first request from every route bound by
   * then, itself left out. Returns the app.
   *
   * @example
   * app.serveOpenAPI("/openapi.json", { title: "Shop", version: "1.2.0" });
   */
  serveOpenAPI(path = "/openapi.json", options: OpenAPIOptions = {}): this {
    let doc: Promise<OpenAPIDocument> | undefined;
    this.bind(path, { style: "object" }, async () => {
      doc ??= this.openapi({ ...options, exclude: [...(options.exclude ?? []), path] }).catch((e) => {
        doc = undefined; // the next request tries again
        throw e;
      });
      return [200, await doc];
    });
    return this;
  }
}

/**
 * Creates an isolated app.
 *
 * @example
 * const app = createApp({ logLevel: "warning", bodyLimit: 64 * 1024 });
 */
export function createApp(options?: AppOptions): App {
  return new App(options);
}
