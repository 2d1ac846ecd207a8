/**
 * The default body encoder writes JSON the way the Python peer's
 * `json.dumps` does: `", "` and `": "` separators, every character from
 * U+007F up escaped as `\uXXXX` (ensure_ascii), and numbers as Python
 * writes them. The body is then pure ASCII, so a peer that reads bodies as
 * Latin-1 (the reference's client does) still gets the right text, and an
 * encrypted request carries the same plaintext a Python client would send
 * (docs/wire.md transcripts).
 */
import { ClientError } from "./errors.js";

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/** What ends a number outside a string: `,` `]` `}` (JSON.stringify writes no spaces). */
const DELIMITS: Record<number, true> = { [COMMA]: true, [CLOSE_BRACKET]: true, [CLOSE_BRACE]: true };

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/**
 * A number JSON.stringify wrote, as Python's json.dumps writes the value
 * Python reads from it. Without a fraction or an exponent it is an int to
 * Python, written the same. Otherwise a float: `repr(float)` has the same
 * shortest digits as JavaScript, but takes the exponent form below 1e-4 (JS:
 * below 1e-6) and from 1e16 (JS: 1e21; no non-integer double is that large),
 * with at least two exponent digits: JS `1e-7`, `0.00001` are `1e-07`,
 * `1e-05` (CPython's format_float_short).
 */
function pythonNumber(token: string): string {
  const m = NUMBER.exec(token);
  if (m === null || (m[3] === undefined && m[4] === undefined)) return token;
  const whole = m[2]!;
  let digits = whole + (m[3] ?? "");
  let lead = 0;
  while (lead < digits.length - 1 && digits.charCodeAt(lead) === ZERO) lead++;
  digits = digits.slice(lead);
  const exponent = Number(m[4] ?? 0) + whole.length - 1 - lead;
  if (exponent >= -4 && exponent < 16) return token;
  const e = Math.abs(exponent);
  return `${m[1]}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ""}e${exponent < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
}

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
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      let end = i + 1;
      while (end < text.length && !DELIMITS[text.charCodeAt(end)]) end++;
      const token = text.slice(i, end);
      const py = pythonNumber(token);
      if (py !== token) {
        out += text.slice(start, i) + py;
        start = end;
      }
      i = end - 1;
    }
  }
  return out + text.slice(start);
}
