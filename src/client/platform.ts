/**
 * What differs between Node and a browser, behind one interface: the curve
 * backend, files and writing parts to disk. The client imports its platform
 * as `#platform`, which package.json's `imports` maps to platform-node.ts,
 * or under the `browser` condition (bundlers, import maps) to
 * platform-browser.ts, which imports nothing from node:. One entry, no
 * injection: the resolver picks the file.
 */
import type { Secp256k1 } from "../secp256k1/api.js";
import type { V2 } from "../secp256k1/v2.js";
import type { FetchLike } from "./transport.js";

/** A file on disk, to be read (streamed) only when the body is sent: see `FormData.file`. */
export interface FileRef {
  readonly kind: "usrv-file";
  readonly path: string;
  /** The file name sent, default: the path's base name. */
  readonly filename?: string | undefined;
  /** The part's Content-Type, default: guessed from the extension. */
  readonly type?: string | undefined;
}

/** One part of a multipart body (RFC 7578). */
export interface FormPart {
  /** The field name. */
  readonly name: string;
  /** The file name, for file parts. */
  readonly filename?: string | undefined;
  /** The part's Content-Type; empty for a plain text field (RFC 7578 defaults it to text/plain). */
  readonly type: string;
  /** More part headers (lower-case names), rarely needed. */
  readonly headers: Readonly<Record<string, string>>;
  /** Bytes (decoded parts always hold bytes), a Blob, or a file on disk. */
  readonly data: Uint8Array | Blob | FileRef;
}

/** What `dump()` wrote for one part. */
export interface DumpedPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly type: string;
  /** The absolute path written, inside the target folder. */
  readonly path: string;
}

/** Bounds of one `dump()`: see {@link DumpOptions}. */
export interface DumpLimits {
  readonly maxParts: number;
  readonly maxBytes: number;
}

/** The platform-specific operations. */
export interface Platform {
  readonly name: "node" | "browser";
  /** The curve backend, loaded on first use (an app that never encrypts never loads it). */
  loadCrypto(): Promise<Secp256k1>;
  /** The v2 operations (HPKE) on the same backend, loaded on the first v2 call. */
  loadV2(): Promise<V2>;
  /** A file as a Blob that reads from disk as it is sent, with its name and guessed type. */
  openFile(ref: FileRef): Promise<{ blob: Blob; filename: string; type: string }>;
  /** Writes each part to a file inside `folder`, never outside it, all or none, within `limits`. */
  dump(parts: readonly FormPart[], folder: string, limits: DumpLimits): Promise<DumpedPart[]>;
  /** Sends a large Blob body with bounded memory, when the runtime's fetch cannot (Node); absent in a browser. */
  readonly upload?: { readonly threshold: number; readonly fetch: FetchLike };
}

/** True for a {@link FileRef}. */
export function isFileRef(value: unknown): value is FileRef {
  return value !== null && typeof value === "object" && (value as FileRef).kind === "usrv-file";
}
