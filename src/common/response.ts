/**
 * A Response whose body goes out as it is. Cloudflare Workers encode a body
 * themselves when its headers name a Content-Encoding (their default,
 * `encodeBody: "automatic"`), so bytes that usrv/compress had already
 * gzipped were gzipped twice there; `"manual"` says the body is encoded as
 * the header says. Other runtimes ignore the member.
 */
export function responseAsIs(
  body: BodyInit | null,
  status: number,
  headers: HeadersInit | Record<string, string>,
): Response {
  return new Response(body, { status, headers, encodeBody: "manual" } as ResponseInit);
}
