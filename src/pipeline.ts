/**
 * The one place that chains the steps, in execution order, for both faces
 * (faces/node.ts, the Node listener, and faces/fetch.ts, the fetch handler).
 * Each step lives in its own file:
 *
 *   1. route          (404/405)          core/router.ts
 *   2. open           (403/412/400/401)  secure/open.ts: policy, nonce, key, signature, replay, decrypt;
 *                                        only for requests with keys or a nonce, or routes that demand them
 *   3. read the body  (413)              the face, then core/body.ts (400); or as it arrives
 *                                        (`body: "stream"`: ctx.stream; `uploads`: core/uploads.ts)
 *   4. bind values    (400)              core/values.ts, core/query.ts
 *   5. call           (406/500/503)      here, with core/context.ts
 *   6. render         (R1-R8)            core/render.ts
 *   7. seal           (500/503)          secure/seal.ts (v1, for a Sender-Public-Key), secure/seal-v2.ts (v2)
 *
 * With hooks (app/hooks.ts), in the same order:
 *
 *   onRequest    after 1 (the route known or not), before 2; may answer
 *   notFound     for 1's 404
 *   beforeHandle after 4, before 5; may answer instead of the handler
 *   onError      on any error answer of 1-6 (and of the hooks)
 *   onResponse   on every answer, before 7
 *
 * A route with no hook in its scope takes the path without them. A request
 * with no body and a synchronous handler is answered without a single
 * promise: that is most of the gap between a framework and raw node:http.
 */

import {
  type Chains,
  checkResult,
  hookResult,
  type Pass,
  responded,
  runHooks,
  type Scope,
  unview,
  type View,
  view,
  withCause,
} from "./app/hooks.js";
import type { Route } from "./app/route.js";
import { HttpError } from "./common/errors.js";
import { type Logger, logError, logNote } from "./common/log.js";
import type { ParsedBody } from "./core/body.js";
import { RequestContext } from "./core/context.js";
import { type CookieKeys, macLoading } from "./core/cookies.js";
import { parseQuery } from "./core/query.js";
import { Blamed, type Reply, render, renderError, renderThrown } from "./core/render.js";
import type { Match, Miss, Router } from "./core/router.js";
import { objectValues, positionalArgs, type Sources } from "./core/values.js";
import { header, type Incoming } from "./faces/incoming.js";
import { loadSteps, type Security, VERSIONS, wantsSecurity } from "./secure/security.js";
import type { Opened } from "./secure/steps.js";

export type { Route } from "./app/route.js";
export type { Incoming } from "./faces/incoming.js";

/** What the pipeline needs of an app. */
export interface Core extends Security {
  readonly router: Router<Route>;
  readonly logger: Logger;
  readonly maxUrlLength: number;
  /** The app's hooks; a group's scope is inside it. */
  readonly scope: Scope;
  readonly cookieKeys: CookieKeys;
  /** Default handler timeout in ms: bounds a hook's async work where no route is known. */
  readonly timeout: number;
}

type Maybe<T> = T | Promise<T>;

/** Every step for one request; a `Reply` or a promise of one. Never throws. */
export function handle(app: Core, inc: Incoming): Maybe<Reply> {
  if (macLoading !== undefined) return macLoading.then(() => handle(app, inc));
  const { method, url } = inc;
  if (url.length > app.maxUrlLength) {
    const error = new HttpError(
      "USRV_ERR_URI_TOO_LONG",
      `the request target is over ${app.maxUrlLength} bytes`,
    );
    return early(app, inc, renderError(error, method), url.slice(0, 64));
  }
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  let hit: ReturnType<Router<Route>["find"]>;
  try {
    hit = app.router.find(method, path); // 1. route
  } catch (e) {
    return early(app, inc, renderThrown(e, method, `${method} ${path}`), path);
  }
  if ("status" in hit) {
    const scope = app.scope.scopeOf(path);
    if (!scope.chains.plain) return hooked(app, inc, scope, null, hit, path, rawQuery);
    return out(inc, missed(hit, method, path));
  }
  const route = hit.value;
  if (!route.scope.chains.plain) return hooked(app, inc, route.scope, route, hit, path, rawQuery);
  // 2, 7: only requests with keys or a nonce (or routes that demand them) load the crypto
  if (route.encrypted || wantsSecurity(inc)) {
    return secured(app, inc, route, hit, path, rawQuery);
  }
  if (!inc.hasBody) {
    const reply = respond(app, route, hit, inc, path, rawQuery, null, null);
    return reply instanceof Promise ? reply.then((r) => out(inc, r)) : out(inc, reply);
  }
  if (route.intake !== null) return intake(app, route, hit, inc, path, rawQuery); // 3-6, streamed or spooled
  // 3. read the body, then parse it
  return inc
    .readBody(route.bodyLimit)
    .then((bytes) =>
      parse(bytes, inc, route).then((parsed) => respond(app, route, hit, inc, path, rawQuery, bytes, parsed)),
    )
    .catch((e) => renderThrown(e, method, route.label))
    .then((reply) => out(inc, reply));
}

let bodies: typeof import("./core/body.js") | undefined;
let loadingBodies: Promise<typeof import("./core/body.js")> | undefined;

/**
 * 3. parse the body by its Content-Type. The parsers (core/body.ts) load
 * with the first request that has a body: an app that takes none never
 * carries them.
 */
function parse(bytes: Uint8Array | null, inc: Incoming, route: Route): Promise<ParsedBody> {
  const type = header(inc.headers, "content-type");
  if (bodies !== undefined) return bodies.parseBody(bytes, type, route.bodyShape);
  return (loadingBodies ??= import("./core/body.js")).then((m) => {
    bodies = m;
    return m.parseBody(bytes, type, route.bodyShape);
  });
}

let uploads: Promise<typeof import("./core/uploads.js")> | undefined;

/**
 * Steps 3-6 for a route that takes its body as it arrives: with
 * `body: "stream"` the handler reads `ctx.stream`; with `uploads` the file
 * parts are spooled to disk first (core/uploads.ts, loaded on first use)
 * and removed once the answer is out.
 */
function intake(
  app: Core,
  route: Route,
  hit: Match<Route>,
  inc: Incoming,
  path: string,
  rawQuery: string,
  hooks?: Hooked,
): Maybe<Reply> {
  const done = (r: Reply) => (hooks === undefined ? out(inc, r) : hooks.finished(r));
  if (route.intake === "stream") {
    const reply = respond(app, route, hit, inc, path, rawQuery, null, null, null, hooks?.ctx);
    return reply instanceof Promise ? reply.then(done) : done(reply);
  }
  return (uploads ??= import("./core/uploads.js"))
    .then((m) =>
      m.spooled(inc, route, (bytes, parsed) =>
        respond(app, route, hit, inc, path, rawQuery, bytes, parsed, null, hooks?.ctx),
      ),
    )
    .catch((e) => renderThrown(e, inc.method, route.label))
    .then(done);
}

/** The 404 or the 405 of a path no route matches for this method. */
function missed(hit: Miss, method: string, path: string): Reply {
  if (hit.status === 404) {
    return renderError(
      new HttpError("USRV_ERR_NOT_FOUND", `Endpoint not defined: ${method} ${path}`),
      method,
    );
  }
  const allow = hit.allow.join(", ");
  const error = new HttpError(
    "USRV_ERR_METHOD_NOT_ALLOWED",
    `${method} is not bound on ${path} (allowed: ${allow})`,
    { headers: { allow } },
  );
  return renderError(error, method);
}

/** A refusal before routing (414, a path that does not decode): the app's onError and onResponse hooks still see it. */
function early(app: Core, inc: Incoming, reply: Reply, path: string): Maybe<Reply> {
  const chains = app.scope.chains;
  if (chains.plain) return out(inc, reply);
  return new Hooked(app, inc, chains, null, { status: 404, allow: [] }, path, "").refuse(reply);
}

/**
 * Steps 1-7 with the scope's hooks: onRequest, then notFound or steps 2-6
 * (beforeHandle inside 5), then onError and onResponse, then 7.
 */
function hooked(
  app: Core,
  inc: Incoming,
  scope: Scope,
  route: Route | null,
  hit: Match<Route> | Miss,
  path: string,
  rawQuery: string,
): Maybe<Reply> {
  return new Hooked(app, inc, scope.chains, route, hit, path, rawQuery).start();
}

/**
 * One request through its hooks. Written step by step rather than with
 * promise combinators: while every hook is sync, nothing here makes a
 * promise or a closure.
 */
class Hooked {
  readonly ctx: RequestContext;
  readonly label: string;
  readonly timeout: number;

  constructor(
    readonly app: Core,
    readonly inc: Incoming,
    readonly chains: Chains,
    readonly route: Route | null,
    readonly hit: Match<Route> | Miss,
    readonly path: string,
    readonly rawQuery: string,
  ) {
    this.label = route === null ? `${inc.method} ${path}` : route.label;
    this.timeout = route === null ? app.timeout : route.timeout;
    this.ctx = new RequestContext(
      inc,
      path,
      rawQuery,
      route,
      route?.cookieKeys ?? app.cookieKeys,
      app.logger,
    );
    if (route !== null) this.ctx.bound(hit as Match<Route>, null, null); // onRequest sees the path values
  }

  /** A refusal before routing (414, a path that does not decode): onRequest may answer first, then onError and onResponse. */
  refuse(reply: Reply): Maybe<Reply> {
    const hooks = this.chains.onRequest;
    if (hooks.length === 0) return this.finished(reply);
    let answer: unknown;
    try {
      answer = runHooks(hooks, this.ctx, undefined, this.ctx);
    } catch (e) {
      return this.finished(this.thrown(e, "onRequest"));
    }
    const then = (a: unknown) =>
      a === undefined
        ? this.finished(reply)
        : this.finished(this.guard(() => hookResult(a, "onRequest", this.inc.method, this.label)));
    if (answer instanceof Promise) {
      return this.bounded(answer, "onRequest").then(then, (e) => this.finished(this.thrown(e, "onRequest")));
    }
    return then(answer);
  }

  /** onRequest, then the route. */
  start(): Maybe<Reply> {
    const hooks = this.chains.onRequest;
    if (hooks.length === 0) return this.routed();
    let answer: unknown;
    try {
      answer = runHooks(hooks, this.ctx, undefined, this.ctx);
    } catch (e) {
      return this.finished(this.thrown(e, "onRequest"));
    }
    if (answer instanceof Promise) {
      return this.bounded(answer, "onRequest").then(
        (a) => this.requested(a),
        (e) => this.finished(this.thrown(e, "onRequest")),
      );
    }
    return this.requested(answer);
  }

  requested(answer: unknown): Maybe<Reply> {
    if (answer === undefined) return this.routed();
    return this.finished(this.guard(() => hookResult(answer, "onRequest", this.inc.method, this.label)));
  }

  /** notFound or the miss, or steps 2-6. */
  routed(): Maybe<Reply> {
    const { app, inc, route, path, rawQuery, ctx } = this;
    if (route === null) {
      const miss = this.hit as Miss;
      const found = this.chains.notFound;
      if (miss.status !== 404 || found === null) return this.finished(missed(miss, inc.method, path));
      let answer: unknown;
      try {
        answer = found(ctx);
      } catch (e) {
        return this.finished(this.thrown(e, "notFound"));
      }
      if (answer instanceof Promise) {
        return this.bounded(answer, "notFound").then(
          (a) => this.finished(this.guard(() => hookResult(a, "notFound", inc.method, this.label, true))),
          (e) => this.finished(this.thrown(e, "notFound")),
        );
      }
      return this.finished(this.guard(() => hookResult(answer, "notFound", inc.method, this.label, true)));
    }
    const match = this.hit as Match<Route>;
    if (route.encrypted || wantsSecurity(inc)) return secured(app, inc, route, match, path, rawQuery, this);
    if (!inc.hasBody) {
      const reply = respond(app, route, match, inc, path, rawQuery, null, null, null, ctx);
      return reply instanceof Promise ? reply.then((r) => this.finished(r)) : this.finished(reply);
    }
    if (route.intake !== null) return intake(app, route, match, inc, path, rawQuery, this);
    return inc
      .readBody(route.bodyLimit)
      .then((bytes) =>
        parse(bytes, inc, route).then((parsed) =>
          respond(app, route, match, inc, path, rawQuery, bytes, parsed, null, ctx),
        ),
      )
      .catch((e) => this.thrown(e))
      .then((r) => this.finished(r));
  }

  /** finish, then the answer as it leaves in clear. */
  finished(reply: Reply): Maybe<Reply> {
    const done = this.finish(reply);
    return done instanceof Promise ? done.then((r) => out(this.inc, r)) : out(this.inc, done);
  }

  /**
   * After steps 1-6: onError turns an error answer into the app's own (an
   * onError that throws leaves usrv's 500), the headers and cookies added
   * through the context join, then onResponse sees the answer.
   */
  finish(reply: Reply): Maybe<Reply> {
    if (reply.error === undefined || this.chains.onError.length === 0) return this.respond(reply);
    let answer: unknown;
    try {
      answer = runHooks(this.chains.onError, reply.error, this.ctx, this.ctx);
    } catch (e) {
      return this.respond(this.thrown(e, "onError"));
    }
    if (answer instanceof Promise) {
      return this.bounded(answer, "onError").then(
        (a) => this.respond(this.caught(a, reply)),
        (e) => this.respond(this.thrown(e, "onError")),
      );
    }
    return this.respond(this.caught(answer, reply));
  }

  caught(answer: unknown, reply: Reply): Reply {
    if (answer === undefined) return reply;
    return this.guard(() =>
      inherit(withCause(hookResult(answer, "onError", this.inc.method, this.label, true), reply), reply),
    );
  }

  /** The context's headers and cookies, then onResponse. */
  respond(reply: Reply): Maybe<Reply> {
    return responseHooks(this.ctx, this.chains.onResponse, reply, this.label, this.timeout);
  }

  /** An async hook's work, bounded by the route's timeout (503, as a handler's); `ctx.signal` fires then. */
  bounded<T>(v: Promise<T>, hook: string): Promise<T> {
    return hookDeadline(v, hook, this.ctx, this.label, this.timeout);
  }

  /** `make()`, or usrv's error answer for what it throws. */
  guard(make: () => Reply): Reply {
    try {
      return make();
    } catch (e) {
      return this.thrown(e);
    }
  }

  /** usrv's answer for what a hook (or, without `hook`, the handler's step) threw. */
  thrown(e: unknown, hook?: string): Reply {
    return renderThrown(e, this.inc.method, this.label, hook);
  }
}

/**
 * onError's answer keeps what the error's answer said beside its body: the
 * error's own headers (`allow`, `retry-after`, a 413's `connection: close`),
 * those the handler and hooks added, and the Set-Cookie lines, unless the
 * hook's answer sets a header of the same name.
 */
function inherit(reply: Reply, from: Reply): Reply {
  const kept: Record<string, string> = {};
  for (const k in from.headers)
    if (k !== "content-type" && k !== "content-length") kept[k] = from.headers[k]!;
  const cookies = from.cookies ?? [];
  const response = reply.response;
  if (response !== undefined) {
    const copy = new Response(response.body, response);
    for (const k in kept) if (!copy.headers.has(k)) copy.headers.set(k, kept[k]!);
    for (const c of cookies) copy.headers.append("set-cookie", c);
    return { ...reply, response: copy };
  }
  const out: Reply = { ...reply, headers: { ...kept, ...reply.headers } };
  if (cookies.length > 0) out.cookies = [...cookies, ...(reply.cookies ?? [])];
  return out;
}

/** Steps 2-7 for a request with keys or a nonce: open, read, bind, call, render, seal. */
async function secured(
  app: Core,
  inc: Incoming,
  route: Route,
  hit: Match<Route>,
  path: string,
  rawQuery: string,
  hooks?: Hooked,
): Promise<Reply> {
  const method = inc.method;
  let opened: Opened;
  let steps: Awaited<ReturnType<typeof loadSteps>>;
  try {
    if (route.intake !== null) {
      throw new HttpError(
        "USRV_ERR_ENCRYPTED_STREAM",
        `${route.label} reads its body as it arrives: send it in clear`,
      );
    }
    steps = await loadSteps();
    opened = await steps.open(app, inc, route); // 2. open (reads the body: the signature covers it)
  } catch (e) {
    // refused before the body opened: in clear
    const refused = renderThrown(e, method, route.label);
    return out(inc, hooks === undefined ? refused : await hooks.finish(refused));
  }
  let reply: Reply;
  try {
    const parsed = await parse(opened.bytes, inc, route); // 3. parse
    reply = await respond(
      app,
      route,
      hit,
      inc,
      path,
      rawQuery,
      opened.bytes,
      parsed,
      opened.sender,
      hooks?.ctx,
    ); // 4-6
  } catch (e) {
    reply = renderThrown(e, method, route.label);
  }
  if (hooks !== undefined) reply = await hooks.finish(reply);
  reply = stamped(inc, reply);
  // 7. seal every answer once the body opened, errors included: their messages may quote it
  try {
    reply = await sealed(steps, app, opened, reply, inc, route);
  } catch (e) {
    const failed = stamped(inc, renderThrown(e, method, route.label)); // a short JSON error, which seals
    reply = await Promise.resolve(sealed(steps, app, opened, failed, inc, route)).catch(() => failed);
  }
  return announced(inc, reply);
}

/** Step 7: the answer sealed as the request asked, v2 or v1, or as it is. */
function sealed(
  steps: Awaited<ReturnType<typeof loadSteps>>,
  app: Core,
  opened: Opened,
  reply: Reply,
  inc: Incoming,
  route: Route,
): Promise<Reply> | Reply {
  if (opened.context) {
    const sized = steps.asksSized(header(inc.headers, steps.RECORDS_HEADER));
    return steps.sealV2(opened.context, reply, inc.method, route.label, sized);
  }
  if (opened.answerTo !== null) return steps.seal(app, opened.crypto!, opened.answerTo, reply, inc, route);
  return reply;
}

/** An answer in clear, as it leaves: its request id in usrv's error body, the versions announced. */
function out(inc: Incoming, reply: Reply): Reply {
  return announced(inc, stamped(inc, reply));
}

/**
 * usrv's error body with the request's id (`"requestId"`, last), so that a
 * user's report finds the log lines. A HEAD answer's Content-Length grows
 * with it.
 */
export function stamped(inc: Incoming, reply: Reply): Reply {
  if (reply.error === undefined || reply.response !== undefined) return reply;
  const field = `,"requestId":${JSON.stringify(inc.requestId)}`; // ASCII: one byte per character
  const body = reply.body;
  if (typeof body === "string" && body.endsWith("}")) {
    return { ...reply, body: `${body.slice(0, -1)}${field}}` };
  }
  const length = reply.headers["content-length"];
  if (body === null && length !== undefined && inc.method === "HEAD") {
    return {
      ...reply,
      headers: { ...reply.headers, "content-length": String(Number(length) + field.length) },
    };
  }
  return reply;
}

/** A client that names the versions it speaks learns ours, in any answer. */
function announced(inc: Incoming, reply: Reply): Reply {
  return inc.headers["usrv-encryption"] === undefined ? reply : announce(reply);
}

/** The reply with `Usrv-Encryption`: the versions of the body encryption this server speaks. */
function announce(reply: Reply): Reply {
  const response = reply.response;
  if (response) {
    const copy = new Response(response.body, response); // a Response's own headers may be immutable
    copy.headers.set("usrv-encryption", VERSIONS);
    return { ...reply, response: copy };
  }
  return { ...reply, headers: { ...reply.headers, "usrv-encryption": VERSIONS } };
}

/**
 * Steps 4-6: bind, call, render. With hooks, `hooked` is the request's
 * context, made before routing: beforeHandle runs between 4 and 5.
 */
function respond(
  app: Core,
  route: Route,
  hit: Match<Route>,
  inc: Incoming,
  path: string,
  rawQuery: string,
  bytes: Uint8Array | null,
  parsed: ParsedBody | null,
  senderPublicKey: string | null = null,
  hooked?: RequestContext,
): Maybe<Reply> {
  if (route.schemas?.checks) {
    return respondChecked(app, route, hit, inc, path, rawQuery, bytes, parsed, senderPublicKey, hooked);
  }
  const method = inc.method;
  let out: unknown;
  let ctx = hooked;
  try {
    const query = parseQuery(rawQuery); // 4. bind values (400 on bad encoding)
    const sources: Sources = {
      pathNames: hit.names,
      pathValues: hit.values,
      query,
      body: parsed?.fields ?? null,
      method,
      headers: inc.headers,
      data: parsed?.data ?? null,
    };
    const shape = route.shape;
    if (ctx !== undefined) {
      out = prepared(route, ctx.bound(hit, bytes, senderPublicKey), sources);
    } else if (shape.style === "object") {
      // 5. call (the context is built only for a function that can receive it)
      if (shape.arity > 1) ctx = context(app, route, hit, inc, path, rawQuery, bytes, senderPublicKey);
      out = route.fn(objectValues(sources), ctx);
    } else if (shape.arrow) {
      out = route.fn(...positionalArgs(shape, sources)); // an arrow's `this` is its own: no context to build
    } else {
      ctx = context(app, route, hit, inc, path, rawQuery, bytes, senderPublicKey);
      out = route.fn.apply(ctx, positionalArgs(shape, sources));
    }
  } catch (e) {
    return completed(ctx, renderThrown(e, method, route.label));
  }
  // 6. render
  if (out instanceof Promise) return settle(out, route, method, ctx);
  return completed(ctx, render(out, method, route.label));
}

let validation: typeof import("./core/validate.js") | undefined;
let validating: Promise<void> | undefined;

/**
 * 4-6 for a route with schemas: the values bound, then checked (V10-V12)
 * before beforeHandle and the handler; its answer checked when the app asks.
 * An async schema runs under the route's timeout, as the handler does.
 */
function respondChecked(
  app: Core,
  route: Route,
  hit: Match<Route>,
  inc: Incoming,
  path: string,
  rawQuery: string,
  bytes: Uint8Array | null,
  parsed: ParsedBody | null,
  sender: string | null,
  hooked: RequestContext | undefined,
): Maybe<Reply> {
  // the checks load with the first request to a route with schemas (2 KB the core need not carry)
  if (validation === undefined) {
    validating ??= import("./core/validate.js").then((m) => {
      validation = m;
    });
    return validating.then(() =>
      respondChecked(app, route, hit, inc, path, rawQuery, bytes, parsed, sender, hooked),
    );
  }
  const { checkAnswer, checkInputs } = validation;
  const { method } = inc;
  const schemas = route.schemas!;
  const shape = route.shape;
  // the context is built only for a function or a hook that can receive it, as in respond()
  const ctx =
    hooked !== undefined
      ? hooked.bound(hit, bytes, sender)
      : (shape.style === "object" ? shape.arity <= 1 : shape.arrow) &&
          route.scope.chains.beforeHandle.length === 0
        ? undefined
        : context(app, route, hit, inc, path, rawQuery, bytes, sender);
  let out: unknown;
  try {
    const sources: Sources = {
      pathNames: hit.names,
      pathValues: hit.values,
      query: parseQuery(rawQuery),
      body: parsed?.fields ?? null,
      method,
      headers: inc.headers,
      data: parsed?.data ?? null,
      parsed: parsed?.value,
    };
    const checked = checkInputs(schemas, sources, route.label);
    out =
      checked instanceof Promise
        ? checked.then((s) => prepared(route, ctx, s))
        : prepared(route, ctx, checked);
    const response = schemas.response;
    if (schemas.checkResponse && response !== undefined) {
      out =
        out instanceof Promise
          ? out.then((o) => checkAnswer(response, o, route.label))
          : checkAnswer(response, out, route.label);
    }
  } catch (e) {
    return completed(ctx, renderThrown(e, method, route.label));
  }
  if (out instanceof Promise) return settle(out, route, method, ctx);
  return completed(ctx, render(out, method, route.label));
}

function context(
  app: Core,
  route: Route,
  hit: Match<Route>,
  inc: Incoming,
  path: string,
  rawQuery: string,
  bytes: Uint8Array | null,
  sender: string | null,
): RequestContext {
  return new RequestContext(inc, path, rawQuery, route, route.cookieKeys, app.logger).bound(
    hit,
    bytes,
    sender,
  );
}

/**
 * 5 with hooks: beforeHandle in order, then the handler unless one answered.
 * `ctx` is left out only for an object-style function of one parameter and no beforeHandle.
 */
function prepared(route: Route, ctx: RequestContext | undefined, sources: Sources): unknown {
  const before = route.scope.chains.beforeHandle;
  if (before.length === 0 || ctx === undefined) return call(route, ctx, sources, null);
  const values = objectValues(sources);
  let answer: unknown;
  try {
    answer = runHooks(before, values, ctx, ctx);
  } catch (e) {
    throw new Blamed(e, "beforeHandle");
  }
  if (answer instanceof Promise) {
    return answer.then(
      (a) => handled(route, ctx, sources, values, a),
      (e) => {
        throw new Blamed(e, "beforeHandle");
      },
    );
  }
  return handled(route, ctx, sources, values, answer);
}

/** The handler's result, or what a beforeHandle hook answered instead. */
function handled(
  route: Route,
  ctx: RequestContext,
  sources: Sources,
  values: Record<string, unknown>,
  answer: unknown,
): unknown {
  if (ctx.expiry !== null) return undefined; // answered already (the timeout): the handler must not run
  if (answer === undefined) return call(route, ctx, sources, values);
  checkResult(answer, "beforeHandle", route.label);
  return answer;
}

/** The handler, called in its style; object style gets the values beforeHandle saw. */
function call(
  route: Route,
  ctx: RequestContext | undefined,
  sources: Sources,
  values: Record<string, unknown> | null,
): unknown {
  const shape = route.shape;
  if (shape.style === "object") return route.fn(values ?? objectValues(sources), ctx);
  return route.fn.apply(ctx, positionalArgs(shape, sources));
}

function completed(ctx: RequestContext | undefined, reply: Reply): Reply {
  return ctx === undefined ? reply : ctx.complete(reply);
}

/**
 * The context's headers and cookies on `reply`, then the onResponse hooks,
 * their result checked (`upgrade`: `reply` is a WebSocket upgrade's 101,
 * which they may keep); a hook that fails leaves usrv's 500 naming it. The
 * HTTP pipeline's last step before sealing, and a WebSocket upgrade's answer.
 */
export function responseHooks(
  ctx: RequestContext,
  hooks: Chains["onResponse"],
  reply: Reply,
  label: string,
  timeout: number,
  upgrade = false,
): Maybe<Reply> {
  const done = ctx.complete(reply);
  if (hooks.length === 0) return done;
  return new Responding(ctx, hooks, label, timeout, upgrade).from(0, view(done));
}

/** One answer through its onResponse hooks, then checked: one object, where closures would be four. */
class Responding implements Pass {
  running = 0;

  constructor(
    readonly ctx: RequestContext,
    readonly hooks: Chains["onResponse"],
    readonly label: string,
    readonly timeout: number,
    readonly upgrade: boolean,
  ) {}

  /** The hooks from `first` on; past the deadline, the one running is cut off and the later ones see the 503. */
  from(first: number, answer: View): Maybe<Reply> {
    const last = responded(this, answer, first);
    if (!(last instanceof Promise)) return this.checked(last);
    return hookDeadline(last, "onResponse", this.ctx, this.label, this.timeout).then(
      (a) => this.checked(a),
      (e) => this.from(this.running + 1, view(this.fail(e))),
    );
  }

  fail(e: unknown): Reply {
    return this.ctx.complete(renderThrown(e, this.ctx.method, this.label, "onResponse"));
  }

  checked(a: View): Reply {
    const { ctx, label } = this;
    try {
      return ctx.complete(unview(a, ctx.method, label, this.upgrade));
    } catch (e) {
      // unview's own refusals name the hook; anything else is thrown by what a hook left (a getter)
      return ctx.complete(renderThrown(e, ctx.method, label, "onResponse"));
    }
  }
}

/**
 * An async hook's work, or a 503 `USRV_ERR_TIMEOUT` once `timeout` ms have
 * passed, `ctx.signal` firing then: the HTTP pipeline's hooks and a
 * WebSocket upgrade's (ws/upgrade.ts).
 */
export function hookDeadline<T>(
  work: Promise<T>,
  hook: string,
  ctx: RequestContext,
  label: string,
  timeout: number,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new HttpError(
        "USRV_ERR_TIMEOUT",
        `the ${hook} hook of ${label} did not finish within ${timeout} ms`,
        { headers: { "retry-after": "1" } },
      );
      ctx.timedOut(error);
      reject(error);
    }, timeout);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * An async handler's answer, or a 503 once the route's timeout has passed
 * (logged as its cause); `ctx.signal` then fires, so the handler can stop.
 */
function settle(out: Promise<unknown>, route: Route, method: string, ctx?: RequestContext): Promise<Reply> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<Reply>((resolve) => {
    timer = setTimeout(() => {
      const error = new HttpError(
        "USRV_ERR_TIMEOUT",
        `${route.label} did not answer within ${route.timeout} ms`,
        {
          headers: { "retry-after": "1" },
        },
      );
      ctx?.timedOut(error);
      const reply = renderError(error, method);
      reply.cause = logNote(`handler for ${route.label} still running after ${route.timeout} ms`);
      resolve(reply);
    }, route.timeout);
  });
  const done = out.then(
    (r) => completed(ctx, render(r, method, route.label)),
    (e) => completed(ctx, renderThrown(e, method, route.label)),
  );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

/**
 * S5: one access line per request at info, the cause of a 5xx at error with
 * its stack. `left`: the client was gone before the answer (not sent).
 */
export function logReply(app: Core, inc: Incoming, reply: Reply, start: number, left = false): void {
  const log = app.logger;
  const { method, requestId } = inc;
  const q = inc.url.indexOf("?");
  const url = q < 0 ? inc.url : inc.url.slice(0, q);
  if (reply.cause !== undefined) {
    logError(
      log,
      { err: reply.cause, method, url, status: reply.status, requestId },
      `${method} ${url}: ${reply.status}`,
    );
  }
  if (start > 0) {
    const ms = performance.now() - start;
    const line = `${method} ${url} ${reply.status} ${ms.toFixed(2)}ms`;
    const fields = { method, url, status: reply.status, ms, requestId };
    if (left) log.info({ ...fields, left }, `${line}, not sent: the client left`);
    else log.info(fields, line);
  }
}
