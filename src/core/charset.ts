/**
 * V8: a body's text in its declared charset (WHATWG encoding labels, as
 * TextDecoder knows them), or, with none declared, UTF-8 when the bytes are
 * valid UTF-8 and Latin-1 otherwise, so that no byte is lost (the reference
 * reads every body without a charset as Latin-1).
 */
import { latin1 } from "../common/bytes.js";
import { HttpError } from "../common/errors.js";
import { charsetOf } from "../common/media-type.js";

/** What decoding a body needs of a TextDecoder. */
export type Decoder = Pick<TextDecoder, "encoding" | "decode">;

// One decoder per label. Only labels TextDecoder accepts get in, so the map
// holds at most the ~220 labels of the WHATWG Encoding standard.
const decoders = new Map<string, Decoder>();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

// 0x80-0x9F of windows-1252 in the WHATWG index (latin1, iso-8859-1, ascii
// and cp1252 are all its labels). Node 20's TextDecoder reads these bytes as
// ISO-8859-1 instead; this keeps the answer the same on every runtime.
const CP1252_C1 =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";
const windows1252: Decoder = {
  encoding: "windows-1252",
  decode: (input) => {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input as ArrayBuffer);
    return latin1(bytes).replace(/[\x80-\x9f]/g, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]!);
  },
};

/**
 * The decoder of a Content-Type's charset, `null` when it declares none; a
 * 415 `USRV_ERR_BAD_CHARSET` for a label TextDecoder does not know.
 *
 * @example
 * declaredCharset("text/plain; charset=iso-8859-1")?.encoding; // "windows-1252"
 */
export function declaredCharset(contentType: string | undefined): Decoder | null {
  const label = charsetOf(contentType);
  return label === undefined ? null : charsetDecoder(label, "the body's charset");
}

/**
 * The decoder of a charset label; a 415 `USRV_ERR_BAD_CHARSET` naming
 * `what` for a label TextDecoder does not know.
 *
 * @example
 * charsetDecoder("utf-16le", "part 2's charset").decode(new Uint8Array([0x68, 0])); // "h"
 */
export function charsetDecoder(label: string, what: string): Decoder {
  const key = label.trim().toLowerCase();
  let decoder = decoders.get(key);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(key);
      if (decoder.encoding === "windows-1252") decoder = windows1252;
    } catch {
      throw new HttpError(
        "USRV_ERR_BAD_CHARSET",
        `${what} ${JSON.stringify(label.slice(0, 64))} is not an encoding this server can decode`,
      );
    }
    decoders.set(key, decoder);
  }
  return decoder;
}

/**
 * Text of bytes that declare no charset: UTF-8 when valid, else Latin-1.
 *
 * @example
 * undeclaredText(new Uint8Array([0xc3, 0xa9])); // "é"
 * undeclaredText(new Uint8Array([0xe9])); // "é" (Latin-1)
 */
export function undeclaredText(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}

/**
 * Text of bytes under a Content-Type: in its charset when it names one (a
 * 415 `USRV_ERR_BAD_CHARSET` naming `what` for a label TextDecoder does not
 * know), else as {@link undeclaredText}. One rule for request bodies,
 * multipart parts and the client's answers.
 *
 * @example
 * contentText(new Uint8Array([0xe9]), "text/plain; charset=iso-8859-1", "the body's charset"); // "é"
 */
export function contentText(bytes: Uint8Array, contentType: string | undefined, what: string): string {
  const label = charsetOf(contentType);
  return label === undefined ? undeclaredText(bytes) : charsetDecoder(label, what).decode(bytes);
}

/**
 * The bytes of percent-encoded text whose other characters are bytes
 * (Latin-1), `+` a space when `plusIsSpace`; `null` for a bad escape.
 *
 * @example
 * percentBytes("caf%E9+x", true); // Uint8Array [0x63, 0x61, 0x66, 0xe9, 0x20, 0x78]
 */
export function percentBytes(text: string, plusIsSpace: boolean): Uint8Array | null {
  const bytes = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b && plusIsSpace) bytes[n++] = 0x20;
    else if (c !== 0x25) bytes[n++] = c;
    else {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      bytes[n++] = Number.parseInt(hex, 16);
      i += 2;
    }
  }
  return bytes.subarray(0, n);
}

/**
 * A form component decoder for a body in a declared charset other than
 * UTF-8: `+` is a space, and percent escapes are bytes of that charset, as
 * the raw bytes around them (`component` is their Latin-1 reading).
 */
export function componentDecoder(decoder: Decoder): (component: string, where: string) => string {
  return (component, where) => {
    const bytes = percentBytes(component, true);
    if (bytes === null) {
      throw new HttpError(
        "USRV_ERR_BAD_ENCODING",
        `invalid percent-encoding in the ${where}: ${JSON.stringify(component.slice(0, 64))}`,
      );
    }
    return decoder.decode(bytes);
  };
}
