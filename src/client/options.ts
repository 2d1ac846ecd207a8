/**
 * C3: the options of a client and of a call, and how a call's arguments
 * split into path segments, values and options. The seed's underscore
 * spellings (`_peer`, `_headers`, `_puk`, `_encoder`) are taken out of the
 * values, as the reference's keyword arguments were.
 */

import {
  type Check,
  checkOptions,
  count,
  either,
  oneOf,
  type Spec,
  secret,
  typeOf,
} from "../common/options.js";
import type { Keypair } from "../secp256k1/api.js";
import type { Encoder } from "./encode.js";
import { ClientError } from "./errors.js";
import type { Redirect } from "./redirect.js";
import type { FetchLike, RetryOptions } from "./transport.js";

/** Options of one call (the last argument of an endpoint call). */
export interface CallOptions {
  /** The server to call, instead of the client's peer. */
  peer?: string;
  /** More request headers. */
  headers?: HeadersInit;
  /**
   * The server's public key (from `GET.puk()`): the body is encrypted for
   * it and signed, with a fresh Nonce, and the answer is asked encrypted
   * (`Sender-Public-Key`) and must be signed by this very key.
   */
  puk?: string;
  /**
   * Which encryption a call with `puk` uses (default: the client's, "auto"):
   * "v2" (docs/wire-v2.md: our key bound into the encryption, the answer
   * bound to this request), "v1" (docs/wire.md, what Python usrv speaks), or
   * "auto": v2 once the peer has said it speaks it (`Usrv-Encryption`, which
   * `connect` asks for), else v1.
   */
  encryption?: Encryption;
  /** How the values become a body: "json" (default), "form", "multipart", or a function. */
  encoder?: Encoder;
  /**
   * Milliseconds for the whole answer, body included (default: the client's,
   * 30,000); 0: none. The call fails at the deadline; its connection is
   * closed at once if the answer has begun, else when it begins (a `signal`
   * aborts even a request the server never answers).
   */
  timeout?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
  /**
   * Most bytes of the answer's body, counted after Content-Encoding is undone
   * (default: the client's, 64 MiB; `Infinity`: no bound). A Content-Length
   * over it is refused before reading; past it, the body stops being read and
   * the connection is closed: `USRV_ERR_CLIENT_TOO_LARGE` (C8). An encrypted
   * answer counts its hex text, twice its plaintext.
   */
  maxBodySize?: number;
  /** Retries, for idempotent methods only (GET, HEAD, OPTIONS, PUT, DELETE): a count or {@link RetryOptions}. */
  retry?: number | RetryOptions;
  /**
   * Which redirects are followed (default: the client's, "same-origin"):
   * "same-origin", within the peer's origin only, so that headers, keys and
   * sealed bodies meant for it reach no other (`USRV_ERR_CLIENT_REDIRECT`
   * otherwise; in a browser, which hides where a redirect leads, none);
   * "follow", anywhere, as fetch does (it drops only Authorization and
   * Cookie); "manual", none: the 3xx answer is the answer.
   */
  redirect?: Redirect;
  /** Resolve to `{ status, headers, data, encrypted }` instead of the data alone. */
  full?: boolean;
  /** The seed's spellings, accepted too. */
  _peer?: string;
  _headers?: HeadersInit;
  _puk?: string;
  _encoder?: Encoder;
}

/** The body encryption of a call: a version, or "auto" (the newest the peer speaks). */
export type Encryption = "auto" | "v1" | "v2";

/** Options of `createClient`. */
export interface ClientOptions {
  /** The default server, e.g. "http://127.0.0.1:5000" (a base path is kept). */
  peer?: string;
  /** The fetch to call (default: the global one, looked up at each call). `(input, init) => app.request(input, init)` tests without a socket. */
  fetch?: FetchLike;
  /** The client's key pair, or a secret to derive it from (default: a random pair, made on first need). */
  identity?: Keypair | string;
  /** Default timeout of a call in ms (default 30,000). */
  timeout?: number;
  /** Default encryption of calls with `puk` (default "auto"); see {@link CallOptions.encryption}. */
  encryption?: Encryption;
  /** Headers sent with every call. */
  headers?: HeadersInit;
  /** Default retries of idempotent calls (default none). */
  retry?: number | RetryOptions;
  /** Default redirects followed (default "same-origin"); see {@link CallOptions.redirect}. */
  redirect?: Redirect;
  /**
   * Default bound on an answer's body in bytes, decoded (default
   * {@link DEFAULT_MAX_BODY_SIZE}, 64 MiB; `Infinity`: none); see {@link CallOptions.maxBodySize}.
   */
  maxBodySize?: number;
}

/**
 * Default bound on an answer's body: 64 MiB, far above what an API answers
 * in one document, so that a runaway or hostile peer (an endless stream, a
 * zip bomb) costs at most that much memory, not all of it.
 */
export const DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024;

/** An answer in full (`{ full: true }`). */
export interface FullAnswer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly data: T;
  /** True when the answer came encrypted and was verified and decrypted. */
  readonly encrypted: boolean;
  /** Which encryption the answer came in: "v2" (docs/wire-v2.md), "v1" (docs/wire.md), or null (plaintext). */
  readonly encryption: "v1" | "v2" | null;
}

const SEED_KEYS = ["_peer", "_headers", "_puk", "_encoder"] as const;

const ms: Check = (v) => (typeof v === "number" && v >= 0 ? undefined : "a number of milliseconds >= 0");
const headers: Check = (v) =>
  v !== null && typeof v === "object" ? undefined : "headers: an object, a list of pairs or a Headers";
const retry = either(ms, typeOf("object"));
const bytes = count("bytes", 0, true);
const encoder: Check = (v) =>
  v === "json" || v === "form" || v === "multipart" || typeof v === "function"
    ? undefined
    : '"json", "form", "multipart" or a function';
const signal: Check = (v) =>
  v !== null && typeof v === "object" && typeof (v as AbortSignal).aborted === "boolean"
    ? undefined
    : "an AbortSignal";

/** The options of a call, each with its check (C3): a typo is an error, never a silent default. */
// the key itself is checked when the call seals (USRV_ERR_CLIENT_BAD_KEY, whatever its type)
const key: Check = () => undefined;

const encryption = oneOf("auto", "v1", "v2");
const redirect = oneOf("same-origin", "follow", "manual");

/** The options of a call. */
export const CALL_OPTIONS: Spec = {
  peer: typeOf("string"),
  headers,
  puk: key,
  encryption,
  encoder,
  timeout: ms,
  signal,
  retry,
  redirect,
  maxBodySize: bytes,
  full: typeOf("boolean"),
  _peer: typeOf("string"),
  _headers: headers,
  _puk: key,
  _encoder: encoder,
};

/** The options of `createClient`. */
export const CLIENT_OPTIONS: Spec = {
  peer: typeOf("string"),
  fetch: typeOf("function"),
  identity: secret(either(typeOf("string"), typeOf("object"))),
  timeout: ms,
  encryption,
  headers,
  retry,
  redirect,
  maxBodySize: bytes,
};

/** The options of `FormData.dump`. */
export const DUMP_OPTIONS: Spec = { maxParts: count("parts", 0, true), maxBytes: bytes };

/** The options of `connect`. */
export const CONNECT_OPTIONS: Spec = { timeout: ms, signal };

/**
 * Checks options against their spec: an unknown key (with the near one) or
 * a wrong type is a `USRV_ERR_CLIENT_BAD_ARGUMENT`.
 *
 * @example
 * checkClientOptions("createClient", { peerr: "http://x" }, CLIENT_OPTIONS); // throws: did you mean "peer"?
 */
export function checkClientOptions(where: string, options: unknown, spec: Spec): void {
  checkOptions(where, options, spec, (m) => new ClientError("USRV_ERR_CLIENT_BAD_ARGUMENT", m));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The seed's underscore spellings (`_peer`, `_headers`, `_puk`, `_encoder`),
 * in the options or among the values (as the reference's keyword arguments
 * were), made options; the values without them. The caller's objects are
 * never changed. Only the client's own endpoints read them: a plugin's
 * values are its service's parameters, never a peer to send them to.
 *
 * @example
 * seedOptions({ value1: 1, _puk: puk }, {}); // { values: { value1: 1 }, options: { puk } }
 */
export function seedOptions(
  values: unknown,
  given: Readonly<Record<string, unknown>>,
): { values: unknown; options: CallOptions } {
  const options: Record<string, unknown> = { ...given };
  for (const key of SEED_KEYS) if (options[key] !== undefined) options[key.slice(1)] ??= options[key];
  if (!isPlainObject(values) || !SEED_KEYS.some((k) => Object.hasOwn(values, k)))
    return { values, options: options as CallOptions };
  const rest: Record<string, unknown> = Object.create(null); // "__proto__" stays a plain key
  for (const key of Object.keys(values)) {
    if ((SEED_KEYS as readonly string[]).includes(key)) options[key.slice(1)] ??= values[key];
    else rest[key] = values[key];
  }
  return { values: rest, options: options as CallOptions };
}
