// Is the warm-up long enough? Each fresh server is measured twice: after a 2 s warm-up (what bench/run.mjs
// used to do), then again once it has been under load for WARMUP_LATE s (what run.mjs does now); same
// process, same wrk runs as run.mjs, interleaved rounds. A framework whose figures differ between the two
// windows was measured in its start-up transient (JIT tier-up, the young generation growing, a first full GC).
//   node bench/warmup.mjs            (build first; 5 rounds)
//   env: WARMUP_ROUNDS=5 WARMUP_LATE=10 BENCH_ONLY=node-http,fastify,usrv BENCH_SCENARIOS=a,c BENCH_CONNECTIONS=50
import { fileURLToPath } from "node:url";
import { check, cpuMicros, pinning, SCENARIOS, startServer, stopServer, waitIdle, wrk } from "./harness.mjs";
import { fmt, median, table } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FRAMEWORKS = ["node-http", "fastify", "hono", "usrv"];
const env = process.env;
const ROUNDS = Number(env.WARMUP_ROUNDS ?? 5);
const EARLY = 2; // s of load before the first window
const SECONDS = 5; // each measured window
const LATE = Number(env.WARMUP_LATE ?? 10); // s of load before the second window
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const DISTURBED = 85; // % server busy, as run.mjs
if (!(LATE >= EARLY + SECONDS + 1)) throw new Error(`WARMUP_LATE must be >= ${EARLY + SECONDS + 1}`);
const only = (name, known) => (env[name] ? known.filter((k) => env[name].split(",").includes(k)) : known);
const frameworks = only("BENCH_ONLY", FRAMEWORKS);
const scenarios = only("BENCH_SCENARIOS", Object.keys(SCENARIOS));

/** One measured window: wrk figures, server CPU µs per request, server busy %. */
async function window(server, url) {
  const [cpu0, t0] = [cpuMicros(server.pid), performance.now()];
  const run = await wrk(url, SECONDS, CONNECTIONS);
  const [cpu, wall] = [cpuMicros(server.pid) - cpu0, (performance.now() - t0) * 1000];
  return { ...run, us: cpu / run.requests, busy: (100 * cpu) / wall };
}

async function cell(framework, scenario) {
  await waitIdle();
  const server = await startServer(framework, ROOT);
  try {
    const url = server.url + scenario.path;
    await check(url, scenario);
    await wrk(url, EARLY, CONNECTIONS);
    const early = await window(server, url);
    await wrk(url, LATE - EARLY - SECONDS, CONNECTIONS);
    const late = await window(server, url);
    return { early, late };
  } finally {
    await stopServer(server);
  }
}

console.error(
  `# ${ROUNDS} round(s); windows of ${SECONDS} s after ${EARLY} s and after ${LATE} s of load; ${pinning}`,
);
const results = Object.fromEntries(
  scenarios.map((s) => [s, Object.fromEntries(frameworks.map((f) => [f, []]))]),
);
for (let round = 0; round < ROUNDS; round++) {
  for (const [si, s] of scenarios.entries()) {
    const shift = (round + si) % frameworks.length;
    for (const f of [...frameworks.slice(shift), ...frameworks.slice(0, shift)]) {
      const r = await cell(f, SCENARIOS[s]);
      results[s][f].push(r);
      const show = (w) =>
        `${fmt(w.rps)} req/s p50 ${fmt(w.p50, 2)} p99 ${fmt(w.p99, 2)} busy ${fmt(w.busy)}%`;
      console.error(
        `round ${round + 1} ${s} ${f.padEnd(9)} ${EARLY} s: ${show(r.early)} | ${LATE} s: ${show(r.late)}`,
      );
    }
  }
}

// Medians over the rounds where the server kept its core in both windows (or all rounds when none did).
const rows = [];
for (const s of scenarios) {
  for (const f of frameworks) {
    const all = results[s][f];
    const clean = all.filter((r) => r.early.busy >= DISTURBED && r.late.busy >= DISTURBED);
    const used = clean.length ? clean : all;
    const m = (w, k, d = 0) => fmt(median(used.map((r) => r[w][k])), d);
    const row = (w) => [m(w, "rps"), m(w, "p50", 2), m(w, "p99", 2), m(w, "us", 1)];
    rows.push([SCENARIOS[s].label, f, ...row("early"), ...row("late"), `${used.length}/${all.length}`]);
  }
}
const head = (w) => [`req/s ${w}`, `p50 ms ${w}`, `p99 ms ${w}`, `CPU µs/req ${w}`];
console.log(`# Warm-up: ${EARLY} s against ${LATE} s

- node ${process.version}; ${pinning}; ${ROUNDS} interleaved round(s), per cell a fresh server, \`wrk -t1 -c${CONNECTIONS}\`
- per cell: ${EARLY} s of load, a ${SECONDS} s window ("${EARLY} s"), load up to ${LATE} s, a ${SECONDS} s window ("${LATE} s")
- medians over the rounds whose server stayed busy >= ${DISTURBED}% in both windows ("rounds used")

${table(["scenario", "framework", ...head(`${EARLY} s`), ...head(`${LATE} s`), "rounds used"], rows, 2)}
`);
