// Encrypted round trips (issue 3, item 7; v2: issue 12): how many signed, encrypted requests
// one server core answers (verify, decrypt, handle, encrypt, sign), next to
// what the curve operations of that mix allow on the same core
// (1 verify + 2 ECDH + 1 key generation + 1 sign), and next to an anchor:
// raw node:http making the same usrv/secp256k1 calls, in interleaved runs.
// v2 (docs/wire-v2.md) runs against the same server in the same rounds: its
// requests are sealed with HPKE beforehand, its answers of a sample opened.
//   npm run build && node bench/encrypted.mjs
// The server is pinned to core 0, the load generator to core 1. The client's
// own crypto (encrypt + sign each request) is done before the timed part, so
// the load generator is not the bottleneck; answers of a sample are verified
// and decrypted to prove the round trip. Server CPU comes from /proc/PID/stat.
import { spawn, spawnSync } from "node:child_process";
import { Agent, request } from "node:http";
import {
  decrypt,
  encrypt,
  generateKeypair,
  openResponse,
  runAll,
  sealRequest,
  sign,
  verify,
} from "../dist/secp256k1/index.js";
import { cpuMicros } from "./harness.mjs";
import { median } from "./report.mjs";

// this process is the load generator: core 1, all threads (the servers get core 0)
spawnSync("taskset", ["-a", "-cp", "1", String(process.pid)], { stdio: "ignore" });

const N = Number(process.env.BENCH_REQUESTS ?? 5000);
// A server is measured in its steady state: the first requests pay for JIT
// and WASM tier-up (on a fresh process the first 3,000 cost ~20% more CPU each).
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 16;

/** The server: a usrv app with an identity, pinned to core 0. */
const SERVER = `
import { createApp } from "./dist/index.js";
const app = createApp({ logLevel: 40, maxNonceAge: 120000 });
await app.identify("server-secret");
app.bind("/api/endpoint", { methods: ["POST"] }, ({ value1, value2 }) => [200, value1, value2]);
const server = await app.run({ port: 0 });
process.on("SIGINT", () => process.exit(0)); // exit normally: lets --cpu-prof write its profile
console.log(JSON.stringify({ port: server.port }));
`;

/**
 * The anchor: raw node:http doing the same protocol steps with the same
 * usrv/secp256k1 calls and nothing else (no replay memory, routing, policy
 * or error handling): what the crypto and HTTP cost without the framework.
 */
const ANCHOR = `
import { createServer } from "node:http";
import { decrypt, encrypt, generateKeypair, sign, verify } from "./dist/secp256k1/index.js";
const me = generateKeypair("server-secret");
const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const h = req.headers, body = Buffer.concat(chunks).toString("latin1");
    if (!verify(body + h["ephemeral-public-key"] + h.nonce, h["sender-signature"], h["sender-public-key"])) {
      res.writeHead(401).end();
      return;
    }
    const { value1, value2 } = JSON.parse(decrypt(me.privateKey, h["ephemeral-public-key"], body));
    const out = encrypt(h["sender-public-key"], JSON.stringify([value1, value2]));
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": out.ciphertext.length,
      "ephemeral-public-key": out.R,
      "sender-public-key": me.publicKey,
      "sender-signature": sign(out.ciphertext + out.R, me.privateKey),
    });
    res.end(out.ciphertext);
  });
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
process.on("SIGINT", () => process.exit(0));
`;

/** The mix the issue names, timed alone on core 0: 1 verify, 2 ECDH, 1 keygen, 1 sign. */
const MIX = `
const { loadSecp256k1 } = await import("./dist/secp256k1/index.js");
const s = await loadSecp256k1("node");
const { curve, primitives } = s.backend;
const d = primitives.fromHex(s.generateKeypair("server-secret").privateKey);
const msg = primitives.sha256(new Uint8Array(32)), aux = new Uint8Array(32);
const sig = curve.schnorrSign(msg, d, aux), pub = curve.getPublicKey(d), x = pub.subarray(0, 32);
// ops per CPU second (process.cpuUsage), so that a core shared with others does not skew it
const rate = (fn) => { for (let i = 0; i < 200; i++) fn(); let n = 0; const c = process.cpuUsage(); const t = performance.now(); while (performance.now() - t < 1000) { fn(); n++; } const u = process.cpuUsage(c); return n / ((u.user + u.system) / 1e6); };
const ops = { verify: rate(() => curve.schnorrVerify(sig, msg, x)), ecdh: rate(() => curve.ecdhX(d, pub)), keygen: rate(() => curve.getPublicKey(primitives.randomBytes(32))), sign: rate(() => curve.schnorrSign(msg, d, aux)) };
// The same work through the usrv/secp256k1 API, no HTTP: what the API glue (hashes, AES, encodings) adds.
const server = s.generateKeypair("server-secret"), client = s.generateKeypair("client-secret");
const n0 = "2026-11-24T05:52:02.266283+00:00", req = s.encrypt(server.publicKey, '{"value1":1,"value2":"é"}');
const rsig = s.sign(req.ciphertext + req.R + n0, client.privateKey);
const api = rate(() => {
  if (!s.verify(req.ciphertext + req.R + n0, rsig, client.publicKey)) throw new Error("verify");
  s.decrypt(server.privateKey, req.R, req.ciphertext);
  const res = s.encrypt(client.publicKey, '[1,"é"]');
  s.sign(res.ciphertext + res.R, server.privateKey);
});
console.log(JSON.stringify({ ops, api, mix: 1 / (1 / ops.verify + 2 / ops.ecdh + 1 / ops.keygen + 1 / ops.sign) }));
`;

function measureMix() {
  const child = spawn("taskset", ["-c", "0", process.execPath, "--input-type=module", "-e", MIX], {
    stdio: ["ignore", "pipe", "inherit"],
    cwd: new URL("..", import.meta.url).pathname,
  });
  return new Promise((resolve) => child.stdout.once("data", (d) => resolve(JSON.parse(d))));
}

function start(script) {
  const extra = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(" ") : [];
  const child = spawn(
    "taskset",
    ["-c", "0", process.execPath, ...extra, "--input-type=module", "-e", script],
    { stdio: ["ignore", "pipe", "inherit"], cwd: new URL("..", import.meta.url).pathname },
  );
  return new Promise((resolve) => child.stdout.once("data", (d) => resolve({ child, ...JSON.parse(d) })));
}

/** A nonce per request: microseconds from ms + a counter, as the Python client's. */
const nonceOf = (i) => new Date().toISOString().replace("Z", `${String(i % 1000).padStart(3, "0")}+00:00`);

/** N distinct v2 requests as usrv's client makes them, each with the context its answer opens with. */
async function prepareV2(serverKey, client, count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const nonce = nonceOf(i);
    const { enc, records, context } = await sealRequest({
      serverPublicKey: serverKey,
      senderPrivateKey: client.privateKey,
      method: "POST",
      target: "/api/endpoint",
      contentType: "application/json",
      nonce,
    });
    const body = await runAll(records, new TextEncoder().encode(JSON.stringify({ value1: i, value2: "é" })));
    const headers = {
      "content-type": "application/json",
      "usrv-encryption": "2",
      nonce,
      "ephemeral-public-key": enc,
      "sender-public-key": client.publicKey,
    };
    out.push({ body: Buffer.from(body), headers, context });
  }
  return out;
}

/** N distinct requests as the Python client makes them (microsecond nonces: ms + a counter). */
function prepare(serverKey, client, count) {
  return Array.from({ length: count }, (_, i) => {
    const nonce = nonceOf(i);
    const { R, ciphertext } = encrypt(serverKey, JSON.stringify({ value1: i, value2: "é" }));
    return {
      body: ciphertext,
      headers: {
        "content-type": "application/json",
        nonce,
        "ephemeral-public-key": R,
        "sender-public-key": client.publicKey,
        "sender-signature": sign(ciphertext + R + nonce, client.privateKey),
      },
    };
  });
}

function send(port, agent, req) {
  return new Promise((resolve, reject) => {
    const r = request(
      { port, host: "127.0.0.1", path: "/api/endpoint", method: "POST", headers: req.headers, agent },
      (res) => {
        const chunks = [];
        res.on("data", (d) => chunks.push(d));
        res.on("end", () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode,
            text: bytes.toString("latin1"),
            bytes,
            headers: res.headers,
            req,
          });
        });
      },
    );
    r.on("error", reject);
    r.end(req.body);
  });
}

/** Sends `reqs` over CONCURRENCY keep-alive connections; the answers of a sample are kept. */
async function drive(port, agent, reqs) {
  let next = 0;
  let bad = 0;
  const sample = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < reqs.length) {
        const res = await send(port, agent, reqs[next++]);
        if (res.status !== 200) bad++;
        else if (sample.length < 20) sample.push(res);
      }
    }),
  );
  return { bad, sample };
}

/**
 * One timed run against a fresh server: a warm-up in the same pattern (the
 * same 16 connections: warming on one connection left V8 re-optimizing
 * node:http for the first seconds of the timed part), then N requests.
 */
async function load(script, v2 = false) {
  const srv = await start(script);
  const reqs = v2 ? await prepareV2(serverKey, client, N + WARMUP) : prepare(serverKey, client, N + WARMUP);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const warm = await drive(srv.port, agent, reqs.splice(0, WARMUP));
  const c0 = cpuMicros(srv.child.pid) / 1e6;
  const t0 = performance.now();
  const { bad, sample } = await drive(srv.port, agent, reqs);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuMicros(srv.child.pid) / 1e6 - c0;
  srv.child.kill("SIGINT");
  agent.destroy();
  // Prove the round trip on a sample: the client verifies and decrypts answers.
  for (const res of v2 ? [] : sample) {
    const R = res.headers["ephemeral-public-key"];
    if (!verify(res.text + R, res.headers["sender-signature"], serverKey))
      throw new Error("answer signature");
    JSON.parse(decrypt(client.privateKey, R, res.text));
  }
  for (const res of v2 ? sample : []) {
    const opener = await openResponse(res.req.context, res.headers["response-nonce"], {
      status: res.status,
      contentType: res.headers["content-type"],
    });
    JSON.parse(new TextDecoder().decode(await runAll(opener, res.bytes)));
  }
  return { rps: reqs.length / seconds, perCore: reqs.length / cpuSeconds, bad: bad + warm.bad };
}

const client = generateKeypair("client-secret");
const serverKey = generateKeypair("server-secret").publicKey;
const rows = [];
for (let round = 1; round <= ROUNDS; round++) {
  const { ops, mix, api } = await measureMix();
  // interleaved: usrv first in odd rounds, the anchor first in even ones
  const order = round % 2 === 1 ? ["usrv", "v2", "anchor"] : ["anchor", "v2", "usrv"];
  const runs = {};
  for (const name of order) runs[name] = await load(name === "anchor" ? ANCHOR : SERVER, name === "v2");
  const { usrv, anchor, v2 } = runs;
  // the ratios are taken per round, against the mix timed just before it, so
  // a slow spell of the shared machine moves both sides of them together
  rows.push({
    rps: usrv.rps,
    perCore: usrv.perCore,
    anchor: anchor.perCore,
    v2: v2.perCore,
    v2rps: v2.rps,
    v2vsV1: v2.perCore / usrv.perCore,
    mix,
    api,
    bad: usrv.bad + anchor.bad + v2.bad,
    ops,
    ratio: usrv.perCore / mix,
    anchorRatio: anchor.perCore / mix,
    vsAnchor: usrv.perCore / anchor.perCore,
  });
  const r = rows.at(-1);
  console.error(
    `round ${round}: usrv ${usrv.rps.toFixed(0)} req/s, ${usrv.perCore.toFixed(0)} per server CPU second (${(100 * r.ratio).toFixed(0)}% of the mix); node:http anchor ${anchor.perCore.toFixed(0)} (${(100 * r.anchorRatio).toFixed(0)}%); v2 ${v2.perCore.toFixed(0)} per CPU second (${r.v2vsV1.toFixed(2)}x v1); API ${api.toFixed(0)}/s; mix ${mix.toFixed(0)}/s; non-200: ${r.bad}`,
  );
}
const m = (k) => median(rows.map((r) => r[k]));
const ops = Object.fromEntries(Object.keys(rows[0].ops).map((k) => [k, median(rows.map((r) => r.ops[k]))]));
console.log(`
## Encrypted round trips (bench/encrypted.mjs)

- ${N} signed, encrypted POSTs per round after ${WARMUP} warm-up requests, ${ROUNDS} rounds, ${CONCURRENCY} concurrent keep-alive connections; server on core 0, load generator on core 1; medians
- raw tiny-secp256k1 ops per CPU second on the server's core (timed alone, before each round): verify ${ops.verify.toFixed(0)}, ECDH ${ops.ecdh.toFixed(0)}, keygen ${ops.keygen.toFixed(0)}, sign ${ops.sign.toFixed(0)}

| measure | value |
| --- | ---: |
| what the mix allows (1 verify + 2 ECDH + 1 keygen + 1 sign), per CPU second | ${m("mix").toFixed(0)} req/s |
| the same through the usrv/secp256k1 API in process (no HTTP), per CPU second | ${m("api").toFixed(0)} req/s |
| encrypted round trips answered | ${m("rps").toFixed(0)} req/s |
| per server CPU second | ${m("perCore").toFixed(0)} req/s |
| server CPU per request (mix alone) | ${(1e6 / m("perCore")).toFixed(0)} µs (${(1e6 / m("mix")).toFixed(0)} µs) |
| server per CPU second vs mix (median of the rounds' ratios) | ${(100 * m("ratio")).toFixed(0)}% (target >= 80%; rounds: ${rows.map((r) => `${(100 * r.ratio).toFixed(0)}%`).join(", ")}) |
| anchor: raw node:http with the same crypto calls, per CPU second | ${m("anchor").toFixed(0)} req/s (${(100 * m("anchorRatio")).toFixed(0)}% of the mix) |
| usrv vs the anchor, per CPU second | ${m("vsAnchor").toFixed(2)}x |
| v2 round trips answered (docs/wire-v2.md) | ${m("v2rps").toFixed(0)} req/s |
| v2 per server CPU second, server CPU per request | ${m("v2").toFixed(0)} req/s, ${(1e6 / m("v2")).toFixed(0)} µs |
| v2 vs v1, per server CPU second (target >= 1) | ${m("v2vsV1").toFixed(2)}x (rounds: ${rows.map((r) => `${r.v2vsV1.toFixed(2)}x`).join(", ")}) |
| wall-clock req/s vs mix | ${((100 * m("rps")) / m("mix")).toFixed(0)}% (lower when the shared machine takes the server's core) |
| non-200 answers | ${rows.reduce((a, r) => a + r.bad, 0)} |
`);
