/**
 * docs/wire.md "Body encryption": what text an encrypted request body is.
 * The wire encrypts text (AES-CTR over its UTF-8), and the reference's
 * client makes every body text by reading its bytes as Latin-1
 * (`FormData.encode` returns `dumps()[0].decode("latin-1")`, and
 * `build_request` encrypts that string), so a byte 0x80-0xFF travels as two
 * bytes of UTF-8. JSON and url-encoded bodies are text already (the
 * reference writes them in ASCII, where both readings agree). Shared by the
 * server (text to bytes) and the client (bytes to text); no dependencies.
 */
import { latin1 } from "./bytes.js";
import { mediaType } from "./media-type.js";

const utf8 = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** JSON and url-encoded bodies: UTF-8 text; any other body: the Latin-1 reading of its bytes. */
export function isTextBody(contentType: string | null | undefined): boolean {
  const type = mediaType(contentType);
  return (
    type === "application/json" || type.endsWith("+json") || type === "application/x-www-form-urlencoded"
  );
}

/**
 * The bytes of a decrypted request body: UTF-8 of the text for JSON and
 * url-encoded bodies; for any other, the Latin-1 bytes of the text when
 * every character is one (the reference's reading), else its UTF-8.
 *
 * @example
 * sealedBytes("\u0089PNG\u00ff", "application/octet-stream"); // Uint8Array [0x89, 0x50, 0x4e, 0x47, 0xff]
 * sealedBytes('{"a": "é"}', "application/json"); // the UTF-8 bytes
 */
export function sealedBytes(text: string, contentType: string | null | undefined): Uint8Array {
  if (isTextBody(contentType)) return utf8.encode(text);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) return utf8.encode(text);
    bytes[i] = c;
  }
  return bytes;
}

/**
 * The text to encrypt for a request body of `bytes`, as the reference's
 * client makes it: the Latin-1 reading, except for JSON and url-encoded
 * bodies, which are UTF-8 text (`null` when they are not valid UTF-8).
 *
 * @example
 * sealedText(new Uint8Array([0x89, 0xff]), "multipart/form-data; boundary=b"); // "\u0089\u00ff"
 */
export function sealedText(bytes: Uint8Array, contentType: string | null | undefined): string | null {
  if (!isTextBody(contentType)) return latin1(bytes);
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}
