/**
 * C6: the file name `dump()` gives a part. What a peer sends as a file name
 * is data, never a path: only its last component is kept, and characters
 * that could climb, hide, or mean something to a file system are replaced.
 * Portable (no node:): the Node writer adds the O_EXCL/O_NOFOLLOW part.
 */
import { extensionOfType } from "./mime.js";
import type { FormPart } from "./platform.js";

// Control characters, path separators and what Windows forbids in a name.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
const UNSAFE = /[\u0000-\u001f\u007f/\\<>:"|?*]/g;
const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;
const MAX_BYTES = 200;
const encoder = new TextEncoder();

/**
 * A safe base name for a part: its file name when it has one, else its
 * field name plus an extension from its type.
 *
 * @example
 * safeFileName({ name: "f", filename: "../../etc/passwd", type: "", headers: {}, data: new Uint8Array() }); // "passwd"
 * safeFileName({ name: "meta", type: "application/json", headers: {}, data: new Uint8Array() });          // "meta.json"
 */
export function safeFileName(part: Pick<FormPart, "name" | "filename" | "type">): string {
  const raw =
    part.filename !== undefined && part.filename !== ""
      ? part.filename
      : `${part.name}${extensionOfType(part.type || "text/plain")}`;
  // the last component, whichever separator the sender's system used
  let name = raw.split(/[/\\]/).pop() ?? "";
  name = name.replace(UNSAFE, "_").trim();
  name = name.replace(/[. ]+$/, ""); // Windows drops trailing dots and spaces: "a.." would alias "a"
  if (name.startsWith(".")) name = `_${name.slice(1)}`; // no hidden files, no "." or ".."
  if (RESERVED.test(name)) name = `_${name}`;
  if (name === "" || name === "_") name = `part${extensionOfType(part.type || "application/octet-stream")}`;
  return truncate(name);
}

/**
 * The n-th alternative of a name taken already: `a.png`, `a-1.png`, `a-2.png`...
 *
 * @example
 * variant("a.png", 2); // "a-2.png"
 */
export function variant(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf(".");
  return dot > 0 ? `${name.slice(0, dot)}-${n}${name.slice(dot)}` : `${name}-${n}`;
}

/** At most MAX_BYTES of UTF-8, the extension kept, never a split character. */
function truncate(name: string): string {
  if (encoder.encode(name).length <= MAX_BYTES) return name;
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
  const room = MAX_BYTES - encoder.encode(ext).length;
  let stem = "";
  let bytes = 0;
  for (const ch of ext ? name.slice(0, dot) : name) {
    const n = encoder.encode(ch).length;
    if (bytes + n > room) break;
    stem += ch;
    bytes += n;
  }
  return stem + ext;
}
