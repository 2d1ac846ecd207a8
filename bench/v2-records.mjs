// Benchmark of the v2 body encryption (docs/wire-v2.md):
// 1. throughput: 100 MiB sealed then opened as a stream of 64 KiB pushes, for
//    requests (HPKE context) and answers (the response keys), in MB/s of
//    wall time and of CPU time (user + system: WebCrypto works on libuv's
//    threads, so its wall time hides cores), with the heap and RSS growth;
//    the same records through @hpke/core's own AES-GCM (WebCrypto) for comparison;
// 2. setup: one openRequest + sealResponse (the server's crypto per request)
//    against v1's decrypt + encrypt + sign + verify, and the client's side.
//   npm run build && node --expose-gc bench/v2-records.mjs [MiB]
// Numbers are for reading, never asserted.
import { Aes128Gcm, CipherSuite, HkdfSha256 } from "@hpke/core";
import { loadSecp256k1, loadV2, runAll } from "../dist/secp256k1/index.js";

const MIB = Number(process.argv[2] ?? 100);
const TOTAL = MIB * 1024 * 1024;
const CHUNK = 64 * 1024;
const gc = globalThis.gc ?? (() => {});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const v1 = await loadSecp256k1("node");
const server = v1.generateKeypair("bench server");
const client = v1.generateKeypair("bench client");
const head = { method: "POST", target: "/upload", contentType: "application/octet-stream", nonce: "n" };
const answerHead = { status: 200, contentType: "application/octet-stream" };

/** Pushes TOTAL bytes in CHUNK pieces through `sealer`, each record straight into `opener`. */
async function pipe(sealer, opener, total) {
  const chunk = new Uint8Array(CHUNK).fill(0x5a);
  let sealNs = 0n;
  let openNs = 0n;
  let out = 0;
  let peakHeap = 0;
  let peakRss = 0;
  const step = async (records) => {
    for (const r of records) {
      const t = process.hrtime.bigint();
      for (const p of await opener.push(r)) out += p.length;
      openNs += process.hrtime.bigint() - t;
    }
  };
  for (let sent = 0; sent < total; sent += CHUNK) {
    const t = process.hrtime.bigint();
    const records = await sealer.push(chunk);
    sealNs += process.hrtime.bigint() - t;
    await step(records);
    if ((sent & 0x3ffffff) === 0) {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }
  }
  const t = process.hrtime.bigint();
  const last = await sealer.finish();
  sealNs += process.hrtime.bigint() - t;
  await step(last);
  for (const p of await opener.finish()) out += p.length;
  if (out !== total) throw new Error(`opened ${out} of ${total} bytes`);
  return { sealNs, openNs, peakHeap, peakRss };
}

async function throughput(label, make, total = TOTAL) {
  gc();
  const before = process.memoryUsage();
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  const { sealer, opener } = await make();
  const r = await pipe(sealer, opener, total);
  const wallNs = Number(process.hrtime.bigint() - wall);
  const used = process.cpuUsage(cpu);
  const cpuNs = (used.user + used.system) * 1000;
  const mb = total / 1e6;
  const row = {
    what: label,
    MiB: total / 2 ** 20,
    "seal MB/s": Math.round(mb / (Number(r.sealNs) / 1e9)),
    "open MB/s": Math.round(mb / (Number(r.openNs) / 1e9)),
    "seal+open MB/s (wall)": Math.round(mb / (wallNs / 1e9)),
    "seal+open MB/s (CPU)": Math.round(mb / (cpuNs / 1e9)),
    "heap +MiB": ((r.peakHeap - before.heapUsed) / 2 ** 20).toFixed(1),
    "RSS +MiB": ((r.peakRss - before.rss) / 2 ** 20).toFixed(1),
  };
  return row;
}

async function requestPair(v2) {
  const sealed = await v2.sealRequest({
    serverPublicKey: server.publicKey,
    senderPrivateKey: client.privateKey,
    ...head,
  });
  const opened = await v2.openRequest({
    serverPrivateKey: server.privateKey,
    senderPublicKey: client.publicKey,
    enc: sealed.enc,
    ...head,
  });
  return { sealed, opened };
}

/** The request records through @hpke/core's own AES-128-GCM (WebCrypto), framing by hand. */
async function webCryptoRecords(v2) {
  const suite = new CipherSuite({ kem: v2.kem, kdf: new HkdfSha256(), aead: new Aes128Gcm() });
  const pkR = await v2.kem.deserializePublicKey(Uint8Array.of(4, ...Buffer.from(server.publicKey, "base64")));
  const s = await suite.createSenderContext({ recipientPublicKey: pkR, info: new Uint8Array(1) });
  const r = await suite.createRecipientContext({
    recipientKey: await v2.kem.deserializePrivateKey(Buffer.from(server.privateKey, "hex")),
    enc: s.enc,
    info: new Uint8Array(1),
  });
  const aad = new Uint8Array(40);
  const n = Math.min(TOTAL, 32 * 2 ** 20) / CHUNK;
  const record = new Uint8Array(CHUNK + 1);
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await r.open(await s.seal(record, aad), aad);
  const wallNs = Number(process.hrtime.bigint() - wall);
  const used = process.cpuUsage(cpu);
  const mb = (n * CHUNK) / 1e6;
  return {
    what: "requests, @hpke/core Aes128Gcm (WebCrypto)",
    MiB: (n * CHUNK) / 2 ** 20,
    "seal+open MB/s (wall)": Math.round(mb / (wallNs / 1e9)),
    "seal+open MB/s (CPU)": Math.round(mb / (((used.user + used.system) * 1000) / 1e9)),
  };
}

const rows = [];
for (const name of ["node", "portable"]) {
  const v2 = await loadV2(name);
  const size = name === "node" ? TOTAL : Math.min(TOTAL, 32 * 2 ** 20);
  rows.push(
    await throughput(
      `${name}: request records`,
      async () => {
        const { sealed, opened } = await requestPair(v2);
        return { sealer: sealed.records, opener: opened.records };
      },
      size,
    ),
  );
  rows.push(
    await throughput(
      `${name}: answer records`,
      async () => {
        const { sealed, opened } = await requestPair(v2);
        const answer = await v2.sealResponse(opened.context, answerHead);
        const opener = await v2.openResponse(sealed.context, answer.responseNonce, answerHead);
        return { sealer: answer.records, opener };
      },
      size,
    ),
  );
  if (name === "node") rows.push(await webCryptoRecords(v2));
}
console.log(`\n## v2 throughput (64 KiB pushes, ${MIB} MiB on node, up to 32 MiB on portable)`);
console.table(rows);

// 2. setup cost per request, interleaved rounds, median µs
async function timeIt(fn, n) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t) / 1e3 / n;
}
const node = await loadV2("node");
const small = new TextEncoder().encode('{"a":1}');
const v1Request = v1.encrypt(server.publicKey, '{"a":1}');
const v1Message = `${v1Request.ciphertext}${v1Request.R}n`;
const v1Signature = v1.sign(v1Message, client.privateKey);
const prepared = await node.sealRequest({
  serverPublicKey: server.publicKey,
  senderPrivateKey: client.privateKey,
  ...head,
});
const preparedBody = await runAll(prepared.records, small);
const setups = {
  "v2 server: openRequest + sealResponse": async () => {
    const { context } = await node.openRequest({
      serverPrivateKey: server.privateKey,
      senderPublicKey: client.publicKey,
      enc: prepared.enc,
      ...head,
    });
    await node.sealResponse(context, answerHead);
  },
  "v2 server, with a 7-byte body each way": async () => {
    const { context, records } = await node.openRequest({
      serverPrivateKey: server.privateKey,
      senderPublicKey: client.publicKey,
      enc: prepared.enc,
      ...head,
    });
    await runAll(records, preparedBody);
    const answer = await node.sealResponse(context, answerHead);
    await answer.records.push(small);
    await answer.records.finish();
  },
  "v2 client: sealRequest + openResponse": async () => {
    const { context } = await node.sealRequest({
      serverPublicKey: server.publicKey,
      senderPrivateKey: client.privateKey,
      ...head,
    });
    await node.openResponse(context, Buffer.alloc(32).toString("base64"), answerHead);
  },
  "v1 server: verify + decrypt + encrypt + sign": async () => {
    if (!v1.verify(v1Message, v1Signature, client.publicKey)) throw new Error("v1 verify");
    v1.decrypt(server.privateKey, v1Request.R, v1Request.ciphertext);
    const answer = v1.encrypt(client.publicKey, '{"a":1}');
    v1.sign(answer.ciphertext + answer.R, server.privateKey);
  },
};
const samples = Object.fromEntries(Object.keys(setups).map((k) => [k, []]));
for (const fn of Object.values(setups)) await timeIt(fn, 50); // warm-up
for (let round = 0; round < 7; round++) {
  for (const [k, fn] of Object.entries(setups)) samples[k].push(await timeIt(fn, 200));
}
console.log("\n## setup per request on the node backend (median of 7 rounds of 200, µs)");
console.table(Object.entries(samples).map(([what, xs]) => ({ what, µs: Math.round(median(xs)) })));
