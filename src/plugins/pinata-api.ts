/**
 * P1: Pinata, over the usrv client. Two stores that Pinata keeps apart and
 * so do we: `legacy` is the IPFS pinning API (`/pinning/*` on the API host,
 * pins named by their CID), `files` the v3 files API (uploads on the uploads
 * host, files named by an id within a network). Only the JWT is shared.
 */
import { stat } from "node:fs/promises";
import { type Client, createClient, FormData, loggingFetch } from "../client/index.js";
import { PinataError, translate } from "./pinata-errors.js";
import { baseUrl, pinataFetch } from "./pinata-transport.js";
import {
  type FilesApi,
  type KeyValues,
  type LegacyApi,
  type Network,
  PINATA_API_URL,
  PINATA_UPLOADS_URL,
  type PinataCallOptions,
  type PinataFile,
  type PinataOptions,
  type PinOptions,
  type PinResult,
  type UploadOptions,
} from "./pinata-types.js";

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function bad(message: string): PinataError {
  return new PinataError("USRV_ERR_PINATA_BAD_ARGUMENT", message);
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") throw bad(`${what} must be a non-empty string`);
  return value;
}

function checkKeyValues(kv: unknown, nulls: boolean): void {
  if (kv === undefined) return;
  const ok =
    isObject(kv) &&
    Object.values(kv).every(
      (v) =>
        typeof v === "string" || typeof v === "number" || typeof v === "boolean" || (nulls && v === null),
    );
  if (!ok) throw bad("keyvalues must be an object of strings, numbers and booleans");
}

function checkNetwork(network: unknown): Network {
  if (network !== "public" && network !== "private")
    throw bad(`network must be "public" or "private", got ${JSON.stringify(network)}`);
  return network;
}

async function checkFile(path: unknown): Promise<string> {
  const p = text(path, "path");
  try {
    if ((await stat(p)).isFile()) return p;
  } catch (cause) {
    throw new PinataError(
      "USRV_ERR_PINATA_FILE",
      `cannot read ${JSON.stringify(p)}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  throw new PinataError("USRV_ERR_PINATA_FILE", `${JSON.stringify(p)} is not a regular file`);
}

function answer<T>(data: unknown, ok: (d: Record<string, unknown>) => boolean, label: string): T {
  if (!isObject(data) || !ok(data)) {
    const seen =
      typeof data === "string" ? JSON.stringify(data.slice(0, 60)) : JSON.stringify(data)?.slice(0, 80);
    throw new PinataError("USRV_ERR_PINATA_BAD_ANSWER", `${label}: unexpected answer ${seen}`, {
      body: data,
    });
  }
  return data as T;
}

/**
 * A Pinata account: the JWT, its two hosts, and the two APIs.
 *
 * @example
 * const pinata = createPinata();
 * pinata.link(process.env.PINATA_JWT!);
 * await pinata.testAuthentication();
 * const pin = await pinata.legacy.pinFile("cat.png", "./cat.png");
 */
export class Pinata {
  /** The API host's client (the JWT is added to its requests): any endpoint the plugin lacks. Errors are the client's. */
  readonly api: Client;
  /** The uploads host's client (the JWT is added to its requests). */
  readonly uploads: Client;
  readonly legacy: LegacyApi;
  readonly files: FilesApi;
  #jwt: string | undefined;

  constructor(options: PinataOptions = {}) {
    const apiUrl = baseUrl(options.apiUrl ?? PINATA_API_URL, "apiUrl");
    const uploadsUrl = baseUrl(options.uploadsUrl ?? PINATA_UPLOADS_URL, "uploadsUrl");
    const jwt = () => this.#jwt;
    const logged = loggingFetch(options.logger, {
      name: "pinata",
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    const client = (peer: string) =>
      createClient({
        peer,
        fetch: pinataFetch(peer, jwt, logged),
        ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      });
    this.api = client(apiUrl);
    this.uploads = client(uploadsUrl);
    this.legacy = {
      pinFile: (name, path, pinOptions = {}, keyvalues, call) =>
        this.#pinFile(name, path, pinOptions, keyvalues, call),
      updateMetadata: (name, hash, keyvalues, call) => this.#updateMetadata(name, hash, keyvalues, call),
    };
    this.files = {
      upload: (network, name, path, upload) => this.#upload(network, name, path, upload),
      update: (network, id, changes, call) => this.#update(network, id, changes, call),
    };
  }

  /**
   * Sets the JWT sent as `Authorization: Bearer <jwt>` (never logged).
   *
   * @example
   * pinata.link(process.env.PINATA_JWT!);
   */
  link(jwt: string): void {
    if (typeof jwt !== "string" || jwt.trim() === "" || /[\r\n]/.test(jwt))
      throw new PinataError("USRV_ERR_PINATA_NO_TOKEN", "link(jwt) needs the JWT of a Pinata API key");
    this.#jwt = jwt.trim();
  }

  /** True once {@link Pinata.link} has set a JWT. */
  get linked(): boolean {
    return this.#jwt !== undefined;
  }

  /**
   * Checks the JWT: `GET /data/testAuthentication`.
   *
   * @example
   * await pinata.testAuthentication(); // { message: "Congratulations! You are communicating with the Pinata API!" }
   */
  async testAuthentication(call: PinataCallOptions = {}): Promise<{ message: string }> {
    const label = "GET /data/testAuthentication";
    const data = await this.#call(this.api, "GET", ["data", "testAuthentication"], undefined, call, label);
    return answer(data, (d) => typeof d.message === "string", label);
  }

  #token(label: string): void {
    if (this.#jwt === undefined)
      throw new PinataError("USRV_ERR_PINATA_NO_TOKEN", `${label}: no JWT: call link(jwt) first`);
  }

  async #call(
    client: Client,
    method: string,
    segments: string[],
    values: unknown,
    call: PinataCallOptions,
    label: string,
  ): Promise<unknown> {
    this.#token(label);
    try {
      return await client.call(method, segments, values, { timeout: call.timeout, signal: call.signal });
    } catch (err) {
      throw translate(err, label);
    }
  }

  async #pinFile(
    name: string,
    path: string,
    options: PinOptions,
    keyvalues: KeyValues | undefined,
    call: PinataCallOptions = {},
  ): Promise<PinResult> {
    const label = "POST /pinning/pinFileToIPFS";
    this.#token(label);
    text(name, "name");
    if (!isObject(options)) throw bad("options (pinataOptions) must be an object");
    checkKeyValues(keyvalues, false);
    const file = await checkFile(path);
    const form = new FormData()
      .appendFile("file", file)
      .appendJson("pinataOptions", { cidVersion: 1, ...options })
      .appendJson("pinataMetadata", keyvalues === undefined ? { name } : { name, keyvalues });
    const data = await this.#call(this.api, "POST", ["pinning", "pinFileToIPFS"], form, call, label);
    const pin = answer<PinResult>(
      data,
      (d) =>
        typeof d.IpfsHash === "string" &&
        d.IpfsHash !== "" &&
        typeof d.PinSize === "number" &&
        typeof d.Timestamp === "string" &&
        (d.isDuplicate === undefined || typeof d.isDuplicate === "boolean"),
      label,
    );
    return { ...pin, isDuplicate: pin.isDuplicate === true };
  }

  async #updateMetadata(
    name: string,
    hash: string,
    keyvalues: Record<string, string | number | boolean | null> | undefined,
    call: PinataCallOptions = {},
  ): Promise<void> {
    const label = "PUT /pinning/hashMetadata";
    this.#token(label);
    text(name, "name");
    text(hash, "hash");
    checkKeyValues(keyvalues, true);
    const body = { ipfsPinHash: hash, name, ...(keyvalues === undefined ? {} : { keyvalues }) };
    await this.#call(this.api, "PUT", ["pinning", "hashMetadata"], body, call, label);
  }

  async #upload(
    network: Network,
    name: string,
    path: string,
    options: UploadOptions = {},
  ): Promise<PinataFile> {
    const label = "POST /v3/files";
    this.#token(label);
    checkNetwork(network);
    text(name, "name");
    if (options.groupId !== undefined) text(options.groupId, "groupId");
    checkKeyValues(options.keyvalues, false);
    const file = await checkFile(path);
    const form = new FormData()
      .appendFile("file", file)
      .appendValue("network", network)
      .appendValue("name", name);
    if (options.groupId !== undefined) form.appendValue("group_id", options.groupId);
    // a text field holding JSON, as Pinata's own SDK sends it
    if (options.keyvalues !== undefined) form.appendValue("keyvalues", JSON.stringify(options.keyvalues));
    const data = await this.#call(this.uploads, "POST", ["v3", "files"], form, options, label);
    return fileOf(data, label);
  }

  async #update(
    network: Network,
    id: string,
    changes: { name?: string; keyvalues?: KeyValues },
    call: PinataCallOptions = {},
  ): Promise<PinataFile> {
    const label = `PUT /v3/files/${network}/${id}`;
    this.#token(label);
    checkNetwork(network);
    text(id, "id");
    if (!isObject(changes)) throw bad("changes must be an object { name?, keyvalues? }");
    if (changes.name !== undefined) text(changes.name, "name");
    checkKeyValues(changes.keyvalues, false);
    const data = await this.#call(this.api, "PUT", ["v3", "files", network, id], { ...changes }, call, label);
    return fileOf(data, label);
  }
}

function fileOf(data: unknown, label: string): PinataFile {
  const wrapped = answer<{ data: PinataFile }>(
    data,
    (d) =>
      isObject(d.data) &&
      typeof d.data.id === "string" &&
      typeof d.data.cid === "string" &&
      typeof d.data.size === "number",
    label,
  );
  return wrapped.data;
}

/**
 * An isolated Pinata account (its own JWT and hosts).
 *
 * @example
 * const pinata = createPinata({ apiUrl: "http://127.0.0.1:4001", uploadsUrl: "http://127.0.0.1:4002" });
 * pinata.link(jwt);
 */
export function createPinata(options?: PinataOptions): Pinata {
  return new Pinata(options);
}
