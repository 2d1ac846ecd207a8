/**
 * Steps 1, 2 and 8 of the pipeline for requests that carry a Nonce or keys
 * (docs/wire.md): replay check (412), signature check (401), decryption (400),
 * then the route's policy (403), and encryption of the answer for the
 * sender. The curve code is imported here, on the first such request only.
 */

import { parseBody } from "./body.js";
import { HttpError } from "./errors.js";
import { type Core, header, type Incoming, type Route, respond } from "./pipeline.js";
import type { Reply } from "./render.js";
import { checkReplay, type ReplayStore, type ReplayWindow } from "./replay.js";
import type { Match } from "./router.js";
import { sealedBytes } from "./sealed-body.js";
import type { Keypair, Secp256k1 } from "./secp256k1/api.js";

/** What the secure steps need of an app. */
export interface Security {
  readonly replayStore: ReplayStore;
  readonly replayWindow: ReplayWindow;
  /** The server's key pair (a random one is made on first use if none was set). */
  keypair(): Promise<Keypair>;
}

let curve: Promise<Secp256k1> | undefined;

/** The fast Node crypto, loaded once, on first use. */
export function loadCrypto(): Promise<Secp256k1> {
  return (curve ??= import("./secp256k1/node.js").then((m) => m.nodeSecp256k1));
}

const latin1 = new TextDecoder("latin1");

/** True when a request asks for any secure step. */
export function wantsSecurity(inc: Incoming): boolean {
  const h = inc.headers;
  return (
    h.nonce !== undefined ||
    h["sender-public-key"] !== undefined ||
    h["ephemeral-public-key"] !== undefined ||
    h["sender-signature"] !== undefined
  );
}

/** Steps 1-8 for a request with keys or a nonce, or for a route that demands them. */
export async function handleSecure(
  app: Core & Security,
  inc: Incoming,
  route: Route,
  hit: Match<Route>,
  path: string,
  rawQuery: string,
): Promise<Reply> {
  const h = inc.headers;
  const nonce = header(h, "nonce");
  const sender = header(h, "sender-public-key");
  const ephemeral = header(h, "ephemeral-public-key");
  const signature = header(h, "sender-signature");

  // 1. replay check: per (nonce, identity), identity = sender key or client address
  if (nonce !== undefined) {
    await checkReplay(app.replayStore, app.replayWindow, nonce, sender ?? inc.remoteAddress ?? "?");
  }
  const crypto =
    sender !== undefined || ephemeral !== undefined || signature !== undefined ? await loadCrypto() : null;
  const sealed = ephemeral !== undefined || signature !== undefined;
  // a key to answer to, with nothing to verify: check it before the handler runs
  if (crypto && sender !== undefined && !sealed) checkKey(crypto, sender, "Sender-Public-Key");

  // 2. read, verify, decrypt
  let bytes = inc.hasBody ? await inc.readBody(route.bodyLimit) : null;
  let verified: string | null = null;
  if (crypto && sealed) {
    if (sender === undefined || ephemeral === undefined || signature === undefined) {
      throw new HttpError(
        "USRV_ERR_BAD_SIGNATURE",
        "an encrypted request needs all of Ephemeral-Public-Key, Sender-Public-Key and Sender-Signature",
      );
    }
    const hexBody = bytes ? latin1.decode(bytes) : "";
    // The keys are checked only when a step fails, to name the culprit: verify
    // and decrypt refuse a bad key anyway, and the good path decodes each once.
    // docs/wire.md: the client signs hex body + ephemeral key + nonce, concatenated.
    if (!crypto.verify(hexBody + ephemeral + (nonce ?? ""), signature, sender)) {
      checkKey(crypto, sender, "Sender-Public-Key");
      throw new HttpError(
        "USRV_ERR_BAD_SIGNATURE",
        "the Sender-Signature does not verify for this body, key and nonce",
      );
    }
    let plain: string;
    const { privateKey } = await app.keypair();
    try {
      plain = crypto.decrypt(privateKey, ephemeral, hexBody);
    } catch {
      checkKey(crypto, ephemeral, "Ephemeral-Public-Key");
      throw new HttpError(
        "USRV_ERR_DECRYPT",
        "the body does not decrypt with this server's key (is it hex, made for our /puk?)",
      );
    }
    verified = sender;
    bytes = plain === "" ? null : sealedBytes(plain, header(h, "content-type"));
  }

  // route policy
  if (route.encrypted && verified === null) {
    throw new HttpError(
      "USRV_ERR_ENCRYPTION_REQUIRED",
      `${route.label} accepts only encrypted, signed requests`,
    );
  }
  if (route.allow && !route.allow(verified!)) {
    throw new HttpError("USRV_ERR_FORBIDDEN_SENDER", `this sender's key is not allowed on ${route.label}`);
  }

  // 3-7. parse, bind, call, format
  const parsed = parseBody(bytes, header(h, "content-type"));
  const reply = await respond(route, hit, inc, path, rawQuery, bytes, parsed, verified);

  // 8. encrypt the answer for the sender
  return crypto && sender !== undefined ? seal(crypto, await app.keypair(), sender, reply) : reply;
}

function checkKey(crypto: Secp256k1, key: string, name: string): void {
  try {
    crypto.encode(key);
  } catch {
    throw new HttpError("USRV_ERR_BAD_KEY", `${name} is not base64 of X||Y of a point on secp256k1`);
  }
}

/** docs/wire.md, step 4 of the server: body encrypted for the sender, signed over hex body + ephemeral key. */
async function seal(crypto: Secp256k1, server: Keypair, sender: string, reply: Reply): Promise<Reply> {
  let text = reply.body;
  const headers = { ...reply.headers };
  if (reply.response) {
    // R8 answers are sealed too: a client that asked for encryption never gets plaintext
    text = await reply.response.text();
    reply.response.headers.forEach((v, k) => {
      headers[k] = v;
    });
  }
  if (text === null || text === "") return reply;
  const { R, ciphertext } = crypto.encrypt(sender, text);
  delete headers["content-length"];
  headers["ephemeral-public-key"] = R;
  headers["sender-public-key"] = server.publicKey;
  headers["sender-signature"] = crypto.sign(ciphertext + R, server.privateKey);
  return { status: reply.status, headers, body: ciphertext, cause: reply.cause };
}
