// Crypto benchmark for usrv/secp256k1: ops/s on one core for each backend,
// and the server-side mix of one encrypted round trip (docs/wire.md: verify the
// request, ECDH to decrypt it, a fresh ephemeral key and ECDH to encrypt the
// response, sign it), i.e. the requests/s that crypto alone allows.
//   npm run build && node bench/crypto.mjs
// Interleaved rounds, median of each; under 30 s. Numbers are for reading,
// never asserted.
import { createECDH } from "node:crypto";
import { loadSecp256k1 } from "../dist/secp256k1/index.js";

const ROUNDS = 5;
const ROUND_MS = 200;

const backends = [await loadSecp256k1("node"), await loadSecp256k1("portable")];

/** Calls `fn` for about `ms` milliseconds; returns calls per second. */
function rate(fn, ms) {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 8; i++) fn();
    n += 8;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Workloads per backend: name -> function doing one operation. */
function workloads(s) {
  const { curve, primitives } = s.backend;
  const server = s.generateKeypair("server-secret");
  const client = s.generateKeypair("client-secret");
  const body = JSON.stringify({ value1: 1, value2: "é", list: Array.from({ length: 20 }, (_, i) => i) });
  const request = s.encrypt(server.publicKey, body);
  const nonce = "2026-11-24T05:52:02.266283+00:00";
  const requestSignature = s.sign(request.ciphertext + request.R + nonce, client.privateKey);
  const d = primitives.fromHex(server.privateKey);
  const peer = Buffer.from(client.publicKey, "base64");
  const msg = primitives.sha256(new Uint8Array(32));
  const aux = new Uint8Array(32);
  const sig = curve.schnorrSign(msg, d, aux);
  const xOnly = curve.getPublicKey(d).subarray(0, 32);
  const kib = "x".repeat(1024);
  return {
    "sign (curve)": () => curve.schnorrSign(msg, d, aux),
    "verify (curve)": () => curve.schnorrVerify(sig, msg, xOnly),
    "ECDH (curve)": () => curve.ecdhX(d, peer),
    "keygen (curve, d·G)": () => curve.getPublicKey(primitives.randomBytes(32)),
    "aesEncrypt 1 KiB": () => s.aesEncrypt(kib, "secret"),
    "server mix (1 round trip)": () => {
      // 1. verify the request's signature; 2. decrypt it (1 ECDH)
      if (!s.verify(request.ciphertext + request.R + nonce, requestSignature, client.publicKey))
        throw new Error("verify");
      s.decrypt(server.privateKey, request.R, request.ciphertext);
      // 3. encrypt the response (1 key generation + 1 ECDH); 4. sign it
      const response = s.encrypt(client.publicKey, body);
      s.sign(response.ciphertext + response.R, server.privateKey);
    },
  };
}

const tables = backends.map((s) => workloads(s));
const names = Object.keys(tables[0]);
const samples = names.map(() => backends.map(() => []));

const started = performance.now();
for (let round = 0; round < ROUNDS; round++) {
  names.forEach((name, i) => {
    tables.forEach((table, b) => {
      samples[i][b].push(rate(table[name], ROUND_MS));
    });
  });
}

// node:crypto's own ECDH for reference (no Schnorr there)
const ecdh = createECDH("secp256k1");
ecdh.generateKeys();
const other = createECDH("secp256k1");
other.generateKeys();
const otherPublic = other.getPublicKey();
const nodeEcdh = median(
  Array.from({ length: ROUNDS }, () => rate(() => ecdh.computeSecret(otherPublic), ROUND_MS)),
);

const fmt = (x) => Math.round(x).toLocaleString("en-US");
const header = [
  "operation",
  ...backends.map((s) => `${s.backend.curve.name} + ${s.backend.primitives.name}`),
  "ratio",
];
const rows = names.map((name, i) => {
  const [fast, portable] = samples[i].map(median);
  return [name, fmt(fast), fmt(portable), `${(fast / portable).toFixed(1)}x`];
});
rows.push(["ECDH (node:crypto createECDH)", fmt(nodeEcdh), "-", "-"]);
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (cells) =>
  `| ${cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join(" | ")} |`;
console.log(
  `# usrv/secp256k1, node ${process.version}, one core, ops/s (median of ${ROUNDS} interleaved rounds)`,
);
console.log(line(header));
console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
for (const r of rows) console.log(line(r));

// what the mix allows, computed from the single operations (1 verify, 2 ECDH, 1 keygen, 1 sign)
const at = (name, b) => median(samples[names.indexOf(name)][b]);
for (const [b, s] of backends.entries()) {
  const perRequest =
    1 / at("verify (curve)", b) +
    2 / at("ECDH (curve)", b) +
    1 / at("keygen (curve, d·G)", b) +
    1 / at("sign (curve)", b);
  console.log(
    `${s.backend.name}: measured mix ${fmt(at("server mix (1 round trip)", b))} req/s; ` +
      `from the curve ops alone ${fmt(1 / perRequest)} req/s`,
  );
}
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
