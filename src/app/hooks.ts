/**
 * Hooks: what an app or a group adds around its routes, and the scopes
 * that hold them. A scope's hooks are flattened into chains when a hook is
 * added, so a request reads one ready list per kind; a route whose chains
 * are all empty (`plain`) takes the pipeline's path without hooks, at no cost.
 *
 * Order (documented in the README, "Hooks"):
 *   onRequest, beforeHandle  outer scope first (the app, then each group inward), in the order added
 *   onResponse, onError      inner scope first (the route's group, then outward), in the order added
 *   notFound                 the nearest scope's
 */

import { HttpError } from "../common/errors.js";
import { responseAsIs } from "../common/response.js";
import type { Context, Result } from "../common/types.js";
import { checkHeader } from "../core/context.js";
import { normaliseRequestPath } from "../core/path.js";
import { bodiless, type Reply, render, unsendable } from "../core/render.js";

type Maybe<T> = T | Promise<T>;

/** What a hook returns: nothing to go on, or a result that answers instead. */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook written `(ctx) => { ... }` returns void
export type HookOutcome = Result | undefined | void;

/**
 * Before the body is read or opened, the route known (or not: a 404 or 405
 * still runs it). Returns nothing to go on, or a result that answers now
 * (a refusal, a preflight).
 */
export type OnRequest = (ctx: Context) => HookOutcome | Promise<HookOutcome>;

/**
 * Once the values are bound, before the handler: returns nothing to go on
 * (after adding to `ctx.state`, say), or a result that answers instead of
 * the handler. `values` is the object the object style receives.
 */
export type BeforeHandle = (
  values: Record<string, unknown>,
  ctx: Context,
) => HookOutcome | Promise<HookOutcome>;

/**
 * Every answer of the scope before it leaves (and before it is sealed):
 * change `answer` in place, or return a result that replaces it.
 */
export type OnResponse = (answer: Answer, ctx: Context) => HookOutcome | Promise<HookOutcome>;

/**
 * Any error of the scope: one thrown by a handler or a hook, a handler's own
 * `[4xx/5xx, ...]`, and usrv's own (400, 405, 413, 503...). Returns the
 * answer, sent as it is (`[404, body]` is a 404 with that JSON body, not
 * usrv's envelope), or nothing to leave it to the next hook and, in the end,
 * to usrv's envelope.
 */
export type OnError = (error: unknown, ctx: Context) => HookOutcome | Promise<HookOutcome>;

/** A path no route matches: the answer, sent as it is. */
export type NotFound = (ctx: Context) => Result | Promise<Result>;

/** An answer as `onResponse` sees and changes it. */
export interface Answer {
  status: number;
  /** Lower-case names; `Set-Cookie` lines are added with `ctx.setCookie`. */
  headers: Record<string, string>;
  /**
   * JSON text as usrv wrote it, bytes, a stream (a handler's Response), or
   * none. For HEAD, the body a GET would get: it is not sent, but a hook
   * can derive headers from it (an ETag).
   */
  body: string | Uint8Array | ReadableStream<Uint8Array> | null;
}

/** The hooks of an app or a group; each kind takes one function or a list. */
export interface Hooks {
  onRequest?: OnRequest | readonly OnRequest[];
  beforeHandle?: BeforeHandle | readonly BeforeHandle[];
  onResponse?: OnResponse | readonly OnResponse[];
  onError?: OnError | readonly OnError[];
  notFound?: NotFound;
}

/** A scope's hooks as a request runs them. */
export interface Chains {
  readonly onRequest: readonly OnRequest[];
  readonly beforeHandle: readonly BeforeHandle[];
  readonly onResponse: readonly OnResponse[];
  readonly onError: readonly OnError[];
  readonly notFound: NotFound | null;
  /** No hook at all: the pipeline's path without hooks. */
  readonly plain: boolean;
}

type Kind = Exclude<keyof Hooks, "notFound">;
const KINDS: readonly Kind[] = ["onRequest", "beforeHandle", "onResponse", "onError"];
const INWARD = new Set<Kind>(["onRequest", "beforeHandle"]);

/** The app's, a group's or a mounted app's hooks, and where they apply. */
export class Scope {
  readonly parent: Scope | null;
  /** The full path prefix ("" for the app): a 404 or 405 under it runs this scope's hooks. */
  readonly prefix: string;
  readonly #own: { [K in Kind]: Exclude<Hooks[K], undefined | Function>[number][] } = {
    onRequest: [],
    beforeHandle: [],
    onResponse: [],
    onError: [],
  };
  #notFound: NotFound | null = null;
  readonly #children: Scope[] = [];
  /** The prefix's segments; null for a markup, which any segment matches. */
  readonly #segments: (string | null)[];
  chains: Chains;

  constructor(parent: Scope | null, prefix: string) {
    this.parent = parent;
    this.prefix = prefix;
    this.#segments =
      prefix === ""
        ? []
        : prefix
            .slice(1)
            .split("/")
            .map((s) => (s.startsWith("<") ? null : s));
    if (parent !== null) parent.#children.push(this);
    this.chains = this.#flatten();
  }

  /**
   * Adds hooks (checked: each a function); every scope inside sees them at
   * once. `hooks` is an object: each caller's option check says so first.
   */
  add(hooks: Hooks, where: string): void {
    for (const key of Object.keys(hooks)) {
      const value = (hooks as Record<string, unknown>)[key];
      if (key === "notFound") {
        if (typeof value !== "function") throw new TypeError(`[usrv] ${where}: notFound is a function`);
        this.#notFound = value as NotFound;
        continue;
      }
      if (!(KINDS as readonly string[]).includes(key)) {
        throw new TypeError(
          `[usrv] ${where}: unknown hook "${key}" (known: ${[...KINDS, "notFound"].join(", ")})`,
        );
      }
      const list = Array.isArray(value) ? value : [value];
      if (!list.every((f) => typeof f === "function")) {
        throw new TypeError(`[usrv] ${where}: ${key} takes a function or a list of functions`);
      }
      (this.#own[key as Kind] as Function[]).push(...list);
    }
    this.#refresh();
  }

  /**
   * A copy of `other`'s hooks and of its groups' inside this scope, under
   * `prefix` (mount); `copies` maps each of `other`'s scopes to its copy.
   */
  adopt(other: Scope, prefix: string, copies: Map<Scope, Scope>): Scope {
    const copy = new Scope(this, prefix);
    for (const k of KINDS) (copy.#own[k] as Function[]).push(...other.#own[k]);
    copy.#notFound = other.#notFound;
    copy.#refresh();
    copies.set(other, copy);
    for (const child of other.#children) {
      copy.adopt(child, prefix + child.prefix.slice(other.prefix.length), copies);
    }
    return copy;
  }

  /**
   * The deepest scope whose prefix holds `path` (raw, as requested), for a
   * request no route matched; the path is read as the router reads it
   * (leading slashes as one, segments decoded).
   */
  scopeOf(path: string): Scope {
    if (this.#children.length === 0) return this;
    return this.#deepest(requestSegments(path));
  }

  #deepest(segs: readonly string[]): Scope {
    let best: Scope = this;
    for (const child of this.#children) {
      if (!under(segs, child.#segments)) continue;
      const inner = child.#deepest(segs);
      if (best === this || nearer(inner.#segments, best.#segments)) best = inner;
    }
    return best;
  }

  #refresh(): void {
    this.chains = this.#flatten();
    for (const child of this.#children) child.#refresh();
  }

  #flatten(): Chains {
    const path: Scope[] = [];
    for (let s: Scope | null = this; s !== null; s = s.parent) path.unshift(s); // outer first
    const lists = {} as { [K in Kind]: Function[] };
    for (const k of KINDS) {
      const order = INWARD.has(k) ? path : [...path].reverse();
      lists[k] = order.flatMap((s) => s.#own[k] as Function[]);
    }
    let notFound: NotFound | null = null;
    for (let s: Scope | null = this; s !== null && notFound === null; s = s.parent) notFound = s.#notFound;
    const plain = KINDS.every((k) => lists[k].length === 0) && notFound === null;
    return { ...(lists as unknown as Omit<Chains, "notFound" | "plain">), notFound, plain };
  }
}

/** A request path's segments as the router matches them: leading slashes as one, each decoded. */
function requestSegments(path: string): string[] {
  const p = normaliseRequestPath(path);
  if (p === "/" || p === "") return [];
  return p
    .slice(1)
    .split("/")
    .map((seg) => {
      try {
        return decodeURIComponent(seg);
      } catch {
        return seg; // the router answers it (400)
      }
    });
}

/**
 * Whether a path's segments are at or below a prefix's ("/v1" holds "/v1"
 * and "/v1/x", not "/v10"); a markup holds any one non-empty segment, its
 * converter aside.
 */
function under(segs: readonly string[], prefix: readonly (string | null)[]): boolean {
  if (segs.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const want = prefix[i];
    if (want === null ? segs[i] === "" : segs[i] !== want) return false;
  }
  return true;
}

/**
 * Whether prefix `a` holds a path more closely than `b`: more segments, or
 * as many with a static one where they first differ (`/admin` before
 * `/<org>`, as the router prefers it).
 */
function nearer(a: readonly (string | null)[], b: readonly (string | null)[]): boolean {
  if (a.length !== b.length) return a.length > b.length;
  for (let i = 0; i < a.length; i++) if ((a[i] === null) !== (b[i] === null)) return a[i] !== null;
  return false;
}

/**
 * Runs `hooks` in order until one returns something, synchronously while
 * they are: a sync hook costs no promise. A throw propagates to the caller.
 * Two arguments at most, passed as they are (a spread call is slower). Once
 * a timeout answered the request during the chain, no later hook runs.
 */
export function runHooks<A, B>(
  hooks: readonly ((a: A, b: B) => unknown)[],
  a: A,
  b: B,
  live: Live,
  from = 0,
  epoch?: object | null,
): unknown {
  for (let i = from; i < hooks.length; i++) {
    const out = hooks[i]!(a, b);
    if (out === undefined) continue;
    if (out instanceof Promise) {
      // read now, not at the start: no timer fires while the chain runs synchronously
      const began = epoch === undefined ? live.expiry : epoch;
      return out.then((v) =>
        v === undefined && live.expiry === began ? runHooks(hooks, a, b, live, i + 1, began) : v,
      );
    }
    return out;
  }
  return undefined;
}

/** What says whether the work of a chain of hooks is still wanted. */
export interface Live {
  /**
   * The latest timeout that answered this request (a 503), or null. A chain
   * that began before it stops there; the 503 itself then goes through the
   * hooks as any answer does, in chains that begin after it. (Never
   * undefined, which a chain reads as "not known yet".)
   */
  readonly expiry: object | null;
}

const FROM = Symbol("usrv.from");
const SEEN = Symbol("usrv.seen");

/**
 * An answer as onResponse hooks pass it on, with the reply it was made from
 * and its headers then. A class, so that every view has one shape: an object
 * literal with symbol keys is built key by key (a request with two no-op
 * hooks through the listener: 629 -> 608 ns, medians of 4 interleaved runs).
 */
export class View implements Answer {
  readonly [FROM]: Reply;
  readonly [SEEN]: Readonly<Record<string, string>>;

  constructor(
    public status: number,
    public headers: Record<string, string>,
    public body: Answer["body"],
    from: Reply,
    seen: Readonly<Record<string, string>>,
  ) {
    this[FROM] = from;
    this[SEEN] = seen;
  }
}

/** One answer's pass through its onResponse hooks (pipeline.ts's `responseHooks`). */
export interface Pass {
  readonly ctx: Context & Live;
  readonly hooks: Chains["onResponse"];
  readonly label: string;
  /** The hook running (or the last that ran): a pass that cuts an async one off goes on from the next. */
  running: number;
  /** usrv's answer for a hook that threw, rejected or returned what is not a result. */
  fail(e: unknown): Reply;
}

/**
 * onResponse hooks in turn on one answer, from hook `from`; a hook's result
 * replaces it for the next ones, and a hook that throws or rejects leaves
 * usrv's 500 (`fail`) to them: every hook sees the answer that leaves (a
 * span ends on it). A chain that began before a timeout stops there, as in
 * {@link runHooks}.
 */
export function responded(pass: Pass, answer: View, from: number, epoch?: object | null): Maybe<View> {
  const { ctx, hooks } = pass;
  for (let i = from; i < hooks.length; i++) {
    if (epoch !== undefined && ctx.expiry !== epoch) break;
    let got: unknown;
    pass.running = i;
    try {
      got = hooks[i]!(answer, ctx);
    } catch (e) {
      answer = replaced(answer, view(pass.fail(e)));
      continue;
    }
    if (got instanceof Promise) {
      const current = answer;
      const began = epoch === undefined ? ctx.expiry : epoch; // as in runHooks
      return got
        .then(
          (g) => next(pass, current, g),
          (e) => replaced(current, view(pass.fail(e))),
        )
        .then((v) => responded(pass, v, i + 1, began));
    }
    answer = next(pass, answer, got);
  }
  return answer;
}

/** The answer after a hook returned `got`: the same, or its result (usrv's 500 when that is not a result). */
function next(pass: Pass, answer: View, got: unknown): View {
  if (got === undefined) return answer;
  let result: Reply;
  try {
    result = hookResult(got, "onResponse", pass.ctx.method, pass.label);
  } catch (e) {
    result = pass.fail(e);
  }
  return replaced(answer, view(result));
}

/** `by` instead of `answer`: a stream `answer` carried and `by` does not is cancelled (a file handle, a cursor). */
function replaced(answer: View, by: View): View {
  if (answer.body instanceof ReadableStream && answer.body !== by.body) cancel(answer.body);
  return by;
}

function cancel(body: ReadableStream): void {
  if (!body.locked) body.cancel().catch(() => {});
}

/** A reply as onResponse sees it: its own copy of the headers. */
export function view(reply: Reply): View {
  const r = reply.response;
  if (r === undefined) {
    // HEAD: the body is what GET would send, as a Response's body is
    return new View(
      reply.status,
      copyOf(reply.headers),
      reply.body ?? reply.omitted ?? null,
      reply,
      reply.headers,
    );
  }
  const seen: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (k !== "set-cookie") seen[k] = v;
  });
  return new View(r.status, copyOf(seen), r.body, reply, seen);
}

/**
 * A copy of a few header lines, by a loop: object spread of usrv's frozen
 * JSON headers took twice as long (about 40 ns against 20, a request with an
 * onResponse hook makes one).
 */
function copyOf(headers: Readonly<Record<string, string>>): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const k in headers) copy[k] = headers[k]!;
  return copy;
}

/** Set by usrv itself (or through `ctx.setCookie`): a hook may not write them. */
const FRAMING = new Set(["content-length", "transfer-encoding", "connection", "set-cookie"]);

/**
 * The answer after onResponse, checked: a hook's mistake is a 500 that names
 * it. `upgrade`: the answer is a WebSocket upgrade's 101, which a hook may
 * keep (with its headers) or replace by a refusal.
 */
export function unview(a: View, method: string, label: string, upgrade = false): Reply {
  const { status, headers, body } = a;
  const before = a[FROM];
  if (untouched(a, before)) return before;
  const source = before.response?.body ?? null;
  const fault = (what: string) => {
    if (source !== null) cancel(source);
    return hookError("onResponse", label, what);
  };
  if (!(upgrade && status === 101) && (!Number.isInteger(status) || status < 200 || status > 599)) {
    const upgrading = upgrade ? "101 (the upgrade) or " : "";
    throw fault(`set the status to ${String(status)}; use ${upgrading}an integer from 200 to 599`);
  }
  if (headers === null || typeof headers !== "object") {
    throw fault("replaced the headers with something that is not an object");
  }
  const seen = a[SEEN];
  let lower = headers;
  for (const k in headers) {
    const v = headers[k]!;
    if (seen[k] === v) continue; // what usrv or the handler set is checked already: only a hook's own lines are
    const name = k.toLowerCase();
    if (FRAMING.has(name))
      throw fault(`set ${name}, which usrv sets${name === "set-cookie" ? "; use ctx.setCookie" : ""}`);
    try {
      checkHeader(k, v, "header");
    } catch (e) {
      // checkHeader's "[usrv] header: <name> is not..." or "[usrv] header(<name>): <why>", as "<name>: <why>"
      const why = (e as Error).message.replace(/^\[usrv\] header(?:: |\((.*?)\): )/, (_, n) =>
        n ? `${n}: ` : "",
      );
      throw fault(`set a header usrv cannot send: ${why}`);
    }
    if (name !== k && lower === headers) lower = {};
  }
  if (lower !== headers) for (const k in headers) lower[k.toLowerCase()] = headers[k]!; // one spelling per name
  for (const k in seen) {
    if (FRAMING.has(k) && seen[k] !== lower[k]) throw fault(`removed ${k}, which usrv sets`);
  }
  const cookies = before.response ? before.response.headers.getSetCookie() : before.cookies;
  const none = bodiless(status, method);
  if (source !== null && (none || body !== source)) cancel(source);
  if (body instanceof ReadableStream) {
    if (none) cancel(body);
    const response = responseAsIs(none ? null : body, status, lower);
    for (const c of cookies ?? []) response.headers.append("set-cookie", c);
    return { status, headers: {}, body: null, response, cause: before.cause };
  }
  if (body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
    throw fault("set the body to something that is not text, bytes, a ReadableStream or null");
  }
  const reply: Reply = { status, headers: lower, body: none ? null : body, cause: before.cause };
  // usrv's own error body, untouched, still gets the request id
  if (body === (before.body ?? before.omitted ?? null) && before.error !== undefined)
    reply.error = before.error;
  if (cookies !== undefined && cookies.length > 0) reply.cookies = cookies;
  return reply;
}

/**
 * Whether the hooks left an answer as `view` made it (status, body, and the
 * same header lines, in this object or another): the usual case, which
 * leaves as usrv made it, with nothing to check.
 */
function untouched(a: View, before: Reply): boolean {
  const r = before.response;
  const body = r === undefined ? (before.body ?? before.omitted ?? null) : r.body;
  if (a.status !== before.status || a.body !== body) return false;
  const headers = a.headers;
  if (headers === null || typeof headers !== "object") return false;
  const seen = a[SEEN];
  let lines = 0;
  for (const k in headers) {
    if (seen[k] !== headers[k]) return false;
    lines++;
  }
  for (const _ in seen) lines--;
  return lines === 0;
}

/** A hook's answer as a reply: a result (`[status, ...values]` or a Response), else a 500 naming the hook. */
export function hookResult(answer: unknown, hook: string, method: string, label: string, own = false): Reply {
  checkResult(answer, hook, label);
  return render(answer, method, label, own);
}

/** A hook's result is `[status, ...values]` or a Response that can be sent; else a 500 naming the hook. */
export function checkResult(answer: unknown, hook: string, label: string): void {
  if (Array.isArray(answer)) return;
  if (!(answer instanceof Response)) {
    throw hookError(
      hook,
      label,
      typeof (answer as { then?: unknown } | null)?.then === "function"
        ? "returned a thenable that is not a Promise (a hook's async work is awaited only as a Promise: an async function returns one)"
        : `returned ${describe(answer)}, not [status, ...values], a Response or nothing`,
    );
  }
  const why = unsendable(answer);
  if (why !== null) throw hookError(hook, label, `returned ${why}, which cannot be sent`);
}

export function hookError(hook: string, label: string, what: string): HttpError {
  const article = /^[aeiou]/i.test(hook) ? "an" : "a"; // a beforeHandle, an onRequest
  return new HttpError("USRV_ERR_HOOK_RESULT", `${article} ${hook} hook of ${label} ${what}`);
}

/** The cause of a 5xx stays in the log when onError's own answer is a 5xx too. */
export function withCause(reply: Reply, before: Reply): Reply {
  if (reply.status >= 500 && before.cause !== undefined) reply.cause = before.cause;
  return reply;
}

/** What a hook returned, for a message: its kind, never its content. */
export function describe(v: unknown): string {
  return v === null ? "null" : typeof v;
}
