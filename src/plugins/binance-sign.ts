/**
 * P2: Binance's SIGNED requests. The signature is computed in the fetch
 * under the usrv client, over the very query string and body that go on
 * the wire, so it cannot disagree with how the client encoded them:
 *
 *   totalParams = query string + request body (no separator)
 *   signature   = hex(HMAC-SHA256(secret, totalParams))
 *
 * `timestamp` is appended last (after any `recvWindow`) and `signature`
 * after it, in the body when there is one, else in the query string.
 * Parameters are `application/x-www-form-urlencoded`, never JSON.
 */
import { createHmac } from "node:crypto";
import type { FetchLike } from "../client/index.js";
import { BinanceError } from "./binance-errors.js";

/**
 * Binance's signature: hex HMAC-SHA256 of `payload` with the secret.
 *
 * @example
 * sign("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
 *   "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559");
 * // "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
 */
export function sign(secret: string, payload: string): string {
  return createHmac("sha256", secret).update(payload, "utf8").digest("hex");
}

/** A parameter value: what a query string or form field can carry. */
export type ParamValue = string | number | bigint | boolean | readonly (string | number)[];

function bad(message: string): BinanceError {
  return new BinanceError("USRV_ERR_BINANCE_BAD_ARGUMENT", message);
}

function paramText(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    const text = String(value);
    // 1e-7 is what String() makes of 0.0000001, and Binance refuses it
    if (!Number.isFinite(value) || /e/i.test(text))
      throw bad(`${name}: ${text} cannot be sent as a decimal number: pass it as a string`);
    return text;
  }
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  // Binance's list form: symbols=["BTCUSDT","BNBUSDT"]
  if (Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number"))
    return JSON.stringify(value);
  throw bad(`${name}: a parameter is a string, number, boolean or a list of strings, never a nested object`);
}

/**
 * The values of a call as flat text parameters, in their order (a
 * prototype-less object); `undefined` values are left out.
 *
 * @example
 * toParams({ symbol: "BTCUSDT", limit: 5, symbols: ["A", "B"] }, false); // { symbol: "BTCUSDT", limit: "5", symbols: '["A","B"]' }
 */
export function toParams(values: unknown, signed: boolean): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (values === undefined || values === null) return out;
  const proto = typeof values === "object" ? Object.getPrototypeOf(values) : undefined;
  if (proto !== Object.prototype && proto !== null)
    throw bad("the parameters must be one object of named values");
  for (const [name, value] of Object.entries(values as object)) {
    if (value === undefined) continue;
    if (signed && (name === "timestamp" || name === "signature"))
      throw bad(`${name} is added by the plugin: leave it out`);
    out[name] = paramText(name, value);
  }
  return out;
}

/**
 * The fetch of signed calls: adds `timestamp`, `signature` and the
 * `X-MBX-APIKEY` header to the request the client built.
 *
 * @example
 * const fetch = signingFetch(globalThis.fetch, () => ({ apiKey, secret }), () => Date.now() + offset);
 */
export function signingFetch(
  next: FetchLike,
  credentials: () => { apiKey: string; secret: string },
  timestamp: () => number,
): FetchLike {
  return (input, init = {}) => {
    const { apiKey, secret } = credentials();
    const q = input.indexOf("?");
    const path = q < 0 ? input : input.slice(0, q);
    let query = q < 0 ? "" : input.slice(q + 1);
    // the plugin sends form bodies only, as strings; no body: all in the query
    const form = typeof init.body === "string";
    let body = form ? (init.body as string) : "";
    const stamp = `timestamp=${timestamp()}`;
    if (form) body = body === "" ? stamp : `${body}&${stamp}`;
    else query = query === "" ? stamp : `${query}&${stamp}`;
    const signature = `signature=${sign(secret, query + body)}`;
    if (form) body += `&${signature}`;
    else query += `&${signature}`;
    const headers = new Headers(init.headers);
    headers.set("x-mbx-apikey", apiKey);
    return next(`${path}?${query}`, { ...init, headers, ...(form ? { body } : {}) });
  };
}
