/**
 * The Binance endpoints (`SGET.api.v3.account()`): the same Proxy builder
 * as the usrv client's, dispatching to the plugin, which signs, backs off
 * and types the errors. `usrv/client` exports the `Endpoint` type but not
 * its builder function, hence these few lines.
 */
import { NOT_SEGMENTS } from "../client/builder.js";
import type { Endpoint } from "../client/index.js";
import { BinanceError } from "./binance-errors.js";

/** Sends one call: the path segments, the values, the options. */
export type Send = (segments: string[], values: unknown, options: unknown) => Promise<unknown>;

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * An endpoint named `kind` at `segments`: read a property to go one segment
 * deeper, call it with `(...segments, values?, options?)` to send.
 *
 * @example
 * const SGET = endpoint("SGET", [], (segments, values, options) => binance.request("SGET", segments, values, options));
 * await SGET.api.v3.account(); // request("SGET", ["api", "v3", "account"], undefined, undefined)
 */
export function endpoint(kind: string, segments: readonly string[], send: Send): Endpoint {
  const label = () => `[Endpoint ${kind} /${segments.join("/")}]`;
  const target = (() => undefined) as unknown as Endpoint;
  Object.defineProperty(target, INSPECT, { value: label });
  return new Proxy(target, {
    get(_, prop) {
      if (prop === INSPECT || prop === Symbol.toPrimitive || prop === "toString" || prop === "valueOf")
        return label;
      if (typeof prop === "symbol" || NOT_SEGMENTS.has(prop)) return undefined;
      return endpoint(kind, [...segments, prop], send);
    },
    apply(_, __, args: unknown[]) {
      let i = 0;
      const more: string[] = [];
      while (typeof args[i] === "string" || typeof args[i] === "number") more.push(String(args[i++]));
      if (args.length > i + 2)
        return Promise.reject(
          new BinanceError(
            "USRV_ERR_BINANCE_BAD_ARGUMENT",
            `${kind}: a call takes path segments, then one object of parameters, then one of options`,
          ),
        );
      return send([...segments, ...more], args[i], args[i + 1]);
    },
  });
}
