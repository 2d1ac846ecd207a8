/**
 * C6: `multipart/form-data` (RFC 7578) to send and to read. The parts are
 * kept as bytes, Blobs or references to files on disk, so a file is read
 * only while the body is sent (a disk-backed Blob on Node), never loaded
 * whole. Reading a file from disk and writing parts to disk are the
 * platform's (`#platform`: Node, or a browser, which has neither).
 */
import { platform } from "#platform";
import { typeOfName } from "../common/mime.js";
import { contentText } from "../core/charset.js";
import { type RawPart, readParts } from "../core/multipart.js";
import { ClientError } from "./errors.js";
import { checkClientOptions, DEFAULT_MAX_BODY_SIZE, DUMP_OPTIONS } from "./options.js";
import { type DumpedPart, type FileRef, type FormPart, isFileRef } from "./platform.js";

/** Options of a file part. */
export interface FileOptions {
  /** The file name sent, default: the path's base name (or the File's name). */
  filename?: string;
  /** The part's Content-Type, default: guessed from the file name. */
  type?: string;
}

/** Bounds of {@link FormData.dump}: what a hostile answer may cost the disk. */
export interface DumpOptions {
  /** Most parts written (default 1000, the multipart reader's own bound): more, and nothing is. */
  maxParts?: number;
  /** Most bytes written, all parts together (default 64 MiB, the default `maxBodySize`); `Infinity`: none. */
  maxBytes?: number;
}

/** A multipart body ready to send. */
export interface EncodedForm {
  readonly body: Blob;
  readonly contentType: string;
  readonly boundary: string;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A text part's value, read as the server reads it: its charset, else UTF-8 when valid, else Latin-1. */
function partValue(name: string, type: string, data: Uint8Array): string {
  try {
    return contentText(data, type, `part "${name}"'s charset`);
  } catch (e) {
    throw new ClientError("USRV_ERR_CLIENT_BAD_BODY", (e as Error).message);
  }
}

/** WHATWG's escaping of names in Content-Disposition (what browsers send). */
function quoted(value: string): string {
  return `"${value.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A")}"`;
}

function headerValue(name: string, value: string): string {
  if (/[\r\n]/.test(value))
    throw new ClientError("USRV_ERR_CLIENT_BAD_ARGUMENT", `part header ${name} holds a line break`);
  return value;
}

function boundary(): string {
  // hex only: the reference's decoder finds the boundary with /--[0-9a-f]+/
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A multipart form (RFC 7578, C6): build it part by part, send it, read
 * one, write its parts to a folder. Files are streamed from disk as the body
 * is sent (Node), or are Blobs and Files (a browser, which has no `dump`);
 * `decode` is the server's own reader, so both read the Python peer's forms
 * alike.
 *
 * @example
 * const form = new FormData().appendValue("note", "hi").appendJson("meta", { a: 1 }).appendFile("file", "./a.png");
 * await POST.upload(form);
 * const written = await (await FormData.decode(body, contentType)).dump("./uploads");
 */
export class FormData implements Iterable<FormPart> {
  /** The parts, in order. */
  readonly parts: FormPart[] = [];

  /**
   * A file on disk for the builder's values: `POST.upload({ file: FormData.file("./a.png") })`.
   * Nothing is read until the body is sent.
   *
   * @example
   * await POST.upload({ file: FormData.file("./a.png", { type: "image/png" }), note: "hi" }, { encoder: "multipart" });
   */
  static file(path: string, options: FileOptions = {}): FileRef {
    if (typeof path !== "string" || path === "")
      throw new ClientError("USRV_ERR_CLIENT_BAD_ARGUMENT", "FormData.file needs a path");
    return { kind: "usrv-file", path, filename: options.filename, type: options.type };
  }

  /**
   * Reads a multipart body. Without `contentType`, the boundary is read from
   * the body's first line, as the reference's decoder does.
   *
   * @example
   * const form = await FormData.decode(bytes, "multipart/form-data; boundary=abc");
   * form.get("note"); // { name: "note", type: "", data: Uint8Array [...] }
   */
  static async decode(body: Uint8Array | ArrayBuffer | string, contentType?: string): Promise<FormData> {
    const bytes =
      typeof body === "string" ? utf8.encode(body) : body instanceof Uint8Array ? body : new Uint8Array(body);
    if (contentType === undefined) {
      const first = /^--([0-9A-Za-z'()+_,./:=?-]{1,70})\r\n/.exec(text.decode(bytes.subarray(0, 80)));
      if (!first)
        throw new ClientError(
          "USRV_ERR_CLIENT_BAD_BODY",
          "not a multipart body: no boundary line at its start",
        );
      contentType = `multipart/form-data; boundary=${first[1]}`;
    }
    let parts: RawPart[];
    try {
      parts = readParts(bytes, contentType);
    } catch (e) {
      throw new ClientError(
        "USRV_ERR_CLIENT_BAD_BODY",
        `not a valid multipart body: ${(e as Error).message.replace("invalid multipart body: ", "")}`,
      );
    }
    const form = new FormData();
    for (const p of parts) {
      // copies: the rest of the body stays out of each part's buffer
      form.parts.push({
        name: p.name,
        filename: p.filename,
        type: p.type ?? "",
        headers: {},
        data: p.content.slice(),
      });
    }
    return form;
  }

  /**
   * Adds a JSON part (`Content-Type: application/json`).
   *
   * @example
   * form.appendJson("meta", { name: "a.png", tags: ["x"] });
   */
  appendJson(name: string, value: unknown): this {
    const json = JSON.stringify(value);
    if (json === undefined)
      throw new ClientError(
        "USRV_ERR_CLIENT_BAD_ARGUMENT",
        `appendJson("${name}"): the value has no JSON form`,
      );
    return this.#push({ name: String(name), type: "application/json", headers: {}, data: utf8.encode(json) });
  }

  /**
   * Adds a text field (no Content-Type: RFC 7578 defaults it to text/plain),
   * or bytes (`application/octet-stream`), with optional part headers.
   *
   * @example
   * form.appendValue("note", "hi").appendValue("count", 3).appendValue("raw", new Uint8Array([1, 2]));
   */
  appendValue(
    name: string,
    value: string | number | boolean | Uint8Array,
    headers: Record<string, string> = {},
  ): this {
    const bytes = value instanceof Uint8Array;
    const extra: Record<string, string> = {};
    let type = bytes ? "application/octet-stream" : "";
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() === "content-type") type = headerValue(k, v);
      else extra[k.toLowerCase()] = headerValue(k, v);
    }
    return this.#push({
      name: String(name),
      type,
      headers: extra,
      data: bytes ? value : utf8.encode(String(value)),
    });
  }

  /**
   * Adds a file: a path (Node: streamed from disk when sent), a Blob or File
   * (browser, or Node), or a {@link FormData.file} reference.
   *
   * @example
   * form.appendFile("file", "./a.png");                                  // Node
   * form.appendFile("file", input.files[0]);                             // browser
   * form.appendFile("doc", new Blob(["hello"]), { filename: "a.txt" });
   */
  appendFile(name: string, source: string | Blob | FileRef, options: FileOptions = {}): this {
    if (typeof source === "string" || isFileRef(source)) {
      const ref = typeof source === "string" ? FormData.file(source, options) : source;
      const filename = options.filename ?? ref.filename ?? ref.path.split(/[/\\]/).pop()!;
      const type = options.type ?? ref.type ?? typeOfName(filename);
      return this.#push({
        name: String(name),
        filename,
        type: headerValue("Content-Type", type),
        headers: {},
        data: ref,
      });
    }
    if (!(source instanceof Blob)) {
      throw new ClientError(
        "USRV_ERR_CLIENT_BAD_ARGUMENT",
        `appendFile("${name}") takes a path, a Blob or a File`,
      );
    }
    const filename = options.filename ?? ((source as Partial<File>).name || "blob");
    const type = options.type ?? (source.type || typeOfName(filename));
    return this.#push({
      name: String(name),
      filename,
      type: headerValue("Content-Type", type),
      headers: {},
      data: source,
    });
  }

  #push(part: FormPart): this {
    this.parts.push(part);
    return this;
  }

  /** The first part with this name. */
  get(name: string): FormPart | undefined {
    return this.parts.find((p) => p.name === name);
  }

  /** Every part with this name. */
  getAll(name: string): FormPart[] {
    return this.parts.filter((p) => p.name === name);
  }

  /** How many parts. */
  get size(): number {
    return this.parts.length;
  }

  [Symbol.iterator](): Iterator<FormPart> {
    return this.parts[Symbol.iterator]();
  }

  /**
   * The parts by name (the last of a repeated name wins), as a usrv server
   * binds them: text fields as strings, JSON parts parsed, files as
   * `{ filename, type, data }` (bytes, for decoded forms).
   *
   * @example
   * (await FormData.decode(body, type)).toObject(); // { note: "hi", meta: { a: 1 }, file: { filename: "a.png", ... } }
   */
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = Object.create(null);
    for (const p of this.parts) {
      if (p.filename !== undefined || !(p.data instanceof Uint8Array)) {
        out[p.name] = { filename: p.filename, type: p.type, data: p.data };
        continue;
      }
      const value = partValue(p.name, p.type, p.data);
      if (/^application\/(.+\+)?json\b/i.test(p.type)) {
        try {
          out[p.name] = JSON.parse(value);
          continue;
        } catch {}
      }
      out[p.name] = value;
    }
    return out;
  }

  /**
   * The body to send, with its Content-Type. Files are not read here: the
   * Blob reads them as it is sent.
   *
   * @example
   * const { body, contentType } = await form.encode();
   * await fetch(url, { method: "POST", body, headers: { "content-type": contentType } });
   */
  async encode(): Promise<EncodedForm> {
    const b = boundary();
    const chunks: BlobPart[] = [];
    for (const p of this.parts) {
      let head = `--${b}\r\nContent-Disposition: form-data; name=${quoted(p.name)}`;
      if (p.filename !== undefined) head += `; filename=${quoted(p.filename)}`;
      head += "\r\n";
      if (p.type) head += `Content-Type: ${headerValue("Content-Type", p.type)}\r\n`;
      for (const [k, v] of Object.entries(p.headers)) head += `${k}: ${headerValue(k, v)}\r\n`;
      chunks.push(`${head}\r\n`);
      chunks.push(isFileRef(p.data) ? (await platform.openFile(p.data)).blob : (p.data as BlobPart));
      chunks.push("\r\n");
    }
    // No CRLF after the close delimiter (RFC 2046 makes it part of an optional
    // epilogue): the reference's FormData.decode drops the body's last line,
    // and with a CRLF that line is empty, so "--b--" stayed in the last part.
    chunks.push(`--${b}--`);
    return { body: new Blob(chunks), contentType: `multipart/form-data; boundary=${b}`, boundary: b };
  }

  /**
   * Writes each part to a file in `folder` (created if needed) and returns
   * what was written. Never writes outside the folder: names are reduced to
   * a safe base name, stripped of invisible and bidirectional characters, a
   * taken name gets `-1`, `-2`..., an existing file or symbolic link is never
   * opened, let alone overwritten. All or nothing: a form over `maxParts` or
   * `maxBytes` is refused before the first write
   * (`USRV_ERR_CLIENT_DUMP_LIMIT`), and a write that fails removes the files
   * written before it.
   *
   * @example
   * const written = await form.dump("./uploads"); // [{ name: "file", filename: "a.png", path: "/abs/uploads/a.png", ... }]
   * await form.dump("./uploads", { maxParts: 10, maxBytes: 1024 * 1024 });
   */
  dump(folder: string, options: DumpOptions = {}): Promise<DumpedPart[]> {
    try {
      checkClientOptions("dump", options, DUMP_OPTIONS);
    } catch (e) {
      return Promise.reject(e);
    }
    return platform.dump(this.parts, folder, {
      maxParts: options.maxParts ?? 1000,
      maxBytes: options.maxBytes ?? DEFAULT_MAX_BODY_SIZE,
    });
  }
}
