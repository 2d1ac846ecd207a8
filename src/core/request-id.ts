/**
 * A request's id: the client's (or a proxy's) `x-request-id` when it is
 * sane, else a new random UUID. It is in every log line of the request, in
 * usrv's error bodies (`requestId`), and on the context (`ctx.requestId`).
 */

import type { RequestHeaders } from "../common/types.js";
import { header } from "../faces/incoming.js";

/** Longest incoming id kept. */
const MAX = 200;

/**
 * The incoming `x-request-id` when it is 1-200 visible ASCII characters
 * (no space, no control), else a fresh UUID: an id is written into log
 * lines and bodies, so nothing else from a client is trusted there.
 *
 * @example
 * requestId({ "x-request-id": "abc-123" }); // "abc-123"
 * requestId({ "x-request-id": "a\nb" });    // a new UUID
 */
export function requestId(headers: RequestHeaders): string {
  const given = header(headers, "x-request-id");
  return given !== undefined && sane(given) ? given : crypto.randomUUID();
}

function sane(id: string): boolean {
  if (id.length === 0 || id.length > MAX) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}
