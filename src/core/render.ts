/**
 * R1-R8: the one place a handler's result becomes an HTTP answer, and the
 * one place errors are rendered. Null-body statuses and HEAD live here too.
 */
import { HttpError, reason } from "../common/errors.js";
import { logNote } from "../common/log.js";

/** An answer ready for either face: a status, headers and a body (or none). */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** Text (JSON, v1's hex), or bytes (a v2 answer's records). */
  body: string | Uint8Array | null;
  /** Set-Cookie lines (`ctx.setCookie`), each its own header. */
  cookies?: string[];
  /** R8: a handler's own Response, passed through untouched (except for HEAD). */
  response?: Response;
  /** Why a 5xx happened, for the log; never sent. */
  cause?: unknown;
  /** The error this reply renders in usrv's envelope (what `onError` hooks get); never sent. */
  error?: unknown;
  /** HEAD: the body a GET would get, which `onResponse` hooks see (an ETag is made from it); never sent. */
  omitted?: string;
}

// The charset is said: the reference's client (usrv/req.py) reads a body
// without one as Latin-1, which garbles every non-ASCII character of UTF-8.
const JSON_TYPE = "application/json; charset=utf-8";
const utf8 = new TextEncoder();

/** R7: statuses that never carry a body. */
export function bodiless(status: number, method: string): boolean {
  return method === "HEAD" || status < 200 || status === 204 || status === 304;
}

// Shared by every plain JSON answer: one allocation less per request. Nothing
// downstream mutates a Reply's headers (seal() copies them).
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": JSON_TYPE });

function json(status: number, body: string, method: string, extra?: Record<string, string>): Reply {
  if (extra === undefined && method !== "HEAD" && status !== 204 && status !== 304) {
    return { status, headers: JSON_HEADERS as Record<string, string>, body };
  }
  const headers: Record<string, string> = { "content-type": JSON_TYPE };
  // one spelling per name: an HttpError's "Content-Type" must replace ours, not sit beside it
  for (const k in extra) headers[k.toLowerCase()] = extra[k]!;
  if (bodiless(status, method)) {
    // HEAD says how long the GET body is; 1xx/204/304 say nothing of a body.
    if (method === "HEAD" && status >= 200 && status !== 204 && status !== 304) {
      headers["content-length"] = String(utf8.encode(body).length);
      return { status, headers, body: null, omitted: body };
    }
    // 1xx and 204 have no content to give a type; a 304 keeps the one its 200 would have
    if (status === 204 || status < 200) delete headers["content-type"];
    return { status, headers, body: null };
  }
  return { status, headers, body };
}

/**
 * Renders an error: `{"status", "error", "code", "message", "detail"?}` (R5, R6).
 *
 * @example
 * renderError(new HttpError("USRV_ERR_NOT_FOUND", "Endpoint not defined: GET /x"), "GET");
 */
export function renderError(err: HttpError, method: string): Reply {
  let body: string;
  try {
    body = JSON.stringify(err);
  } catch {
    body = JSON.stringify({ ...err.toJSON(), detail: "[unserializable detail]" });
  }
  const reply = json(err.status, body, method, err.headers);
  reply.error = err;
  return reply;
}

/**
 * What a hook threw inside a step that otherwise blames the handler (a
 * beforeHandle hook runs within the handler's step): renderThrown unwraps
 * it, so onError still gets what was thrown.
 */
export class Blamed {
  constructor(
    readonly error: unknown,
    readonly hook: string,
  ) {}
}

/**
 * R4: anything thrown that is not an HttpError is a 500 whose text never
 * leaves the server; its message names who failed: `hook` (`"onError"`,
 * say) of `label`, else the handler for `label`.
 */
export function renderThrown(e: unknown, method: string, label: string, hook?: string): Reply {
  if (is(e, Blamed)) {
    hook = e.hook;
    e = e.error;
  }
  const who = hook === undefined ? "the handler for" : `the ${hook} hook of`;
  if (is(e, HttpError)) {
    const reply = renderError(e, method);
    // a hook's mistake is a bug in the app, logged as a handler's throw is
    if (e.code === "USRV_ERR_HOOK_RESULT") reply.cause = logNote(e.message);
    return reply;
  }
  const reply = renderError(
    new HttpError("USRV_ERR_INTERNAL", `${who} ${label} failed; see the server log`),
    method,
  );
  // the log keys on `cause !== undefined`: a bare `throw undefined` must still leave a line
  reply.cause = e === undefined ? logNote(`${who} ${label} threw undefined`) : e;
  reply.error = e; // what was thrown, for onError (the app's own error classes)
  return reply;
}

/**
 * Why a Response cannot be sent, or null: Response.error() (status 0) or a
 * body already read (a Node face that tried threw after its head was written).
 */
export function unsendable(r: Response): string | null {
  if (r.type === "error") return "Response.error()";
  return r.bodyUsed || r.body?.locked ? "a Response whose body was already read" : null;
}

/** `instanceof`, false where it throws: a revoked Proxy throws even there. */
function is<T>(v: unknown, type: abstract new (...args: never[]) => T): v is T {
  try {
    return v instanceof type;
  } catch {
    return false;
  }
}

/**
 * R1-R3, R5, R7, R8: `[status, ...values]` -> JSON. None gives `null`, one
 * gives that value, several give an array. A status >= 400 becomes an error
 * body with the values under `detail`, unless `own` (what `onError` and
 * `notFound` return: the app's own error body, sent as it is).
 *
 * @example
 * render([200, "Paris", "12"], "GET", "GET /test").body; // '["Paris","12"]'
 */
export function render(out: unknown, method: string, label: string, own = false): Reply {
  // Arrays first: node's global Response is a lazy getter whose first read
  // loads its fetch implementation (undici), 18 ms measured here, which an
  // app that never returns a Response paid on its first request.
  if (!Array.isArray(out) && out instanceof Response) {
    const why = unsendable(out);
    if (why !== null) return renderThrown(logNote(`the handler for ${label} returned ${why}`), method, label);
    return { status: out.status, headers: {}, body: null, response: out };
  }
  if (!Array.isArray(out)) {
    return renderError(
      new HttpError(
        "USRV_ERR_BAD_RESULT",
        `the handler for ${label} returned ${describe(out)}, not [status, ...values]`,
      ),
      method,
    );
  }
  const status = out[0];
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    return renderError(
      new HttpError(
        "USRV_ERR_BAD_RESULT",
        `the handler for ${label} returned ${describe(status)} as the status; use an integer final HTTP status (200-599)`,
      ),
      method,
    );
  }
  const n = out.length - 1;
  const value = n === 0 ? null : n === 1 ? out[1] : out.slice(1);
  if (status >= 400 && !own) {
    return renderError(
      new HttpError("USRV_ERR_STATUS", reason(status), { status, detail: n === 0 ? undefined : value }),
      method,
    );
  }
  let body: string;
  try {
    body = JSON.stringify(value) ?? "null"; // a lone undefined (or function) is JSON null
    // an async generator writes as {}: a stream meant for usrv/stream, not a value (checked only then)
    if (body === "{}" && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      return renderError(
        new HttpError(
          "USRV_ERR_UNSERIALIZABLE",
          `the handler for ${label} returned an async iterable as its value; stream it with sse(ctx, it) or ndjson(ctx, it) from usrv/stream`,
        ),
        method,
      );
    }
  } catch (e) {
    const reply = renderError(
      new HttpError("USRV_ERR_UNSERIALIZABLE", `the values returned for ${label} cannot be written as JSON`),
      method,
    );
    reply.cause = e;
    return reply;
  }
  return json(status, body, method);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return "an array";
  // Its kind, never its content: a mistaken return (a bare string, or values
  // without a status) is data meant for no one (test/hardening-faulty.test.ts).
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  return /^[aeiou]/.test(typeof v) ? `an ${typeof v}` : `a ${typeof v}`;
}
