/**
 * docs/wire.md: the Nonce of an encrypted request is the current UTC time, ISO
 * 8601 with microseconds and an explicit `+00:00` (the Python reference's
 * `datetime.now(timezone.utc).isoformat()`), e.g. `2026-11-24T05:52:02.266283+00:00`.
 */

let last = 0;

/**
 * A fresh nonce: never the same twice in this process, even for two
 * requests in the same millisecond (the microseconds then count up, so the
 * value may run ahead of the clock by a few microseconds under load).
 *
 * @example
 * nonce(); // "2026-11-24T05:52:02.266283+00:00"
 */
export function nonce(): string {
  // Date.now() keeps the wall clock (the server checks freshness against
  // its own); performance.now() only supplies digits below the millisecond,
  // so the two clocks can never drift apart by more than 1 ms.
  let us = Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
  if (us <= last) us = last + 1;
  last = us;
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2026-11-24T05:52:02.266Z
  return `${iso.slice(0, 23)}${String(us % 1000).padStart(3, "0")}+00:00`;
}

/** The reference's nonce format, for checks. */
export const NONCE_FORMAT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
