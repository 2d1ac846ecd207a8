/**
 * Bytes helpers shared by the server and the client: joining the chunks of
 * a body read from a stream, and Latin-1 (no dependencies, so the browser
 * client can import them).
 */

/**
 * One Uint8Array of `total` bytes from `chunks` (the lone chunk itself when there is one).
 *
 * @example
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])], 3); // Uint8Array [1, 2, 3]
 */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * ISO-8859-1 proper: one character per byte, its code the byte
 * (`new TextDecoder("latin1")` is windows-1252, which remaps 0x80-0x9F).
 *
 * @example
 * latin1(new Uint8Array([0x63, 0xe9, 0x80])); // "c\u00e9\u0080"
 */
export function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return out;
}
