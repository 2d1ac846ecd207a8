/**
 * Groups: routes under a path prefix that share settings (body limit,
 * timeout, encryption, allowed senders) and hooks, each overridable inside;
 * and mounting another app's routes under a prefix. The app is the group of
 * every route, with no prefix; `bind` lives here.
 */

import { BindError } from "../common/errors.js";
import {
  type Check,
  checkOptions,
  count,
  delay,
  either,
  kind,
  oneOf,
  type Spec,
  strings,
  typeOf,
} from "../common/options.js";
import { isStandardSchema } from "../common/standard-schema.js";
import type {
  BindOptions,
  Bound,
  Context,
  PositionalHandler,
  Result,
  Values,
  ValuesOf,
} from "../common/types.js";
import type { CookieKeys } from "../core/cookies.js";
import { readShape, type Shape } from "../core/params.js";
import { normalisePath, parsePattern } from "../core/path.js";
import type { Router } from "../core/router.js";
import type { RouteSchemas } from "../core/validate.js";
import { wsRoute } from "../ws/route.js";
import type { WsHandlers, WsOptions, WsRoute } from "../ws/types.js";
import {
  type BeforeHandle,
  type Hooks,
  type NotFound,
  type OnError,
  type OnRequest,
  type OnResponse,
  Scope,
} from "./hooks.js";
import type { Route } from "./route.js";

/** Settings a group gives its routes; `bind` and a group inside may override each. */
export interface GroupOptions {
  /** Hooks of the group's routes, run inside the app's (see "Hooks" in the README). */
  hooks?: Hooks;
  /** Body limit in bytes (default: the enclosing group's, then the app's). */
  bodyLimit?: number;
  /** Most pairs of a form body or top-level keys of a JSON object (default: the enclosing group's, then the app's). */
  maxKeys?: number;
  /** Most nesting of a JSON body (default: the enclosing group's, then the app's). */
  maxDepth?: number;
  /** Longest time in ms an async handler may take before a 503 (default: the enclosing group's, then the app's). */
  timeout?: number;
  /** As `bind`'s: `true` (v1 or v2) or `"v2"` refuses requests that are not encrypted and signed. */
  encrypted?: boolean | "v2";
  /** As `bind`'s: the sender keys admitted, or a check of the canonical key. */
  allow?: readonly string[] | ((publicKey: string) => boolean);
}

/**
 * `bind`'s overloads under a prefix: object style (typed from the full path) first, positional second.
 * Object style returns the handler, its type kept whole (literal statuses
 * included, hence `const R`) and marked with its options ({@link Bound}), so
 * that `usrv types` can type a client from it. `| Promise<Result>` keeps the
 * contextual type of an answer R cannot be inferred from
 * (`() => new Promise(() => {})` would infer `Promise<unknown>`).
 */
export interface Bind<Prefix extends string = ""> {
  <P extends string, const R extends Result | Promise<Result>>(
    path: P,
    fn: (values: Values<`${Prefix}${P}`>, ctx: Context) => R | Promise<Result>,
  ): Bound<{}, (values: Values<`${Prefix}${P}`>, ctx: Context) => R>;
  <P extends string, const O extends BindOptions, const R extends Result | Promise<Result>>(
    path: P,
    options: O,
    fn: (values: ValuesOf<`${Prefix}${P}`, O>, ctx: Context) => R | Promise<Result>,
  ): Bound<O, (values: ValuesOf<`${Prefix}${P}`, O>, ctx: Context) => R>;
  (path: string, fn: PositionalHandler): PositionalHandler;
  (path: string, options: BindOptions, fn: PositionalHandler): PositionalHandler;
}

/** What a group needs of its app. */
export interface Owner {
  readonly router: Router<Route>;
  /** WebSocket routes (`ws`), apart: an ordinary GET to their path is no match. */
  readonly wsRouter: Router<WsRoute>;
  readonly cookieKeys: CookieKeys;
  readonly bodyLimit: number;
  readonly maxKeys: number;
  readonly maxDepth: number;
  readonly timeout: number;
  /** Check answers against the routes' response schemas (`createApp({ checkResponses })`). */
  readonly checkResponses: boolean;
}

/** What a group inherits from its enclosing group, then the app. */
type Setting = "bodyLimit" | "maxKeys" | "maxDepth" | "timeout" | "encrypted" | "allow";

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // RFC 9110 token

const ALLOW = either(strings("{ allow: [publicKey1, publicKey2] }"), typeOf("function"));
const ENCRYPTED = either(typeOf("boolean"), oneOf("v2"));

/** A Standard Schema (zod, valibot, ArkType...). */
const SCHEMA: Check = (v) =>
  isStandardSchema(v) ? undefined : "a Standard Schema (zod, valibot, ArkType...)";
/** One schema for every 2xx answer, or one per status. */
const RESPONSE: Check = (v) =>
  isStandardSchema(v) ||
  (typeOf("object")(v) === undefined &&
    Object.entries(v as object).every(([k, s]) => /^[1-5]\d\d$/.test(k) && isStandardSchema(s)))
    ? undefined
    : "a Standard Schema, or one per status ({ 200: schema, 404: schema })";

const BIND_OPTIONS: Spec = {
  methods: strings('{ methods: ["GET", "POST"] }', 1),
  params: either(strings('{ params: ["a", "b"] }'), SCHEMA),
  style: oneOf("object", "positional"),
  bodyLimit: count("bytes"),
  timeout: delay(1),
  encrypted: ENCRYPTED,
  allow: ALLOW,
  maxKeys: count("keys", 1),
  maxDepth: count("levels", 1),
  query: SCHEMA,
  body: either(SCHEMA, oneOf("stream")),
  uploads: typeOf("object"),
  headers: SCHEMA,
  response: RESPONSE,
};

const UPLOAD_OPTIONS: Spec = {
  dir: typeOf("string"),
  maxFileSize: count("bytes", 1),
  maxFiles: count("files", 1),
  maxTotal: count("bytes", 1),
};

const GROUP_OPTIONS: Spec = {
  hooks: typeOf("object"),
  bodyLimit: count("bytes"),
  maxKeys: count("keys", 1),
  maxDepth: count("levels", 1),
  timeout: delay(1),
  encrypted: ENCRYPTED,
  allow: ALLOW,
};

/**
 * Routes under one prefix with shared settings and hooks. Made by
 * `app.group(prefix, options, (g) => ...)`; the app itself is one.
 *
 * @example
 * app.group("/v1", { timeout: 5_000, hooks: { onRequest: auth } }, (v1) => {
 *   v1.bind("/user/<int:id>", ({ id }) => [200, id]); // GET /v1/user/42
 * });
 */
export class Group<Prefix extends string = ""> {
  /** The full prefix ("" for the app). */
  readonly prefix: string;
  /** The hooks of this group, inside its enclosing group's. */
  readonly scope: Scope;
  readonly #owner: Owner | null;
  readonly #parent: Group<string> | null;
  readonly #options: GroupOptions;

  /** `owner` null: this is the app itself. */
  constructor(owner: Owner | null, parent: Group<string> | null, prefix: string, options: GroupOptions) {
    this.#owner = owner;
    this.#parent = parent;
    this.prefix = prefix;
    this.#options = options;
    this.scope = new Scope(parent?.scope ?? null, prefix);
    if (options.hooks !== undefined) this.scope.add(options.hooks, `${this.#where()} hooks`);
  }

  get #app(): Owner {
    return this.#owner ?? (this as unknown as Owner);
  }

  #where(): string {
    return this.#owner === null ? "createApp" : `group("${this.prefix}")`;
  }

  /** A setting as this group gives it: its own, else its enclosing group's, else the app's. */
  #setting<K extends Setting>(key: K): GroupOptions[K] {
    const own = this.#options[key];
    if (own !== undefined) return own;
    if (this.#parent !== null) return this.#parent.#setting(key);
    return key === "encrypted" || key === "allow"
      ? undefined
      : (this.#app[key as Exclude<Setting, "encrypted" | "allow">] as GroupOptions[K]);
  }

  /**
   * Binds a function to a path under this group's prefix (B1-B4). Returns
   * the function, like the seed's decorator.
   *
   * @example
   * app.bind("/test", ({ a, b }) => [200, a, b]);
   * app.bind("/vargs", function (a, b, ...args) { return [200, a, b, args]; });
   * app.bind("/api/endpoint", { methods: ["GET", "POST"] }, ({ a, b, method, data }) =>
   *   method === "POST" ? [202, data] : [200, a, b]);
   */
  readonly bind: Bind<Prefix> = (path: string, a: BindOptions | Function, b?: Function): any => {
    const [options, fn] = typeof a === "function" ? [{} as BindOptions, a] : [a ?? {}, b];
    if (typeof path !== "string")
      throw new BindError(`bind(path, ...) needs the path as a string, not ${kind(path)}`);
    if (typeof fn !== "function") throw new BindError(`bind("${path}", ...) needs a function to call`);
    checkOptions(`bind("${path}")`, options, BIND_OPTIONS, (m) => new BindError(m));
    const full = joinPath(this.prefix, path);
    const shape = shapeOf(fn, options);
    const methods = [...new Set((options.methods ?? ["GET"]).map((m) => m.toUpperCase()))];
    for (const m of methods)
      if (!METHOD.test(m)) throw new BindError(`invalid method ${JSON.stringify(m)} for "${full}"`);
    const allow = allowed(full, options.allow ?? this.#setting("allow"));
    const encrypted = options.encrypted ?? this.#setting("encrypted");
    const intake = intakeOf(full, options, encrypted === true || encrypted === "v2" || allow !== null);
    const app = this.#app;
    for (const method of methods) {
      this.#add({
        method,
        pattern: full,
        label: `${method} ${full}`,
        fn,
        shape,
        bodyLimit: options.bodyLimit ?? (this.#setting("bodyLimit") as number),
        bodyShape: {
          maxKeys: options.maxKeys ?? (this.#setting("maxKeys") as number),
          maxDepth: options.maxDepth ?? (this.#setting("maxDepth") as number),
        },
        timeout: options.timeout ?? (this.#setting("timeout") as number),
        encrypted: encrypted === "v2" ? "v2" : encrypted === true || allow !== null,
        allow,
        cookieKeys: app.cookieKeys,
        scope: this.scope,
        intake,
        schemas: schemasOf(options, app.checkResponses),
      });
    }
    return fn;
  };

  /**
   * Binds a WebSocket route under this group's prefix, on the `ws` package
   * (an optional peer: `npm install ws`), loaded on the first upgrade. The
   * group's `onRequest` hooks run before the upgrade, and a result they
   * return is sent as a plain HTTP answer instead. Node only (`run`,
   * `usrv serve`, or `nodeUpgrade` from `usrv/ws` on your own server).
   *
   * @example
   * app.ws("/chat/<int:room>", {
   *   open: (ws) => ws.send(`welcome to room ${ws.params.room}`),
   *   message: (ws, data) => ws.send(data),
   * }, { maxPayload: 64 * 1024 });
   */
  ws<P extends string>(path: P, handlers: WsHandlers<`${Prefix}${P}`>, options: WsOptions = {}): this {
    if (typeof path !== "string")
      throw new BindError(`ws(path, ...) needs the path as a string, not ${kind(path)}`);
    const full = joinPath(this.prefix, path);
    const sealed = Boolean(this.#setting("encrypted")) || this.#setting("allow") !== undefined;
    const timeout = this.#setting("timeout") as number;
    const { cookieKeys } = this.#app;
    const route = wsRoute(full, handlers as WsHandlers, options, {
      timeout,
      cookieKeys,
      scope: this.scope,
      sealed,
    });
    this.#addWs(route);
    return this;
  }

  #addWs(route: WsRoute): void {
    route.pattern = this.#app.wsRouter.add("GET", route.pattern, route).pattern;
    route.label = `WS ${route.pattern}`;
  }

  #add(route: Route): void {
    const { pattern } = this.#app.router.add(route.method, route.pattern, route);
    route.pattern = pattern;
    route.label = `${route.method} ${pattern}`;
  }

  /**
   * Routes under `prefix` (inside this group's), with shared settings and
   * hooks; `define` binds them on the group it is given. Returns the group.
   *
   * @example
   * app.group("/admin", { encrypted: "v2", allow: [adminKey] }, (admin) => {
   *   admin.bind("/users", () => [200, users]);
   * });
   */
  group<G extends string>(
    prefix: G,
    options: GroupOptions,
    define?: (group: Group<`${Prefix}${G}`>) => void,
  ): Group<`${Prefix}${G}`>;
  group<G extends string>(
    prefix: G,
    define?: (group: Group<`${Prefix}${G}`>) => void,
  ): Group<`${Prefix}${G}`>;
  group(prefix: string, a?: GroupOptions | Function, b?: Function): any {
    const [options, define] = typeof a === "function" ? [{}, a] : [a ?? {}, b];
    const full = joinPrefix(this.prefix, prefix, "group");
    checkOptions(`group("${full}")`, options, GROUP_OPTIONS, (m) => new BindError(m));
    if (define !== undefined && typeof define !== "function") {
      throw new BindError(`group("${full}", options, define): define is a function that binds on the group`);
    }
    const group = new Group<string>(this.#app, this as unknown as Group<string>, full, options);
    define?.(group);
    return group;
  }

  /**
   * Serves another app's routes under `prefix`, with its hooks inside this
   * group's, as they are now (later bindings on `other` are not seen). Each
   * route keeps the settings it was bound with; the requests go through this
   * app (its logger, replay memory and key pair).
   *
   * @example
   * const admin = createApp();
   * admin.bind("/stats", () => [200, stats()]);
   * app.mount("/admin", admin); // GET /admin/stats
   */
  mount(prefix: string, other: Group<string>): this {
    const full = joinPrefix(this.prefix, prefix, "mount");
    if (!(other instanceof Group) || other.#owner !== null) {
      throw new BindError(`mount("${full}", app) takes an app made by createApp, not ${kind(other)}`);
    }
    if (other === (this.#app as unknown))
      throw new BindError(`mount("${full}", app): an app cannot mount itself`);
    // this group's encryption and allowed senders hold for what it mounts: the stricter of both
    const encrypted = this.#setting("encrypted");
    const allow = allowed(full, this.#setting("allow"));
    const sockets = (other as unknown as Owner).wsRouter.entries();
    if ((encrypted || allow !== null) && sockets.length > 0) {
      throw new BindError(
        `mount("${full}", app): ${sockets[0]![1].label} would be served where requests must be encrypted and signed, which a WebSocket upgrade cannot carry; mount it outside that group`,
      );
    }
    // its routes sign and verify with this app's keys: one of its own that this app lacks would
    // turn every cookie it signed into an absent one, or every signing into a 500, unseen until then
    const keys = this.#app.cookieKeys;
    const missing = (other as unknown as Owner).cookieKeys.some(
      (k) => !keys.some((m) => m.length === k.length && m.every((b, i) => b === k[i])),
    );
    if (missing) {
      throw new BindError(
        `mount("${full}", app): the mounted app has cookieKeys the mounting app lacks, and its routes sign and verify cookies with the mounting app's; list them in the mounting app's createApp({ cookieKeys })`,
      );
    }
    const copies = new Map<Scope, Scope>();
    this.scope.adopt(other.scope, full, copies);
    for (const [, route] of (other as unknown as Owner).router.entries()) {
      const both =
        route.allow !== null && allow !== null
          ? (k: string) => allow(k) && route.allow!(k)
          : (route.allow ?? allow);
      if (route.intake !== null && (encrypted === true || encrypted === "v2" || both !== null))
        throw new BindError(encryptedIntake(joinPath(full, route.pattern)));
      this.#add({
        ...route,
        pattern: joinPath(full, route.pattern),
        scope: copies.get(route.scope) ?? this.scope,
        encrypted:
          route.encrypted === "v2" || encrypted === "v2"
            ? "v2"
            : route.encrypted || encrypted === true || both !== null,
        allow: both,
        cookieKeys: this.#app.cookieKeys,
      });
    }
    for (const [, route] of sockets) {
      this.#addWs({
        ...route,
        pattern: joinPath(full, route.pattern),
        scope: copies.get(route.scope) ?? this.scope,
        cookieKeys: this.#app.cookieKeys,
      });
    }
    return this;
  }

  /**
   * Adds a set of hooks at once, as middleware gives them (`usrv/cors`,
   * `usrv/otel`): each kind runs where its own method would put it.
   *
   * @example
   * app.use(cors({ origins: ["https://app.example.com"] }));
   */
  use(hooks: Hooks): this {
    if (hooks === null || typeof hooks !== "object") {
      throw new BindError(
        `use(hooks) takes an object of hooks ({ onRequest, onResponse, ... }), not ${kind(hooks)}`,
      );
    }
    this.scope.add(hooks, `${this.#owner === null ? "app" : `group("${this.prefix}")`}.use`);
    return this;
  }

  /** Adds `onRequest` hooks: before the body is read, the route known or not; a result answers now. */
  onRequest(...hooks: OnRequest[]): this {
    return this.#hook({ onRequest: hooks });
  }

  /** Adds `beforeHandle` hooks: values bound, before the handler; a result answers instead. */
  beforeHandle(...hooks: BeforeHandle[]): this {
    return this.#hook({ beforeHandle: hooks });
  }

  /** Adds `onResponse` hooks: every answer, before it is sealed; change it or return a result. */
  onResponse(...hooks: OnResponse[]): this {
    return this.#hook({ onResponse: hooks });
  }

  /** Adds `onError` hooks: any error answer becomes what the hook returns (your own envelope). */
  onError(...hooks: OnError[]): this {
    return this.#hook({ onError: hooks });
  }

  /** Sets the answer for paths under this group that no route matches. */
  notFound(hook: NotFound): this {
    return this.#hook({ notFound: hook });
  }

  #hook(hooks: Hooks): this {
    const name = Object.keys(hooks)[0]!;
    this.scope.add(hooks, `${this.#owner === null ? "app" : `group("${this.prefix}")`}.${name}`);
    return this;
  }
}

/** `path` under `prefix` ("/" is the prefix itself). */
function joinPath(prefix: string, path: string): string {
  const p = normalisePath(path);
  return prefix === "" ? p : p === "/" ? prefix : `${prefix}${p}`;
}

/** A group's or a mount's full prefix: checked, normalised, "" for "/". */
function joinPrefix(outer: string, prefix: string, what: string): string {
  if (typeof prefix !== "string")
    throw new BindError(`${what}(prefix, ...) needs the prefix as a string, not ${kind(prefix)}`);
  const full = joinPath(outer, prefix);
  if (full.includes("<path:")) {
    throw new BindError(
      `${what}("${prefix}"): <path:...> takes the rest of a path, so it cannot be in a prefix`,
    );
  }
  parsePattern(full); // markups are checked now, not at the first bind
  return full === "/" ? "" : full;
}

/**
 * The `allow` option as a check of the sender's canonical key. A list is
 * compared by X coordinate, the part of a key a BIP340 signature proves, so
 * each key may be given in either of its (X, Y) and (X, p - Y) spellings.
 */
function allowed(path: string, allow: BindOptions["allow"]): Route["allow"] {
  if (allow === undefined || typeof allow === "function") return allow ?? null;
  const xs = new Set(
    allow.map((key) => {
      const x = xOf(key);
      if (x === null) {
        throw new BindError(
          `bind("${path}"): allow lists public keys as base64 of X||Y (88 characters), not ${JSON.stringify(key).slice(0, 40)}`,
        );
      }
      return x;
    }),
  );
  return (key) => xs.has(xOf(key)!);
}

/** 64 bytes as canonical, padded base64: 85 characters, one whose low bits are zero, then "==". */
const XY = /^[A-Za-z0-9+/]{85}[AQgw]==$/;

/**
 * The X coordinate of a base64 `X || Y` key, as text (one character a byte);
 * null when it is not 64 bytes of canonical base64. `atob` after the check,
 * not the crypto's decoder: the core's import graph stays free of it.
 */
function xOf(key: string): string | null {
  return XY.test(key) ? atob(key).slice(0, 32) : null;
}

/** An encrypted body must be read whole: its signature covers it, and it is opened before anything reads it. */
function encryptedIntake(path: string): string {
  return `"${path}": body: "stream" or uploads cannot go with encrypted or allow (an encrypted body is read whole)`;
}

/** How a route's body comes in (`body: "stream"`, `uploads`), checked at bind time. */
function intakeOf(path: string, options: BindOptions, encrypted: boolean): Route["intake"] {
  const { body, uploads } = options;
  if (body !== "stream" && uploads === undefined) return null;
  if (encrypted) throw new BindError(encryptedIntake(path));
  if (body === "stream") {
    if (uploads !== undefined)
      throw new BindError(
        `bind("${path}"): choose body: "stream" (read it yourself) or uploads (spooled), not both`,
      );
    return "stream";
  }
  checkOptions(`bind("${path}") uploads`, uploads, UPLOAD_OPTIONS, (m) => new BindError(m));
  const maxFileSize = uploads!.maxFileSize ?? 10 * 1024 * 1024;
  const maxFiles = uploads!.maxFiles ?? 10;
  return { dir: uploads!.dir, maxFileSize, maxFiles, maxTotal: uploads!.maxTotal ?? maxFileSize * maxFiles };
}

/** A route's schemas, `null` when it has none (the seed's binding, untouched). */
function schemasOf(options: BindOptions, checkResponses: boolean): RouteSchemas | null {
  const { query, headers, response } = options;
  const body = isStandardSchema(options.body) ? options.body : undefined;
  const params = isStandardSchema(options.params) ? options.params : undefined;
  if (!query && !body && !headers && !params && !response) return null;
  const inputs = Boolean(query || body || headers || params);
  const checkResponse = checkResponses && response !== undefined;
  return { params, query, body, headers, response, checkResponse, checks: inputs || checkResponse };
}

function shapeOf(fn: Function, options: BindOptions): Shape {
  if (options.style === "object") return { style: "object", arity: 2 };
  if (Array.isArray(options.params)) {
    return { style: "positional", names: [...options.params], rest: true, arrow: false }; // unread: `this` may be the context
  }
  const shape = readShape(fn, { positional: options.style === "positional" });
  if (options.style === "positional" && shape.style === "object") {
    throw new BindError(
      'style: "positional" given for a function whose first parameter is an object pattern',
    );
  }
  return shape;
}
