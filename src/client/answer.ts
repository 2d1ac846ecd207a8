/**
 * Steps 6-8 of a call: the answer opened (an answer that claims encryption
 * is verified and decrypted, or refused), decoded by its Content-Type, and
 * an error status made a typed error. An answer in clear takes no extra
 * turn of the event loop.
 */
import { platform } from "#platform";
import type { Keypair } from "../secp256k1/api.js";
import { decodeBody } from "./decode.js";
import { ClientError, ClientHttpError } from "./errors.js";
import type { FullAnswer } from "./options.js";
import { claimsEncryption, open } from "./seal.js";
import { openV2, sealedV2 } from "./seal-v2.js";
import type { Sealing } from "./sealing.js";

/**
 * docs/wire-v2.md: the statuses a usrv server sends in clear to a v2 request,
 * its refusals before the body opened (no context exists to seal them). Any
 * other unsealed answer to a v2 request is refused: a path could forge it.
 */
const CLEAR_REFUSALS = new Set([400, 401, 403, 404, 405, 408, 412, 413, 414, 415, 429, 431, 503]);

const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();

/** An answer's body in clear, and the encryption it came in. */
export interface Opened {
  readonly plain: Uint8Array;
  readonly encryption: "v1" | "v2" | null;
}

/** v1: verified against the key the request was sealed for (if any), then decrypted with ours. */
async function openV1(
  response: Response,
  bytes: Uint8Array,
  s: Sealing,
  keypair: () => Promise<Keypair>,
): Promise<Opened> {
  const crypto = s.v1?.crypto ?? (await platform.loadCrypto());
  const identity = s.v1?.identity ?? (await keypair());
  const text = open(crypto, identity, s.puk, response.headers, latin1.decode(bytes));
  return { plain: utf8.encode(text), encryption: "v1" };
}

/**
 * 6. Opens the answer: in v2, only an answer sealed for this very request
 * (or a refusal the server makes in clear); in v1, one signed by the key
 * the request was sealed for; an answer in clear to a sealed request is
 * refused. An unasked-for v1 answer is verified and opened too.
 *
 * @example
 * const { plain, encryption } = await openAnswer(response, bytes, sealed, label, () => client.keypair());
 */
export function openAnswer(
  response: Response,
  bytes: Uint8Array,
  s: Sealing,
  label: string,
  keypair: () => Promise<Keypair>,
): Opened | Promise<Opened> {
  const { status, headers } = response;
  const claims = claimsEncryption(headers);
  if (s.v2?.context !== undefined) {
    if (sealedV2(headers)) {
      return openV2(s.v2.ops, s.v2.context, status, headers, bytes).then((plain) => ({
        plain,
        encryption: "v2",
      }));
    }
    // a server answers in clear only the refusals made before the body opened
    if (CLEAR_REFUSALS.has(status) && !claims) return { plain: bytes, encryption: null };
    throw new ClientError(
      "USRV_ERR_CLIENT_NOT_ENCRYPTED",
      `${label}: a v2-sealed answer was asked for and ${claims ? "a v1" : `a plaintext ${status}`} one came back: refused`,
    );
  }
  if (claims) return openV1(response, bytes, s, keypair);
  if (s.puk !== undefined && bytes.length > 0 && status < 400) {
    throw new ClientError(
      "USRV_ERR_CLIENT_NOT_ENCRYPTED",
      `${label}: an encrypted answer was asked for and a plaintext one came back: refused`,
    );
  }
  return { plain: bytes, encryption: null };
}

/**
 * 7-8. The answer's value: its body decoded by Content-Type (the data, or
 * `{ status, headers, data, encrypted, encryption }` when `full`); an
 * error status is a {@link ClientHttpError} with the decoded body.
 * Synchronous but for multipart bodies and errors.
 *
 * @example
 * return answer(response, opened, label, options.full);
 */
export function answer(
  response: Response,
  opened: Opened,
  label: string,
  full: boolean | undefined,
): unknown {
  const { plain, encryption } = opened;
  const type = response.headers.get("content-type");
  if (response.status >= 400) {
    let body: unknown;
    try {
      body = decodeBody(plain, type);
    } catch {
      body = new TextDecoder().decode(plain);
    }
    const refuse = (decoded: unknown) => {
      throw new ClientHttpError(response.status, decoded, response.headers, label);
    };
    return body instanceof Promise
      ? body.then(refuse, () => refuse(new TextDecoder().decode(plain)))
      : refuse(body);
  }
  const data = decodeBody(plain, type);
  // multipart only: the common path takes no extra turn
  if (data instanceof Promise) return data.then((d) => shaped(response, d, encryption, full));
  return full ? shaped(response, data, encryption, full) : data;
}

function shaped(
  response: Response,
  data: unknown,
  encryption: Opened["encryption"],
  full: boolean | undefined,
) {
  if (!full) return data;
  return {
    status: response.status,
    headers: response.headers,
    data,
    encrypted: encryption !== null,
    encryption,
  } satisfies FullAnswer;
}
