/**
 * C6: the file name `dump()` gives a part. What a peer sends as a file name
 * is data, never a path: only its last component is kept, characters that
 * could climb or mean something to a file system are replaced, and those
 * that show nothing or reorder what is shown are removed, so the name a
 * user sees is the name on disk (`file\u202Egnp.exe` shows as "fileexe.png"
 * and is an .exe). Portable (no node:): the Node writer adds the
 * O_EXCL/O_NOFOLLOW part.
 */
import { extensionOfType } from "../common/mime.js";
import type { FormPart } from "./platform.js";

/**
 * What shows nothing or moves what is shown, removed: controls (C0, DEL, C1
 * with U+0085), format characters (Unicode's Cf: the bidirectional
 * embeddings, overrides and isolates U+202A-202E and U+2066-2069, the marks
 * U+200E, U+200F and U+061C, zero-width U+200B-200D, U+2060, U+FEFF, the
 * soft hyphen U+00AD, tag characters), line and paragraph separators, lone
 * surrogates, and the letters and marks that render as nothing (Hangul
 * fillers, the combining grapheme joiner, variation selectors).
 */
const INVISIBLE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: each code point is removed alone, joiners and selectors included
  /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\u{e0100}-\u{e01ef}]/gu;
/** Spaces other than U+0020 (no-break, ideographic, thin...: JavaScript's \s holds every Zs), made one. */
const SPACES = /[^\S ]/g;
/** Path separators and what Windows forbids in a name. */
const UNSAFE = /[/\\<>:"|?*]/g;
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
  name = name.replace(INVISIBLE, "").replace(SPACES, " ").replace(UNSAFE, "_").trim();
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
