/**
 * The Pinata plugin's fetch: it adds the JWT, only for its own hosts, over
 * the client's logging fetch, which writes the line with the JWT redacted.
 */
import type { FetchLike } from "../client/index.js";
import { PinataError } from "./pinata-errors.js";

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
 * `base` (never to another peer a caller names), then `next` (the client's
 * logging fetch, so the line shows the header redacted).
 *
 * @example
 * const fetch = pinataFetch("https://api.pinata.cloud", () => jwt, loggingFetch(logger, { name: "pinata" }));
 */
export function pinataFetch(base: string, jwt: () => string | undefined, next: FetchLike): FetchLike {
  const ours = (url: string) => url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`);
  return (input, init = {}) => {
    const token = jwt();
    if (token === undefined || !ours(input)) return next(input, init);
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    return next(input, { ...init, headers });
  };
}
