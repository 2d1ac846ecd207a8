// Writes test/fixtures/vectors/usrv-v2-sized.json: one v2 answer in sized
// records (docs/wire-v2.md, "Live answers"), an event stream of two events,
// made with the Node backend from the fixed keys of scripts/v2-vectors.mjs, a
// fixed ephemeral ikm and a fixed response nonce. test/stream-live.test.ts
// checks that both backends reproduce it byte for byte and open it.
//   npm run build && node scripts/v2-sized-vector.mjs
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateKeypair, openRequest, runAll, sealRequest, sealResponse } from "../dist/secp256k1/index.js";
import { toolBin } from "./tool.mjs";

const OUT = new URL("../test/fixtures/vectors/usrv-v2-sized.json", import.meta.url);
const digest = (label) => createHash("sha256").update(label).digest();
const hex = (bytes) => Buffer.from(bytes).toString("hex");

const server = generateKeypair("usrv v2 vectors: server");
const client = generateKeypair("usrv v2 vectors: client");
const head = { method: "GET", target: "/feed", contentType: "", nonce: "2026-11-28T04:00:00.000000+00:00" };
const ekm = digest("usrv v2 sized vector: ekm");
const responseNonce = digest("usrv v2 sized vector: response nonce");
const status = 200;
const contentType = "text/event-stream; charset=utf-8";
const events = ["data: one\n\n", 'id: 2\ndata: {"b":2}\n\n'];

const request = await sealRequest({
  serverPublicKey: server.publicKey,
  senderPrivateKey: client.privateKey,
  ekm,
  ...head,
});
const requestRecord = await runAll(request.records, new Uint8Array(0));
const opened = await openRequest({
  serverPrivateKey: server.privateKey,
  senderPublicKey: client.publicKey,
  enc: request.enc,
  ...head,
});
await runAll(opened.records, requestRecord);
const answer = await sealResponse(opened.context, { status, contentType, responseNonce, framing: "sized" });
const records = [];
for (const event of events) records.push(...(await answer.records.push(new TextEncoder().encode(event))));
records.push(...(await answer.records.finish()));

const vector = {
  about:
    "A v2 answer in sized records (docs/wire-v2.md, Live answers): each record is a 3-byte big-endian length, then the sealed record; one record per event, then an empty last record (delimiter 0x02). Written by scripts/v2-sized-vector.mjs.",
  server,
  client,
  request: {
    ...head,
    ekm_hex: hex(ekm),
    enc_b64: request.enc,
    usrv_record_b64: Buffer.from(requestRecord).toString("base64"),
  },
  response: {
    status,
    content_type: contentType,
    response_nonce_b64: answer.responseNonce,
    events,
    records_hex: records.map(hex),
    body_b64: Buffer.concat(records).toString("base64"),
  },
};
writeFileSync(OUT, `${JSON.stringify(vector, null, 2)}\n`);
// the layout the linter checks (short arrays on one line)
spawnSync(toolBin("biome"), ["format", "--write", fileURLToPath(OUT)], { stdio: "inherit" });
console.log(`wrote ${OUT.pathname}: ${records.length} records, ${Buffer.concat(records).length} bytes`);
