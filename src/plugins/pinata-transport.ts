/**
 * The Pinata plugin's fetch: it adds the JWT (only for its own hosts) and
 * writes one debug line per request with the secret headers redacted, so a
 * token never reaches a log.
 */
import type { FetchLike } from "../client/index.js";
import { PinataError } from "./pinata-errors.js";

/** A pino-compatible logger, of which the plugin uses `debug` only. */
export interface DebugLogger {
  debug(obj: object, msg?: string): void;
}

/** Header names whose values are never written anywhere. */
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "x-mbx-apikey"]);

/**
 * The headers as a plain object for a log line, secrets replaced by `[redacted]`.
 *
 * @example
 * redact(new Headers({ authorization: "Bearer eyJ..." })); // { authorization: "[redacted]" }
 */
export function redact(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) out[k] = SECRET_HEADERS.has(k) ? "[redacted]" : v;
  return out;
}

/**
 * A base URL as the plugin keeps it: absolute http(s), no query, no trailing slash.
 *
 * @example
 * baseUrl("https://api.pinata.cloud/", "apiUrl"); // "https://api.pinata.cloud"
 */
export function baseUrl(value: unknown, what: string): string {
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {}
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash) {
    throw new PinataError(
      "USRV_ERR_PINATA_BAD_ARGUMENT",
      `${what} must be an absolute http(s) URL without query, got ${JSON.stringify(value)}`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * The fetch of one Pinata host: `Authorization: Bearer <jwt>` on requests to
 * `base` (never to another peer a caller names), then one redacted debug line.
 *
 * @example
 * const fetch = pinataFetch("https://api.pinata.cloud", () => jwt, globalThis.fetch, logger);
 */
export function pinataFetch(
  base: string,
  jwt: () => string | undefined,
  next: FetchLike | undefined,
  logger: DebugLogger | undefined,
): FetchLike {
  const ours = (url: string) => url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`);
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    const token = jwt();
    if (token !== undefined && ours(input)) headers.set("authorization", `Bearer ${token}`);
    const method = init.method ?? "GET";
    const url = input.split("?")[0]!; // values may ride in the query: keep them out of logs
    const start = performance.now();
    try {
      const response = await (next ?? globalThis.fetch)(input, { ...init, headers });
      const ms = (performance.now() - start).toFixed(1);
      logger?.debug(
        { method, url, status: response.status, ms: Number(ms), headers: redact(headers) },
        `pinata: ${method} ${url} ${response.status} ${ms}ms`,
      );
      return response;
    } catch (err) {
      logger?.debug(
        { method, url, headers: redact(headers), error: (err as Error)?.message },
        `pinata: ${method} ${url} failed`,
      );
      throw err;
    }
  };
}
