/**
 * Static files (`usrv/static`, issue 16 item 4): an app that serves a folder,
 * to mount under a prefix. GET and HEAD, single byte ranges (206, 416),
 * validators (weak ETag from size and mtime, Last-Modified; 304), content
 * types by extension, precompressed `.br` and `.gz` siblings, streamed from
 * disk. Never a file outside the folder: the path's segments arrive decoded,
 * so `..`, `.`, NUL, backslashes and empty segments are refused before any
 * file system call, the joined path must stay under the folder, and the
 * file's real path (symlinks resolved) too. Node only (node:fs).
 *
 * @example
 * import { serveStatic } from "usrv/static";
 * app.mount("/assets", serveStatic("./public", { maxAge: 3600 }));
 */
import { createReadStream, realpathSync } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { Readable } from "node:stream";
import { type App, createApp } from "../app/app.js";
import { knownKeys } from "../common/known-keys.js";
import { typeOfName } from "../common/mime.js";
import type { Context } from "../common/types.js";
import { type Encoding, negotiate } from "./compress.js";

/** Options of {@link serveStatic}. */
export interface StaticOptions {
  /** The file served for a folder, default `index.html`; `false` for none (a folder is a 404). */
  index?: string | false;
  /** Paths with a segment that starts with a dot: `"deny"` (403, the default), `"ignore"` (404) or `"allow"`. */
  dotfiles?: "deny" | "ignore" | "allow";
  /** `Cache-Control: public, max-age=N` (seconds), default 0. */
  maxAge?: number;
  /** Add `immutable` to Cache-Control (for file names that change with their content), default false. */
  immutable?: boolean;
  /** Serve `name.br` or `name.gz` beside `name` to a client that accepts it, default true. */
  precompressed?: boolean;
}

type Found = { path: string; size: number; mtime: Date };

const TEXT = /^(?:text\/|application\/(?:json|javascript|xml)|image\/svg\+xml)/;
const SIBLINGS: readonly [Encoding, string][] = [
  ["br", ".br"],
  ["gzip", ".gz"],
];

/** A segment usrv will not look up: traversal, NUL, a Windows separator, or an empty one. */
function unsafe(segment: string): boolean {
  return segment === "" || segment === "." || segment === ".." || /[\0\\]/.test(segment);
}

/** A byte range of a file of `size` bytes, null for none or several, "unsatisfiable" (416). */
function range(header: string | undefined, size: number): [number, number] | null | "unsatisfiable" {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return null; // several ranges, or another unit: the whole file (RFC 9110 14.2)
  const [a, b] = [m[1]!, m[2]!];
  if (a === "" && b === "") return null;
  let start: number;
  let end: number;
  if (a === "") {
    start = Math.max(0, size - Number(b)); // the last b bytes
    end = size - 1;
    if (Number(b) === 0) return "unsatisfiable";
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== "" && Number(b) < start) return null; // invalid: ignored
  }
  return start >= size || size === 0 ? "unsatisfiable" : [start, end];
}

/** Weak comparison of an If-None-Match field with a tag. */
function noneMatch(field: string, etag: string): boolean {
  if (field.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return [...field.matchAll(/(?:W\/)?"[^"]*"/g)].some((m) => m[0].replace(/^W\//, "") === bare);
}

/**
 * An app that serves the files under `root` (resolved once, symlinks
 * included), to mount: `app.mount("/assets", serveStatic("public"))`.
 * Throws at once when `root` is not a folder.
 *
 * @example
 * app.mount("/", serveStatic("dist/site", { index: "index.html", immutable: true, maxAge: 31_536_000 }));
 */
export function serveStatic(root: string, options: StaticOptions = {}): App {
  knownKeys("serveStatic", options, ["index", "dotfiles", "maxAge", "immutable", "precompressed"]);
  const base = realpathSync(root);
  const index = options.index ?? "index.html";
  const dotfiles = options.dotfiles ?? "deny";
  const maxAge = options.maxAge ?? 0;
  if (!Number.isSafeInteger(maxAge) || maxAge < 0)
    throw new TypeError("[usrv] serveStatic: maxAge is whole seconds >= 0");
  if (!["deny", "ignore", "allow"].includes(dotfiles))
    throw new TypeError('[usrv] serveStatic: dotfiles is "deny", "ignore" or "allow"');
  const cache = `public, max-age=${maxAge}${options.immutable ? ", immutable" : ""}`;
  const inside = (path: string) => path === base || path.startsWith(base + sep);

  /** The regular file at `path` if it really lies under the root, else null. */
  async function file(path: string): Promise<Found | null> {
    try {
      const real = await realpath(path);
      if (!inside(real)) return null; // a symlink pointing out
      const info = await stat(real);
      return info.isFile() ? { path: real, size: info.size, mtime: info.mtime } : null;
    } catch {
      return null;
    }
  }

  async function lookup(rest: string): Promise<Found | number> {
    const segments = rest === "" ? [] : rest.split("/");
    if (segments.some(unsafe)) return 404;
    if (dotfiles !== "allow" && segments.some((s) => s.startsWith(".")))
      return dotfiles === "deny" ? 403 : 404;
    const path = join(base, ...segments);
    if (!inside(path)) return 404;
    const found = await file(path);
    if (found !== null) return found;
    if (index === false) return 404;
    try {
      if (!(await stat(path)).isDirectory()) return 404;
    } catch {
      return 404;
    }
    return (await file(join(path, index))) ?? 404;
  }

  async function serve(rest: string, ctx: Context): Promise<Response | [number, string]> {
    const found = await lookup(rest);
    if (typeof found === "number") return [found, found === 403 ? "forbidden" : "not found"];
    const etag = `W/"${found.size.toString(16)}-${Math.floor(found.mtime.getTime()).toString(16)}"`;
    const type = typeOfName(found.path);
    const headers: Record<string, string> = {
      "content-type": TEXT.test(type) ? `${type}; charset=utf-8` : type,
      etag,
      "last-modified": found.mtime.toUTCString(),
      "cache-control": cache,
      "accept-ranges": "bytes",
    };
    const inm = ctx.headers["if-none-match"];
    const ims = Date.parse((ctx.headers["if-modified-since"] as string | undefined) ?? "");
    if (
      typeof inm === "string"
        ? noneMatch(inm, etag)
        : !Number.isNaN(ims) && Math.floor(found.mtime.getTime() / 1000) * 1000 <= ims
    ) {
      return new Response(null, { status: 304, headers });
    }
    let served = found;
    if (options.precompressed !== false) {
      headers.vary = "Accept-Encoding";
      // only the codings the client accepts are looked for (a lookup that fails costs ~100 µs)
      const accepted = String(ctx.headers["accept-encoding"] ?? "");
      let offered: Encoding[] = SIBLINGS.map(([coding]) => coding);
      while (accepted !== "" && offered.length > 0) {
        const coding = negotiate(accepted, offered);
        if (coding === null) break;
        const sibling = await file(`${found.path}${SIBLINGS.find(([c]) => c === coding)![1]}`);
        if (sibling !== null) {
          served = sibling;
          headers["content-encoding"] = coding;
          break;
        }
        offered = offered.filter((c) => c !== coding);
      }
    }
    let [start, end, status] = [0, served.size - 1, 200];
    // ranges of the file as it is; If-Range names the representation they apply to
    const ifRange = ctx.headers["if-range"] as string | undefined;
    // (our ETag is weak, which If-Range never matches: only the exact Last-Modified does, RFC 9110 13.1.5)
    const current =
      ifRange === undefined || Date.parse(ifRange) === Math.floor(found.mtime.getTime() / 1000) * 1000;
    const wanted =
      served === found && current ? range(ctx.headers.range as string | undefined, served.size) : null;
    if (wanted === "unsatisfiable") {
      return new Response(null, { status: 416, headers: { "content-range": `bytes */${served.size}` } });
    }
    if (wanted !== null) {
      [start, end, status] = [wanted[0], wanted[1], 206];
      headers["content-range"] = `bytes ${start}-${end}/${served.size}`;
    }
    headers["content-length"] = String(end - start + 1);
    if (ctx.method === "HEAD" || end < start) return new Response(null, { status, headers });
    const stream = Readable.toWeb(
      createReadStream(served.path, { start, end }),
    ) as ReadableStream<Uint8Array>;
    return new Response(stream, { status, headers });
  }

  const app = createApp({ logLevel: 40 });
  app.bind("/", { style: "object" }, (_, ctx) => serve("", ctx));
  app.bind("/<path:file>", { style: "object" }, (values, ctx) => serve(String(values.file), ctx));
  return app;
}
