/**
 * V8: the body as `data` (text) and, for JSON objects, url-encoded and
 * multipart bodies, its top-level fields bound by name. busboy (a maintained
 * streaming multipart parser) is loaded only when a multipart body arrives.
 */
import { componentDecoder, declaredCharset, latin1, undeclaredText } from "./charset.js";
import { HttpError } from "./errors.js";
import { mediaType } from "./media-type.js";
import { type Dict, dict, parseQuery } from "./query.js";
import type { UploadedFile } from "./types.js";

/** Limits on multipart bodies; the byte limit is the route's body limit. */
export const MULTIPART_LIMITS = { parts: 1000, fields: 1000, files: 100, fieldNameSize: 200 };

const strict = new TextDecoder("utf-8", { fatal: true });

/** The text and the named fields of a body. */
export interface ParsedBody {
  data: string | null;
  fields: Dict | null;
}

function strictText(bytes: Uint8Array, what: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new HttpError("USRV_ERR_BAD_UTF8", `the ${what} body is not valid UTF-8`);
  }
}

/**
 * Reads `data` and the fields of a body by its Content-Type.
 *
 * @example
 * await parseBody(new TextEncoder().encode('{"a":1}'), "application/json"); // { data: '{"a":1}', fields: { a: 1 } }
 */
export function parseBody(
  bytes: Uint8Array | null,
  contentType: string | undefined,
): ParsedBody | Promise<ParsedBody> {
  if (!bytes || bytes.length === 0) return { data: null, fields: null };
  const type = mediaType(contentType);
  const declared = declaredCharset(contentType); // 415 for an unknown one
  // JSON (RFC 8259 8.1) and forms are UTF-8 unless they say otherwise, and
  // must then be valid UTF-8; a declared charset is honoured, as the reference
  // decodes every body in its declared charset.
  const utf8 = declared === null || declared.encoding === "utf-8";
  if (type === "application/json" || type.endsWith("+json")) {
    const data = utf8 ? strictText(bytes, "JSON") : declared.decode(bytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch (e) {
      throw new HttpError("USRV_ERR_BAD_JSON", `the body is not valid JSON: ${(e as Error).message}`);
    }
    // JSON.parse defines "__proto__" as an own key, and copying it into a
    // prototype-less object keeps it one (V9).
    const fields =
      parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
        ? Object.assign(dict(), parsed)
        : null;
    return { data, fields };
  }
  if (type === "application/x-www-form-urlencoded") {
    if (utf8) {
      const data = strictText(bytes, "form");
      return { data, fields: parseQuery(data, "form body") };
    }
    // percent escapes are bytes of the declared charset too
    return {
      data: declared.decode(bytes),
      fields: parseQuery(latin1(bytes), "form body", componentDecoder(declared)),
    };
  }
  const data = declared === null ? undeclaredText(bytes) : declared.decode(bytes);
  if (type === "multipart/form-data") {
    return parseMultipart(bytes, contentType!).then((fields) => ({ data, fields }));
  }
  return { data, fields: null };
}

async function parseMultipart(bytes: Uint8Array, contentType: string): Promise<Dict> {
  const { default: busboy } = await import("busboy");
  const fields = dict();
  return new Promise<Dict>((resolve, reject) => {
    const fail = (why: string) =>
      reject(new HttpError("USRV_ERR_BAD_MULTIPART", `invalid multipart body: ${why}`));
    let bb: ReturnType<typeof busboy>;
    try {
      bb = busboy({
        headers: { "content-type": contentType },
        limits: MULTIPART_LIMITS,
        defParamCharset: "utf8",
      });
    } catch (e) {
      return fail((e as Error).message);
    }
    // busboy applies fieldNameSize to url-encoded bodies only: check part names here
    const nameTooLong = (name: string | undefined) =>
      name !== undefined && name.length > MULTIPART_LIMITS.fieldNameSize;
    const nameError = `a part name is over ${MULTIPART_LIMITS.fieldNameSize} characters`;
    bb.on("field", (name, value, info) => {
      if (nameTooLong(name)) return fail(nameError);
      if (info.valueTruncated) return fail(`field "${name.slice(0, 64)}" is too long`);
      fields[name ?? ""] = value; // busboy gives a part named "" the name undefined
    });
    bb.on("file", (name, stream, info) => {
      if (nameTooLong(name)) {
        stream.resume();
        return fail(nameError);
      }
      const file: UploadedFile = {
        // only the base name of what the client claims, never a path
        filename: (info.filename ?? "").split(/[/\\]/).pop() ?? "",
        type: info.mimeType,
        data: new Uint8Array(0),
      };
      // Bound now, in part order: bound at its end, a file beat a later
      // same-named field, against "the last value wins" (test/hardening-properties.test.ts).
      fields[name ?? ""] = file;
      const chunks: Buffer[] = [];
      // A body cut inside a file part errors this stream as well as busboy:
      // with no listener here, that 'error' ended the process (test/hardening-catalogue.test.ts).
      stream.on("error", (e: Error) => fail(e.message));
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        file.data = new Uint8Array(Buffer.concat(chunks));
      });
    });
    bb.on("partsLimit", () => fail(`more than ${MULTIPART_LIMITS.parts} parts`));
    bb.on("filesLimit", () => fail(`more than ${MULTIPART_LIMITS.files} files`));
    bb.on("fieldsLimit", () => fail(`more than ${MULTIPART_LIMITS.fields} fields`));
    bb.on("error", (e: Error) => fail(e.message));
    bb.on("close", () => resolve(fields));
    bb.end(bytes);
  });
}
