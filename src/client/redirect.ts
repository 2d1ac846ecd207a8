/**
 * Redirects, followed by hand and to the same origin only (unless the
 * caller asks). fetch's own "follow" goes to any origin, dropping only
 * Authorization (and, in undici, Cookie) on the way: an API key in a header
 * of its own (Binance's X-MBX-APIKEY), or a whole sealed request, body
 * and signature, would reach whoever the first server points to.
 */
import { ClientError } from "./errors.js";
import type { FetchLike } from "./transport.js";

/** How a call treats a redirect: followed within its origin (default), followed anywhere as fetch does, or handed back. */
export type Redirect = "same-origin" | "follow" | "manual";

/** The statuses fetch follows (WHATWG fetch: redirect status). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** fetch's own bound on a chain. */
const MAX_REDIRECTS = 20;
/** What a request's body brings along, dropped with it when a redirect makes a GET of it. */
const BODY_HEADERS = [
  "content-type",
  "content-length",
  "content-encoding",
  "content-language",
  "content-location",
];

function refused(label: string, why: string): ClientError {
  return new ClientError("USRV_ERR_CLIENT_REDIRECT", `${label}: a redirect ${why}`);
}

/**
 * WHATWG fetch, HTTP-redirect fetch: a 303 (but to a GET or HEAD), and a
 * 301 or 302 to a POST, is followed as a GET without a body.
 */
function nextRequest(status: number, init: RequestInit): RequestInit {
  const method = (init.method ?? "GET").toUpperCase();
  const toGet =
    (status === 303 && method !== "GET" && method !== "HEAD") ||
    ((status === 301 || status === 302) && method === "POST");
  if (!toGet) return init;
  const headers = new Headers(init.headers);
  for (const name of BODY_HEADERS) headers.delete(name);
  return { ...init, method: "GET", headers, body: null };
}

/**
 * The init to send under a policy: fetch's own following for "follow";
 * else "manual", so that fetch hands each redirect back to be checked (or,
 * for "manual", as the answer).
 *
 * @example
 * fetch(url, sendInit(init, "same-origin")); // { ...init, redirect: "manual" }
 */
export function sendInit(init: RequestInit | undefined, redirect: Redirect): RequestInit | undefined {
  if (redirect === "follow" || init?.redirect === "manual") return init;
  // a fresh object each time: a fetch wrapper may write to the init it is given
  return { ...init, redirect: "manual" };
}

/**
 * True when an answer to a "same-origin" request is a redirect to check:
 * a redirect status, or a browser's opaque redirect. One Set lookup on the
 * common path.
 */
export function isRedirect(response: Response): boolean {
  return REDIRECTS.has(response.status) || response.type === "opaqueredirect";
}

/**
 * Follows `first`, the answer to `init` sent to `url`, within the origin:
 * refuses another origin, a hidden target, a chain past 20 hops. `alive`
 * says whether anyone still waits (the call's deadline or signal may have
 * ended it): no further hop is sent once it says no.
 *
 * @example
 * const response = isRedirect(first) ? await follow(fetch, url, init, first, label, () => true) : first;
 */
export async function follow(
  fetch: FetchLike,
  url: string,
  init: RequestInit | undefined,
  first: Response,
  label: string,
  alive: () => boolean,
): Promise<Response> {
  let request: RequestInit = init ?? { redirect: "manual" };
  let response = first;
  for (let hops = 0; ; hops++) {
    // a browser hides a manual redirect's target (an opaque redirect): it cannot be checked, so it is not followed
    if (response.type === "opaqueredirect") {
      throw refused(
        label,
        'came back whose target this runtime hides (a browser): pass { redirect: "follow" } to let it follow',
      );
    }
    const location = REDIRECTS.has(response.status) ? response.headers.get("location") : null;
    if (location === null || !alive()) return response;
    response.body?.cancel().catch(() => undefined);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw refused(label, `to ${JSON.stringify(location.slice(0, 100))}, not a URL, was not followed`);
    }
    const from = new URL(url).origin;
    if (next.origin !== from) {
      throw refused(
        label,
        `to ${next.origin}, another origin than ${from}, was not followed: its headers and body are for ${from} only; pass { redirect: "follow" } to follow it`,
      );
    }
    if (hops >= MAX_REDIRECTS) throw refused(label, `chain went past ${MAX_REDIRECTS} hops`);
    request = nextRequest(response.status, request);
    url = next.href;
    response = await fetch(url, request);
  }
}
