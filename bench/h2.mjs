// HTTP/2 (h2c) under h2load: usrv's `run({ http2: true })` against Fastify's http2 mode, with raw node:http2
// (its core stream API) as the anchor; the same interleaved protocol as bench/variants.mjs (a fresh server per
// cell, warm-up, server on core 0 and h2load on core 1 with taskset, server CPU from /proc, rounds whose server
// was not busy >= 85% left out of the medians).
//   node bench/h2.mjs [--quick]   --quick: 1 round x 2 s, bench/RESULTS.md left alone
//   env: BENCH_ROUNDS BENCH_SECONDS BENCH_WARMUP BENCH_CONNECTIONS BENCH_STREAMS
// Needs h2load (Debian: apt-get install nghttp2-client). Build first. Writes its own section of bench/RESULTS.md.
import { spawn } from "node:child_process";
import { connect } from "node:http2";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { cpuMicros, SCENARIOS, startServer, stopServer, waitIdle } from "./harness.mjs";
import { fmt, interleave, median, roundRatio, table, usedRuns, writeSection } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = `${ROOT}bench/RESULTS.md`;
const BEGIN = "<!-- bench/h2.mjs: begin (this section is rewritten by `node bench/h2.mjs`) -->";
const END = "<!-- bench/h2.mjs: end -->";
const FRAMEWORKS = ["node-http2", "fastify+h2", "usrv+h2"];
const ANCHOR = "fastify+h2";
const quick = process.argv.includes("--quick");
const env = process.env;
const ROUNDS = quick ? 1 : Number(env.BENCH_ROUNDS ?? 3);
const SECONDS = quick ? 2 : Number(env.BENCH_SECONDS ?? 5);
const WARMUP = quick ? 1 : Number(env.BENCH_WARMUP ?? 10);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 10);
const STREAMS = Number(env.BENCH_STREAMS ?? 10); // concurrent streams a connection (h2load -m)
const DISTURBED = 85;
const scenario = SCENARIOS.a;
const canPin = availableParallelism() >= 2;
const pinning = canPin
  ? "server pinned to core 0, h2load pinned to core 1 (taskset)"
  : "fewer than 2 cores: NOT pinned, server and h2load share the CPU";

/** One GET over h2c: the cell fails unless every server answers the same. */
function check(url) {
  return new Promise((resolve, reject) => {
    const session = connect(url);
    session.on("error", reject);
    const stream = session.request({ ":path": scenario.path });
    let head = {};
    let body = "";
    stream.on("response", (h) => (head = h));
    stream.setEncoding("utf8");
    stream.on("data", (d) => (body += d));
    stream.on("error", reject);
    stream.on("end", () => {
      session.close();
      const type = String(head["content-type"] ?? "").split(";")[0];
      if (head[":status"] !== 200 || body !== scenario.body || type !== "application/json")
        reject(new Error(`wrong answer over h2c: ${head[":status"]} ${type} ${body}`));
      else resolve();
    });
  });
}

/** Runs h2load (on core 1) and parses its summary. */
function h2load(url, seconds) {
  const args = ["-D", String(seconds), "-c", String(CONNECTIONS), "-m", String(STREAMS), "-t", "1", url];
  const [cmd, argv] = canPin ? ["taskset", ["-c", "1", "h2load", ...args]] : ["h2load", args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      const rps = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
      const done =
        /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
          out,
        );
      const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
      const p = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(out);
      if (code !== 0 || !rps || !done || !status)
        return reject(new Error(`h2load failed (${code}):\n${out}`));
      const unit = { us: 1e-3, ms: 1, s: 1000 };
      const problems = [
        done[3] !== "0" && `${done[3]} failed`,
        done[4] !== "0" && `${done[4]} errored`,
        (status[3] !== "0" || status[4] !== "0") && `${status[3]} 4xx, ${status[4]} 5xx`,
      ].filter(Boolean);
      resolve({
        rps: Number(rps[1]),
        requests: Number(done[2]),
        mean: p ? Number(p[5]) * unit[p[6]] : Number.NaN,
        problems,
      });
    });
  });
}

async function measure(framework) {
  await waitIdle();
  const server = await startServer(framework, ROOT);
  try {
    const url = server.url + scenario.path;
    await check(server.url);
    await h2load(url, WARMUP);
    const [cpu0, t0] = [cpuMicros(server.pid), performance.now()];
    const run = await h2load(url, SECONDS);
    const [cpu, wall] = [cpuMicros(server.pid) - cpu0, (performance.now() - t0) * 1000];
    if (run.problems.length) throw new Error(`${framework}: ${run.problems.join(", ")}`);
    return { ...run, us: cpu / run.requests, busy: (100 * cpu) / wall };
  } finally {
    await stopServer(server);
  }
}

console.error(
  `# ${ROUNDS} round(s) x ${SECONDS} s after ${WARMUP} s of warm-up, h2c, ${CONNECTIONS} connections x ${STREAMS} streams; ${pinning}`,
);
const results = await interleave(
  FRAMEWORKS,
  ROUNDS,
  measure,
  (f, r) =>
    `${f.padEnd(12)} ${fmt(r.rps)} req/s  mean ${fmt(r.mean, 2)} ms  ${fmt(r.us, 1)} µs/req  busy ${fmt(r.busy)}%`,
);

const used = (f) => usedRuns(results[f], DISTURBED);
const ratio = (f, anchor) => roundRatio(results[f], results[anchor], "rps", DISTURBED);
const rows = FRAMEWORKS.map((f) => [
  f,
  fmt(median(used(f).map((r) => r.rps))),
  fmt(median(used(f).map((r) => r.mean)), 2),
  fmt(median(used(f).map((r) => r.us)), 1),
  `${used(f).length}/${ROUNDS}`,
  `${fmt(ratio(f, "node-http2"), 2)}x`,
  `${fmt(ratio(f, ANCHOR), 2)}x`,
]);
const section = `## HTTP/2: route a over h2c (bench/h2.mjs)

- date: ${new Date().toISOString()}; node ${process.version}; ${pinning}
- ${ROUNDS} interleaved round(s) (order alternates); per cell a fresh server, ${WARMUP} s warm-up, then
  \`h2load -D ${SECONDS} -c ${CONNECTIONS} -m ${STREAMS} -t 1\` on \`${scenario.path}\`; "node-http2": node:http2's stream API
  by hand; "fastify+h2": \`Fastify({ http2: true })\`; "usrv+h2": \`app.run({ http2: true })\` (the compatibility API)
- medians over the rounds whose server stayed busy >= ${DISTURBED}%; ratios are medians of per-round ratios

${table(["framework", "req/s", "mean ms", "CPU µs/req", "rounds used", "vs node:http2", `vs ${ANCHOR}`], rows)}
`;
console.log(section);
if (quick) console.error("--quick: bench/RESULTS.md left alone");
else writeSection(RESULTS, BEGIN, END, section);
