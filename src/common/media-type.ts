/**
 * The media type and the charset of a Content-Type header, shared by the
 * server's body parsing and the client's answer decoding. No dependencies:
 * the browser client imports it too.
 */

/**
 * Lower case, without parameters.
 *
 * @example
 * mediaType("Application/JSON; charset=utf-8"); // "application/json"
 */
export function mediaType(contentType: string | null | undefined): string {
  if (!contentType) return "";
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * The charset parameter as written (quotes removed), `undefined` when there is none.
 *
 * @example
 * charsetOf('text/plain; format=flowed; charset="ISO-8859-1"'); // "ISO-8859-1"
 */
export function charsetOf(contentType: string | null | undefined): string | undefined {
  if (!contentType) return undefined;
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return m === null ? undefined : (m[1] ?? m[2]);
}
