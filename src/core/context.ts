/**
 * The `Context` a handler sees beside its values (the second argument in
 * object style, `this` in positional style), and what a handler adds to its
 * answer through it: headers and cookies on an ordinary result. Everything
 * is made on first use: a handler that reads none of it pays for none of it.
 */

import type { Route } from "../app/route.js";
import type { HttpError } from "../common/errors.js";
import { childLogger, type Logger } from "../common/log.js";
import type { Context, RequestHeaders, State } from "../common/types.js";
import { header, type Incoming } from "../faces/incoming.js";
import { type CookieKeys, type CookieOptions, parseCookies, serializeCookie, unsign } from "./cookies.js";
import type { Dict } from "./query.js";
import type { Reply } from "./render.js";
import type { Match } from "./router.js";

/** RFC 9110 token: a header's name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * A header value as HTTP carries it: tab, visible ASCII, space, and Latin-1
 * above 0x80; no CR, LF, NUL or other control (they would split the head),
 * nothing a byte cannot hold (fetch's Headers refuses it).
 */
function fieldValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 9) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}
/**
 * Names and values that passed the checks: hooks and handlers set the same
 * few headers on every answer (a CORS origin, `Vary`), and checking them
 * again cost ~100 ns each (measured: a third of what usrv/cors adds to a
 * request). Bounded: 512 entries of at most 256 characters, emptied when
 * full, so a value set once per request (an id) costs a check as before.
 */
const goodNames = new Set<string>();
const goodValues = new Set<string>();
function remember(memo: Set<string>, text: string): void {
  if (text.length > 256) return; // a long value is rare, and would hold memory
  if (memo.size >= 512) memo.clear();
  memo.add(text);
}
/** Set by usrv itself, or through `setCookie`. */
const OURS = new Set(["content-length", "transfer-encoding", "connection", "set-cookie"]);

/** What a header name or value must be; a `TypeError` naming `where` otherwise. */
export function checkHeader(name: string, value: string, where: string): void {
  if (goodNames.has(name) && goodValues.has(value)) return;
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new TypeError(`[usrv] ${where}: ${JSON.stringify(name)} is not a header name (RFC 9110 token)`);
  }
  if (typeof value !== "string" || !fieldValue(value))
    throw new TypeError(
      `[usrv] ${where}(${JSON.stringify(name)}): a control character (CR, LF, NUL...) or a character above U+00FF in the value, or not text`,
    );
  remember(goodNames, name);
  remember(goodValues, value);
}

/** `ctx.stream` of a request without a body on a `body: "stream"` route. */
const empty = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });

const NO_MATCH: Match<Route> = { value: undefined as unknown as Route, names: [], values: [] };

/** The `Context` a handler sees; the query's full form is built only when asked for. */
export class RequestContext implements Context {
  readonly method: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly headers: RequestHeaders;
  readonly route: string | null;
  body: Uint8Array | null = null;
  senderPublicKey: string | null = null;
  readonly remoteAddress: string | null;
  #hit: Match<Route> = NO_MATCH;
  readonly #inc: Incoming;
  readonly #keys: CookieKeys;
  readonly #logger: Logger;
  #log: Logger | undefined;
  #state: State | undefined;
  #query: URLSearchParams | undefined;
  #cookies: Record<string, string> | undefined;
  #abort: AbortController | undefined;
  #stream: ReadableStream<Uint8Array> | null | undefined;
  #late: HttpError | undefined;
  /** Answer headers and Set-Cookie lines the handler added. */
  #answer: Record<string, string> | undefined;
  #setCookies: string[] | undefined;

  /** `route` is null for a request no route matched (a 404 or 405 that runs hooks). */
  constructor(
    inc: Incoming,
    path: string,
    rawQuery: string,
    route: Route | null,
    keys: CookieKeys,
    logger: Logger,
  ) {
    this.method = inc.method;
    this.path = path;
    this.rawQuery = rawQuery;
    this.headers = inc.headers;
    this.remoteAddress = inc.remoteAddress;
    this.route = route === null ? null : route.pattern;
    this.#inc = inc;
    this.#keys = keys;
    this.#logger = logger;
  }

  /** The route's values are known: its path values, the body (opened), the verified sender. */
  bound(hit: Match<Route>, body: Uint8Array | null, sender: string | null): this {
    this.#hit = hit;
    this.body = body;
    this.senderPublicKey = sender;
    return this;
  }

  get requestId(): string {
    return this.#inc.requestId;
  }

  get log(): Logger {
    return (this.#log ??= childLogger(this.#logger, { requestId: this.#inc.requestId }));
  }

  get state(): State {
    return (this.#state ??= Object.create(null) as State);
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
    checkHeader(name, text, "ctx.header");
    const lower = name.toLowerCase();
    if (OURS.has(lower)) {
      throw new TypeError(
        `[usrv] ctx.header: ${lower} is set by usrv${lower === "set-cookie" ? "; use ctx.setCookie" : ""}`,
      );
    }
    (this.#answer ??= Object.create(null) as Record<string, string>)[lower] = text;
    return this;
  }

  setCookie(name: string, value: string, options: CookieOptions = {}): this {
    (this.#setCookies ??= []).push(serializeCookie(name, value, options, this.#keys));
    return this;
  }

  deleteCookie(name: string, options: Omit<CookieOptions, "maxAge" | "expires" | "signed"> = {}): this {
    return this.setCookie(name, "", { ...options, maxAge: 0 });
  }

  get stream(): ReadableStream<Uint8Array> | null {
    if (this.#stream === undefined) {
      const route = this.#hit.value as Route | undefined;
      // empty without a body, on every face: a POST of no bytes is Content-Length: 0 on HTTP/1.1 (no
      // body), an empty DATA frame on h2 and an empty body in a fetch Request (a body), and only a read,
      // which V13 leaves to the handler, could tell one from the other
      this.#stream = route?.intake === "stream" ? (this.#inc.bodyStream(route.bodyLimit) ?? empty()) : null;
    }
    return this.#stream;
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

  /**
   * The latest timeout's 503, or null (see `Live` in app/hooks.ts): the
   * handler does not run once there is one, and a chain of hooks begun
   * before it stops.
   */
  get expiry(): HttpError | null {
    return this.#late ?? null;
  }

  /** The route's timeout answered 503: `signal` fires, now or when first read. */
  timedOut(reason: HttpError): void {
    this.#late = reason;
    this.#abort?.abort(reason);
  }

  /**
   * `reply` with the headers and cookies added through this context so far
   * (the reply as it is when none); they are then forgotten, so that a later
   * call adds only what came after (a hook's).
   */
  complete(reply: Reply): Reply {
    const added = this.#answer;
    const cookies = this.#setCookies;
    if (added === undefined && cookies === undefined) return reply;
    this.#answer = undefined;
    this.#setCookies = undefined;
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
