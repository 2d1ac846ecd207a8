/**
 * Cookies (RFC 6265bis): the request's `Cookie` header read into a map, and
 * `Set-Cookie` lines written with checked attributes, signed when asked
 * (HMAC-SHA256 on @noble/hashes: the same sync code on every runtime). A
 * cookie that cannot be written as asked is a `TypeError` when set, never a
 * line a browser would read otherwise.
 */
import { knownKeys } from "../common/known-keys.js";

/** Attributes of `ctx.setCookie`. */
export interface CookieOptions {
  /** Seconds until it expires (0 deletes it; at most 400 days, RFC 6265bis). */
  maxAge?: number;
  /** When it expires, as a date. */
  expires?: Date;
  /** Default "/". */
  path?: string;
  domain?: string;
  /** Sent over HTTPS only. Required by `sameSite: "None"` and the `__Secure-`/`__Host-` prefixes. */
  secure?: boolean;
  /** Hidden from page scripts; default true. */
  httpOnly?: boolean;
  /** Default "Lax". */
  sameSite?: "Strict" | "Lax" | "None";
  /** CHIPS: partitioned by top-level site (needs `secure`). */
  partitioned?: boolean;
  /** Signed with the app's first `cookieKeys` key; read back with `ctx.cookie(name, { signed: true })`. */
  signed?: boolean;
}

/** RFC 9110 token: a cookie's name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * An attribute value: visible ASCII and spaces, no ";" (RFC 6265bis). Not
 * Latin-1 either: a browser matches a path against the percent-encoded
 * request path, and above U+00FF the line cannot be sent at all.
 */
function plain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x3b) return false;
  }
  return true;
}
/** A host name: labels of letters, digits and inner hyphens, a leading dot allowed (a browser ignores it). */
const DOMAIN = /^\.?(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const MAX_AGE = 400 * 24 * 3600;
const utf8 = new TextEncoder();

/**
 * The cookies of a `Cookie` header, by name, the first of a repeated name
 * winning (the most specific, as browsers order them); values
 * percent-decoded when they decode.
 *
 * @example
 * parseCookies("a=1; b=x%20y"); // { a: "1", b: "x y" }
 */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!header) return out;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name === "" || name in out) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value.includes("%")) {
      try {
        value = decodeURIComponent(value);
      } catch {} // not percent-encoding: kept as sent
    }
    out[name] = value;
  }
  return out;
}

/** Secrets for signed cookies, as bytes: the first signs, all verify (rotation). */
export type CookieKeys = readonly Uint8Array[];

/** HMAC-SHA256 (@noble/hashes), loaded by the first app that has cookie keys. */
let mac: ((key: Uint8Array, data: Uint8Array) => Uint8Array) | undefined;
/**
 * Set while HMAC-SHA256 loads: `handle` waits for it before any request, so
 * that signing and verifying stay synchronous. An app without cookie keys
 * never loads it (7 ms and 7 KB minified saved at start-up).
 */
export let macLoading: Promise<void> | undefined;

function loadMac(): void {
  if (mac !== undefined || macLoading !== undefined) return;
  macLoading = Promise.all([import("@noble/hashes/hmac.js"), import("@noble/hashes/sha2.js")]).then(
    ([{ hmac }, { sha256 }]) => {
      mac = (key, data) => hmac(sha256, key, data);
      macLoading = undefined;
    },
    (e: Error) => {
      // requests go on; signing or verifying then throws this (a 500)
      mac = () => {
        throw new Error(`[usrv] signed cookies: @noble/hashes failed to load: ${e.message}`);
      };
      macLoading = undefined;
    },
  );
}

/** Checks and converts the app's `cookieKeys` option; keys start loading HMAC-SHA256. */
export function cookieKeys(keys: readonly (string | Uint8Array)[]): CookieKeys {
  if (keys.length > 0) loadMac();
  return keys.map((k) => {
    const bytes = typeof k === "string" ? utf8.encode(k) : k;
    if (bytes.length < 32) {
      throw new TypeError(
        "[usrv] cookieKeys: each key must be at least 32 bytes of secret (e.g. 32 random bytes)",
      );
    }
    return bytes;
  });
}

function signature(key: Uint8Array, name: string, value: string): string {
  // loaded before the first request of an app with keys (see macLoading)
  const tag = mac!(key, utf8.encode(`${name}=${value}`));
  let bin = "";
  for (const b of tag) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Compares two strings in time that depends on their length only. */
function same(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Why a signed cookie cannot be written or read: the app has no keys. */
const NO_KEYS = "signed cookies need keys: createApp({ cookieKeys: [secret] })";

/**
 * The value of a signed cookie when its signature holds for `name` under one
 * of `keys`, else `undefined` (absent, unsigned, forged or signed by a key
 * no longer listed). Without keys a `TypeError`, as when one is set: every
 * signed cookie would read as absent, silently.
 */
export function unsign(keys: CookieKeys, name: string, signed: string | undefined): string | undefined {
  if (keys.length === 0) throw new TypeError(`[usrv] cookie ${JSON.stringify(name)}: ${NO_KEYS}`);
  if (signed === undefined) return undefined;
  const dot = signed.lastIndexOf(".");
  if (dot < 0) return undefined;
  const value = signed.slice(0, dot);
  const mac = signed.slice(dot + 1);
  for (const key of keys) if (same(mac, signature(key, name, value))) return value;
  return undefined;
}

/** The attributes `CookieOptions` names: any other key is a typo. */
const OPTIONS = [
  "maxAge",
  "expires",
  "path",
  "domain",
  "secure",
  "httpOnly",
  "sameSite",
  "partitioned",
  "signed",
];

/**
 * One `Set-Cookie` line, or a `TypeError` naming what cannot be written.
 *
 * @example
 * serializeCookie("sid", "abc", { maxAge: 3600 }, []); // "sid=abc; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax"
 */
export function serializeCookie(
  name: string,
  value: string,
  options: CookieOptions,
  keys: CookieKeys,
): string {
  const fail = (why: string) => new TypeError(`[usrv] cookie ${JSON.stringify(name)}: ${why}`);
  if (typeof name !== "string" || !TOKEN.test(name)) throw fail("the name must be a token (RFC 9110)");
  if (typeof value !== "string") throw fail(`the value must be a string, not ${typeof value}`);
  // a typo must not turn signing off unseen ({ sigend: true })
  knownKeys(`cookie ${JSON.stringify(name)}`, options, OPTIONS);
  let text: string;
  try {
    text = encodeURIComponent(value);
  } catch {
    throw fail("the value holds a lone surrogate (half of a UTF-16 pair), which UTF-8 cannot encode");
  }
  if (options.signed) {
    if (keys.length === 0) throw fail(NO_KEYS);
    text = `${text}.${signature(keys[0]!, name, value)}`; // over the value as read back (decoded)
  }
  let line = `${name}=${text}`;
  const { maxAge, expires, domain, secure, partitioned } = options;
  const path = options.path ?? "/";
  const sameSite = options.sameSite ?? "Lax";
  if (maxAge !== undefined) {
    if (!Number.isInteger(maxAge) || maxAge < 0 || maxAge > MAX_AGE)
      throw fail("maxAge must be whole seconds from 0 to 400 days (RFC 6265bis)");
    line += `; Max-Age=${maxAge}`;
  }
  if (expires !== undefined) {
    if (!(expires instanceof Date) || Number.isNaN(expires.getTime()))
      throw fail("expires must be a valid Date");
    line += `; Expires=${expires.toUTCString()}`;
  }
  if (!plain(path) || !path.startsWith("/"))
    throw fail('path must start with "/" and hold only visible ASCII or spaces, no ";"');
  // RFC 6265bis 5.6: a browser ignores an attribute value over 1,024 bytes (the cookie then scopes itself)
  if (path.length > 1024) throw fail("path is over 1,024 bytes, which a browser ignores");
  line += `; Path=${path}`;
  if (domain !== undefined) {
    if (!DOMAIN.test(domain)) throw fail("domain must be a host name");
    if (domain.length > 1024) throw fail("domain is over 1,024 bytes, which a browser ignores");
    line += `; Domain=${domain}`;
  }
  if (secure) line += "; Secure";
  if (options.httpOnly ?? true) line += "; HttpOnly";
  if (sameSite !== "Strict" && sameSite !== "Lax" && sameSite !== "None")
    throw fail('sameSite must be "Strict", "Lax" or "None"');
  line += `; SameSite=${sameSite}`;
  if (partitioned) line += "; Partitioned";
  // RFC 6265bis: the rules a browser applies, so that no cookie is set that would be dropped
  if (sameSite === "None" && !secure) throw fail('sameSite "None" needs secure: true');
  if (partitioned && !secure) throw fail("partitioned needs secure: true");
  // in any case: RFC 6265bis has browsers match the prefixes case-insensitively (a server that reads
  // names so must not take "__host-" for a cookie the prefix vouches for), and drop a line that breaks them
  const lower = name.toLowerCase();
  if (lower.startsWith("__secure-") && !secure) throw fail("the __Secure- prefix needs secure: true");
  if (lower.startsWith("__host-") && (!secure || path !== "/" || domain !== undefined))
    throw fail('the __Host- prefix needs secure: true, path "/" and no domain');
  if (utf8.encode(`${name}=${text}`).length > 4096) throw fail("name and value are over 4,096 bytes");
  return line;
}
