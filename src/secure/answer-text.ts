/**
 * A handler's own Response (R8) read whole so that it can be sealed, and
 * bounded: in bytes (the app's `sealLimit`), in time (the route's timeout),
 * and cancelled when the client leaves. A stream that crosses a bound is
 * cancelled at once, so an endless event stream costs at most one bound.
 */
import { HttpError } from "../common/errors.js";

/** Bounds of one read. */
export interface AnswerBounds {
  readonly limit: number;
  readonly timeout: number;
  readonly signal: AbortSignal;
  /** "GET /x", for messages. */
  readonly label: string;
}

/**
 * The text (UTF-8) of a Response's body, or an `HttpError`: 500
 * `USRV_ERR_UNSEALABLE` past `limit` bytes, 503 `USRV_ERR_TIMEOUT` past
 * `timeout` ms, `USRV_ERR_BAD_REQUEST` (never sent) when `signal` fires.
 */
export async function answerText(response: Response, bounds: AnswerBounds): Promise<string> {
  const body = response.body;
  if (body === null) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HttpError(
            "USRV_ERR_TIMEOUT",
            `the answer of ${bounds.label} did not end within ${bounds.timeout} ms, so it could not be sealed`,
            { headers: { "retry-after": "1" } },
          ),
        ),
      bounds.timeout,
    );
    onAbort = () =>
      reject(new HttpError("USRV_ERR_BAD_REQUEST", "the client left before the answer was sealed"));
    if (bounds.signal.aborted) onAbort();
    else bounds.signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), stop]);
      if (done) break;
      total += value.byteLength;
      if (total > bounds.limit) {
        throw new HttpError(
          "USRV_ERR_UNSEALABLE",
          `the answer of ${bounds.label} is over ${bounds.limit} bytes, more than the server seals whole (sealLimit)`,
          { detail: { limit: bounds.limit } },
        );
      }
      text += decoder.decode(value, { stream: true });
    }
    return text + decoder.decode();
  } catch (e) {
    reader.cancel().catch(() => {}); // the handler's stream stops producing
    throw e;
  } finally {
    clearTimeout(timer);
    bounds.signal.removeEventListener("abort", onAbort!);
  }
}
