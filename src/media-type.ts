/**
 * The media type of a Content-Type header, shared by the server's body
 * parsing and the client's answer decoding. No dependencies: the browser
 * client imports it too.
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
