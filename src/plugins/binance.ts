/**
 * `usrv/plugins/binance`: Binance's REST API (row P2) over the usrv client.
 * The module-level names are the seed's (`link`, `GET`, `SGET`, `SPOST`,
 * plus `SDELETE` and `serverTime`) on a default account at api.binance.com;
 * `createBinance` gives an account with its own host and options.
 *
 * @example
 * import * as binance from "usrv/plugins/binance";
 * await binance.link(process.env.BINANCE_KEY!);                  // secret from usrv's store, PIN from USRV_PIN
 * await binance.serverTime();                                    // 1499827319559
 * await binance.GET.api.v3.ticker.price({ symbol: "BTCUSDT" });
 * await binance.SGET.api.v3.account();
 */
import { type Endpoint, endpoint } from "../client/index.js";
import { type Binance, createBinance } from "./binance-api.js";
import type { BinanceCallOptions, BinanceKind, SecretStoreOptions } from "./binance-types.js";

export type { DebugLogger } from "../client/index.js";
export { Binance, createBinance } from "./binance-api.js";
export {
  BINANCE_ERRORS,
  BinanceError,
  type BinanceErrorCode,
  type BinanceErrorDetails,
} from "./binance-errors.js";
export { type ParamValue, sign } from "./binance-sign.js";
export {
  BINANCE_URL,
  type BinanceCallOptions,
  type BinanceKind,
  type BinanceOptions,
  type SecretStoreOptions,
} from "./binance-types.js";

let main: Binance | undefined;

/**
 * The account behind the module-level names (api.binance.com).
 *
 * @example
 * defaultBinance().linked; // false until link()
 */
export function defaultBinance(): Binance {
  return (main ??= createBinance());
}

/**
 * Sets the default account's API key and secret (the secret from usrv's store when omitted).
 *
 * @example
 * await link(process.env.BINANCE_KEY!, undefined, { pin: process.env.MY_PIN });
 */
export function link(apiKey: string, secret?: string, store?: SecretStoreOptions): Promise<void> {
  return defaultBinance().link(apiKey, secret, store);
}

/**
 * Binance's clock (the seed's `get_server_time`): `GET /api/v3/time`.
 *
 * @example
 * await serverTime(); // 1499827319559
 */
export function serverTime(call?: Omit<BinanceCallOptions, "full">): Promise<number> {
  return defaultBinance().serverTime(call);
}

const onDefault = (kind: BinanceKind): Endpoint =>
  endpoint(kind, (_, segments, values, options) => defaultBinance().request(kind, segments, values, options));

/**
 * Public GET on the default account.
 *
 * @example
 * await GET.api.v3.depth({ symbol: "BTCUSDT", limit: 5 });
 */
export const GET: Endpoint = onDefault("GET");
/**
 * Signed GET on the default account (parameters in the query string).
 *
 * @example
 * await SGET.api.v3.account();
 */
export const SGET: Endpoint = onDefault("SGET");
/**
 * Signed POST on the default account (parameters in a form body).
 *
 * @example
 * await SPOST.api.v3.order({ symbol: "LTCBTC", side: "BUY", type: "MARKET", quantity: "1" });
 */
export const SPOST: Endpoint = onDefault("SPOST");
/**
 * Signed DELETE on the default account (parameters in the query string).
 *
 * @example
 * await SDELETE.api.v3.order({ symbol: "LTCBTC", orderId: 28 });
 */
export const SDELETE: Endpoint = onDefault("SDELETE");
