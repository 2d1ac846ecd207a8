/**
 * The v2 body encryption (docs/wire-v2.md) over one {@link Backend}: HPKE
 * (RFC 9180) in Auth mode with DHKEM(secp256k1, HKDF-SHA256), HKDF-SHA256 and
 * AES-128-GCM; request bodies sealed in records bound to the request line,
 * answers sealed with keys only that request's context derives.
 * No `node:` import here: the backend brings the curve and the AES.
 */
import type { Backend } from "./api.js";
import { sec1 } from "./curve.js";
import { DhkemSecp256k1 } from "./dhkem-secp256k1.js";
import { b64decode, b64encode, utf8 } from "./encoding.js";
import { CryptoError } from "./errors.js";
import { v2Suite } from "./hpke-suite.js";
import { pointBytes, privateKeyBytes } from "./keys.js";
import { createOpener, createSealer, type Opener, type Sealer } from "./records.js";
import {
  type Framing,
  RESPONSE_NONCE_SIZE,
  type ResponseHead,
  responseAad,
  responseOpener,
  responseSealer,
  type V2Context,
} from "./v2-response.js";

/** The request line and headers a request's records are bound to (their AAD). */
export interface RequestHead {
  /** The method as on the request line, e.g. `"POST"`. */
  readonly method: string;
  /** The request target as on the request line: path and query, e.g. `"/items?id=3"`. */
  readonly target: string;
  /** The Content-Type header as sent, `""` or absent when there is none. */
  readonly contentType?: string | undefined;
  /** The request's Nonce header. */
  readonly nonce: string;
}

/** What the client needs to seal a request. */
export interface SealRequestOptions extends RequestHead {
  /** The server's public key, base64 of `X || Y`. */
  readonly serverPublicKey: string;
  /** The client's private key (64 hex characters): HPKE Auth mode binds it into the key schedule. */
  readonly senderPrivateKey: string;
  /**
   * Test vectors only: the ephemeral key's input keying material
   * (DeriveKeyPair), for reproducible output. Never in use: a fixed value
   * gives every request the same `enc`, so two of them share keys and nonces.
   */
  readonly ekm?: Uint8Array;
}

/** What the server needs to open a request. */
export interface OpenRequestOptions extends RequestHead {
  /** The server's private key (64 hex characters). */
  readonly serverPrivateKey: string;
  /** The client's public key, base64 of `X || Y`. */
  readonly senderPublicKey: string;
  /** The request's encapsulated key, base64 of `X || Y`. */
  readonly enc: string;
}

/** A request being sealed: `enc` travels in a header, the records are the body. */
export interface SealedRequest {
  readonly enc: string;
  readonly records: Sealer;
  /** Keep it to open the answer ({@link V2.openResponse}). */
  readonly context: V2Context;
}

/** A request being opened. */
export interface OpenedRequest {
  readonly records: Opener;
  /** Keep it to seal the answer ({@link V2.sealResponse}). */
  readonly context: V2Context;
}

/** What the server needs to seal an answer. */
export interface SealResponseOptions extends ResponseHead {
  /**
   * Test vectors only: a fixed 32-byte response nonce instead of a random
   * one. Never in use: two answers to one context with the same nonce share
   * their AES-GCM key and nonces, which breaks AES-GCM.
   */
  readonly responseNonce?: Uint8Array;
  /**
   * `"sized"`: each record preceded by its length, sealed at every push
   * (docs/wire-v2.md, "Live answers"), for a streamed answer to a request
   * that asked for it (`Usrv-Records: sized`). Default `"fixed"`.
   */
  readonly framing?: Framing;
}

/** An answer being sealed: `responseNonce` (base64 of 32 bytes) travels in a header, the records are the body. */
export interface SealedResponse {
  readonly responseNonce: string;
  readonly records: Sealer;
}

/** The v2 operations on one backend (see the functions of `usrv/secp256k1` for examples). */
export interface V2 {
  readonly backend: Backend;
  /** DHKEM(secp256k1, HKDF-SHA256) on this backend, for @hpke/core suites of your own. */
  readonly kem: DhkemSecp256k1;
  /** Client: sets up HPKE for the server's key (Auth mode with the client's key) and returns the request's sealer. */
  sealRequest(options: SealRequestOptions): Promise<SealedRequest>;
  /** Server: sets up HPKE from `enc` and the client's key and returns the request's opener. */
  openRequest(options: OpenRequestOptions): Promise<OpenedRequest>;
  /** Server: a fresh response nonce and the sealer of the answer to the request of `context`. */
  sealResponse(context: V2Context, options: SealResponseOptions): Promise<SealedResponse>;
  /** Client: the opener of the answer to the request of `context`, in the framing it came in (default fixed). */
  openResponse(
    context: V2Context,
    responseNonce: string,
    head: ResponseHead,
    framing?: Framing,
  ): Promise<Opener>;
}

const KEY_PAIRS_KEPT = 8;

/** info of the key schedule; the suite ids are already in HPKE's own suite_id. */
export const REQUEST_INFO = utf8("usrv/2 request");

/** UTF-8 of `"usrv/2 request\n" + method + "\n" + target + "\n" + contentType + "\n" + nonce`. */
export function requestAad(head: RequestHead): Uint8Array {
  const { method, target, contentType = "", nonce } = head;
  const fields = { method, target, contentType, nonce };
  for (const [name, value] of Object.entries(fields)) {
    // a newline inside a field would let two different heads share one AAD
    if (typeof value !== "string" || value.includes("\n")) {
      throw new CryptoError("USRV_ERR_BAD_ARGUMENT", `${name} must be a string without a newline`);
    }
  }
  if (method === "" || target === "") {
    throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "method and target must not be empty");
  }
  return utf8(`usrv/2 request\n${method}\n${target}\n${contentType}\n${nonce}`);
}

function checkFraming(framing: unknown): void {
  if (framing !== undefined && framing !== "fixed" && framing !== "sized") {
    throw new CryptoError("USRV_ERR_BAD_ARGUMENT", 'framing must be "fixed" or "sized"');
  }
}

function bytes(buffer: ArrayBuffer): Uint8Array {
  return new Uint8Array(buffer);
}

/**
 * Builds the v2 operations over one backend.
 *
 * @example
 * // internal: usrv/secp256k1 has loadV2("node" | "portable"), which loads @hpke/core on first use
 * const v2 = createV2({ ...nodeBackend, name: "mine", primitives: myPrimitives });
 * const { enc, records, context } = await v2.sealRequest({ serverPublicKey, senderPrivateKey, method: "POST", target: "/", nonce });
 */
export function createV2(backend: Backend): V2 {
  const { curve, primitives: p } = backend;
  const kem = new DhkemSecp256k1(curve, p.randomBytes);
  const suite = v2Suite(kem, p);

  /** SEC1 form of a base64 `X || Y` point, checked to be on the curve. */
  function point(b64: string, what: string): Uint8Array {
    const xy = pointBytes(b64, what);
    if (!curve.isPoint(xy)) throw new CryptoError("USRV_ERR_BAD_KEY", `${what} is not a point on secp256k1`);
    return sec1(xy);
  }

  function publicKey(b64: string, what: string): Promise<CryptoKey> {
    return kem.deserializePublicKey(point(b64, what));
  }

  // The static keys' pairs, so that Encap and Decap need not recompute d·G
  // (~100 µs of a ~580 µs openRequest on tiny-secp256k1): a server or a client
  // uses one or a few keys, already in memory for as long as this is.
  const pairs = new Map<string, CryptoKeyPair>();
  async function keyPair(hex: string): Promise<CryptoKeyPair> {
    const known = pairs.get(hex);
    if (known) return known;
    const d = privateKeyBytes(hex, p.fromHex);
    const pair = {
      privateKey: await kem.deserializePrivateKey(d),
      publicKey: await kem.deserializePublicKey(sec1(curve.getPublicKey(d))),
    };
    if (pairs.size >= KEY_PAIRS_KEPT) pairs.delete(pairs.keys().next().value!);
    pairs.set(hex, pair);
    return pair;
  }

  function context(
    enc: string,
    hpke: { export(c: ArrayBuffer, n: number): Promise<ArrayBuffer> },
  ): V2Context {
    return Object.freeze({
      enc,
      async export(exporterContext: Uint8Array, length: number) {
        if (!(exporterContext instanceof Uint8Array)) {
          throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "exporterContext must be a Uint8Array");
        }
        return bytes(await hpke.export(exporterContext.slice().buffer, length));
      },
    });
  }

  async function sealRequest(o: SealRequestOptions): Promise<SealedRequest> {
    const aad = requestAad(o);
    const recipientPublicKey = await publicKey(o.serverPublicKey, "server public key");
    const senderKey = await keyPair(o.senderPrivateKey);
    if (o.ekm !== undefined && !(o.ekm instanceof Uint8Array)) {
      throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "ekm must be a Uint8Array");
    }
    const hpke = await suite.createSenderContext({
      recipientPublicKey,
      senderKey,
      info: REQUEST_INFO,
      ...(o.ekm === undefined ? {} : { ekm: o.ekm }),
    });
    const enc = b64encode(bytes(hpke.enc).subarray(1));
    return {
      enc,
      records: createSealer(async (record) => bytes(await hpke.seal(record, aad))),
      context: context(enc, hpke),
    };
  }

  async function openRequest(o: OpenRequestOptions): Promise<OpenedRequest> {
    const aad = requestAad(o);
    const recipientKey = await keyPair(o.serverPrivateKey);
    const senderPublicKey = await publicKey(o.senderPublicKey, "sender public key");
    const hpke = await suite.createRecipientContext({
      recipientKey,
      senderPublicKey,
      enc: point(o.enc, "enc"),
      info: REQUEST_INFO,
    });
    return {
      records: createOpener(async (sealed) => {
        try {
          return bytes(await hpke.open(sealed, aad));
        } catch {
          return null; // OpenError: wrong key, AAD, position or tampered bytes
        }
      }),
      context: context(o.enc, hpke),
    };
  }

  async function sealResponse(ctx: V2Context, o: SealResponseOptions): Promise<SealedResponse> {
    const nonce = o.responseNonce ?? p.randomBytes(RESPONSE_NONCE_SIZE);
    if (!(nonce instanceof Uint8Array) || nonce.length !== RESPONSE_NONCE_SIZE) {
      throw new CryptoError("USRV_ERR_BAD_ARGUMENT", `responseNonce must be ${RESPONSE_NONCE_SIZE} bytes`);
    }
    checkFraming(o.framing);
    return {
      responseNonce: b64encode(nonce),
      records: await responseSealer(p, ctx, nonce, o, o.framing),
    };
  }

  async function openResponse(
    ctx: V2Context,
    responseNonce: string,
    head: ResponseHead,
    framing?: Framing,
  ): Promise<Opener> {
    responseAad(head); // argument errors before the nonce's
    checkFraming(framing);
    let nonce: Uint8Array | null = null;
    try {
      nonce = b64decode(responseNonce);
    } catch {}
    if (nonce === null || nonce.length !== RESPONSE_NONCE_SIZE) {
      throw new CryptoError(
        "USRV_ERR_DECRYPT",
        `v2 answer does not open: the response nonce is not base64 of ${RESPONSE_NONCE_SIZE} bytes`,
      );
    }
    return responseOpener(p, ctx, nonce, head, framing);
  }

  return { backend, kem, sealRequest, openRequest, sealResponse, openResponse };
}
