/**
 * Joining the chunks of a body read from a stream: shared by the fetch face
 * and the client (no dependencies, so the browser client can import it).
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
