/**
 * P2: the errors of the Binance plugin: one class, one table of stable
 * codes. Failures of the network (refused, timeout, aborted) stay the
 * client's own `ClientError` (`USRV_ERR_CLIENT_UNREACHABLE`...).
 */
import { ClientError, type ClientHttpError } from "../client/index.js";
import { retryAfter } from "../client/wait.js";
import { defineErrors } from "../common/define-errors.js";

/** Every code a {@link BinanceError} can carry, with what it means. */
export const BINANCE_ERRORS = {
  USRV_ERR_BINANCE_NO_KEY: "no API key: call link(apiKey) first",
  USRV_ERR_BINANCE_NO_SECRET:
    "no secret: none was given to link() and the secret store did not open (no PIN, wrong PIN, nothing stored)",
  USRV_ERR_BINANCE_BAD_ARGUMENT:
    "a parameter cannot travel in a query string or form body, or is one the plugin adds (timestamp, signature); or a call option is unknown or of the wrong type",
  USRV_ERR_BINANCE_RATE_LIMITED:
    "Binance answered 429, or one is still in force: wait retryAfter ms (the plugin waits for you within its retry policy)",
  USRV_ERR_BINANCE_BANNED:
    "Binance answered 418: the IP is banned for retryAfter ms, and nothing is sent until then",
  USRV_ERR_BINANCE_API: "Binance answered another error status, with its own code (apiCode) and message",
  USRV_ERR_BINANCE_BAD_ANSWER: "a success answer is not the JSON Binance's API documents",
} as const satisfies Record<string, string>;

/** A stable Binance error code, e.g. `USRV_ERR_BINANCE_RATE_LIMITED`. */
export type BinanceErrorCode = keyof typeof BINANCE_ERRORS;

/** What an error may carry besides its code and message. */
export interface BinanceErrorDetails {
  /** The HTTP status of Binance's answer (418, 429: also when the plugin refused to send). */
  status?: number | undefined;
  /** Binance's own error code, e.g. -1021 (timestamp outside recvWindow), -1022 (bad signature). */
  apiCode?: number | undefined;
  /** Milliseconds to wait before the next request (from Retry-After). */
  retryAfter?: number | undefined;
  /** The decoded body of Binance's answer. */
  body?: unknown;
  cause?: unknown;
}

/**
 * The one error type of `usrv/plugins/binance`: a stable `code`, and for
 * Binance's answers the `status`, Binance's `apiCode` and `msg`
 * (in the message), `retryAfter` for 418 and 429. Messages never hold the
 * API key or the secret.
 *
 * @example
 * try {
 *   await binance.SPOST.api.v3.order(order);
 * } catch (err) {
 *   if (err instanceof BinanceError && err.code === "USRV_ERR_BINANCE_RATE_LIMITED") await sleep(err.retryAfter ?? 1000);
 * }
 */
export class BinanceError extends defineErrors<typeof BINANCE_ERRORS, Omit<BinanceErrorDetails, "cause">>(
  "BinanceError",
  BINANCE_ERRORS,
  { prefix: "[usrv] binance: " },
) {}

/**
 * Binance's error answer (`{"code": -1021, "msg": "..."}`) as a {@link BinanceError}.
 *
 * @example
 * fromAnswer(err, "SGET /api/v3/account"); // BinanceError USRV_ERR_BINANCE_API, apiCode -1022
 */
export function fromAnswer(err: ClientHttpError, label: string): BinanceError {
  const body = err.body as { code?: unknown; msg?: unknown } | null;
  const apiCode = typeof body?.code === "number" ? body.code : undefined;
  const msg = typeof body?.msg === "string" ? body.msg.slice(0, 200) : undefined;
  const after = retryAfter(err.headers.get("retry-after"));
  const code: BinanceErrorCode =
    err.status === 418
      ? "USRV_ERR_BINANCE_BANNED"
      : err.status === 429
        ? "USRV_ERR_BINANCE_RATE_LIMITED"
        : "USRV_ERR_BINANCE_API";
  const said = `${apiCode === undefined ? "" : ` ${apiCode}`}${msg ? `: ${msg}` : ""}`;
  const wait = after === undefined ? "" : ` (retry after ${after} ms)`;
  return new BinanceError(code, `${label} answered ${err.status}${said}${wait}`, {
    status: err.status,
    apiCode,
    retryAfter: after,
    body: err.body,
    cause: err,
  });
}

/**
 * A body that does not decode as its Content-Type says: a malformed answer.
 *
 * @example
 * catch (e) { throw translate(e, "GET /api/v3/time"); }
 */
export function translate(err: unknown, label: string): unknown {
  if (err instanceof ClientError && err.code === "USRV_ERR_CLIENT_BAD_BODY")
    return new BinanceError("USRV_ERR_BINANCE_BAD_ANSWER", `${label}: ${err.message}`, { cause: err });
  return err;
}
