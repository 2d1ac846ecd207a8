/**
 * The client's side of docs/wire.md. A request body is encrypted for the
 * server's key and signed over `hex_body + ephemeral_b64 + nonce`; an answer
 * that carries any of the three encryption headers must carry all of them,
 * be signed by the expected server key, and decrypt with ours, or it is an
 * error: it is never handed back as plaintext.
 */
import type { Keypair, Secp256k1 } from "../secp256k1/api.js";
import { ClientError } from "./errors.js";
import { nonce } from "./nonce.js";

/** docs/wire.md's header names, as the table spells them. */
export const HEADERS = {
  sender: "Sender-Public-Key",
  ephemeral: "Ephemeral-Public-Key",
  signature: "Sender-Signature",
  nonce: "Nonce",
} as const;

/** An encrypted request body and the headers that go with it. */
export interface Sealed {
  readonly body: string;
  readonly headers: Record<string, string>;
}

/**
 * Checks a server key before anything is sent.
 *
 * @example
 * checkServerKey(crypto, puk); // throws USRV_ERR_CLIENT_BAD_KEY for "AAAA"
 */
export function checkServerKey(crypto: Secp256k1, puk: unknown): string {
  try {
    if (typeof puk !== "string") throw new TypeError(`got ${typeof puk}`);
    crypto.encode(puk); // base64 of X||Y of a curve point, or a throw
    return puk;
  } catch (cause) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_KEY",
      "puk must be the server's public key: base64 of X||Y of a secp256k1 point (from GET /puk)",
      { cause },
    );
  }
}

/**
 * Encrypts `text` for `puk` and signs it: the body is lowercase hex; the
 * Nonce is fresh (nonce.ts); the signature covers hex body + R + nonce.
 *
 * @example
 * const { body, headers } = seal(crypto, me, serverPuk, '{"value1": 1}');
 */
export function seal(crypto: Secp256k1, identity: Keypair, puk: string, text: string): Sealed {
  const { R, ciphertext } = crypto.encrypt(puk, text);
  const n = nonce();
  return {
    body: ciphertext,
    headers: {
      [HEADERS.nonce]: n,
      [HEADERS.ephemeral]: R,
      [HEADERS.sender]: identity.publicKey,
      [HEADERS.signature]: crypto.sign(ciphertext + R + n, identity.privateKey),
    },
  };
}

/** True when an answer claims encryption: any of the three headers. */
export function claimsEncryption(headers: Headers): boolean {
  return headers.has(HEADERS.ephemeral) || headers.has(HEADERS.sender) || headers.has(HEADERS.signature);
}

/**
 * Verifies and decrypts an answer that claims encryption. `expected` is the
 * server key the client encrypted for (when it knows one): the answer must
 * be signed by that very key, not merely by the key it names.
 *
 * @example
 * const plain = open(crypto, me, puk, res.headers, hexBody);
 */
export function open(
  crypto: Secp256k1,
  identity: Keypair,
  expected: string | undefined,
  headers: Headers,
  hex: string,
): string {
  const R = headers.get(HEADERS.ephemeral);
  const sender = headers.get(HEADERS.sender);
  const signature = headers.get(HEADERS.signature);
  if (R === null || sender === null || signature === null) {
    const missing = [
      R === null && HEADERS.ephemeral,
      sender === null && HEADERS.sender,
      signature === null && HEADERS.signature,
    ].filter(Boolean);
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_SIGNATURE",
      `the answer claims encryption but lacks ${missing.join(" and ")}: refused`,
    );
  }
  if (expected !== undefined && sender !== expected) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_SIGNATURE",
      `the answer is signed by ${sender.slice(0, 16)}..., not by the server key the request was encrypted for (${expected.slice(0, 16)}...): refused`,
    );
  }
  // docs/wire.md: the server signs hex body + R, without a nonce
  if (!crypto.verify(hex + R, signature, sender)) {
    throw new ClientError(
      "USRV_ERR_CLIENT_BAD_SIGNATURE",
      "the answer's Sender-Signature does not verify for its body and keys: refused",
    );
  }
  try {
    return crypto.decrypt(identity.privateKey, R, hex);
  } catch (cause) {
    throw new ClientError(
      "USRV_ERR_CLIENT_DECRYPT",
      "the answer is signed by the server but does not decrypt with this client's key",
      { cause },
    );
  }
}
