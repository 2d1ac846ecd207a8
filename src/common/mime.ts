/**
 * A small media type table, portable (no node: import): the type of the
 * client's file parts and of `usrv/static`'s files, guessed from the
 * extension as the reference's `mimetypes.guess_type` does, and the
 * extension `dump()` gives a part without a file name.
 */

const BY_EXT: Record<string, string> = {
  bin: "application/octet-stream",
  css: "text/css",
  csv: "text/csv",
  gif: "image/gif",
  gz: "application/gzip",
  htm: "text/html",
  html: "text/html",
  ico: "image/vnd.microsoft.icon",
  avif: "image/avif",
  otf: "font/otf",
  ttf: "font/ttf",
  woff: "font/woff",
  woff2: "font/woff2",
  webm: "video/webm",
  jpeg: "image/jpeg",
  jpg: "image/jpeg",
  js: "text/javascript",
  json: "application/json",
  md: "text/markdown",
  mjs: "text/javascript",
  mp3: "audio/mpeg",
  mp4: "video/mp4",
  pdf: "application/pdf",
  png: "image/png",
  svg: "image/svg+xml",
  tar: "application/x-tar",
  txt: "text/plain",
  wasm: "application/wasm",
  webp: "image/webp",
  xml: "application/xml",
  zip: "application/zip",
};

const BY_TYPE: Record<string, string> = Object.create(null);
for (const [ext, type] of Object.entries(BY_EXT)) BY_TYPE[type] ??= ext;
BY_TYPE["text/plain"] = "txt";
BY_TYPE["text/html"] = "html";
BY_TYPE["image/jpeg"] = "jpg";
BY_TYPE["text/javascript"] = "js";

/**
 * The media type of a file name, `application/octet-stream` when unknown.
 *
 * @example
 * typeOfName("a.PNG"); // "image/png"
 */
export function typeOfName(name: string): string {
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  return Object.hasOwn(BY_EXT, ext) ? BY_EXT[ext]! : "application/octet-stream";
}

/**
 * The extension (with its dot) for a media type, `.bin` when unknown.
 *
 * @example
 * extensionOfType("application/json; charset=utf-8"); // ".json"
 */
export function extensionOfType(type: string): string {
  const bare = type.split(";")[0]!.trim().toLowerCase();
  return `.${BY_TYPE[bare] ?? "bin"}`;
}
