/**
 * Conditional requests (`usrv/conditional`, issue 16 item 3; RFC 9110
 * section 13): an `onResponse` hook gives a GET's 200 answer a weak ETag (a
 * hash of its body) unless it has one, and answers 304 Not Modified for a
 * matching `If-None-Match` (or, without one, a `Last-Modified` no later than
 * `If-Modified-Since`), 412 for a failed `If-Match` or
 * `If-Unmodified-Since`. An unsafe method (PUT, PATCH, DELETE) has to check
 * before it writes, which a hook after the handler cannot: the handler calls
 * `preconditions(ctx, { etag, lastModified })` with the current
 * representation's validators (`etagOf` makes one). On when asked:
 * `app.use(conditional())`.
 *
 * @example
 * import { conditional, etagOf, preconditions } from "usrv/conditional";
 * app.use(conditional());
 * app.bind("/doc/<id>", { methods: ["GET", "PUT"] }, async ({ id, method, data }, ctx) => {
 *   if (method === "PUT") {
 *     preconditions(ctx, { etag: await etagOf(JSON.stringify(docs.get(id))) }); // 412 on a lost update
 *     docs.set(id, JSON.parse(data));
 *     return [204];
 *   }
 *   return [200, docs.get(id)];
 * });
 */
import type { Hooks } from "../app/hooks.js";
import { HttpError } from "../common/errors.js";
import { knownKeys } from "../common/known-keys.js";
import type { Context } from "../common/types.js";

const utf8 = new TextEncoder();

/**
 * A weak ETag of a body: `W/"` + the first 128 bits of its SHA-256 in
 * base64url + `"` (WebCrypto: every runtime has it).
 *
 * @example
 * await etagOf('{"a":1}'); // 'W/"fT5B...Q"'
 */
export async function etagOf(body: string | Uint8Array): Promise<string> {
  const bytes = typeof body === "string" ? utf8.encode(body) : body;
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  let bin = "";
  for (const b of hash.subarray(0, 16)) bin += String.fromCharCode(b);
  return `W/"${btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}"`;
}

/** The entity tags of an If-Match or If-None-Match field; `"*"` for any. */
function tags(field: string): string[] | "*" {
  if (field.trim() === "*") return "*";
  return [...field.matchAll(/(?:W\/)?"[^"]*"/g)].map((m) => m[0]);
}

const opaque = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);

/** RFC 9110 8.8.3.2: weak comparison (If-None-Match) ignores W/; strong (If-Match) needs two strong tags. */
function matches(field: string, etag: string | undefined, strong: boolean): boolean {
  const list = tags(field);
  if (list === "*") return etag !== undefined;
  if (etag === undefined) return false;
  if (strong) return !etag.startsWith("W/") && list.includes(etag);
  return list.some((t) => opaque(t) === opaque(etag));
}

/** An HTTP date as milliseconds, or NaN. */
const date = (value: string | undefined) => (value === undefined ? Number.NaN : Date.parse(value));

function failed(what: string): HttpError {
  return new HttpError("USRV_ERR_PRECONDITION_FAILED", `${what}: the representation has changed`);
}

/** The validators of the current representation, for {@link preconditions}. */
export interface Validators {
  /** Its ETag (`etagOf(body)`, or your own strong one such as `"v42"`). */
  etag?: string | undefined;
  /** When it last changed. */
  lastModified?: Date | undefined;
}

/**
 * For an unsafe method, before it writes: throws a 412
 * `USRV_ERR_PRECONDITION_FAILED` when the request's `If-Match` does not name
 * the current ETag (strong comparison; a weak ETag never matches, RFC 9110
 * 13.1.1) or, without `If-Match`, when the representation changed after
 * `If-Unmodified-Since`. Returns quietly otherwise.
 *
 * @example
 * preconditions(ctx, { etag: `"v${doc.version}"`, lastModified: doc.updatedAt });
 */
export function preconditions(ctx: Context, current: Validators): void {
  const ifMatch = ctx.headers["if-match"];
  if (typeof ifMatch === "string") {
    if (!matches(ifMatch, current.etag, true)) throw failed("If-Match");
    return;
  }
  const since = date(ctx.headers["if-unmodified-since"] as string | undefined);
  const modified = current.lastModified?.getTime() ?? Number.NaN;
  // seconds: an HTTP date has no finer grain
  if (!Number.isNaN(since) && !Number.isNaN(modified) && Math.floor(modified / 1000) * 1000 > since)
    throw failed("If-Unmodified-Since");
}

/** Options of {@link conditional}. */
export interface ConditionalOptions {
  /** Give 200 answers to GET and HEAD a weak ETag from their body when they have none, default true. */
  etag?: boolean;
}

/**
 * The hook of conditional GET and HEAD: ETags, 304 and 412 (see the module).
 * A streamed body (a handler's Response) gets no ETag of its own: set one
 * with `ctx.header("etag", ...)`. A HEAD answer carries no body to hash, so
 * it gets the ETag only when the handler set one.
 *
 * @example
 * app.use(conditional());
 */
export function conditional(options: ConditionalOptions = {}): Hooks {
  knownKeys("conditional", options, ["etag"]);
  const make = options.etag !== false;
  return {
    async onResponse(answer, ctx) {
      if ((ctx.method !== "GET" && ctx.method !== "HEAD") || answer.status !== 200) return undefined;
      const body = answer.body;
      if (
        make &&
        answer.headers.etag === undefined &&
        (typeof body === "string" || body instanceof Uint8Array)
      ) {
        answer.headers.etag = await etagOf(body);
      }
      const etag = answer.headers.etag;
      const modified = date(answer.headers["last-modified"]);
      // RFC 9110 13.2.2: If-Match, else If-Unmodified-Since; then If-None-Match, else If-Modified-Since
      preconditions(ctx, { etag, lastModified: Number.isNaN(modified) ? undefined : new Date(modified) });
      const ifNoneMatch = ctx.headers["if-none-match"];
      const since = date(ctx.headers["if-modified-since"] as string | undefined);
      const fresh =
        typeof ifNoneMatch === "string"
          ? matches(ifNoneMatch, etag, false)
          : !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
      if (!fresh) return undefined;
      if (body instanceof ReadableStream) await body.cancel().catch(() => {});
      answer.status = 304;
      answer.body = null;
      return undefined;
    },
  };
}
