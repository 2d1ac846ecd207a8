/**
 * The default body encoder writes JSON the way the Python peer's
 * `json.dumps` does: `", "` and `": "` separators and every character from
 * U+007F up escaped as `\uXXXX` (ensure_ascii). The body is then pure ASCII,
 * so a peer that reads bodies as Latin-1 (the reference's client does) still
 * gets the right text, and an encrypted request carries the same plaintext a
 * Python client would send (docs/wire.md transcripts).
 */
import { ClientError } from "./errors.js";

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * `JSON.stringify(value)` re-spaced and ASCII-escaped in one pass, as
 * Python's `json.dumps(value)`.
 *
 * @example
 * pythonJson({ value1: 1, value2: "\u00e9" }); // '{"value1": 1, "value2": "\\u00e9"}'
 */
export function pythonJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `values cannot be written as JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (text === undefined) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      "values cannot be written as JSON (undefined, a function or a symbol)",
    );
  }
  let out = "";
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH)
        i++; // an escape: its next character is ASCII and never ends the string
      else if (c === QUOTE) inString = false;
      else if (c >= 0x7f) {
        // Python writes lowercase hex, surrogate pairs as two escapes: so does this
        out += `${text.slice(start, i)}\\u${c.toString(16).padStart(4, "0")}`;
        start = i + 1;
      }
    } else if (c === QUOTE) inString = true;
    else if (c === COMMA || c === COLON) {
      out += `${text.slice(start, i + 1)} `;
      start = i + 1;
    }
  }
  return out + text.slice(start);
}
