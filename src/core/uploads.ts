/**
 * Behaviour rows V14 and V15: a route bound with `uploads` spools the file parts of a
 * `multipart/form-data` body to a fresh folder (fs.mkdtemp, mode 0700)
 * while the body arrives, so that memory stays flat whatever the size; the
 * folder is removed once the answer is out, or on an error, a timeout or
 * an abort. Loaded on the first such request (pipeline.ts).
 *
 * The multipart framing is busboy's (an optional peer dependency); the
 * part heads are read on the way to it by multipart.ts's own code
 * (part-heads.ts), so that a part binds as on a route that reads the body
 * whole: the Python peer's `form-data; name="x"; `, which busboy would
 * skip, among them. A part busboy did not report is a 400, never a part
 * silently dropped.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Busboy, FieldInfo } from "busboy";
import type { Route, UploadLimits } from "../app/route.js";
import { HttpError } from "../common/errors.js";
import { mediaType } from "../common/media-type.js";
import { importNamed, importPeer } from "../common/peer.js";
import type { SpooledFile } from "../common/types.js";
import { header, type Incoming } from "../faces/incoming.js";
import { type ParsedBody, parseBody } from "./body.js";
import { baseName, fileType, MULTIPART_LIMITS, partText } from "./multipart.js";
import { PartHeads } from "./part-heads.js";
import { type Dict, dict } from "./query.js";
import type { Reply } from "./render.js";

type Maybe<T> = T | Promise<T>;

/** Bytes each step of a spooled file may buffer: busboy, the file part's stream, the file's write stream. */
const SPOOL_HWM = 1024 * 1024;

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
 * busboy, or a `MissingPeerError` naming it: `run()` calls it when the app has
 * `uploads` routes, so that a missing busboy fails the start, not each upload.
 */
export function loadBusboy(): Promise<typeof import("busboy")> {
  return importPeer("busboy", "bind({ uploads })", () => importNamed<BusboyModule>("busboy")).then(
    (m) => m.default,
  );
}

/** What Node's loader gives for busboy, a CommonJS module: its export as `default`. */
type BusboyModule = { default: typeof import("busboy") };

/**
 * The fields of a multipart body, its files written under `dir` (named by
 * their order, never by the client), or the first error: a limit (413), a
 * malformed body (400), the client gone (400).
 */
async function spool(
  inc: Incoming,
  contentType: string,
  fieldBytes: number,
  limits: UploadLimits,
  dir: string,
): Promise<Dict> {
  const busboy = await loadBusboy();
  if (!inc.hasBody) throw new HttpError("USRV_ERR_BAD_MULTIPART", "invalid multipart body: it is empty");
  // the heads, read by multipart.ts as on a route that reads the body whole (a 400 for a bad boundary)
  const reading = new PartHeads(contentType, (head) => fileType(head) !== undefined);
  const { heads } = reading;
  const fields = dict();
  const writes: Promise<unknown>[] = [];
  const streams: (Readable | Writable)[] = [];
  const stop = new AbortController();
  let failure: unknown;
  // No Promise.race against a failure promise here: each race would leave a
  // reaction on it holding its chunk until the end (the whole body in memory).
  let wake: (() => void) | undefined;
  const fail = (e: unknown) => {
    if (failure !== undefined) return;
    failure = e;
    stop.abort(e); // the body is read no further
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
      // text parts come with no charset (part-heads.ts): as Latin-1, their bytes as they are
      defCharset: "latin1",
      // 1 MiB buffered at each step (busboy, the file's stream, the file: SPOOL_HWM) rather than
      // Node's 16-64 KiB: fewer pauses of the request, larger writes (bench/upload.mjs: 300 MiB/s
      // before, 402 after, with the Node face's direct feed; the buffers were most of it)
      highWaterMark: SPOOL_HWM,
      fileHwm: SPOOL_HWM,
      limits: {
        fileSize: limits.maxFileSize + 1, // busboy's "limit" comes on reaching it: a file of maxFileSize passes
        files: limits.maxFiles,
        fields: MULTIPART_LIMITS.fields,
        parts: MULTIPART_LIMITS.parts,
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
  bb.on("field", (n: string, value: string, info: FieldInfo) => {
    parts++;
    const head = heads[Number(n) - 1]!;
    text += value.length; // one character a byte
    if (info.valueTruncated || text > fieldBytes) {
      return fail(
        new HttpError("USRV_ERR_BODY_TOO_LARGE", `the text parts are over the limit of ${fieldBytes} bytes`, {
          detail: { limit: fieldBytes },
          headers: { connection: "close" },
        }),
      );
    }
    try {
      fields[head.name] = partText({ ...head, content: Buffer.from(value, "latin1") });
    } catch (e) {
      fail(e); // an unknown charset: 415, as on a route that reads the body whole
    }
  });
  bb.on("file", (n: string, stream: Readable) => {
    parts++;
    if (failure !== undefined) return void stream.resume();
    const head = heads[Number(n) - 1]!;
    const file: SpooledFile = {
      filename: baseName(head.filename ?? ""),
      type: fileType(head)!,
      size: 0,
      path: join(dir, String(++files)),
    };
    fields[head.name] = file;
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
    const out = createWriteStream(file.path, { flags: "wx", mode: 0o600, highWaterMark: SPOOL_HWM });
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
  let full = false;
  const toBusboy = (bytes: Buffer) => {
    if (!bb.write(bytes)) full = true;
  };
  const write = (chunk: Uint8Array): Promise<void> | undefined => {
    if (failure !== undefined) return undefined;
    try {
      // the Node face's chunks are Buffers already; the fetch face's a view made here
      const bytes = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      reading.push(bytes, toBusboy);
    } catch (e) {
      fail(e);
      return undefined;
    }
    if (!full) return undefined;
    full = false;
    return until("drain");
  };
  try {
    // the body as a whole: the files, the text parts, and 1 MiB for the part headers and boundaries
    await inc.pipeBody(limits.maxTotal + fieldBytes + 1024 * 1024, write, stop.signal);
    if (failure === undefined) {
      reading.end(toBusboy);
      bb.end();
      await until("close");
    }
    if (failure !== undefined) throw failure; // before waiting on files that may never end
    await Promise.all(writes);
    // every head read was busboy's to report: a part it left out is a 400, never dropped
    if (failure === undefined && parts !== heads.length) {
      bad(`busboy reported ${parts} of ${heads.length} parts`);
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
