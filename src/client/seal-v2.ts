/**
 * The client's side of docs/wire-v2.md: a request sealed with HPKE in Auth
 * mode (our key bound into the encryption), its records bound to the
 * method, target, Content-Type and Nonce; the answer opened with the keys
 * only that request's context derives, bound to its status and Content-Type.
 */
import type { Keypair } from "../secp256k1/api.js";
import { b64decode, b64encode } from "../secp256k1/encoding.js";
import { type Opener, recordStream, runAll, sealedLength } from "../secp256k1/records.js";
import type { V2 } from "../secp256k1/v2.js";
import type { Framing, V2Context } from "../secp256k1/v2-response.js";
import { ClientError } from "./errors.js";
import { nonce } from "./nonce.js";
import { HEADERS } from "./seal.js";

/** docs/wire-v2.md's header names. */
export const V2_HEADERS = {
  version: "Usrv-Encryption",
  record: "Usrv-Record",
  responseNonce: "Response-Nonce",
  /** Sized records (docs/wire-v2.md, "Live answers"): asked for by `client.stream`, confirmed by the answer. */
  records: "Usrv-Records",
} as const;

/** The versions this client speaks, as it announces them. */
export const CLIENT_VERSIONS = "1, 2";

/** A v2 request: its headers, its body (records), and the context its answer opens with. */
export interface SealedV2 {
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | undefined;
  readonly context: V2Context;
}

/** The request line and type the records are bound to. */
export interface V2Head {
  readonly method: string;
  /** Path and query, as fetch sends them. */
  readonly target: string;
  readonly contentType: string | undefined;
}

/** A fresh Nonce and HPKE context (per call, per attempt when retried), and the headers that carry them. */
async function begin(v2: V2, identity: Keypair, puk: string, head: V2Head) {
  const n = nonce();
  const { enc, records, context } = await v2.sealRequest({
    serverPublicKey: puk,
    senderPrivateKey: identity.privateKey,
    method: head.method,
    target: head.target,
    contentType: head.contentType,
    nonce: n,
  });
  const headers: Record<string, string> = {
    [V2_HEADERS.version]: "2",
    [HEADERS.nonce]: n,
    [HEADERS.ephemeral]: enc,
    [HEADERS.sender]: identity.publicKey,
  };
  return { records, context, headers };
}

/**
 * Seals `plain` for the server key `puk`. An empty body travels as its one
 * record in `Usrv-Record`, so a GET is sealed too.
 *
 * @example
 * const { headers, body, context } = await sealV2(v2, me, puk, { method: "POST", target: "/pay", contentType: "application/json" }, bytes);
 */
export async function sealV2(
  v2: V2,
  identity: Keypair,
  puk: string,
  head: V2Head,
  plain: Uint8Array,
): Promise<SealedV2> {
  const { records, context, headers } = await begin(v2, identity, puk, head);
  const sealed = await runAll(records, plain);
  if (plain.length === 0) {
    headers[V2_HEADERS.record] = b64encode(sealed);
    return { headers, body: undefined, context };
  }
  return { headers, body: sealed, context };
}

/** A large body sealed as it is sent: its length is known beforehand (records have a fixed size). */
export interface SealedStream {
  readonly size: number;
  readonly type: string;
  stream(): ReadableStream<Uint8Array>;
}

/**
 * As {@link sealV2}, for a large Blob (a file from disk): its records are
 * sealed as the upload reads them, so the file is never in memory whole.
 *
 * @example
 * const { headers, body } = await sealV2Stream(v2, me, puk, head, await openAsBlob("big.iso"));
 */
export async function sealV2Stream(
  v2: V2,
  identity: Keypair,
  puk: string,
  head: V2Head,
  blob: Blob,
): Promise<{ headers: Record<string, string>; body: SealedStream; context: V2Context }> {
  const { records, context, headers } = await begin(v2, identity, puk, head);
  const body: SealedStream = {
    size: sealedLength(blob.size),
    type: "",
    stream: () => recordStream(records, blob.stream() as unknown as AsyncIterable<Uint8Array>),
  };
  return { headers, body, context };
}

/** True when an answer says it is sealed in v2. */
export function sealedV2(headers: Headers): boolean {
  return headers.has(V2_HEADERS.responseNonce);
}

/**
 * The refusal of a v2 answer that does not open as the answer to this request.
 *
 * @example
 * throw refused(200, cause); // USRV_ERR_CLIENT_DECRYPT
 */
export function refused(status: number, cause: unknown): ClientError {
  return new ClientError(
    "USRV_ERR_CLIENT_DECRYPT",
    `the v2 answer does not open as the answer to this request (status ${status}): refused`,
    { cause },
  );
}

/**
 * The framing an answer says it comes in (`Usrv-Records`): fixed without the
 * header; sized only when this request asked for it; anything else is
 * refused (`USRV_ERR_CLIENT_DECRYPT`), as a path that added it would want
 * the answer read wrongly.
 *
 * @example
 * framingOf(res.status, res.headers, true); // "sized" when the answer says so
 */
export function framingOf(status: number, headers: Headers, asked: boolean): Framing {
  const value = headers.get(V2_HEADERS.records);
  if (value === null) return "fixed";
  if (asked && value.trim().toLowerCase() === "sized") return "sized";
  throw refused(status, new Error(`Usrv-Records: ${value.slice(0, 40)} was not asked for`));
}

/**
 * The opener of the answer to the request of `context`, in the framing the
 * answer says (see {@link framingOf}), and the body's bytes when it has none
 * but its one record in `Usrv-Record`. Fails with `USRV_ERR_CLIENT_DECRYPT`.
 *
 * @example
 * const { opener } = await openerV2(v2, context, res.status, res.headers, true);
 */
export async function openerV2(
  v2: V2,
  context: V2Context,
  status: number,
  headers: Headers,
  asked: boolean,
): Promise<{ opener: Opener; record: Uint8Array | null }> {
  const framing = framingOf(status, headers, asked);
  try {
    const opener = await v2.openResponse(
      context,
      headers.get(V2_HEADERS.responseNonce) ?? "",
      { status, contentType: headers.get("content-type") ?? "" },
      framing,
    );
    const record = headers.get(V2_HEADERS.record);
    return { opener, record: record === null ? null : b64decode(record) };
  } catch (cause) {
    throw refused(status, cause);
  }
}

/**
 * Opens the answer to the request of `context`: it must open with that
 * request's keys, under its status and Content-Type, or it is refused.
 *
 * @example
 * const plain = await openV2(v2, context, res.status, res.headers, bytes);
 */
export async function openV2(
  v2: V2,
  context: V2Context,
  status: number,
  headers: Headers,
  bytes: Uint8Array,
  asked = false,
): Promise<Uint8Array> {
  const { opener, record } = await openerV2(v2, context, status, headers, asked);
  try {
    return await runAll(opener, bytes.length === 0 && record !== null ? record : bytes);
  } catch (cause) {
    throw refused(status, cause);
  }
}
