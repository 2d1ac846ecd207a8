/**
 * C7: how the console prints an answer's value. JSON for what JSON can
 * say (strings escaped, so no answer can drive the terminal); bytes (a
 * body with no Content-Type, or one the client does not decode) as their
 * text when they are UTF-8 text, else as their length and a short hex
 * dump; a multipart answer as its parts, each value shown the same way,
 * wherever bytes sit in the value.
 */
import { FormData } from "../client/index.js";

/** Hex digits shown of a binary body, at most. */
const PREVIEW = 32;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 text without control characters other than tab and line breaks, or undefined. */
function asText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what marks binary data
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

/** `<3 bytes: ff0001>`, the hex cut after PREVIEW bytes. */
function hexOf(bytes: Uint8Array): string {
  const hex = Array.from(bytes.subarray(0, PREVIEW), (b) => b.toString(16).padStart(2, "0")).join("");
  return `<${bytes.length} bytes: ${hex}${bytes.length > PREVIEW ? "…" : ""}>`;
}

/** A value with every byte array, Blob and form replaced by what JSON can print. */
function printable(value: unknown): unknown {
  if (value instanceof Uint8Array) return asText(value) ?? hexOf(value);
  if (value instanceof Blob) return `<${value.size} bytes${value.type ? ` of ${value.type}` : ""}>`;
  if (value instanceof FormData)
    return value.parts.map((p) => ({
      name: p.name,
      ...(p.filename === undefined ? {} : { filename: p.filename }),
      ...(p.type ? { type: p.type } : {}),
      value: printable(p.data),
    }));
  if (Array.isArray(value)) return value.map(printable);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = printable(v);
    return out;
  }
  return value;
}

/**
 * The value of an answer as the console prints it.
 *
 * @example
 * showValue(new TextEncoder().encode("Enjoy")); // '"Enjoy" (5 bytes)'
 * showValue(new Uint8Array([255, 0, 1]));       // "<3 bytes: ff0001>"
 */
export function showValue(value: unknown): string {
  if (value instanceof Uint8Array) {
    const text = asText(value);
    return text === undefined ? hexOf(value) : `${JSON.stringify(text)} (${value.length} bytes)`;
  }
  const json = JSON.stringify(printable(value)) ?? "null";
  return value instanceof FormData ? `FormData ${json}` : json;
}
