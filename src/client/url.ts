/**
 * C1: the URL of a call. Endpoint names and positional arguments become
 * path segments, each percent-encoded on its own; the values of a bodiless
 * method become the query string.
 */
import { ClientError } from "./errors.js";

/**
 * A peer as the client keeps it: an absolute http(s) URL without query,
 * fragment or trailing slash. A base path is kept (`https://host/v1`).
 *
 * @example
 * normalizePeer("http://127.0.0.1:5000/"); // "http://127.0.0.1:5000"
 */
export function normalizePeer(peer: unknown): string {
  let url: URL;
  try {
    url = new URL(String(peer));
  } catch {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_PEER",
      `peer ${JSON.stringify(peer)} is not an absolute URL (try "http://127.0.0.1:5000")`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ClientError("USRV_ERR_CLIENT_BAD_PEER", `peer ${JSON.stringify(peer)} is not http(s)`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * One path segment, percent-encoded. Refused (a typed error, before anything
 * is sent): empty, `.` and `..` (a URL parser would remove or climb them),
 * and anything holding `/` (it would address another endpoint).
 *
 * @example
 * segment("caf\u00e9 au lait"); // "caf%C3%A9%20au%20lait"
 * segment("../admin");           // throws USRV_ERR_CLIENT_BAD_SEGMENT
 */
export function segment(value: unknown): string {
  if (typeof value === "number" && Number.isFinite(value)) value = String(value);
  if (typeof value !== "string") {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_SEGMENT",
      `a path segment must be a string or a finite number, got ${describe(value)}`,
    );
  }
  if (value === "" || value === "." || value === ".." || value.includes("/")) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_SEGMENT",
      `${JSON.stringify(value)} is not a valid path segment (empty, ".", ".." and names holding "/" are refused; pass the parts separately)`,
    );
  }
  // encodeURIComponent also encodes "%5C" for "\", "?" and "#": the segment stays one segment
  return encodeURIComponent(value);
}

/** The text a value takes in a query string or a url-encoded body. */
export function fieldText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * Values whose own keys are not their content (a Map, a Set, Headers, any
 * iterable object other than an array or bytes): read as named values or as
 * JSON they would silently be `{}`. Throws a `USRV_ERR_CLIENT_BAD_ARGUMENT`.
 */
export function refuseOpaque(values: unknown, as: string): void {
  if (values === null || typeof values !== "object" || Array.isArray(values) || ArrayBuffer.isView(values))
    return;
  if (typeof (values as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function") {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `a ${describe(values)} cannot travel as ${as}: its entries would be lost; pass a plain object (Object.fromEntries(...))`,
    );
  }
}

/**
 * The values as `application/x-www-form-urlencoded` (query or form body):
 * own keys only, `undefined` skipped, an array repeats its key, an object
 * is written as JSON; a URLSearchParams as it is.
 *
 * @example
 * formText({ a: 12, b: "test", tags: ["x", "y"] }); // "a=12&b=test&tags=x&tags=y"
 */
export function formText(values: Record<string, unknown> | URLSearchParams): string {
  if (values instanceof URLSearchParams) return values.toString();
  refuseOpaque(values, "named values");
  const params = new URLSearchParams();
  for (const key of Object.keys(values)) {
    const value = values[key];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, fieldText(item));
    else params.append(key, fieldText(value));
  }
  return params.toString();
}

// An endpoint passes the same (frozen) segments array at each call: its
// checked, encoded path is kept with it (weakly: it goes with the endpoint).
const paths = new WeakMap<readonly string[], string>();

/**
 * The full URL of a call.
 *
 * @example
 * buildUrl("http://127.0.0.1:5000", ["api", "endpoint"], { a: 12, b: "test" });
 * // "http://127.0.0.1:5000/api/endpoint?a=12&b=test"
 */
export function buildUrl(
  peer: string,
  segments: readonly string[],
  query?: Record<string, unknown> | URLSearchParams,
): string {
  let path = paths.get(segments);
  if (path === undefined) {
    path = segments.map(segment).join("/");
    if (Object.isFrozen(segments)) paths.set(segments, path);
  }
  let url = `${peer}/${path}`;
  if (query) {
    const q = formText(query);
    if (q !== "") url += `?${q}`;
  }
  return url;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? (value.constructor?.name ?? "an object") : typeof value;
}
