/**
 * A fetch that writes one debug line per request, for the plugins and for
 * anyone who wants a client's traffic in a log: method, URL without its
 * query string (parameters and signatures ride there) or credentials, status, duration,
 * and the request headers, the secret ones shown as `[redacted]`. The one
 * list of secret header names and the one `redact`, for every plugin.
 */
import type { FetchLike } from "./transport.js";

/** A pino-compatible logger, of which only `debug` is used. */
export interface DebugLogger {
  debug(obj: object, msg?: string): void;
}

/** Options of {@link loggingFetch}. */
export interface LoggingFetchOptions {
  /** The fetch that sends (default: the global one, looked up at each call). */
  fetch?: FetchLike;
  /** The lines' prefix, e.g. "binance" for `binance: GET https://… 200 3.1ms` (default "usrv"). */
  name?: string;
  /** More fields for a line, read from the answer (a rate-limit header...). */
  fields?: (response: Response) => Record<string, unknown>;
  /** More header names whose values are never written (case-insensitive), beside {@link SECRET_HEADERS}. */
  secretHeaders?: Iterable<string>;
}

/** Header names whose values are never written anywhere: credentials, and the API keys of the plugins' services. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "x-mbx-apikey",
  "x-api-key",
]);

/**
 * The headers as a plain object for a log line, secrets replaced by `[redacted]`.
 *
 * @example
 * redact(new Headers({ "x-mbx-apikey": "vmPU..." })); // { "x-mbx-apikey": "[redacted]" }
 */
export function redact(
  headers: Headers,
  secret: ReadonlySet<string> = SECRET_HEADERS,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) out[k] = secret.has(k) ? "[redacted]" : v;
  return out;
}

/**
 * `options.fetch` (default: the global one) with one redacted debug line
 * per request on `logger`; without a logger, the fetch itself.
 *
 * @example
 * const fetch = loggingFetch(pino(), { name: "binance", fields: (res) => ({ weight: res.headers.get("x-mbx-used-weight-1m") }) });
 * const client = createClient({ peer: "https://api.binance.com", fetch });
 */
export function loggingFetch(logger: DebugLogger | undefined, options: LoggingFetchOptions = {}): FetchLike {
  const next: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  if (logger === undefined) return next;
  const name = options.name ?? "usrv";
  const secret = new Set(SECRET_HEADERS);
  for (const h of options.secretHeaders ?? []) secret.add(h.toLowerCase());
  return async (input, init = {}) => {
    const method = init.method ?? "GET";
    // no query (parameters, signatures), no fragment, no user:password@
    const url = input.split(/[?#]/)[0]!.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
    const headers = redact(new Headers(init.headers), secret);
    const start = performance.now();
    try {
      const response = await next(input, init);
      const ms = (performance.now() - start).toFixed(1);
      logger.debug(
        { method, url, status: response.status, ms: Number(ms), ...options.fields?.(response), headers },
        `${name}: ${method} ${url} ${response.status} ${ms}ms`,
      );
      return response;
    } catch (err) {
      logger.debug(
        { method, url, headers, error: (err as Error)?.message },
        `${name}: ${method} ${url} failed`,
      );
      throw err;
    }
  };
}
