/**
 * P1: the types of the Pinata plugin: options, answers, and the two APIs
 * (`legacy`, `files`) an account offers.
 */
import type { DebugLogger, FetchLike } from "../client/index.js";

/** Pinata's hosts, as the real service has them. */
export const PINATA_API_URL = "https://api.pinata.cloud";
export const PINATA_UPLOADS_URL = "https://uploads.pinata.cloud";

/** Options of {@link createPinata}. */
export interface PinataOptions {
  /** The API host (legacy pinning, authentication, v3 updates); default {@link PINATA_API_URL}. */
  apiUrl?: string;
  /** The v3 uploads host; default {@link PINATA_UPLOADS_URL}. */
  uploadsUrl?: string;
  /** The fetch under the client (default: the global one). */
  fetch?: FetchLike;
  /** Milliseconds for a whole call, upload included (default: the client's, 30,000). */
  timeout?: number;
  /** Gets one debug line per request; the Authorization header is redacted. */
  logger?: DebugLogger;
}

/** Options of one call. */
export interface PinataCallOptions {
  /** Milliseconds for this call, instead of the instance's. */
  timeout?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Custom metadata of a pin or file: Pinata stores flat key-value pairs. */
export type KeyValues = Record<string, string | number | boolean>;

/** The legacy `pinataOptions` part; `cidVersion` defaults to 1 (the seed's default). */
export interface PinOptions {
  cidVersion?: 0 | 1;
  wrapWithDirectory?: boolean;
  groupId?: string;
  [option: string]: unknown;
}

/** The answer of a legacy pin. */
export interface PinResult {
  /** The CID of the pinned content. */
  IpfsHash: string;
  PinSize: number;
  /** ISO 8601 time of the pin. */
  Timestamp: string;
  /** True when this content was pinned already (absent in Pinata's answer means false). */
  isDuplicate: boolean;
}

/** A v3 network. */
export type Network = "public" | "private";

/** A v3 file as Pinata describes it (`{ data: PinataFile }`). */
export interface PinataFile {
  id: string;
  name: string;
  cid: string;
  size: number;
  number_of_files: number;
  mime_type: string;
  group_id: string | null;
  keyvalues?: KeyValues;
  created_at: string;
  [field: string]: unknown;
}

/** Options of a v3 upload. */
export interface UploadOptions extends PinataCallOptions {
  /** The group to put the file in. */
  groupId?: string;
  keyvalues?: KeyValues;
}

/** The legacy IPFS pinning API. */
export interface LegacyApi {
  /**
   * Pins a file: `POST /pinning/pinFileToIPFS`, multipart, the file streamed
   * from disk, `pinataOptions` and `pinataMetadata` as JSON parts.
   *
   * @example
   * const pin = await pinata.legacy.pinFile("cat.png", "./cat.png", {}, { owner: "me" });
   * pin.IpfsHash; // "bafkrei..."
   */
  pinFile(
    name: string,
    path: string,
    options?: PinOptions,
    keyvalues?: KeyValues,
    call?: PinataCallOptions,
  ): Promise<PinResult>;
  /**
   * Renames a pin and sets its key-values (a `null` value removes a key):
   * `PUT /pinning/hashMetadata` with `{ ipfsPinHash, name, keyvalues }`.
   *
   * @example
   * await pinata.legacy.updateMetadata("cat v2.png", pin.IpfsHash, { owner: "you", draft: null });
   */
  updateMetadata(
    name: string,
    hash: string,
    keyvalues?: Record<string, string | number | boolean | null>,
    call?: PinataCallOptions,
  ): Promise<void>;
}

/** The v3 files API. */
export interface FilesApi {
  /**
   * Uploads a file: `POST /v3/files` on the uploads host, multipart with
   * the fields `file`, `network`, `name`, `group_id`, `keyvalues`.
   *
   * @example
   * const file = await pinata.files.upload("private", "report.pdf", "./report.pdf", { keyvalues: { year: 2025 } });
   * file.id; // "0195f4f2-..."
   */
  upload(network: Network, name: string, path: string, options?: UploadOptions): Promise<PinataFile>;
  /**
   * Renames a file or replaces its key-values: `PUT /v3/files/{network}/{id}` on the API host.
   *
   * @example
   * await pinata.files.update("private", file.id, { name: "report-2025.pdf" });
   */
  update(
    network: Network,
    id: string,
    changes: { name?: string; keyvalues?: KeyValues },
    call?: PinataCallOptions,
  ): Promise<PinataFile>;
}
