/**
 * The one place that chains the steps, in execution order, for both faces
 * (Node listener and fetch handler). Each step lives in its own file:
 *
 *   1. route          (404/405)          router.ts
 *   2. open           (403/412/400/401)  secure/open.ts: policy, nonce, key, signature, replay, decrypt;
 *                                        only for requests with keys or a nonce, or routes that demand them
 *   3. read the body  (413)              the face (adapter/*), then body.ts (400)
 *   4. bind values    (400)              values.ts, query.ts
 *   5. call           (406/500/503)      here
 *   6. render         (R1-R8)            render.ts
 *   7. seal           (500/503)          secure/seal.ts (v1, for a Sender-Public-Key), secure/seal-v2.ts (v2)
 *
 * A request with no body and a synchronous handler is answered without a
 * single promise: that is most of the gap between a framework and raw
 * node:http.
 */

import { type ParsedBody, parseBody } from "./body.js";
import { RequestContext } from "./context.js";
import { HttpError } from "./errors.js";
import { header, type Incoming } from "./incoming.js";
import { type Logger, logNote } from "./log.js";
import { parseQuery } from "./query.js";
import { type Reply, render, renderError, renderThrown } from "./render.js";
import type { Route } from "./route.js";
import type { Match, Router } from "./router.js";
import { type Opened, open, wantsSecurity } from "./secure/open.js";
import { seal } from "./secure/seal.js";
import { sealV2 } from "./secure/seal-v2.js";
import { type Security, VERSIONS } from "./secure/security.js";

import { objectValues, positionalArgs, type Sources } from "./values.js";

export type { Incoming } from "./incoming.js";
export type { Route } from "./route.js";

/** What the pipeline needs of an app. */
export interface Core extends Security {
  readonly router: Router<Route>;
  readonly logger: Logger;
  readonly maxUrlLength: number;
}

/** Every step for one request; a `Reply` or a promise of one. Never throws. */
export function handle(app: Core, inc: Incoming): Reply | Promise<Reply> {
  const { method, url } = inc;
  if (url.length > app.maxUrlLength) {
    return announced(
      inc,
      renderError(
        new HttpError("USRV_ERR_URI_TOO_LONG", `the request target is over ${app.maxUrlLength} bytes`),
        method,
      ),
    );
  }
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  let hit: ReturnType<Router<Route>["find"]>;
  try {
    hit = app.router.find(method, path); // 1. route
  } catch (e) {
    return announced(inc, renderThrown(e, method, `${method} ${path}`));
  }
  if ("status" in hit) {
    if (hit.status === 404)
      return announced(
        inc,
        renderError(new HttpError("USRV_ERR_NOT_FOUND", `Endpoint not defined: ${method} ${path}`), method),
      );
    const allowed = renderError(
      new HttpError(
        "USRV_ERR_METHOD_NOT_ALLOWED",
        `${method} is not bound on ${path} (allowed: ${hit.allow.join(", ")})`,
        {
          headers: { allow: hit.allow.join(", ") },
        },
      ),
      method,
    );
    return announced(inc, allowed);
  }
  const route = hit.value;
  // 2, 7: only requests with keys or a nonce (or routes that demand them) load the crypto
  if (route.encrypted || wantsSecurity(inc)) {
    return secured(app, inc, route, hit, path, rawQuery);
  }
  if (!inc.hasBody) return respond(route, hit, inc, path, rawQuery, null, null);
  // 3. read the body, then parse it
  return inc
    .readBody(route.bodyLimit)
    .then((bytes) =>
      respond(route, hit, inc, path, rawQuery, bytes, parseBody(bytes, header(inc.headers, "content-type"))),
    )
    .catch((e) => renderThrown(e, method, route.label));
}

/** Steps 2-7 for a request with keys or a nonce: open, read, bind, call, render, seal. */
async function secured(
  app: Core,
  inc: Incoming,
  route: Route,
  hit: Match<Route>,
  path: string,
  rawQuery: string,
): Promise<Reply> {
  const method = inc.method;
  let opened: Opened;
  try {
    opened = await open(app, inc, route); // 2. open (reads the body: the signature covers it)
  } catch (e) {
    return announced(inc, renderThrown(e, method, route.label)); // refused before the body opened: in clear
  }
  let reply: Reply;
  try {
    const parsed = parseBody(opened.bytes, header(inc.headers, "content-type")); // 3. parse
    reply = await respond(route, hit, inc, path, rawQuery, opened.bytes, parsed, opened.sender); // 4-6
  } catch (e) {
    reply = renderThrown(e, method, route.label);
  }
  // 7. seal every answer once the body opened, errors included: their messages may quote it
  try {
    reply = await sealed(app, opened, reply, inc, route);
  } catch (e) {
    const failed = renderThrown(e, method, route.label); // a short JSON error, which seals
    reply = await Promise.resolve(sealed(app, opened, failed, inc, route)).catch(() => failed);
  }
  return announced(inc, reply);
}

/** Step 7: the answer sealed as the request asked, v2 or v1, or as it is. */
function sealed(
  app: Core,
  opened: Opened,
  reply: Reply,
  inc: Incoming,
  route: Route,
): Promise<Reply> | Reply {
  if (opened.context) return sealV2(opened.context, reply, inc.method, route.label);
  if (opened.answerTo !== null) return seal(app, opened.crypto!, opened.answerTo, reply, inc, route);
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

/** Steps 4-6: bind, call, render. */
export function respond(
  route: Route,
  hit: Match<Route>,
  inc: Incoming,
  path: string,
  rawQuery: string,
  bytes: Uint8Array | null,
  parsed: ParsedBody | null,
  senderPublicKey: string | null = null,
): Reply | Promise<Reply> {
  const method = inc.method;
  let out: unknown;
  let ctx: RequestContext | undefined;
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
    // 5. call (the context is built only for a function that can receive it)
    if (shape.style === "object") {
      if (shape.arity > 1)
        ctx = new RequestContext(inc, path, rawQuery, hit, bytes, senderPublicKey, route.cookieKeys);
      out = route.fn(objectValues(sources), ctx);
    } else {
      ctx = new RequestContext(inc, path, rawQuery, hit, bytes, senderPublicKey, route.cookieKeys);
      out = route.fn.apply(ctx, positionalArgs(shape, sources));
    }
  } catch (e) {
    return renderThrown(e, method, route.label);
  }
  // 6. render
  if (out instanceof Promise) return settle(out, route, method, ctx);
  const reply = render(out, method, route.label);
  return ctx === undefined ? reply : ctx.complete(reply);
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
    (r) =>
      ctx === undefined ? render(r, method, route.label) : ctx.complete(render(r, method, route.label)),
    (e) => renderThrown(e, method, route.label),
  );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

/** S5: one access line per request at info, the cause of a 5xx at error with its stack. */
export function logReply(app: Core, method: string, url: string, reply: Reply, start: number): void {
  const log = app.logger;
  if (reply.cause !== undefined) {
    log.error({ err: reply.cause, method, url, status: reply.status }, `${method} ${url}: ${reply.status}`);
  }
  if (start > 0) {
    const ms = performance.now() - start;
    log.info(
      { method, url, status: reply.status, ms },
      `${method} ${url} ${reply.status} ${ms.toFixed(2)}ms`,
    );
  }
}
