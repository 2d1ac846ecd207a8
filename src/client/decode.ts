/**
 * C4: an answer's body decoded by its Content-Type: JSON, url-encoded,
 * multipart (a FormData), text, or bytes for anything else. An empty body
 * is `null`. A body that does not decode under its declared type is a
 * typed error, never a half-read value.
 */

import { mediaType } from "../common/media-type.js";
import { contentText } from "../core/charset.js";
import { ClientError } from "./errors.js";
import { FormData } from "./form-data.js";

const strict = new TextDecoder("utf-8", { fatal: true });

function strictText(bytes: Uint8Array, what: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_BODY",
      `the answer is declared as ${what} but is not valid UTF-8`,
    );
  }
}

/** Text as the server reads it: in its charset, else UTF-8 when valid, else Latin-1 (no byte lost). */
function charsetText(bytes: Uint8Array, contentType: string): string {
  try {
    return contentText(bytes, contentType, "the answer's charset");
  } catch (e) {
    throw new ClientError("USRV_ERR_CLIENT_BAD_BODY", (e as Error).message);
  }
}

/** Url-encoded fields: a prototype-less object; a repeated key gives an array of its values. */
function formFields(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(text)) {
    const seen = out[k];
    out[k] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
  }
  return out;
}

/**
 * Decodes a body by its Content-Type: synchronously, except multipart
 * (a promise of a FormData). Throws `USRV_ERR_CLIENT_BAD_BODY`.
 *
 * @example
 * decodeBody(new TextEncoder().encode('["12","test"]'), "application/json"); // ["12", "test"]
 */
export function decodeBody(bytes: Uint8Array, contentType: string | null): unknown {
  if (bytes.length === 0) return null;
  const type = mediaType(contentType);
  if (type === "application/json" || type.endsWith("+json")) {
    const text = strictText(bytes, "JSON");
    try {
      return JSON.parse(text);
    } catch (e) {
      const start = JSON.stringify(text.slice(0, 60));
      throw new ClientError(
        "USRV_ERR_CLIENT_BAD_BODY",
        `the answer is declared as JSON but is not (${(e as Error).message}); it starts with ${start}`,
      );
    }
  }
  if (type === "application/x-www-form-urlencoded") return formFields(strictText(bytes, "url-encoded"));
  if (type === "multipart/form-data") return FormData.decode(bytes, contentType!);
  if (type.startsWith("text/")) return charsetText(bytes, contentType!);
  return bytes;
}
