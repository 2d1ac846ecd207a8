/**
 * CORS (`usrv/cors`, issue 16 item 1): the Fetch standard's CORS protocol as
 * two hooks. Origins are an explicit list or a predicate, never whatever a
 * request's Origin says (reflecting any Origin with credentials is how a
 * hostile page reads a user's data: the lesson of Hono's CVE-2026-54290);
 * `credentials` with the wildcard is refused when the hooks are made.
 * Preflights are answered in `onRequest`, before routing, so a path needs no
 * OPTIONS route; every answer carries `Vary: Origin`.
 *
 * @example
 * import { cors } from "usrv/cors";
 * app.use(cors({ origins: ["https://app.example.com"], credentials: true }));
 */
import type { Hooks } from "../app/hooks.js";
import { knownKeys } from "../common/known-keys.js";
import type { Context } from "../common/types.js";
import { addToken } from "./vary.js";

/** Options of {@link cors}. */
export interface CorsOptions {
  /**
   * The origins admitted: a list of serialized origins
   * (`"https://app.example.com"`, `"http://localhost:5173"`), `["*"]` for any
   * (without credentials), or a check of the request's Origin.
   */
  origins: readonly string[] | ((origin: string) => boolean);
  /** Allow cookies and HTTP authentication (`Access-Control-Allow-Credentials: true`), default false. */
  credentials?: boolean;
  /** Methods a preflight admits, default GET, HEAD, POST, PUT, PATCH, DELETE. */
  methods?: readonly string[];
  /**
   * Request headers a preflight admits, default Content-Type, Authorization,
   * X-Request-Id and usrv's encryption headers; never the request's own list
   * reflected.
   */
  allowedHeaders?: readonly string[];
  /** Answer headers a page may read beyond the CORS-safelisted ones, default X-Request-Id and usrv's encryption headers. */
  exposedHeaders?: readonly string[];
  /** Seconds a browser may cache a preflight (`Access-Control-Max-Age`), default 600. */
  maxAge?: number;
}

/** usrv's encryption headers, v1 and v2 (docs/wire.md, docs/wire-v2.md): admitted and exposed alike. */
const ENCRYPTION = [
  "ephemeral-public-key",
  "sender-public-key",
  "sender-signature",
  "nonce",
  "response-nonce",
  "usrv-encryption",
  "usrv-record",
  "usrv-records",
];
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const HEADERS = ["content-type", "authorization", "x-request-id", ...ENCRYPTION];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function fail(why: string): never {
  throw new TypeError(`[usrv] cors: ${why}`);
}

/** A list of tokens (methods, header names), checked and joined for a header. */
function tokens(list: readonly string[] | undefined, fallback: readonly string[], what: string): string {
  const values = list ?? fallback;
  if (!Array.isArray(values) || !values.every((v) => typeof v === "string" && TOKEN.test(v)))
    fail(`${what} must be a list of tokens (e.g. ["GET", "POST"] or ["content-type"])`);
  return values.join(", ");
}

/** The check of a request's Origin, from the list or the predicate. */
function originCheck(origins: CorsOptions["origins"], credentials: boolean): (origin: string) => boolean {
  if (typeof origins === "function") return origins;
  if (!Array.isArray(origins) || origins.length === 0)
    fail('origins must be a non-empty list of origins, ["*"], or a function of the Origin');
  if (origins.includes("*")) {
    if (origins.length > 1) fail('"*" stands alone in origins');
    if (credentials)
      fail('credentials cannot go with origins ["*"]: list the origins that may send credentials');
    return () => true;
  }
  for (const o of origins) {
    let serialized: string | undefined;
    try {
      serialized = new URL(o).origin;
    } catch {}
    // "null" (sandboxed frames, file: pages) is an opaque origin anyone can send: never listed
    // "*.example.com" parses as a host: a pattern is not an origin (use a function)
    if (serialized !== o || o === "null" || o.includes("*"))
      fail(
        `${JSON.stringify(o)} is not a serialized origin (scheme://host[:port], no path, no trailing slash)`,
      );
  }
  const admitted = new Set(origins);
  return (origin) => admitted.has(origin);
}

/**
 * The CORS hooks: preflights answered in `onRequest` (204, or 204 without
 * CORS headers for an origin or method not admitted, which the browser then
 * refuses), and the CORS headers added to every other answer in `onResponse`
 * for an admitted Origin. Throws a TypeError for options it cannot honour.
 *
 * @example
 * app.use(cors({ origins: (o) => o.endsWith(".example.com") && o.startsWith("https://"), maxAge: 3600 }));
 */
export function cors(options: CorsOptions): Hooks {
  if (options === null || typeof options !== "object") fail("needs options: cors({ origins: [...] })");
  knownKeys("cors", options, [
    "origins",
    "credentials",
    "methods",
    "allowedHeaders",
    "exposedHeaders",
    "maxAge",
  ]);
  const credentials = options.credentials === true;
  const admitted = originCheck(options.origins, credentials);
  const wildcard = Array.isArray(options.origins) && options.origins[0] === "*";
  const methods = tokens(options.methods, METHODS, "methods");
  const allowed = tokens(options.allowedHeaders, HEADERS, "allowedHeaders");
  const exposed = tokens(options.exposedHeaders, ["x-request-id", ...ENCRYPTION], "exposedHeaders");
  const maxAge = options.maxAge ?? 600;
  if (!Number.isSafeInteger(maxAge) || maxAge < 0) fail("maxAge must be whole seconds >= 0");
  const methodSet = new Set(methods.split(", ").map((m) => m.toUpperCase()));
  const allow = (origin: string) => (wildcard ? "*" : origin);
  const preflight = (ctx: Context) =>
    ctx.method === "OPTIONS" && typeof ctx.headers["access-control-request-method"] === "string";

  return {
    onRequest(ctx) {
      const origin = ctx.headers.origin;
      const asked = ctx.headers["access-control-request-method"];
      if (ctx.method !== "OPTIONS" || typeof origin !== "string" || typeof asked !== "string")
        return undefined;
      // a preflight: answered here, whatever the path
      ctx.header("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      if (!admitted(origin) || !methodSet.has(asked.toUpperCase())) return [204];
      ctx.header("access-control-allow-origin", allow(origin));
      ctx.header("access-control-allow-methods", methods);
      ctx.header("access-control-allow-headers", allowed);
      ctx.header("access-control-max-age", maxAge);
      if (credentials) ctx.header("access-control-allow-credentials", "true");
      return [204];
    },
    onResponse(answer, ctx) {
      answer.headers.vary = addToken(answer.headers.vary, "Origin");
      const origin = ctx.headers.origin;
      // a preflight got its headers, or was refused, in onRequest; a handler's own are kept
      if (typeof origin !== "string" || preflight(ctx)) return undefined;
      if (answer.headers["access-control-allow-origin"] !== undefined) return undefined;
      if (!admitted(origin)) return undefined;
      answer.headers["access-control-allow-origin"] = allow(origin);
      if (credentials) answer.headers["access-control-allow-credentials"] = "true";
      if (exposed !== "") answer.headers["access-control-expose-headers"] = exposed;
      return undefined;
    },
  };
}
