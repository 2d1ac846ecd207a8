// Writes test/fixtures/vectors/usrv-v2.json: v2 requests and answers
// (docs/wire-v2.md) made with the Node backend from fixed keys, ephemeral ikm
// and response nonces. test/secp256k1-v2-vectors.test.ts checks that both
// backends reproduce them byte for byte and open them.
//   npm run build && node scripts/v2-vectors.mjs
// Sealed bodies of up to 1 KiB are stored whole (base64); longer ones as the
// SHA-256 of each record, which pins every byte without a megabyte of base64.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  b64decode,
  generateKeypair,
  openRequest,
  runAll,
  SEALED_RECORD_SIZE,
  sealRequest,
  sealResponse,
} from "../dist/secp256k1/index.js";
import { toolBin } from "./tool.mjs";

const OUT = new URL("../test/fixtures/vectors/usrv-v2.json", import.meta.url);
const WHOLE_MAX = 1024;

const digest = (label) => createHash("sha256").update(label).digest();
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const b64 = (bytes) => Buffer.from(bytes).toString("base64");

/** The bodies: byte j is (j + k) mod 251, k = 0 for requests and 1 for answers. */
function body(length, k) {
  return Uint8Array.from({ length }, (_, j) => (j + k) % 251);
}

/** A sealed body as stored: whole when small, else one SHA-256 per record. */
function sealedEntry(sealed) {
  const records = [];
  for (let at = 0; at < sealed.length; at += SEALED_RECORD_SIZE)
    records.push(sealed.subarray(at, at + SEALED_RECORD_SIZE));
  return {
    length: sealed.length,
    records: records.length,
    sha256: hex(digest(sealed)),
    ...(sealed.length <= WHOLE_MAX
      ? { b64: b64(sealed) }
      : { records_sha256: records.map((r) => hex(digest(r))) }),
  };
}

const server = generateKeypair("usrv v2 vectors: server");
const client = generateKeypair("usrv v2 vectors: client");

const CASES = [
  ["empty body, 204 answer without a type", "DELETE", "/items/3", "", 0, 204, "", 0],
  ["1-byte body, 2-byte JSON answer", "POST", "/echo", "application/json", 1, 200, "application/json", 2],
  [
    "exactly one full record each way",
    "PUT",
    "/files/a.bin?overwrite=1",
    "application/octet-stream",
    65_536,
    201,
    "application/octet-stream",
    65_536,
  ],
  [
    "one full record plus one byte; a 1-byte answer",
    "PATCH",
    "/items?id=3&q=%C3%A9",
    "multipart/form-data; boundary=----usrv",
    65_537,
    200,
    "text/plain; charset=utf-8",
    1,
  ],
  [
    "200,000 bytes each way (4 records)",
    "POST",
    "/upload",
    "application/octet-stream",
    200_000,
    500,
    "application/json",
    200_000,
  ],
];

const cases = [];
for (const [
  i,
  [name, method, target, contentType, requestLength, status, responseType, responseLength],
] of CASES.entries()) {
  const nonce = `2026-11-27T12:00:0${i}.000000+00:00`;
  const ekm = digest(`usrv v2 vectors: ekm ${i}`);
  const responseNonce = digest(`usrv v2 vectors: response nonce ${i}`);
  const head = { method, target, contentType, nonce };
  const sealedRequest = await sealRequest({
    serverPublicKey: server.publicKey,
    senderPrivateKey: client.privateKey,
    ekm,
    ...head,
  });
  const requestBytes = await runAll(sealedRequest.records, body(requestLength, 0));
  const opened = await openRequest({
    serverPrivateKey: server.privateKey,
    senderPublicKey: client.publicKey,
    enc: sealedRequest.enc,
    ...head,
  });
  const plain = await runAll(opened.records, requestBytes);
  if (Buffer.compare(plain, body(requestLength, 0)) !== 0)
    throw new Error(`case ${i}: request does not open`);
  const answer = await sealResponse(opened.context, { status, contentType: responseType, responseNonce });
  const responseBytes = await runAll(answer.records, body(responseLength, 1));
  // the response key schedule, recomputed here with @noble/hashes for readers of the file
  const secret = await opened.context.export(new TextEncoder().encode("usrv/2 response"), 16);
  const salt = Buffer.concat([Buffer.from([4]), b64decode(sealedRequest.enc), responseNonce]);
  const prk = extract(sha256, secret, salt);
  cases.push({
    name,
    method,
    target,
    content_type: contentType,
    nonce,
    ekm_hex: hex(ekm),
    enc_b64: sealedRequest.enc,
    request_aad: `usrv/2 request\n${method}\n${target}\n${contentType}\n${nonce}`,
    request_body_length: requestLength,
    request_sealed: sealedEntry(requestBytes),
    status,
    response_content_type: responseType,
    response_nonce_b64: answer.responseNonce,
    response_secret_hex: hex(secret),
    response_key_hex: hex(expand(sha256, prk, new TextEncoder().encode("key"), 16)),
    response_base_nonce_hex: hex(expand(sha256, prk, new TextEncoder().encode("nonce"), 12)),
    response_aad: `usrv/2 response\n${status}\n${responseType}`,
    response_body_length: responseLength,
    response_sealed: sealedEntry(responseBytes),
  });
}

const file = {
  description:
    "usrv v2 body encryption (docs/wire-v2.md), made by scripts/v2-vectors.mjs with the Node backend. Bodies: byte j is (j + k) mod 251, k = 0 for requests, 1 for answers. Sealed bodies up to 1 KiB are whole (b64); longer ones are pinned by the SHA-256 of each 65,553-byte record.",
  suite: { kem_id: 0x16, kdf_id: 1, aead_id: 1, mode: "Auth", info: "usrv/2 request" },
  server,
  client,
  cases,
};
writeFileSync(OUT, `${JSON.stringify(file, null, 2)}\n`);
// the layout the linter checks (short arrays on one line)
spawnSync(toolBin("biome"), ["format", "--write", fileURLToPath(OUT)], { stdio: "inherit" });
console.log(`wrote ${cases.length} cases to ${OUT.pathname}`);
