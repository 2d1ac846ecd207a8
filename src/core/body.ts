/**
 * V8: the body as `data` (text) and, for JSON objects, url-encoded and
 * multipart bodies, its top-level fields bound by name.
 */
import { latin1 } from "../common/bytes.js";
import { HttpError } from "../common/errors.js";
import { mediaType } from "../common/media-type.js";
import { componentDecoder, declaredCharset, undeclaredText } from "./charset.js";
import { type Dict, dict, parseQuery } from "./query.js";

const strict = new TextDecoder("utf-8", { fatal: true });
/** How many keys and how deep a body may be (checked by ./body-shape.ts). */
export interface BodyShape {
  /** Most pairs of a form body, or top-level keys of a JSON object body. */
  readonly maxKeys: number;
  /** Most nesting of a JSON body (arrays and objects). */
  readonly maxDepth: number;
}

// The JSON and multipart parsers load with the first body that needs them:
// secure-json-parse alone costs ~4 ms at start-up (node's CommonJS loader), an
// app's cold start that a GET-only app, or a fetch handler, need not pay.
// a CommonJS module: Node's loader names its exports, a bundler's may give only `default`
const loadJson = () => import("secure-json-parse").then((m) => m.parse ?? m.default.parse);
const loadMultipart = () => import("./multipart.js");
const loadShapes = () => import("./body-shape.js");
let shapes: ReturnType<typeof loadShapes> | undefined;
let json: ReturnType<typeof loadJson> | undefined;
let multipart: ReturnType<typeof loadMultipart> | undefined;
/** secure-json-parse's message for a poisoned body. */
const POISONED = "Object contains forbidden prototype property";

/** The text and the named fields of a body. */
export interface ParsedBody {
  data: string | null;
  fields: Dict | null;
  /** The parsed value: JSON's, a form's fields, else the text; `undefined` when empty. */
  value?: unknown;
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
 * await parseBody(new TextEncoder().encode('{"a":1}'), "application/json", { maxKeys: 1000, maxDepth: 64 }); // { data: '{"a":1}', fields: { a: 1 }, value: { a: 1 } }
 */
export async function parseBody(
  bytes: Uint8Array | null,
  contentType: string | undefined,
  shape: BodyShape,
): Promise<ParsedBody> {
  if (!bytes || bytes.length === 0) return { data: null, fields: null };
  const type = mediaType(contentType);
  const declared = declaredCharset(contentType); // 415 for an unknown one
  // JSON (RFC 8259 8.1) and forms are UTF-8 unless they say otherwise, and
  // must then be valid UTF-8; a declared charset is honoured, as the reference
  // decodes every body in its declared charset.
  const utf8 = declared === null || declared.encoding === "utf-8";
  if (type === "application/json" || type.endsWith("+json")) {
    const data = utf8 ? strictText(bytes, "JSON") : declared.decode(bytes);
    (await (shapes ??= loadShapes())).checkJson(data, shape); // before the work: a 413 or a 400 costs one pass
    const parse = await (json ??= loadJson());
    let parsed: unknown;
    try {
      // V9: JSON.parse makes "__proto__" an own key, which Object.assign or a
      // spread in handler code turns into a prototype; secure-json-parse
      // refuses it, and constructor.prototype, at any depth (it scans only a
      // text that spells either key, so other bodies cost nothing more).
      parsed = parse(data, undefined, { protoAction: "error", constructorAction: "error" });
    } catch (e) {
      const message = (e as Error).message;
      if (message === POISONED) {
        throw new HttpError(
          "USRV_ERR_BAD_JSON",
          "the body has a __proto__ key or a constructor.prototype at some depth (prototype poisoning): refused",
        );
      }
      throw new HttpError("USRV_ERR_BAD_JSON", `the body is not valid JSON: ${message}`);
    }
    const fields =
      parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
        ? Object.assign(dict(), parsed)
        : null;
    return { data, fields, value: parsed };
  }
  if (type === "application/x-www-form-urlencoded") {
    // UTF-16 is the one charset TextDecoder reads whose bytes are not ASCII's
    // where the text is: "&" and "%41" are two bytes each, so such a form is
    // read as text first, its escapes then UTF-8 (as URLSearchParams reads a
    // string)
    const wide = declared?.encoding.startsWith("utf-16") === true;
    if (utf8 || wide) {
      const data = utf8 ? strictText(bytes, "form") : declared.decode(bytes);
      (await (shapes ??= loadShapes())).checkForm(data, shape);
      const fields = parseQuery(data, "form body");
      return { data, fields, value: fields };
    }
    // percent escapes are bytes of the declared charset too
    const text = latin1(bytes);
    (await (shapes ??= loadShapes())).checkForm(text, shape);
    const fields = parseQuery(text, "form body", componentDecoder(declared));
    return { data: declared.decode(bytes), fields, value: fields };
  }
  const data = declared === null ? undeclaredText(bytes) : declared.decode(bytes);
  if (type === "multipart/form-data") {
    const { parseMultipart } = await (multipart ??= loadMultipart());
    const fields = parseMultipart(bytes, contentType!);
    return { data, fields, value: fields };
  }
  return { data, fields: null, value: data };
}
