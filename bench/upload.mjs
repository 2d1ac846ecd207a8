// Large uploads (issue 17 item 2): the throughput and the server's peak RSS of one 200 MiB upload, with the
// interleaved protocol of bench/variants.mjs (a fresh server per cell, pinned to core 0, warm-up, order
// alternating round by round, server CPU from /proc):
//   upload-fastify+multipart  @fastify/multipart's saveRequestFiles(): the files spooled to a temporary folder
//   upload-usrv+uploads       bind({ uploads }): the same, usrv's way (busboy underneath both)
//   upload-node-http+stream   node:http counting a raw 200 MiB body: the anchor of a streamed body
//   upload-usrv+stream        bind({ body: "stream" }): the handler counts ctx.stream
// The body is made on the fly by this process (one 64 KiB random buffer written again and again at the socket's pace,
// with a Content-Length), so the client holds nothing; it is not pinned.
//   node bench/upload.mjs [--quick]   --quick: 1 round, bench/RESULTS.md left alone
//   env: BENCH_ROUNDS (3) BENCH_UPLOAD_MIB (200) BENCH_WARMUP (2 uploads of 16 MiB)
// Build first. Writes its own section of bench/RESULTS.md (between its markers).

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { cpuMicros, pinning, startServer, stopServer, waitIdle } from "./harness.mjs";
import { fmt, interleave, median, roundRatio, table, usedRuns, writeSection } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = `${ROOT}bench/RESULTS.md`;
const BEGIN = "<!-- bench/upload.mjs: begin (this section is rewritten by `node bench/upload.mjs`) -->";
const END = "<!-- bench/upload.mjs: end -->";
const quick = process.argv.includes("--quick");
const env = process.env;
const ROUNDS = quick ? 1 : Number(env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(env.BENCH_WARMUP ?? 2);
const MiB = 1024 * 1024;
const SIZE = Number(env.BENCH_UPLOAD_MIB ?? 200) * MiB;
const DISTURBED = 50; // % of one core: below it the server waited on the machine, not on its own work
const FRAMEWORKS = [
  "upload-fastify+multipart",
  "upload-usrv+uploads",
  "upload-node-http+stream",
  "upload-usrv+stream",
];
const ANCHOR = {
  "upload-usrv+uploads": "upload-fastify+multipart",
  "upload-usrv+stream": "upload-node-http+stream",
};

const BOUNDARY = "usrv-bench-upload";
const multipart = {
  type: `multipart/form-data; boundary=${BOUNDARY}`,
  head:
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nbench\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
    "Content-Type: application/octet-stream\r\n\r\n",
  tail: `\r\n--${BOUNDARY}--\r\n`,
  answer: (size) => ({ note: "bench", file: size }),
};
const raw = { type: "application/octet-stream", head: "", tail: "", answer: (size) => ({ bytes: size }) };
const shapeOf = (framework) => (framework.endsWith("+stream") ? raw : multipart);

// Random bytes, as a photo or an archive is: a run of one letter would be a worst case of busboy's
// Boyer-Moore-Horspool search (1-byte steps when that letter ends the boundary), not what uploads carry.
const CHUNK = randomBytes(64 * 1024);

/** Resident memory of `pid` in bytes (/proc). */
const rss = (pid) => 1024 * Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

/** POSTs `size` bytes made on the fly in the framework's shape; resolves to the answer, checked. */
function upload(url, framework, size) {
  const shape = shapeOf(framework);
  return new Promise((resolve, reject) => {
    const length = Buffer.byteLength(shape.head) + size + Buffer.byteLength(shape.tail);
    const req = request(
      `${url}/upload`,
      { method: "POST", headers: { "content-type": shape.type, "content-length": length } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => {
          const want = JSON.stringify(shape.answer(size));
          if (res.statusCode !== 200 || JSON.stringify(JSON.parse(body)) !== want)
            reject(new Error(`${framework}: ${res.statusCode} ${body.slice(0, 200)} (expected ${want})`));
          else resolve();
        });
      },
    );
    req.on("error", reject);
    const chunk = CHUNK;
    let sent = 0;
    req.write(shape.head);
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void req.once("drain", pump);
      }
      req.end(shape.tail);
    };
    pump();
  });
}

async function measure(framework) {
  await waitIdle();
  const server = await startServer(framework, ROOT);
  try {
    await upload(server.url, framework, MiB); // the answer checked
    for (let i = 0; i < WARMUP; i++) await upload(server.url, framework, 16 * MiB);
    const base = rss(server.pid);
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, rss(server.pid));
    }, 10);
    const [cpu0, t0] = [cpuMicros(server.pid), performance.now()];
    await upload(server.url, framework, SIZE);
    const [cpu, wall] = [cpuMicros(server.pid) - cpu0, (performance.now() - t0) * 1000];
    clearInterval(timer);
    peak = Math.max(peak, rss(server.pid));
    return {
      mibs: SIZE / MiB / (wall / 1e6),
      peak: peak / MiB,
      growth: (peak - base) / MiB,
      usPerMiB: cpu / (SIZE / MiB),
      busy: (100 * cpu) / wall,
    };
  } finally {
    await stopServer(server);
  }
}

console.error(
  `# ${ROUNDS} round(s), one ${SIZE / MiB} MiB upload per cell after ${WARMUP} of 16 MiB; ${pinning}`,
);
const results = await interleave(
  FRAMEWORKS,
  ROUNDS,
  measure,
  (f, r) =>
    `${f.padEnd(26)} ${fmt(r.mibs)} MiB/s  peak RSS ${fmt(r.peak, 1)} MiB (+${fmt(r.growth, 1)})  ${fmt(r.usPerMiB)} µs CPU/MiB  busy ${fmt(r.busy)}%`,
);

const used = (f) => usedRuns(results[f], DISTURBED);
// every round counts for the ratio: the two servers of a pair shared its conditions
const ratio = (f, anchor, key) => roundRatio(results[f], results[anchor], key, 0);
const rows = FRAMEWORKS.map((f) => [
  f.replace(/^upload-/, ""),
  fmt(median(used(f).map((r) => r.mibs))),
  fmt(median(used(f).map((r) => r.peak)), 1),
  fmt(median(used(f).map((r) => r.growth)), 1),
  fmt(median(used(f).map((r) => r.usPerMiB))),
  `${used(f).length}/${ROUNDS}`,
  ANCHOR[f] ? `${fmt(ratio(f, ANCHOR[f], "mibs"), 2)}x vs ${ANCHOR[f].replace(/^upload-/, "")}` : "-",
]);
const section = `## Large uploads: one ${SIZE / MiB} MiB upload (bench/upload.mjs)

- date: ${new Date().toISOString()}; node ${process.version}; ${pinning}; the client is this process (unpinned)
- ${ROUNDS} interleaved round(s) (order alternates); per cell a fresh server, a checked 1 MiB upload and ${WARMUP} of 16 MiB,
  then one ${SIZE / MiB} MiB upload made on the fly, the server's RSS sampled every 10 ms from /proc
- "+multipart": Fastify with @fastify/multipart's \`saveRequestFiles()\`; "+uploads": usrv with \`bind({ uploads })\`
  (both spool the file to a temporary folder, removed after the answer); "+stream": the raw body counted as it
  arrives (node:http's \`req.on("data")\`, usrv's \`ctx.stream\`)
- medians over the rounds whose server stayed busy >= ${DISTURBED}% of a core; the throughput ratio is the median of per-round ratios

${table(["server", "MiB/s", "peak RSS MiB", "RSS growth MiB", "CPU µs/MiB", "rounds used", "throughput ratio"], rows)}
`;
console.log(section);
if (quick) console.error("--quick: bench/RESULTS.md left alone");
else writeSection(RESULTS, BEGIN, END, section);
