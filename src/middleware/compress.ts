/**
 * Compression (`usrv/compress`, issue 16 item 2): an `onResponse` hook that
 * encodes an answer in the best coding the client accepts (Accept-Encoding
 * with its q-values; br, zstd where the running Node has it, gzip, deflate),
 * above a size threshold and for compressible types only. In-memory bodies
 * are compressed at once, streamed ones as they flow. Never an answer to a
 * request that carries keys (it is sealed, and a compressed body leaks its
 * content through its length: BREACH), never one already encoded.
 * node:zlib when the runtime has it, else the WHATWG CompressionStream (gzip
 * and deflate only).
 *
 * @example
 * import { compress } from "usrv/compress";
 * app.use(compress({ threshold: 1024 }));
 */
import type { Hooks } from "../app/hooks.js";
import { knownKeys } from "../common/known-keys.js";
import { carriesKeys } from "../secure/security.js";
import { addToken } from "./vary.js";

/** A content coding usrv can write. */
export type Encoding = "br" | "zstd" | "gzip" | "deflate";

/** Options of {@link compress}. */
export interface CompressOptions {
  /** Bodies shorter than this many bytes are sent as they are, default 1,024. */
  threshold?: number;
  /** The codings offered, in the server's order of preference, default br, zstd, gzip, deflate. */
  encodings?: readonly Encoding[];
  /** Which Content-Types to compress, default text, JSON, XML, JavaScript, SVG and the like. */
  types?: (contentType: string) => boolean;
  /** Brotli's quality, 0-11, default 4 (11 is for static files: ~30x slower here). */
  brotliQuality?: number;
  /** gzip's and deflate's level, 1-9, default 6. */
  level?: number;
}

const COMPRESSIBLE =
  /^(?:text\/(?!event-stream)|application\/(?:json|javascript|ecmascript|xml|x-www-form-urlencoded|graphql|wasm|manifest\+json)|[^/;]+\/[^;]*\+(?:json|xml|text)|image\/svg\+xml)/i;

/** The default type filter: text (but not event streams), JSON, XML, JavaScript, SVG, WebAssembly. */
export function compressible(contentType: string): boolean {
  return COMPRESSIBLE.test(contentType.trim());
}

type Zlib = typeof import("node:zlib");
/** zstd, in node:zlib from Node 22.15 and 23.8 (not in Node 20's types). */
type Zstd = {
  zstdCompressSync(input: Uint8Array): Uint8Array & { buffer: ArrayBufferLike; byteOffset: number };
  createZstdCompress(): import("node:stream").Transform;
};
let zlib: Promise<Zlib | null> | undefined;
/** node:zlib when the runtime has it (Node, Bun, Deno), else null (workerd without node compatibility). */
function loadZlib(): Promise<Zlib | null> {
  return (zlib ??= import("node:zlib").catch(() => null));
}

/**
 * The coding to use: the highest q the client gives (q=0 refuses, `*` stands
 * for those it does not name), ties broken by the server's order; null for
 * none (identity).
 *
 * @example
 * negotiate("gzip;q=0.8, br", ["br", "gzip"]); // "br"
 */
export function negotiate(header: string | undefined, offered: readonly Encoding[]): Encoding | null {
  if (header === undefined || header === "") return null;
  const q = new Map<string, number>();
  for (const part of header.split(",").slice(0, 32)) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const qv = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const value = qv === undefined ? 1 : Number(qv.slice(2));
    if (!q.has(name)) q.set(name, Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0);
  }
  let best: Encoding | null = null;
  let bestQ = 0;
  for (const e of offered) {
    const v = q.get(e) ?? q.get("*") ?? 0;
    if (v > bestQ) [best, bestQ] = [e, v];
  }
  return best;
}

/**
 * The compression hook. Throws a TypeError for options it cannot honour.
 *
 * @example
 * app.use(compress({ encodings: ["gzip"], threshold: 256 }));
 */
export function compress(options: CompressOptions = {}): Hooks {
  knownKeys("compress", options, ["threshold", "encodings", "types", "brotliQuality", "level"]);
  const threshold = options.threshold ?? 1024;
  const types = options.types ?? compressible;
  const quality = options.brotliQuality ?? 4;
  const level = options.level ?? 6;
  const wanted = options.encodings ?? ["br", "zstd", "gzip", "deflate"];
  if (!Number.isSafeInteger(threshold) || threshold < 0)
    throw new TypeError("[usrv] compress: threshold must be whole bytes >= 0");
  if (!Number.isInteger(quality) || quality < 0 || quality > 11)
    throw new TypeError("[usrv] compress: brotliQuality is 0-11");
  if (!Number.isInteger(level) || level < 1 || level > 9)
    throw new TypeError("[usrv] compress: level is 1-9");
  for (const e of wanted)
    if (!["br", "zstd", "gzip", "deflate"].includes(e))
      throw new TypeError(`[usrv] compress: unknown encoding ${JSON.stringify(e)}`);

  return {
    async onResponse(answer, ctx) {
      const { body, headers } = answer;
      if (body === null || answer.status < 200 || answer.status === 204 || answer.status === 206)
        return undefined;
      // a sealed answer must not be compressed (and v1 cannot seal one that is)
      if (carriesKeys(ctx.headers)) return undefined;
      // the answer varies by Accept-Encoding as soon as it could be compressed
      if (headers["content-encoding"] !== undefined || !types(headers["content-type"] ?? ""))
        return undefined;
      headers.vary = addToken(headers.vary, "Accept-Encoding");
      if (headers["content-length"] !== undefined || headers["cache-control"]?.includes("no-transform"))
        return undefined;
      const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
      const size = bytes instanceof Uint8Array ? bytes.length : Number.POSITIVE_INFINITY;
      if (size < threshold) return undefined;
      const z = await loadZlib();
      const offered = wanted.filter((e) =>
        e === "br"
          ? z !== null
          : e === "zstd"
            ? typeof (z as Partial<Zstd> | null)?.zstdCompressSync === "function"
            : true,
      );
      const encoding = negotiate(ctx.headers["accept-encoding"] as string | undefined, offered);
      if (encoding === null) return undefined;
      answer.body = encode(z, encoding, bytes, quality, level);
      headers["content-encoding"] = encoding;
      const etag = headers.etag;
      // another representation: a strong validator of the identity one no longer holds (RFC 9110 8.8.1)
      if (etag !== undefined && !etag.startsWith("W/")) headers.etag = `W/${etag}`;
      return undefined;
    },
  };
}

function encode(
  z: Zlib | null,
  encoding: Encoding,
  body: Uint8Array | ReadableStream<Uint8Array>,
  quality: number,
  level: number,
): Uint8Array | ReadableStream<Uint8Array> {
  if (z === null) {
    // gzip and deflate only, through the runtime's own CompressionStream
    const stream = body instanceof ReadableStream ? body : new Blob([body as BlobPart]).stream();
    return stream.pipeThrough(
      new CompressionStream(encoding as "gzip" | "deflate") as unknown as ReadableWritablePair<
        Uint8Array,
        Uint8Array
      >,
    );
  }
  const brotli = { params: { [z.constants.BROTLI_PARAM_QUALITY]: quality } };
  if (!(body instanceof ReadableStream)) {
    const input = body;
    const out =
      encoding === "br"
        ? z.brotliCompressSync(input, brotli)
        : encoding === "gzip"
          ? z.gzipSync(input, { level })
          : encoding === "deflate"
            ? z.deflateSync(input, { level })
            : (z as unknown as Zstd).zstdCompressSync(input);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }
  return body.pipeThrough(transform(z, encoding, quality, level));
}

/** A streaming compressor as a WHATWG transform: each chunk is written as it arrives, flushed at the end. */
function transform(
  z: Zlib,
  encoding: Encoding,
  quality: number,
  level: number,
): TransformStream<Uint8Array, Uint8Array> {
  const engine =
    encoding === "br"
      ? z.createBrotliCompress({ params: { [z.constants.BROTLI_PARAM_QUALITY]: quality } })
      : encoding === "gzip"
        ? z.createGzip({ level })
        : encoding === "deflate"
          ? z.createDeflate({ level })
          : (z as unknown as Zstd).createZstdCompress();
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      engine.on("data", (chunk: Buffer) =>
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)),
      );
    },
    transform(chunk) {
      return new Promise<void>((resolve, reject) => {
        engine.write(chunk, (e) => (e ? reject(e) : resolve()));
      });
    },
    flush() {
      return new Promise<void>((resolve, reject) => {
        engine.once("end", resolve);
        engine.once("error", reject);
        engine.end();
      });
    },
  });
}
