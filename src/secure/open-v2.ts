/**
 * The open step for a v2 request (docs/wire-v2.md): HPKE in Auth mode, so
 * the sender's key is bound into the key schedule, with the request's
 * method, target, Content-Type and Nonce in every record's associated data.
 * The same order as v1 (open.ts): nothing costlier before a cheaper check,
 * the nonce remembered only once the body opened, which proves the sender.
 */

import type { Route } from "../app/route.js";
import { HttpError } from "../common/errors.js";
import { header, type Incoming } from "../faces/incoming.js";
import { b64decode } from "../secp256k1/encoding.js";
import { MIN_SEALED_RECORD, runAll, sealedLength } from "../secp256k1/records.js";
import type { V2Context } from "../secp256k1/v2-response.js";
import { checkNonce, rememberNonce } from "../stores/replay.js";
import { loadCrypto, loadV2, type Security } from "./security.js";
import { canonical } from "./sender-key.js";

/** A v2 request once opened. */
export interface OpenedV2 {
  readonly bytes: Uint8Array | null;
  /** The sender's canonical key: only its holder could seal the body for this server. */
  readonly sender: string;
  /** The request's HPKE context: the answer is sealed under a secret exported from it. */
  readonly context: V2Context;
}

/** Steps 1-2 for a request that says `Usrv-Encryption: 2`. */
export async function openV2(app: Security, inc: Incoming, route: Route): Promise<OpenedV2> {
  const h = inc.headers;
  const nonce = header(h, "nonce");
  const sender = header(h, "sender-public-key");
  const enc = header(h, "ephemeral-public-key");
  const empty = header(h, "usrv-record");
  if (sender === undefined || enc === undefined) {
    throw new HttpError(
      "USRV_ERR_BAD_REQUEST",
      "a v2 request needs Sender-Public-Key and Ephemeral-Public-Key",
    );
  }
  if (nonce === undefined) throw new HttpError("USRV_ERR_REPLAY", "a v2 request needs a Nonce");
  if (empty !== undefined && inc.hasBody) {
    throw new HttpError(
      "USRV_ERR_DECRYPT",
      "a v2 request carries its records in the body or in Usrv-Record, not both",
    );
  }
  const time = checkNonce(app.replayWindow, nonce);
  const key = canonical(await loadCrypto(), sender, "Sender-Public-Key");
  if (route.allow && !route.allow(key)) {
    throw new HttpError("USRV_ERR_FORBIDDEN_SENDER", `this sender's key is not allowed on ${route.label}`);
  }

  const sealed = inc.hasBody ? await readSealed(inc, route.bodyLimit) : emptyRecord(empty);
  const v2 = await loadV2();
  const { privateKey } = await app.keypair();
  let opened: Awaited<ReturnType<typeof v2.openRequest>>;
  try {
    opened = await v2.openRequest({
      serverPrivateKey: privateKey,
      senderPublicKey: sender,
      enc,
      method: inc.method,
      target: inc.url,
      contentType: header(h, "content-type"),
      nonce,
    });
  } catch {
    canonical(await loadCrypto(), enc, "Ephemeral-Public-Key");
    throw new HttpError("USRV_ERR_BAD_KEY", "the v2 request's keys do not set up HPKE");
  }
  let plain: Uint8Array;
  try {
    plain = await runAll(opened.records, sealed ?? new Uint8Array(0));
  } catch {
    throw new HttpError(
      "USRV_ERR_DECRYPT",
      "the v2 body does not open: not sealed by this sender, for this server and this request, or altered",
    );
  }
  await rememberNonce(app.replayStore, app.replayWindow, `s:${key}`, nonce, time);
  return { bytes: plain.length === 0 ? null : plain, sender: key, context: opened.context };
}

/** The sealed body, within the records of `limit` bytes of plaintext; a 413 names `limit` itself. */
async function readSealed(inc: Incoming, limit: number): Promise<Uint8Array | null> {
  try {
    return await inc.readBody(sealedLength(limit));
  } catch (e) {
    if ((e as HttpError).code !== "USRV_ERR_BODY_TOO_LARGE") throw e;
    throw new HttpError("USRV_ERR_BODY_TOO_LARGE", `the body is over the limit of ${limit} bytes`, {
      detail: { limit },
      headers: { connection: "close" },
    });
  }
}

/** The one record of an empty body, carried in the `Usrv-Record` header. */
function emptyRecord(value: string | undefined): Uint8Array {
  if (value === undefined) {
    throw new HttpError(
      "USRV_ERR_DECRYPT",
      "a v2 request without a body carries its one record in Usrv-Record",
    );
  }
  try {
    const record = b64decode(value);
    if (record.length === MIN_SEALED_RECORD) return record;
  } catch {}
  throw new HttpError(
    "USRV_ERR_DECRYPT",
    `Usrv-Record must be base64 of the ${MIN_SEALED_RECORD}-byte empty record`,
  );
}
