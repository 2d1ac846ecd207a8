/**
 * C3: the body of a call with a body (POST, PUT, PATCH...): the values
 * encoded as JSON (default), url-encoded form or multipart, or by the
 * caller's own encoder function.
 */
import { ClientError } from "./errors.js";
import { FormData } from "./form-data.js";
import { pythonJson } from "./json.js";
import { isFileRef } from "./platform.js";
import { describe, formText, refuseOpaque } from "./url.js";

/** The encoders by name. */
export type EncoderName = "json" | "form" | "multipart";

/** A body ready to send. */
export interface EncodedBody {
  readonly body: string | Uint8Array | Blob;
  readonly contentType: string;
}

/** An encoder: a name, or a function of the values. */
export type Encoder = EncoderName | ((values: unknown) => EncodedBody | Promise<EncodedBody>);

const NAMES: readonly EncoderName[] = ["json", "form", "multipart"];

function hasFiles(values: object): boolean {
  return Object.values(values).some((v) => isFileRef(v) || v instanceof Blob);
}

/** A standard (WHATWG) FormData as usrv's: text entries as values, Files and Blobs as files. */
function fromStandard(values: globalThis.FormData): FormData {
  const form = new FormData();
  for (const [name, value] of values) {
    if (typeof value === "string") form.appendValue(name, value);
    else form.appendFile(name, value, { filename: value.name, type: value.type || undefined });
  }
  return form;
}

/**
 * Encodes the values. Without an encoder: multipart when the values are a
 * FormData (usrv's or the standard one) or hold a file (`FormData.file(path)`,
 * a Blob), a form for a URLSearchParams, JSON otherwise. A Map, a Set or
 * another iterable that JSON would write as `{}` is refused.
 *
 * @example
 * await encodeBody({ value1: 1 }, undefined); // { body: '{"value1": 1}', contentType: "application/json" }
 */
export async function encodeBody(values: unknown, encoder: Encoder | undefined): Promise<EncodedBody> {
  if (typeof encoder === "function") {
    const out = await encoder(values);
    if (!out || typeof out.contentType !== "string" || out.body === undefined) {
      throw new ClientError(
        "USRV_ERR_CLIENT_BAD_ARGUMENT",
        "a custom encoder must return { body, contentType }",
      );
    }
    return out;
  }
  if (encoder !== undefined && !NAMES.includes(encoder)) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `unknown encoder ${JSON.stringify(encoder)} (known: ${NAMES.join(", ")}, or a function)`,
    );
  }
  if (typeof globalThis.FormData === "function" && values instanceof globalThis.FormData) {
    values = fromStandard(values);
  }
  if (values instanceof URLSearchParams) {
    if (encoder === undefined || encoder === "form")
      return { body: values.toString(), contentType: "application/x-www-form-urlencoded" };
    values = Object.fromEntries(values);
  }
  const isForm = values instanceof FormData;
  if (!isForm) refuseOpaque(values, encoder === undefined || encoder === "json" ? "JSON" : "named values");
  const files = isForm || (values !== null && typeof values === "object" && hasFiles(values));
  const name = encoder ?? (files ? "multipart" : "json");
  if (files && name !== "multipart") {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `files travel in multipart bodies only: use { encoder: "multipart" }, not "${name}"`,
    );
  }
  if (name === "json") return { body: pythonJson(values), contentType: "application/json" };
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `the ${name} encoder takes an object of named values, got ${describe(values)}`,
    );
  }
  if (name === "form")
    return {
      body: formText(values as Record<string, unknown>),
      contentType: "application/x-www-form-urlencoded",
    };
  const form = isForm ? (values as FormData) : toForm(values as Record<string, unknown>);
  return form.encode();
}

/** The named values as parts: files as files, bytes as bytes, objects as JSON, the rest as text. */
function toForm(values: Record<string, unknown>): FormData {
  const form = new FormData();
  for (const name of Object.keys(values)) {
    const value = values[name];
    if (value === undefined) continue;
    if (isFileRef(value) || value instanceof Blob) form.appendFile(name, value);
    else if (value instanceof Uint8Array) form.appendValue(name, value);
    else if (value instanceof FormData) form.parts.push(...value.parts);
    else if (value !== null && typeof value === "object") form.appendJson(name, value);
    else form.appendValue(name, value === null ? "" : (value as string | number | boolean));
  }
  return form;
}
