/**
 * V8 and C6: `multipart/form-data` bodies (RFC 7578 over RFC 2046 section
 * 5.1), read from the whole body, which the server (within its body limit)
 * and the client hold already. Every part binds, or the body is a 400
 * `USRV_ERR_BAD_MULTIPART` that names the part and why: a part is never
 * dropped. No library here, on purpose: busboy and @fastify/busboy skip,
 * without a word, every part whose Content-Disposition they cannot read,
 * among them every text field of the Python peer's FormData
 * (`form-data; name="x"; `), and the Remix parser refuses the Latin-1 part
 * headers that peer writes and folds no header line. The framing is a
 * string search over the buffered body; test/multipart.test.ts holds the
 * cases, a property test the round trip
 * and arbitrary bytes.
 */
import { latin1 } from "../common/bytes.js";
import { HttpError } from "../common/errors.js";
import { mediaType } from "../common/media-type.js";
import type { UploadedFile } from "../common/types.js";
import { charsetDecoder, contentText, percentBytes, undeclaredText } from "./charset.js";
import { type Dict, dict } from "./query.js";

/** Limits on multipart bodies; the byte limit is the route's body limit. */
export const MULTIPART_LIMITS = {
  parts: 1000,
  /** busboy's, for spooled uploads; the parts limit holds the text fields of a body read whole. */
  fields: 1000,
  files: 100,
  fieldNameSize: 200,
  /** Bytes of one part's header block (busboy's, and node:http's default). */
  headerSize: 16 * 1024,
  /** Spaces and tabs after a boundary (RFC 2046's transport padding). */
  padding: 256,
};

// RFC 2046 5.1.1: 1-70 bcharsnospace or spaces, not ending with a space.
const BOUNDARY = /^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 7578 4.7: the encodings that leave the content as it is
const IDENTITY = new Set(["7bit", "8bit", "binary"]);

function fail(why: string): never {
  throw new HttpError("USRV_ERR_BAD_MULTIPART", `invalid multipart body: ${why}`);
}

/** The boundary of a multipart Content-Type, or a 400 when it has none or one RFC 2046 refuses. */
export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) fail("the Content-Type has no boundary");
  if (!BOUNDARY.test(boundary)) fail("the boundary is not 1 to 70 characters of RFC 2046");
  return boundary;
}

/** One part of a multipart body, as read: nothing decoded but its headers. */
export interface RawPart {
  /** The field name (Content-Disposition `name`). */
  name: string;
  /** The file name as sent (`filename*` first), before any reduction to a base name. */
  filename: string | undefined;
  /** The part's Content-Type header, as sent. */
  type: string | undefined;
  /** "part 2 (\"note\")", for messages. */
  label: string;
  /** The content, a view of the body's bytes. */
  content: Uint8Array;
}

/**
 * Every part of a multipart body, in order, each with a form-data
 * Content-Disposition and a name, or a 400 `USRV_ERR_BAD_MULTIPART` that
 * names the part and why. Shared by the server and the client (no node:
 * import), so both read what the Python peer writes the same way.
 *
 * @example
 * readParts(bytes, "multipart/form-data; boundary=b"); // [{ name: "note", filename: undefined, type: undefined, content }]
 */
export function readParts(bytes: Uint8Array, contentType: string): RawPart[] {
  const dash = `--${boundaryOf(contentType)}`;
  const delimiter = `\r\n${dash}`;
  // One character per byte: the delimiters are ASCII, so a string search
  // (native, sublinear) finds their byte offsets.
  const text = latin1(bytes);
  let pos: number;
  if (text.startsWith(dash)) pos = dash.length;
  else {
    const first = text.indexOf(delimiter); // after a preamble, which is ignored
    if (first < 0) fail("no boundary line");
    pos = first + delimiter.length;
  }
  const parts: RawPart[] = [];
  for (;;) {
    const next = partAfter(bytes, text, pos, parts.length + 1, true);
    if (next === null) return parts; // the close delimiter; an epilogue is ignored
    const end = text.indexOf(delimiter, next!.start);
    if (end < 0) fail(`part ${parts.length + 1} is cut before its closing boundary`);
    parts.push({ ...next!.head, content: bytes.subarray(next!.start, end) });
    pos = end + delimiter.length;
  }
}

/** What binds a part: its head, read. */
export type PartHead = Omit<RawPart, "content">;

/**
 * What follows a delimiter that ends at `pos` of `text` (the Latin-1 text of
 * `bytes`): `null` for the close delimiter, else the head of part `index`
 * (from 1) and where its content starts, or a 400 `USRV_ERR_BAD_MULTIPART`
 * that names the part and why. With `final` false more bytes may follow:
 * the spooled uploads of core/uploads.ts (part-heads.ts) ask only once
 * `text` holds the answer (the close, a blank line, or more than a head may
 * hold), so a head without its blank line is then one over the limit.
 */
export function partAfter(
  bytes: Uint8Array,
  text: string,
  pos: number,
  index: number,
  final: boolean,
): { head: PartHead; start: number } | null {
  const limits = MULTIPART_LIMITS;
  if (text.startsWith("--", pos)) return null;
  const line = pos;
  while (text.charCodeAt(pos) === 32 || text.charCodeAt(pos) === 9) pos++; // transport padding
  // bounded, so that a spooled upload (part-heads.ts), which holds a head and its
  // padding in 17 KiB, refuses what a body read whole refuses
  if (pos - line > limits.padding)
    fail(`the boundary line before part ${index} has over ${limits.padding} bytes of padding`);
  if (!text.startsWith("\r\n", pos)) {
    fail(
      pos >= text.length
        ? "the body ends before its closing boundary"
        : `the boundary line before part ${index} has more on it`,
    );
  }
  pos += 2;
  if (index > limits.parts) fail(`more than ${limits.parts} parts`);
  const part = `part ${index}`;
  let headEnd = pos;
  let start = pos + 2;
  if (!text.startsWith("\r\n", pos)) {
    headEnd = text.indexOf("\r\n\r\n", pos);
    if (headEnd < 0) {
      fail(
        final
          ? `${part} is cut inside its headers`
          : `${part}: its headers are over ${limits.headerSize} bytes`,
      );
    }
    if (headEnd - pos > limits.headerSize) fail(`${part}: its headers are over ${limits.headerSize} bytes`);
    start = headEnd + 4;
  }
  const head = partHeaders(bytes, text, pos, headEnd, part);
  const { name, filename } = disposition(head.disposition, part);
  const label = `${part} (${JSON.stringify(name.slice(0, 64))})`;
  if (name.length > limits.fieldNameSize) fail(`a part name is over ${limits.fieldNameSize} characters`);
  if (head.encoding !== undefined && !IDENTITY.has(head.encoding.toLowerCase())) {
    fail(
      `${label} is in Content-Transfer-Encoding ${JSON.stringify(head.encoding.slice(0, 32))} (RFC 7578 4.7)`,
    );
  }
  return { head: { name, filename, type: head.type, label }, start };
}

/**
 * The media type of a file part, `undefined` for a text part: a part with a
 * file name, or of type `application/octet-stream`, is a file (busboy's rule).
 */
export function fileType(part: PartHead): string | undefined {
  // RFC 7578 4.4: text/plain unless said
  const type = part.type === undefined ? "text/plain" : mediaType(part.type);
  return part.filename !== undefined || type === "application/octet-stream" ? type : undefined;
}

/**
 * The text of a part that is not a file: in its declared charset, else
 * UTF-8 when valid, else Latin-1 (the Python peer's FormData writes text in
 * Latin-1 and says no charset).
 */
export function partText(part: RawPart): string {
  return contentText(part.content, part.type, `${part.label}'s charset`);
}

/**
 * The named fields of a multipart body: text parts as strings, file parts
 * (a file name, or `application/octet-stream`) as `{ filename, type, data }`
 * with the base name of the file name only. The last part of a name wins.
 *
 * @example
 * parseMultipart(bytes, "multipart/form-data; boundary=b"); // { note: "hi", file: { filename: "a.png", type: "image/png", data } }
 */
export function parseMultipart(bytes: Uint8Array, contentType: string): Dict {
  const fields = dict();
  let files = 0;
  // no count of text fields: readParts() refuses part 1,001, so they never pass MULTIPART_LIMITS.fields
  for (const part of readParts(bytes, contentType)) {
    const type = fileType(part);
    if (type !== undefined) {
      if (++files > MULTIPART_LIMITS.files) fail(`more than ${MULTIPART_LIMITS.files} files`);
      const file: UploadedFile = {
        filename: baseName(part.filename ?? ""),
        type,
        // a copy, and a plain Uint8Array even when the body is a Buffer (the
        // Node face): the rest of the body stays out of file.data.buffer
        data: new Uint8Array(part.content),
      };
      fields[part.name] = file;
    } else fields[part.name] = partText(part);
  }
  return fields;
}

/** Only the base name of what the client claims, never a path. */
export function baseName(filename: string): string {
  const base = filename.slice(Math.max(filename.lastIndexOf("/"), filename.lastIndexOf("\\")) + 1);
  return base === "." || base === ".." ? "" : base;
}

interface HeaderLines {
  disposition: string;
  type: string | undefined;
  encoding: string | undefined;
}

/** The headers of a part that matter, each at most once. */
function partHeaders(bytes: Uint8Array, text: string, from: number, to: number, part: string): HeaderLines {
  const lines: string[] = [];
  while (from < to) {
    // the blank line's CRLF is at `to`: every line ends at or before it
    const eol = text.indexOf("\r\n", from);
    // per line: browsers write names in UTF-8, the Python peer in Latin-1
    const line = undeclaredText(bytes.subarray(from, eol));
    if (/[\r\n]/.test(line)) fail(`${part} has a malformed header line`);
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      if (lines.length === 0) fail(`${part} has a malformed header line`);
      lines[lines.length - 1] += ` ${line.trim()}`; // obsolete line folding (RFC 9112 5.2)
    } else lines.push(line);
    from = eol + 2;
  }
  const seen = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) fail(`${part} has a malformed header line`);
    if (name !== "content-disposition" && name !== "content-type" && name !== "content-transfer-encoding")
      continue;
    if (seen.has(name)) fail(`${part} has two ${canonical(name)} headers`);
    seen.set(name, line.slice(colon + 1).trim());
  }
  const disposition = seen.get("content-disposition");
  if (disposition === undefined) fail(`${part} has no Content-Disposition`);
  return { disposition, type: seen.get("content-type"), encoding: seen.get("content-transfer-encoding") };
}

function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * `form-data; name="x"; filename="a.png"` (RFC 7578 4.2, RFC 6266 4.1),
 * whitespace around `;` and `=`, a trailing `;` (the Python peer writes
 * one), quoted values with backslashes as they are (browsers send Windows
 * paths so), or as `\"` and `\\` escapes when only that reads, `filename*`
 * (RFC 5987) first.
 */
function disposition(value: string, part: string): { name: string; filename: string | undefined } {
  // Browsers (the WHATWG encoding) and our client send a backslash as it is
  // and a quote as %22, the Python peer both as they are: a backslash is
  // first read as itself. A sender of RFC 2183 quoted pairs (a quote written as backslash
  // and quote) is read with escapes when the value makes no sense without.
  try {
    return readDisposition(value, part, false);
  } catch (e) {
    try {
      return readDisposition(value, part, true);
    } catch {
      throw e;
    }
  }
}

function readDisposition(
  value: string,
  part: string,
  escapes: boolean,
): { name: string; filename: string | undefined } {
  const malformed = (why: string) => fail(`${part}'s Content-Disposition ${why}`);
  const n = value.length;
  let i = value.indexOf(";");
  if (i < 0) i = n;
  const type = value.slice(0, i).trim().toLowerCase();
  if (type !== "form-data") fail(`${part} is ${JSON.stringify(type.slice(0, 32))}, not form-data`);
  const params = new Map<string, string>();
  const spaces = () => {
    while (i < n && (value.charCodeAt(i) === 32 || value.charCodeAt(i) === 9)) i++;
  };
  while (i < n) {
    i++; // the ";"
    spaces();
    if (i >= n) break;
    const eq = value.indexOf("=", i);
    const semi = value.indexOf(";", i);
    if (eq < 0 || (semi >= 0 && semi < eq)) malformed("has a parameter without a value");
    const key = value.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(key)) malformed("has a malformed parameter name");
    i = eq + 1;
    spaces();
    let v = "";
    if (value.charCodeAt(i) === 34) {
      let from = ++i;
      for (;;) {
        if (i >= n) malformed("has an unterminated quoted value");
        const c = value.charCodeAt(i);
        if (c === 34) break;
        const next = value.charCodeAt(i + 1);
        if (escapes && c === 92 && (next === 34 || next === 92)) {
          v += value.slice(from, i);
          from = ++i;
        }
        i++;
      }
      v += value.slice(from, i++);
    } else {
      const stop = value.indexOf(";", i);
      v = value.slice(i, stop < 0 ? n : stop).trim();
      if (v === "" || v.includes('"')) malformed("has a parameter without a value");
      i = stop < 0 ? n : stop;
    }
    spaces();
    if (i < n && value.charCodeAt(i) !== 59) malformed("has text after a parameter");
    if (params.has(key)) fail(`${part} repeats ${key}`);
    params.set(key, v);
  }
  const name = params.get("name");
  if (name === undefined) fail(`${part} has no name`);
  const extended = params.get("filename*");
  return { name, filename: extended === undefined ? params.get("filename") : extendedValue(extended, part) };
}

/** RFC 5987 3.2: `charset'language'percent-encoded bytes`. */
function extendedValue(value: string, part: string): string {
  const m = /^([^']+)'[^']*'(.*)$/.exec(value);
  const bytes = m === null ? null : percentBytes(m[2]!, false);
  if (m === null || bytes === null) fail(`${part}'s filename* is not charset'language'percent-encoded`);
  return charsetDecoder(m[1]!, `${part}'s filename* charset`).decode(bytes);
}
