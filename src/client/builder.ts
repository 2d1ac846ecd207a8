/**
 * C1: the endpoint builder. `GET.api.endpoint` is a Proxy whose property
 * reads only build a path; nothing is sent until it is called. It is not
 * thenable (`then` is undefined), so `await GET.api` gives the endpoint
 * back instead of sending, and printing it (inspect, template literals,
 * String(), JSON.stringify) shows its method and path.
 */

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

/** Sends a call: the method, the raw segments, the call's arguments. */
export type Dispatch = (
  method: string,
  segments: readonly string[],
  args: readonly unknown[],
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

/**
 * An endpoint for `method` at `segments`.
 *
 * @example
 * const GET = endpoint("GET", [], dispatch);
 * await GET.api.endpoint({ a: 12, b: "test" }); // dispatch("GET", ["api", "endpoint"], [{ a: 12, b: "test" }])
 */
export function endpoint(
  method: string,
  segments: readonly string[],
  dispatch: Dispatch,
  budget = { left: CACHED },
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
        child = endpoint(method, Object.freeze([...segments, name]), dispatch, budget);
        if (budget.left > 0) {
          budget.left--;
          (children ??= new Map()).set(prop, child);
        }
      }
      return child;
    },
    apply(_, __, args) {
      return dispatch(method, segments, args);
    },
    has: readOnly,
    set: readOnly,
    deleteProperty: readOnly,
    defineProperty: readOnly,
  });
}
