/**
 * C1: the endpoint builder. `GET.api.endpoint` is a Proxy whose property
 * reads only build a path; nothing is sent until it is called. It is not
 * thenable (`then` is undefined), so `await GET.api` gives the endpoint
 * back instead of sending, and printing it (inspect, template literals,
 * String(), JSON.stringify) shows its method and path. A call's arguments
 * are split here, for every sender alike (the client's, a plugin's):
 * path segments, then one object of values, then one of options.
 */
import { ClientError } from "./errors.js";
import { describe } from "./url.js";

/** What a call takes: path segments (strings, numbers), then the values, then the options. */
export type EndpointArg = string | number | object | null | undefined;

/**
 * An endpoint: call it to send the request; read a property to go one
 * segment deeper. Properties are typed `any` on purpose: a typed index
 * signature would read as `Endpoint | undefined` under
 * `noUncheckedIndexedAccess`, and `GET.api.endpoint()` would not compile.
 */
export interface Endpoint {
  /**
   * Sends the request: positional strings/numbers append path segments,
   * then an object of values (query or body), then the options.
   */
  (...args: EndpointArg[]): Promise<any>;
  readonly [segment: string]: any;
}

/**
 * Sends one call of an endpoint: its method (or a plugin's kind, such as
 * Binance's "SGET"), its path segments (the properties read, then the
 * positional ones), its values, and its options: a plain object, `{}` when
 * none was given, whose keys the sender checks.
 */
export type EndpointSend = (
  method: string,
  segments: readonly string[],
  values: unknown,
  options: Readonly<Record<string, unknown>>,
) => Promise<unknown>;

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * Names that are read by code probing an object (await, promise libraries,
 * JSON.stringify, test matchers, React, DOM checks) and so are never path
 * segments through a property; pass them positionally: `GET.api("then")`.
 */
export const NOT_SEGMENTS: ReadonlySet<string> = new Set([
  "then",
  "catch",
  "finally",
  "toJSON",
  "toString",
  "valueOf",
  "constructor",
  "prototype",
  "__proto__",
  "asymmetricMatch",
  "$$typeof",
  "nodeType",
  "inspect",
]);

const readOnly = () => false;

/** How many child endpoints one root keeps for reuse (`GET.api` is then the same object each time). */
const CACHED = 1024;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Splits `(...segments, values?, options?)`; a wrong shape is a typed error, before anything is sent. */
function split(args: readonly unknown[]): {
  segments: string[];
  values: unknown;
  options: Record<string, unknown>;
} {
  let i = 0;
  const segments: string[] = [];
  while (i < args.length && (typeof args[i] === "string" || typeof args[i] === "number")) {
    const arg = args[i++];
    if (typeof arg === "number" && !Number.isFinite(arg)) {
      throw new ClientError(
        "USRV_ERR_CLIENT_BAD_SEGMENT",
        `${arg} is not a valid path segment (a finite number or a string)`,
      );
    }
    segments.push(String(arg));
  }
  const [values, options, ...extra] = args.slice(i);
  if (extra.length > 0 || typeof options === "string" || typeof options === "number") {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      "a call takes path segments first, then one object of values, then one of options",
    );
  }
  if (options !== undefined && !isPlainObject(options)) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `the options must be a plain object, got ${describe(options)}`,
    );
  }
  return { segments, values: values ?? undefined, options: { ...options } };
}

function node(
  method: string,
  segments: readonly string[],
  send: EndpointSend,
  budget: { left: number },
): Endpoint {
  const label = () => `${method} /${segments.join("/")}`;
  // Children are kept, within a budget per root, so a hot call like
  // GET.api.endpoint() builds no Proxy; names made on the fly (GET.user[id])
  // cannot grow memory past the budget: beyond it children are made afresh.
  let children: Map<string, Endpoint> | undefined;
  // An arrow function target: callable, and with no non-configurable
  // `prototype` for the Proxy invariants to pin.
  const target = (() => undefined) as unknown as Endpoint;
  // Node's inspect looks through a Proxy to its target: describe the target.
  Object.defineProperty(target, INSPECT, { value: () => `[Endpoint ${label()}]`, configurable: true });
  return new Proxy(target, {
    get(_, prop) {
      if (typeof prop === "symbol") {
        if (prop === Symbol.toPrimitive) return label;
        if (prop === INSPECT) return () => `[Endpoint ${label()}]`;
        if (prop === Symbol.toStringTag) return "Endpoint";
        return undefined;
      }
      if (prop === "toString" || prop === "valueOf" || prop === "toJSON") return label;
      if (NOT_SEGMENTS.has(prop)) return undefined;
      let child = children?.get(prop);
      if (child === undefined) {
        // the seed's spelling for names Python cannot write: `_1` is the segment "1"
        const name = /^_\d/.test(prop) ? prop.slice(1) : prop;
        child = node(method, Object.freeze([...segments, name]), send, budget);
        if (budget.left > 0) {
          budget.left--;
          (children ??= new Map()).set(prop, child);
        }
      }
      return child;
    },
    apply(_, __, args: unknown[]) {
      try {
        if (args.length === 0) return send(method, segments, undefined, {});
        const { segments: more, values, options } = split(args);
        return send(method, more.length === 0 ? segments : [...segments, ...more], values, options);
      } catch (e) {
        // a bad argument is a rejection, never a throw: callers await, and may not try
        return Promise.reject(e);
      }
    },
    has: readOnly,
    set: readOnly,
    deleteProperty: readOnly,
    defineProperty: readOnly,
  });
}

/**
 * The root endpoint of `method`: read properties to build a path, call it
 * to send through `send`. The client's `GET`, `POST`... are made so; a
 * plugin makes its own kinds the same way (Binance's signed `SGET`), so its
 * endpoints print, split their arguments and refuse bad ones as the
 * client's do.
 *
 * @example
 * const SGET = endpoint("SGET", (kind, segments, values, options) => binance.request("SGET", segments, values, options));
 * await SGET.api.v3.account({ omitZeroBalances: true }); // send("SGET", ["api", "v3", "account"], { omitZeroBalances: true }, {})
 * String(SGET.api.v3.account);                            // "SGET /api/v3/account"
 */
export function endpoint(method: string, send: EndpointSend): Endpoint {
  return node(method, Object.freeze([]), send, { left: CACHED });
}
