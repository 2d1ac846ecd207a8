/**
 * The `Context` a handler sees beside its values (the second argument in
 * object style, `this` in positional style), and what a handler adds to its
 * answer through it: headers and cookies on an ordinary result. Everything
 * is made on first use: a handler that reads none of it pays for none of it.
 */
import { type CookieKeys, type CookieOptions, parseCookies, serializeCookie, unsign } from "./cookies.js";
import type { HttpError } from "./errors.js";
import { header, type Incoming } from "./incoming.js";
import type { Dict } from "./query.js";
import type { Reply } from "./render.js";
import type { Route } from "./route.js";
import type { Match } from "./router.js";
import type { Context, Headers } from "./types.js";

/** RFC 9110 token: a header's name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value: no CR, LF or NUL (they would split the head). */
const VALUE = /^[^\r\n\0]*$/;
/** Set by usrv itself, or through `setCookie`. */
const OURS = new Set(["content-length", "transfer-encoding", "connection", "set-cookie"]);

/** The `Context` a handler sees; the query's full form is built only when asked for. */
export class RequestContext implements Context {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly headers: Headers;
  readonly body: Uint8Array | null;
  readonly senderPublicKey: string | null;
  readonly remoteAddress: string | null;
  readonly #hit: Match<Route>;
  readonly #inc: Incoming;
  readonly #keys: CookieKeys;
  #query: URLSearchParams | undefined;
  #cookies: Record<string, string> | undefined;
  #abort: AbortController | undefined;
  #late: HttpError | undefined;
  /** Answer headers and Set-Cookie lines the handler added. */
  #answer: Record<string, string> | undefined;
  #setCookies: string[] | undefined;

  constructor(
    inc: Incoming,
    path: string,
    rawQuery: string,
    hit: Match<Route>,
    body: Uint8Array | null,
    sender: string | null,
    keys: CookieKeys,
  ) {
    this.method = inc.method;
    this.path = path;
    this.rawQuery = rawQuery;
    this.headers = inc.headers;
    this.remoteAddress = inc.remoteAddress;
    this.body = body;
    this.senderPublicKey = sender;
    this.#hit = hit;
    this.#inc = inc;
    this.#keys = keys;
  }

  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.rawQuery));
  }

  get params(): Readonly<Dict> {
    const out: Dict = Object.create(null);
    this.#hit.names.forEach((n, i) => {
      out[n] = this.#hit.values[i];
    });
    return out;
  }

  get cookies(): Readonly<Record<string, string>> {
    return (this.#cookies ??= parseCookies(header(this.headers, "cookie")));
  }

  cookie(name: string, options?: { signed?: boolean }): string | undefined {
    const value = this.cookies[name];
    return options?.signed ? unsign(this.#keys, name, value) : value;
  }

  header(name: string, value: string | number): this {
    const text = String(value);
    if (typeof name !== "string" || !TOKEN.test(name)) {
      throw new TypeError(`[usrv] ctx.header: ${JSON.stringify(name)} is not a header name (RFC 9110 token)`);
    }
    const lower = name.toLowerCase();
    if (OURS.has(lower)) {
      throw new TypeError(
        `[usrv] ctx.header: ${lower} is set by usrv${lower === "set-cookie" ? "; use ctx.setCookie" : ""}`,
      );
    }
    if (!VALUE.test(text))
      throw new TypeError(`[usrv] ctx.header(${JSON.stringify(name)}): CR, LF or NUL in the value`);
    (this.#answer ??= Object.create(null) as Record<string, string>)[lower] = text;
    return this;
  }

  setCookie(name: string, value: string, options: CookieOptions = {}): this {
    (this.#setCookies ??= []).push(serializeCookie(name, value, options, this.#keys));
    return this;
  }

  deleteCookie(name: string, options: Pick<CookieOptions, "path" | "domain" | "secure"> = {}): this {
    return this.setCookie(name, "", { ...options, maxAge: 0 });
  }

  get signal(): AbortSignal {
    if (this.#abort === undefined) {
      const abort = new AbortController();
      this.#abort = abort;
      const client = this.#inc.signal;
      if (this.#late !== undefined) abort.abort(this.#late);
      else if (client.aborted) abort.abort(client.reason);
      else client.addEventListener("abort", () => abort.abort(client.reason), { once: true });
    }
    return this.#abort.signal;
  }

  /** The route's timeout answered 503: `signal` fires, now or when first read. */
  timedOut(reason: HttpError): void {
    this.#late = reason;
    this.#abort?.abort(reason);
  }

  /** `reply` with the headers and cookies the handler added (the reply as it is when none). */
  complete(reply: Reply): Reply {
    const added = this.#answer;
    const cookies = this.#setCookies;
    if (added === undefined && cookies === undefined) return reply;
    const response = reply.response;
    if (response) {
      const copy = new Response(response.body, response); // a Response's own headers may be immutable
      for (const k in added) copy.headers.set(k, added[k]!);
      for (const c of cookies ?? []) copy.headers.append("set-cookie", c);
      return { ...reply, response: copy };
    }
    return {
      ...reply,
      headers: { ...reply.headers, ...added },
      cookies: [...(reply.cookies ?? []), ...(cookies ?? [])],
    };
  }
}
