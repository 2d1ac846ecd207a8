/**
 * Behaviour rows V14 and V15: a route bound with `uploads` spools the file parts of a
 * `multipart/form-data` body to a fresh folder (fs.mkdtemp, mode 0700)
 * while the body arrives, so that memory stays flat whatever the size; the
 * folder is removed once the answer is out, or on an error, a timeout or
 * an abort. Loaded on the first such request (pipeline.ts).
 *
 * The multipart framing is busboy's (an optional peer dependency). busboy
 * skips, without a word, every part whose Content-Disposition it cannot
 * read (the Python peer's `form-data; name="x"; ` among them): the
 * delimiters are counted here as the bytes pass, and a body with a part
 * busboy did not report is a 400, never a part silently dropped.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Busboy, FieldInfo, FileInfo } from "busboy";
import type { Route, UploadLimits } from "../app/route.js";
import { HttpError } from "../common/errors.js";
import { mediaType } from "../common/media-type.js";
import { importNamed, importPeer } from "../common/peer.js";
import type { SpooledFile } from "../common/types.js";
import { header, type Incoming } from "../faces/incoming.js";
import { type ParsedBody, parseBody } from "./body.js";
import { MULTIPART_LIMITS } from "./multipart.js";
import { type Dict, dict } from "./query.js";
import type { Reply } from "./render.js";

type Maybe<T> = T | Promise<T>;

/**
 * Reads the body (spooling a multipart body's files), calls `call` with it,
 * and removes the files once the answer is out: at once for an ordinary
 * answer, when its body has been sent or dropped for a handler's Response.
 */
export async function spooled(
  inc: Incoming,
  route: Route,
  call: (bytes: Uint8Array | null, parsed: ParsedBody) => Maybe<Reply>,
): Promise<Reply> {
  const contentType = header(inc.headers, "content-type");
  if (mediaType(contentType) !== "multipart/form-data") {
    // not an upload: read whole, as any route does (bounded by bodyLimit)
    const bytes = await inc.readBody(route.bodyLimit);
    return call(bytes, await parseBody(bytes, contentType, route.bodyShape));
  }
  const limits = route.intake as UploadLimits;
  const dir = await mkdtemp(join(limits.dir ?? tmpdir(), "usrv-upload-"));
  let removed: Promise<void> | undefined;
  const remove = () => {
    removed ??= rm(dir, { recursive: true, force: true }).catch(() => {});
    return removed;
  };
  let reply: Reply;
  try {
    const fields = await spool(inc, contentType!, route.bodyLimit, limits, dir);
    // every file is closed now; a client that leaves takes them away, whatever still runs
    inc.signal.addEventListener("abort", remove, { once: true });
    reply = await call(null, { data: null, fields, value: fields });
  } catch (e) {
    await remove();
    throw e;
  }
  const body = reply.response?.body;
  if (!body) {
    await remove();
    return reply;
  }
  // a handler's Response may stream a spooled file back: the folder goes when it ends
  return { ...reply, response: new Response(afterwards(body, remove), reply.response) };
}

/** `body` as it is, then `done()` once it ended, failed or was cancelled. */
function afterwards(body: ReadableStream<Uint8Array>, done: () => Promise<void>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          await done();
          c.close();
        } else c.enqueue(value);
      } catch (e) {
        await done();
        c.error(e);
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
      await done();
    },
  });
}

const tooLarge = (
  code: "USRV_ERR_FILE_TOO_LARGE" | "USRV_ERR_UPLOAD_TOO_LARGE",
  why: string,
  limit: number,
) => new HttpError(code, why, { detail: { limit }, headers: { connection: "close" } });

/**
 * The fields of a multipart body, its files written under `dir` (named by
 * their order, never by the client), or the first error: a limit (413), a
 * malformed body (400), the client gone (400).
 */
/** What Node's loader gives for busboy, a CommonJS module: its export as `default`. */
type BusboyModule = { default: typeof import("busboy") };

async function spool(
  inc: Incoming,
  contentType: string,
  fieldBytes: number,
  limits: UploadLimits,
  dir: string,
): Promise<Dict> {
  // a CommonJS module: Node's loader gives it as `default`
  const busboy = await importPeer("busboy", "bind({ uploads })", () =>
    importNamed<BusboyModule>("busboy"),
  ).then((m) => m.default);
  const fields = dict();
  const writes: Promise<unknown>[] = [];
  const streams: (Readable | Writable)[] = [];
  let failure: unknown;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // No Promise.race against a failure promise here: each race would leave a
  // reaction on it holding its chunk until the end (the whole body in memory).
  let wake: (() => void) | undefined;
  const fail = (e: unknown) => {
    if (failure !== undefined) return;
    failure = e;
    reader?.cancel(e).catch(() => {}); // a pending read ends
    wake?.();
  };
  /** Until busboy emits `event`, or something fails. */
  const until = (event: string) =>
    new Promise<void>((resolve) => {
      if (failure !== undefined) return resolve();
      wake = resolve;
      bb.once(event, resolve);
    }).then(() => {
      bb.off(event, wake!);
      wake = undefined;
    });
  let bb: Busboy;
  try {
    bb = busboy({
      headers: { "content-type": contentType },
      defParamCharset: "utf8", // browsers write file names in UTF-8
      limits: {
        fileSize: limits.maxFileSize + 1, // busboy's "limit" comes on reaching it: a file of maxFileSize passes
        files: limits.maxFiles,
        fields: MULTIPART_LIMITS.fields,
        parts: MULTIPART_LIMITS.parts,
        fieldNameSize: MULTIPART_LIMITS.fieldNameSize,
        fieldSize: fieldBytes,
      },
    });
  } catch (e) {
    throw new HttpError("USRV_ERR_BAD_MULTIPART", `invalid multipart body: ${(e as Error).message}`);
  }
  const bad = (why: string) =>
    fail(new HttpError("USRV_ERR_BAD_MULTIPART", `invalid multipart body: ${why}`));
  let parts = 0;
  let files = 0;
  let total = 0;
  let text = 0;
  bb.on("field", (name: string, value: string, info: FieldInfo) => {
    parts++;
    text += value.length;
    if (info.nameTruncated) return bad(`a part name is over ${MULTIPART_LIMITS.fieldNameSize} characters`);
    if (info.valueTruncated || text > fieldBytes) {
      return fail(
        new HttpError("USRV_ERR_BODY_TOO_LARGE", `the text parts are over the limit of ${fieldBytes} bytes`, {
          detail: { limit: fieldBytes },
          headers: { connection: "close" },
        }),
      );
    }
    fields[name] = value;
  });
  bb.on("file", (name: string, stream: Readable, info: FileInfo) => {
    parts++;
    if (failure !== undefined) return void stream.resume();
    const file: SpooledFile = {
      filename: info.filename ?? "",
      type: mediaType(info.mimeType),
      size: 0,
      path: join(dir, String(++files)),
    };
    fields[name] = file;
    stream.on("data", (chunk: Buffer) => {
      file.size += chunk.length;
      total += chunk.length;
      if (total > limits.maxTotal) {
        const why = `the files are over the limit of ${limits.maxTotal} bytes together`;
        fail(tooLarge("USRV_ERR_UPLOAD_TOO_LARGE", why, limits.maxTotal));
      }
    });
    stream.on("limit", () => {
      const why = `${JSON.stringify(file.filename.slice(0, 64))} is over the limit of ${limits.maxFileSize} bytes`;
      fail(tooLarge("USRV_ERR_FILE_TOO_LARGE", why, limits.maxFileSize));
    });
    // "wx": a fresh name in a fresh folder; 0600: the uploader's bytes are no one else's
    const out = createWriteStream(file.path, { flags: "wx", mode: 0o600 });
    streams.push(stream, out);
    // done once the file is closed, written whole or destroyed
    writes.push(new Promise<void>((resolve) => out.once("close", () => resolve())));
    pipeline(stream, out).catch(fail);
  });
  bb.on("filesLimit", () =>
    fail(
      new HttpError("USRV_ERR_TOO_MANY_FILES", `more than ${limits.maxFiles} files`, {
        detail: { limit: limits.maxFiles },
        headers: { connection: "close" },
      }),
    ),
  );
  bb.on("fieldsLimit", () => bad(`more than ${MULTIPART_LIMITS.fields} fields`));
  bb.on("partsLimit", () => bad(`more than ${MULTIPART_LIMITS.parts} parts`));
  bb.on("error", (e: Error) => bad(e.message));
  const counter = delimiters(contentType);
  // the stream bounds the whole body: the files, the text parts, and 1 MiB for the part headers and boundaries
  const body = inc.bodyStream(limits.maxTotal + fieldBytes + 1024 * 1024);
  if (body === null) throw new HttpError("USRV_ERR_BAD_MULTIPART", "invalid multipart body: it is empty");
  reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (failure !== undefined) throw failure;
      if (done) break;
      counter.count(value);
      if (!bb.write(value)) await until("drain");
    }
    if (failure === undefined) {
      bb.end();
      await until("close");
    }
    if (failure !== undefined) throw failure; // before waiting on files that may never end
    await Promise.all(writes);
    if (failure === undefined && parts !== counter.parts()) {
      bad(
        `busboy could not read ${counter.parts() - parts} of ${counter.parts()} parts (a Content-Disposition that is not form-data with a name)`,
      );
    }
    if (failure !== undefined) throw failure;
    return fields;
  } catch (e) {
    fail(e);
    bb.destroy();
    for (const stream of streams) stream.destroy();
    await Promise.allSettled(writes); // every file closed before its folder goes
    throw failure;
  }
}

/**
 * Counts the delimiters (`CRLF--boundary`) of a multipart body as its bytes
 * pass, across chunk edges; the body's first line may lack the CRLF.
 */
function delimiters(contentType: string) {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const delimiter = Buffer.from(`\r\n--${m?.[1] ?? m?.[2] ?? ""}`, "latin1");
  const keep = delimiter.length - 1;
  let tail = Buffer.from("\r\n", "latin1"); // as if the body began after a line
  let seen = 0;
  return {
    count(chunk: Uint8Array): void {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      // a delimiter across the edge: in the tail and the head (it never overlaps itself)
      const edge = Buffer.concat([tail, bytes.subarray(0, keep)]);
      for (let i = edge.indexOf(delimiter); i >= 0 && i < tail.length; i = edge.indexOf(delimiter, i + 1))
        seen++;
      for (let i = bytes.indexOf(delimiter); i >= 0; i = bytes.indexOf(delimiter, i + delimiter.length))
        seen++;
      tail = Buffer.from(
        bytes.length >= keep
          ? bytes.subarray(bytes.length - keep)
          : Buffer.concat([tail, bytes]).subarray(-keep),
      );
    },
    /** The parts: every delimiter but the closing one. */
    parts(): number {
      return Math.max(0, seen - 1);
    },
  };
}
