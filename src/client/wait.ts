/**
 * Waiting, for the client's retries and for plugins that back off: how
 * long a Retry-After asks for, and a sleep that the caller's signal ends.
 */
import { ClientError } from "./errors.js";

/**
 * Milliseconds to wait from a Retry-After header (RFC 9110 10.2.3:
 * delay-seconds or an HTTP date), or undefined.
 *
 * @example
 * retryAfter("2"); // 2000
 */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Waits `ms`, or rejects with `USRV_ERR_CLIENT_ABORTED` (its `cause` the
 * signal's reason) as soon as `signal` aborts; `label` names the call in
 * the message.
 *
 * @example
 * await sleep(1000, options.signal, "SGET /api/v3/account (backing off)");
 */
export function sleep(ms: number, signal: AbortSignal | undefined, label: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(
        new ClientError("USRV_ERR_CLIENT_ABORTED", `${label}: aborted by the caller's signal`, {
          cause: signal!.reason,
        }),
      );
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    if (signal?.aborted) stop();
    else signal?.addEventListener("abort", stop, { once: true });
  });
}
