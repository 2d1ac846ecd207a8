/**
 * The Binance plugin's lowest fetch: one debug line per request, with the
 * secret headers (`X-MBX-APIKEY`...) redacted and without the query string
 * (it holds the parameters and the signature), so no key reaches a log.
 */
import { ClientError, type FetchLike } from "../client/index.js";

/** A pino-compatible logger, of which the plugin uses `debug` only. */
export interface DebugLogger {
  debug(obj: object, msg?: string): void;
}

/** Header names whose values are never written anywhere. */
const SECRET_HEADERS = new Set(["x-mbx-apikey", "authorization", "proxy-authorization", "cookie"]);

/**
 * The headers as a plain object for a log line, secrets replaced by `[redacted]`.
 *
 * @example
 * redact(new Headers({ "x-mbx-apikey": "vmPU..." })); // { "x-mbx-apikey": "[redacted]" }
 */
export function redact(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) out[k] = SECRET_HEADERS.has(k) ? "[redacted]" : v;
  return out;
}

/**
 * `next` (default: the global fetch, looked up at each call) with one
 * redacted debug line per request.
 *
 * @example
 * const fetch = loggingFetch(undefined, logger);
 */
export function loggingFetch(next: FetchLike | undefined, logger: DebugLogger | undefined): FetchLike {
  return async (input, init = {}) => {
    const method = init.method ?? "GET";
    const url = input.split("?")[0]!;
    const headers = redact(new Headers(init.headers));
    const start = performance.now();
    try {
      const response = await (next ?? globalThis.fetch)(input, init);
      const ms = (performance.now() - start).toFixed(1);
      const weight = response.headers.get("x-mbx-used-weight-1m");
      logger?.debug(
        { method, url, status: response.status, ms: Number(ms), weight, headers },
        `binance: ${method} ${url} ${response.status} ${ms}ms`,
      );
      return response;
    } catch (err) {
      logger?.debug(
        { method, url, headers, error: (err as Error)?.message },
        `binance: ${method} ${url} failed`,
      );
      throw err;
    }
  };
}

/**
 * Waits `ms`, or rejects as the client does when `signal` aborts.
 *
 * @example
 * await pause(1000, options.signal);
 */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(
        new ClientError(
          "USRV_ERR_CLIENT_ABORTED",
          "binance: aborted by the caller's signal while backing off",
        ),
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
