/**
 * Public types. "The route string is the type": `PathParams<"/<int:b>/<a>">`
 * is `{ b: number; a: string }`.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { CookieOptions } from "../core/cookies.js";
import type { Logger } from "./log.js";
import type { StandardSchemaV1 } from "./standard-schema.js";

/**
 * Markup type -> TypeScript type. Augment it for your own converters:
 * `declare module "usrv" { interface ConverterTypes { hex: bigint } }`.
 */
export interface ConverterTypes {
  int: number;
  float: number;
  str: string;
  bool: boolean;
  uuid: string;
  /** `<path:rest>`: the rest of the path, slashes included (last segment only). */
  path: string;
}

type Seg<S> = S extends `<${infer C}:${infer N}>`
  ? { [K in N]: C extends keyof ConverterTypes ? ConverterTypes[C] : unknown }
  : S extends `<${infer N}>`
    ? { [K in N]: string }
    : {};
type Walk<P> = P extends `${infer H}/${infer T}` ? Seg<H> & Walk<T> : Seg<P>;
type Flat<T> = { [K in keyof T]: T[K] };

/** Path values by markup name, typed from the path literal. */
export type PathParams<P extends string> = string extends P ? Record<string, unknown> : Flat<Walk<P>>;

/** Request headers: a plain object with lower-case names (V7). */
export type RequestHeaders = IncomingHttpHeaders;

/** What every handler may read besides the named values (V5-V8). */
export interface RequestValues {
  /** The request method, upper case. */
  method: string;
  /** The request headers, lower-case names (V7). */
  headers: RequestHeaders;
  /** The raw body as text (decrypted first when it was encrypted), `null` when empty (V8). */
  data: string | null;
}

/**
 * The object-style argument: path values (typed), query and body values
 * (strings, or parsed JSON for JSON bodies), plus `method`, `headers`, `data`.
 */
export type Values<P extends string> = PathParams<P> & RequestValues & { [name: string]: unknown };

type Output<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : never;
/** A schema's output as named values: its keys when it is an object. */
type Named<S> = Output<S> extends object ? Output<S> : {};

/**
 * The object-style argument of a route with schemas (V10, V11): each schema's
 * output in place of what it checked. With a `params` schema its output types
 * the path values (and no query or body value overrides them); without one
 * the path literal does. Names no schema covers stay `unknown`.
 */
export type ValuesOf<P extends string, O> = Flat<
  (O extends { params: StandardSchemaV1 } ? Named<O["params"]> : PathParams<P>) &
    (O extends { query: StandardSchemaV1 } ? Named<O["query"]> : {}) &
    (O extends { body: StandardSchemaV1 } ? Named<O["body"]> : {}) & {
      method: string;
      headers: O extends { headers: StandardSchemaV1 } ? Output<O["headers"]> : RequestHeaders;
      data: string | null;
    }
> &
  (O extends { query: StandardSchemaV1; body: StandardSchemaV1 } ? {} : { [name: string]: unknown });

/** A file part of a multipart body, bound by its field name (V8). */
export interface UploadedFile {
  filename: string;
  type: string;
  data: Uint8Array;
}

/**
 * A file part of a multipart body spooled to disk on a route bound with
 * `uploads`, bound by its field name. The file is usrv's own (a name of its
 * choosing in a fresh folder of mode 0700); it is removed once the answer is
 * sent: move or copy it to keep it.
 */
export interface SpooledFile {
  /** The client's file name, base name only: metadata, never a path usrv writes to. */
  filename: string;
  /** The part's media type (`application/octet-stream` when it says none). */
  type: string;
  /** Bytes written. */
  size: number;
  /** Where the bytes are, until the answer is sent. */
  path: string;
}

/** Limits of a route bound with `uploads`: multipart file parts spooled to disk. */
export interface UploadOptions {
  /** The folder under which each request gets its own fresh folder (default: the OS's temporary folder). */
  dir?: string;
  /** Most bytes of one file (default 10 MiB): a 413 `USRV_ERR_FILE_TOO_LARGE` past it. */
  maxFileSize?: number;
  /** Most file parts (default 10): a 413 `USRV_ERR_TOO_MANY_FILES` past it. */
  maxFiles?: number;
  /** Most bytes of all files together (default maxFileSize * maxFiles): a 413 `USRV_ERR_UPLOAD_TOO_LARGE` past it. */
  maxTotal?: number;
}

/**
 * What hooks and handlers share on `ctx.state` for one request. Augment it
 * to type your own: `declare module "usrv" { interface State { user: User } }`.
 */
export interface State {
  [name: string]: unknown;
}

/** The request beside the values: second argument in object style, `this` in positional style. */
export interface Context {
  readonly method: string;
  /** The matched route's pattern (`/user/<int:id>`, a group's prefix included), `null` when none matched. */
  readonly route: string | null;
  /**
   * The request's id: the incoming `x-request-id` when it is 1-200 visible
   * ASCII characters, else a new UUID. It is in every log line of the request
   * and in usrv's error bodies (`"requestId"`).
   */
  readonly requestId: string;
  /**
   * A logger for this request: the app's logger's `child({ requestId })`
   * (pino's own when the app has a pino logger), so each line names the request.
   *
   * @example
   * ctx.log.info({ user }, "signed in");
   */
  readonly log: Logger;
  /**
   * Values hooks and the handler share for this request (a `beforeHandle`
   * hook puts the user there, the handler reads it). Prototype-less.
   *
   * @example
   * app.beforeHandle((_, ctx) => {
   *   ctx.state.user = sessions.get(ctx.cookie("sid", { signed: true }) ?? "");
   * });
   */
  readonly state: State;
  /**
   * The path as the client sent it, without the query string: still
   * percent-encoded (`/caf%C3%A9`), so that it can be logged or echoed
   * unambiguously; the path values (`params`) are the decoded ones.
   */
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly rawQuery: string;
  /** Every query value, repeated keys included (V4). */
  readonly query: URLSearchParams;
  /** The path values by markup name. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly headers: RequestHeaders;
  /** The raw body (decrypted when encrypted), `null` when empty (and on routes bound with `body: "stream"` or `uploads`). */
  readonly body: Uint8Array | null;
  /**
   * On a route bound with `body: "stream"`: the body as it arrives, made on
   * first read, counted against the route's `bodyLimit` as it flows (the
   * stream errors with the 413 `HttpError` past it, and the connection
   * closes); empty for a request without a body (on every face: a POST of
   * no bytes is no body on HTTP/1.1, an empty one on h2 and in a fetch
   * Request); `null` on other routes.
   *
   * @example
   * app.bind("/log", { methods: ["POST"], body: "stream", bodyLimit: 1 << 30, style: "object" }, async (_, ctx) => {
   *   let n = 0;
   *   for await (const chunk of ctx.stream!) n += chunk.length;
   *   return [200, n];
   * });
   */
  readonly stream: ReadableStream<Uint8Array> | null;
  /** The verified sender key of a signed request, in canonical form (base64 X||Y with even Y), else `null`. */
  readonly senderPublicKey: string | null;
  /** The client's address, when the face knows it. */
  readonly remoteAddress: string | null;
  /**
   * Fires when the client leaves before the answer is sent, or when the
   * route's timeout has answered 503 (its reason: that `HttpError`); on the
   * fetch face it follows `request.signal`. Pass it on to what the handler
   * awaits (`fetch(url, { signal: ctx.signal })`) so that the work stops.
   *
   * @example
   * app.bind("/report", { timeout: 5_000 }, async (_, ctx) => [200, await build({ signal: ctx.signal })]);
   */
  readonly signal: AbortSignal;
  /** The request's cookies by name (the first of a repeated name), percent-decoded. */
  readonly cookies: Readonly<Record<string, string>>;
  /**
   * One cookie; with `{ signed: true }`, its value only when its signature
   * holds under one of the app's `cookieKeys` (else `undefined`, as if absent).
   *
   * @example
   * const user = ctx.cookie("user", { signed: true }); // undefined when forged
   */
  cookie(name: string, options?: { signed?: boolean }): string | undefined;
  /**
   * Sets a header of the answer (an ordinary `[status, ...values]` result, or
   * your Response). A name that is not a token, a value with CR, LF or NUL,
   * or a header usrv sets itself (`content-length`, `set-cookie`...) throws.
   *
   * @example
   * app.bind("/items", { methods: ["POST"] }, ({ name }, ctx) => {
   *   ctx.header("location", `/items/${name}`);
   *   return [201, name];
   * });
   */
  header(name: string, value: string | number): this;
  /**
   * Adds a `Set-Cookie` line to the answer, with checked attributes (RFC
   * 6265bis): defaults `Path=/`, `HttpOnly`, `SameSite=Lax`; what a browser
   * would refuse (`SameSite=None` without `secure`, a `__Host-` cookie with a
   * domain...) throws. `{ signed: true }` appends an HMAC-SHA256 under the
   * app's first `cookieKeys` key.
   *
   * @example
   * ctx.setCookie("sid", token, { maxAge: 3600, secure: true, signed: true });
   */
  setCookie(name: string, value: string, options?: CookieOptions): this;
  /**
   * Expires a cookie now (`Max-Age=0`). Give the attributes it was set with
   * that a browser keys it by or checks: `path`, `domain`, and for a
   * partitioned (CHIPS) or `SameSite=None` cookie `partitioned`, `sameSite`
   * and `secure`, or the line addresses another cookie, or is refused.
   */
  deleteCookie(name: string, options?: Omit<CookieOptions, "maxAge" | "expires" | "signed">): this;
}

/** What a handler returns: `[status, ...values]` (R1) or a standard Response (R8). */
export type Result = readonly [number, ...unknown[]] | Response;

/**
 * What an object-style `bind` returns: the handler itself, its type marked
 * with the route's options. The mark is a type only (nothing is set at run
 * time): `usrv types` reads the options' schemas from it to type a client.
 *
 * @example
 * export const getUser = bind("/user/<int:id>", { query: z.object({ x: z.string() }) }, ({ id, x }) => [200, { id, x }]);
 * // typeof getUser: Bound<{ query: ... }, (values, ctx) => readonly [200, { id: number; x: string }]>
 */
export type Bound<O, F> = F & { readonly "~usrv"?: { readonly options: O } };

/** Object style: one values object (destructure it), and the context. */
export type ObjectHandler<P extends string> = (values: Values<P>, ctx: Context) => Result | Promise<Result>;

/**
 * Positional style: parameters filled by name, a rest parameter gets the
 * unexpected values (V5). Its return type is looser than `Result` because
 * TypeScript infers `unknown[]`, not a tuple, for a function whose parameters
 * are all annotated; the status is still checked when it runs (R3).
 */
export type PositionalHandler = (
  this: Context,
  ...args: any[]
) => Result | readonly unknown[] | Promise<Result | readonly unknown[]>;

/** Options of `bind` (all optional). */
export interface BindOptions {
  /** B1: methods answered, default `["GET"]`; any token is allowed. */
  methods?: readonly string[];
  /**
   * A schema of the path values (V10; its output types them, and a query
   * value can no longer override one), or, as a list, the parameter names
   * for the positional style, for code whose names do not survive a build.
   */
  params?: readonly string[] | StandardSchemaV1;
  /** A schema of the query values (an object of strings; repeated keys as the route reads them). */
  query?: StandardSchemaV1;
  /**
   * A schema of the body as parsed: JSON's value, a form's fields, else its
   * text. Or `"stream"`: the body is not read before the handler, which
   * reads it from `ctx.stream` (not with `encrypted`: a 400
   * `USRV_ERR_ENCRYPTED_STREAM` for a signed or encrypted request).
   */
  body?: StandardSchemaV1 | "stream";
  /**
   * Spool the file parts of a `multipart/form-data` body to a fresh
   * temporary folder instead of memory: each binds as a `SpooledFile`
   * (`{ filename, type, size, path }`), text parts as strings, and the
   * folder is removed once the answer is sent (also on an error, a
   * timeout or an abort). `bodyLimit` then bounds the text parts; other
   * bodies are read as usual.
   */
  uploads?: UploadOptions;
  /** A schema of the headers (an object, lower-case names). */
  headers?: StandardSchemaV1;
  /**
   * The answer's schema, checked only when `createApp({ checkResponses: true })`:
   * one for every 2xx, or one per status (`{ 200: item, 404: problem }`). It
   * checks the JSON value the answer writes (`[200, v]`: `v`).
   */
  response?: StandardSchemaV1 | { readonly [status: number]: StandardSchemaV1 };
  /** Force a style instead of reading it from the function. */
  style?: "object" | "positional";
  /** Body limit in bytes for this route (default: the app's, 1 MiB). */
  bodyLimit?: number;
  /**
   * Most pairs of a form body, or top-level keys of a JSON object body
   * (default: the group's, then the app's, 1,000): a 413 `USRV_ERR_TOO_MANY_KEYS`
   * before the body is parsed.
   */
  maxKeys?: number;
  /** Most nesting of a JSON body (default: the app's, 64): a 400 `USRV_ERR_TOO_DEEP` before it is parsed. */
  maxDepth?: number;
  /** Longest time in ms an async handler may take before a 503 (default: the app's, 30 s). */
  timeout?: number;
  /**
   * Refuse requests that are not encrypted and signed (403
   * USRV_ERR_ENCRYPTION_REQUIRED): `true` admits v1 and v2, `"v2"` only v2,
   * which binds the sender into the encryption and the answer to the request.
   */
  encrypted?: boolean | "v2";
  /**
   * Admit only these sender keys (403 USRV_ERR_FORBIDDEN_SENDER otherwise), on
   * signed requests. A list is matched by X coordinate (BIP340 proves X
   * only); a function gets the sender's key in canonical form (even Y, see
   * `canonicalKey` of `usrv/secp256k1`), the form `senderPublicKey` has.
   */
  allow?: readonly string[] | ((publicKey: string) => boolean);
}
