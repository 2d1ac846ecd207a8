/**
 * Step 4 of a call: the request each attempt sends. In clear, one request
 * made once; with a server key (`puk`), sealed for it anew at each attempt
 * (a fresh nonce): signed in v1 (docs/wire.md), in HPKE's Auth mode in v2
 * (docs/wire-v2.md). A large file body goes through the platform's
 * streaming upload (Node), its v2 records sealed as it is read.
 */
import { platform } from "#platform";
import { isTextBody, sealedText } from "../common/sealed-body.js";
import type { Keypair, Secp256k1 } from "../secp256k1/api.js";
import type { V2 } from "../secp256k1/v2.js";
import type { V2Context } from "../secp256k1/v2-response.js";
import type { EncodedBody } from "./encode.js";
import { ClientError } from "./errors.js";
import type { Encryption } from "./options.js";
import { checkServerKey, HEADERS, seal } from "./seal.js";
import { sealV2, sealV2Stream, V2_HEADERS } from "./seal-v2.js";
import type { Build, Built, FetchLike } from "./transport.js";

/** What step 4 needs. */
export interface SealInput {
  readonly method: string;
  readonly url: string;
  /** The body (step 3), if any. */
  readonly encoded: EncodedBody | undefined;
  /** The headers of the client and of the call, merged; undefined when neither gave any. */
  readonly headers: Headers | undefined;
  /** The server key to seal for, as the caller gave it (checked here). */
  readonly puk: unknown;
  readonly mode: Encryption;
  /** The versions the peer said it speaks, if it said. */
  readonly spoken: ReadonlySet<string> | undefined;
  /** True when the client calls the runtime's fetch (not an injected one): only then may a body take the upload path. */
  readonly ownFetch: boolean;
  /** The client's key pair, made on first need. */
  readonly keypair: () => Promise<Keypair>;
  /** True for `client.stream`: a v2 request asks for sized records (`Usrv-Records: sized`), so that each event opens as it comes. */
  readonly sized?: boolean;
}

/** What step 4 decided, and what step 6 needs to open the answer. */
export interface Sealing {
  /** Makes one attempt's request. */
  readonly build: Build;
  /** The platform's streaming upload, for a large file body; else undefined (the client's fetch). */
  readonly upload: FetchLike | undefined;
  /** The server key the answer must come from; undefined for a call in clear. */
  readonly puk: string | undefined;
  /** v1: the curve and our key pair, loaded when sealing. */
  readonly v1: { readonly crypto: Secp256k1; readonly identity: Keypair } | undefined;
  /**
   * v2: its operations, the context of the last attempt sent (the answer
   * that comes back is to it), and whether it asked for sized records.
   */
  readonly v2: { readonly ops: V2; context: V2Context | undefined; readonly sized: boolean } | undefined;
}

const utf8 = new TextEncoder();

/** The text to encrypt for a body (sealed-body.ts): as the reference's client, binary parts included. */
async function plaintext(body: string | Uint8Array | Blob, contentType: string): Promise<string> {
  if (typeof body === "string" && isTextBody(contentType)) return body;
  const bytes =
    typeof body === "string"
      ? utf8.encode(body)
      : body instanceof Blob
        ? new Uint8Array(await body.arrayBuffer())
        : body;
  const text = sealedText(bytes, contentType);
  if (text === null) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_ARGUMENT",
      `an encrypted ${contentType.split(";")[0]} body must be UTF-8 text`,
    );
  }
  return text;
}

/** The headers of every attempt: the caller's, and the body's type unless the caller set one. */
function baseHeaders(i: SealInput): Headers {
  const headers = new Headers(i.headers);
  if (i.encoded && !headers.has("content-type")) headers.set("content-type", i.encoded.contentType);
  return headers;
}

/** A body big enough for the platform's streaming upload (Node's fetch would hold it all in memory). */
function uploadFor(i: SealInput): FetchLike | undefined {
  const upload = platform.upload;
  const body = i.encoded?.body;
  return upload && i.ownFetch && body instanceof Blob && body.size >= upload.threshold
    ? upload.fetch
    : undefined;
}

/** In clear: one request, the same for every attempt. */
function clear(i: SealInput): Sealing {
  // a plain GET sets no header and passes no init: fetch's shortest path
  const built: Built =
    !i.encoded && !i.headers
      ? { url: i.url, init: i.method === "GET" ? undefined : { method: i.method } }
      : {
          url: i.url,
          init: { method: i.method, headers: baseHeaders(i), body: i.encoded?.body as BodyInit | undefined },
        };
  return { build: () => built, upload: uploadFor(i), puk: undefined, v1: undefined, v2: undefined };
}

/** v2: each attempt sealed afresh; a large file's records sealed as the upload reads it. */
async function sealedV2(i: SealInput, puk: string, identity: Keypair): Promise<Sealing> {
  const ops = await platform.loadV2();
  const upload = uploadFor(i);
  const plain =
    upload === undefined
      ? i.encoded
        ? new Uint8Array(await new Response(i.encoded.body as BodyInit).arrayBuffer())
        : new Uint8Array(0)
      : undefined;
  const { pathname, search } = new URL(i.url);
  const sized = i.sized === true;
  const v2: Sealing["v2"] = { ops, context: undefined, sized };
  const build = async (): Promise<Built> => {
    const headers = baseHeaders(i);
    const head = {
      method: i.method,
      target: pathname + search,
      contentType: headers.get("content-type") ?? undefined,
    };
    const sealed =
      plain === undefined
        ? await sealV2Stream(ops, identity, puk, head, i.encoded!.body as Blob)
        : await sealV2(ops, identity, puk, head, plain);
    v2.context = sealed.context;
    for (const [k, v] of Object.entries(sealed.headers)) headers.set(k, v);
    if (sized) headers.set(V2_HEADERS.records, "sized");
    // a redirect would send the sealed body, bound to this target, elsewhere
    return {
      url: i.url,
      init: { method: i.method, headers, body: sealed.body as BodyInit | undefined, redirect: "manual" },
    };
  };
  return { build, upload, puk, v1: undefined, v2 };
}

/** v1: the body encrypted and signed, with a fresh nonce per attempt; read whole (v1 seals text). */
async function sealedV1(i: SealInput, puk: string, crypto: Secp256k1, identity: Keypair): Promise<Sealing> {
  const text = i.encoded
    ? await plaintext(i.encoded.body, i.headers?.get("content-type") ?? i.encoded.contentType)
    : undefined;
  const build = (): Built => {
    const headers = baseHeaders(i);
    headers.set(HEADERS.sender, identity.publicKey);
    let body: BodyInit | undefined;
    if (text !== undefined) {
      const sealed = seal(crypto, identity, puk, text);
      body = sealed.body;
      for (const [k, v] of Object.entries(sealed.headers)) headers.set(k, v);
    }
    return { url: i.url, init: { method: i.method, headers, body } };
  };
  // the body sent is the sealed text, never the file: no upload path
  return { build, upload: undefined, puk, v1: { crypto, identity }, v2: undefined };
}

/**
 * 4. How each attempt's request is made: in clear without a server key;
 * else in v2 when asked, or in "auto" once the peer said it speaks it; else v1.
 *
 * @example
 * const { build } = await sealing({ method: "POST", url, encoded, headers: undefined, puk, mode: "auto", spoken, ownFetch: true, keypair });
 */
export function sealing(i: SealInput): Sealing | Promise<Sealing> {
  if (i.puk === undefined) return clear(i);
  return platform.loadCrypto().then(async (crypto) => {
    const puk = checkServerKey(crypto, i.puk);
    const identity = await i.keypair();
    if (i.mode === "v2" || (i.mode === "auto" && i.spoken?.has("2"))) return sealedV2(i, puk, identity);
    return sealedV1(i, puk, crypto, identity);
  });
}
