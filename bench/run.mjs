// Real-HTTP benchmark: raw node:http, Fastify, Hono and usrv in one interleaved run.
//   npm run bench                      (build, then 5 rounds x 5 s per cell)
//   node bench/run.mjs --quick         (1 round x 2 s, smoke test; RESULTS.md left alone)
//   env: BENCH_ROUNDS BENCH_SECONDS BENCH_WARMUP BENCH_CONNECTIONS BENCH_RETRIES BENCH_ONLY=usrv,usrv+hooks BENCH_SCENARIOS=a,c
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { check, cpuMicros, pinning, SCENARIOS, startServer, stopServer, waitIdle, wrk } from "./harness.mjs";
import { fmt, median, table } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// "+hooks": one no-op hook before the handler and one after it that may change the
// answer (usrv onRequest + onResponse, Fastify onRequest + onSend, Hono two middlewares)
const FRAMEWORKS = ["node-http", "fastify", "hono", "usrv", "fastify+hooks", "hono+hooks", "usrv+hooks"];
const ANCHOR = "node-http";

const quick = process.argv.includes("--quick");
const env = process.env;
const ROUNDS = quick ? 1 : count("BENCH_ROUNDS", 5);
const SECONDS = quick ? 2 : count("BENCH_SECONDS", 5);
// A server's first seconds under load are V8's start-up transient, not the framework: JIT tier-up,
// the young generation growing towards 16 MB, and for usrv its first full GC (Mark-Compact, ~200,000
// requests after start; Fastify allocates ~18 MB while it starts and has its own before it listens).
// A 2 s warm-up left that in usrv's measured window: p99 0.18 / 0.73 / 0.52 ms above Fastify's on
// a, b, c; after 10 s, -0.02 / 0.01 / -0.23 (medians of per-round differences, bench/warmup.mjs).
const WARMUP = quick ? 1 : count("BENCH_WARMUP", 10);
const CONNECTIONS = count("BENCH_CONNECTIONS", 50);
const RETRIES = quick ? 0 : count("BENCH_RETRIES", 1, 0);
const DISTURBED = 85; // % server busy; undisturbed cells measure 97-99% here
const frameworks = pick("BENCH_ONLY", FRAMEWORKS);
const scenarios = pick("BENCH_SCENARIOS", Object.keys(SCENARIOS));

function count(name, fallback, min = 1) {
  const n = Number(env[name] ?? fallback);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${name} must be an integer >= ${min}, got ${env[name]}`);
  return n;
}

function pick(name, known) {
  if (!env[name]) return known;
  const wanted = env[name].split(",").map((s) => s.trim());
  const unknown = wanted.filter((w) => !known.includes(w));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(", ")} (known: ${known.join(", ")})`);
  return known.filter((k) => wanted.includes(k)); // keep the canonical order
}

/** One cell: a fresh server, a check, a warm-up, then the measured wrk run. */
async function measure(framework, scenario) {
  const idle = await waitIdle();
  if (!idle) console.error(`  (the machine stayed busy for 30 s: measuring ${framework} anyway)`);
  const server = await startServer(framework, ROOT);
  try {
    const url = server.url + scenario.path;
    await check(url, scenario);
    await wrk(url, WARMUP, CONNECTIONS);
    const [cpu0, t0] = [cpuMicros(server.pid), performance.now()];
    const run = await wrk(url, SECONDS, CONNECTIONS);
    const [cpu, wall] = [cpuMicros(server.pid) - cpu0, (performance.now() - t0) * 1000];
    // 50 connections keep a server's core saturated, so busy well below 100% means the core was taken away.
    return { ...run, us: cpu / run.requests, busy: (100 * cpu) / wall, idle };
  } finally {
    await stopServer(server);
  }
}

const times = (x) => (Number.isFinite(x) ? `${fmt(x, 2)}x` : "-");

// results[scenario][framework][round - 1] = measure()'s result, or undefined when it failed
const results = Object.fromEntries(
  scenarios.map((s) => [s, Object.fromEntries(frameworks.map((f) => [f, []]))]),
);
const failed = new Map(); // "scenario/framework" -> message; a failed cell is not retried

console.error(
  `# ${ROUNDS} round(s) x ${SECONDS} s, ${CONNECTIONS} connections, ${frameworks.join(", ")}; ${pinning}`,
);
for (let round = 1; round <= ROUNDS; round++) {
  for (const [si, s] of scenarios.entries()) {
    // Rotate the order so that no framework always runs first, or right after the same neighbour.
    const shift = (round - 1 + si) % frameworks.length;
    for (const f of [...frameworks.slice(shift), ...frameworks.slice(0, shift)]) {
      if (failed.has(`${s}/${f}`)) continue;
      try {
        let r = await measure(f, SCENARIOS[s]);
        // Slow phases of the shared machine last seconds to a minute and hit single cells: take another look.
        for (let i = 0; i < RETRIES && r.busy < DISTURBED; i++) {
          console.error(`round ${round}/${ROUNDS} ${s} ${f}: server busy ${fmt(r.busy)}%, measuring again`);
          const again = await measure(f, SCENARIOS[s]);
          if (again.busy > r.busy) r = again;
        }
        results[s][f][round - 1] = r;
        const warn = r.problems.length ? `  WARNING: ${r.problems.join("; ")}` : "";
        console.error(
          `round ${round}/${ROUNDS} ${s} ${f.padEnd(9)} ${fmt(r.rps).padStart(7)} req/s  p99 ${fmt(r.p99, 2)} ms  ${fmt(r.us, 1)} µs/req  busy ${fmt(r.busy)}%${warn}`,
        );
      } catch (e) {
        failed.set(`${s}/${f}`, e.message);
        console.error(`round ${round}/${ROUNDS} ${s} ${f}: CELL ABORTED: ${e.message}`);
      }
    }
  }
}

// A round is suspect for a scenario when every framework fell >40% below the previous round.
const suspects = [];
for (const s of scenarios) {
  for (let r = 1; r < ROUNDS; r++) {
    const pairs = frameworks.map((f) => [results[s][f][r - 1], results[s][f][r]]).filter(([a, b]) => a && b);
    if (pairs.length && pairs.every(([a, b]) => b.rps < 0.6 * a.rps)) suspects.push({ s, round: r + 1 });
  }
}

// Medians use the undisturbed cells (server busy >= DISTURBED) of a row, or all of them when none is.
const usable = (cells) => {
  const clean = cells.filter((c) => c?.busy >= DISTURBED);
  return clean.length ? clean : cells.filter(Boolean);
};

function ratio(s, f, key) {
  if (!frameworks.includes(ANCHOR)) return Number.NaN;
  // Per-round ratios pair cells run a minute or two apart, so a slow phase of the machine partly cancels out.
  const anchor = results[s][ANCHOR];
  const pairs = usable(
    results[s][f].map(
      (r, i) => r && anchor[i] && { busy: Math.min(r.busy, anchor[i].busy), r, a: anchor[i] },
    ),
  );
  return median(pairs.map(({ r, a }) => r[key] / a[key]));
}

const rows = [];
for (const s of scenarios) {
  for (const f of frameworks) {
    const all = results[s][f].filter(Boolean);
    if (all.length === 0) {
      rows.push([SCENARIOS[s].label, f, "failed", "", "", "", "", ""]);
      continue;
    }
    const cells = usable(all);
    const used = `${cells.length}/${ROUNDS}${cells[0].busy >= DISTURBED ? "" : " ~"}`;
    const [rps, p99, us] = ["rps", "p99", "us"].map((k) => median(cells.map((c) => c[k])));
    const [rr, ur] = [ratio(s, f, "rps"), ratio(s, f, "us")];
    rows.push([SCENARIOS[s].label, f, fmt(rps), fmt(p99, 2), fmt(us, 1), used, times(rr), times(ur)]);
  }
}
const summary = table(
  [
    "scenario",
    "framework",
    "req/s",
    "p99 ms",
    "CPU µs/req",
    "rounds used",
    "req/s vs node:http",
    "µs/req vs node:http",
  ],
  rows,
  2,
);

const perRound = [];
for (const s of scenarios) {
  for (const f of frameworks) {
    const cells = Array.from({ length: ROUNDS }, (_, i) => {
      const r = results[s][f][i];
      const mark = suspects.some((x) => x.s === s && x.round === i + 1) ? " *" : "";
      return r ? `${fmt(r.rps)}${r.busy < DISTURBED ? " ~" : ""}${mark}` : "-";
    });
    perRound.push([s, f, ...cells]);
  }
}
const rounds = table(
  ["scenario", "framework", ...Array.from({ length: ROUNDS }, (_, i) => `r${i + 1}`)],
  perRound,
  2,
);

const version = (pkg) => JSON.parse(readFileSync(`${ROOT}node_modules/${pkg}/package.json`, "utf8")).version;
let commit = "unknown";
try {
  commit = execFileSync("git", ["describe", "--always", "--dirty"], { cwd: ROOT, encoding: "utf8" }).trim();
} catch {}
const wrkVersion = /wrk (\S+)/.exec(execFileSync("sh", ["-c", "wrk -v 2>&1 || true"], { encoding: "utf8" }));

const suspectNote = suspects.length
  ? `**Suspect rounds** (every framework >40% below the previous round, a slow phase of the shared machine; ` +
    `marked * below, still included in the medians): ${suspects.map((x) => `round ${x.round} of ${x.s}`).join(", ")}.`
  : "No suspect round (none where every framework fell >40% below the previous round).";
const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");
const crowded = Object.values(results)
  .flatMap((row) => Object.values(row).flat())
  .filter((r) => r && !r.idle).length;
const failures = [...failed].map(([cell, msg]) => `- ${cell}: ${msg.split("\n")[0]}`);

const report = `# HTTP benchmark

- date: ${new Date().toISOString()}; usrv ${commit}
- node ${process.version}; wrk ${wrkVersion?.[1] ?? "?"}; fastify ${version("fastify")}, hono ${version("hono")}, @hono/node-server ${version("@hono/node-server")}
- machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${pinning}; load average at the end ${load}
- ${ROUNDS} interleaved round(s); per cell a fresh server process, ${WARMUP} s warm-up, then \`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s --latency\`
- ${RETRIES ? `a cell whose server was busy below ${DISTURBED}% is measured again (up to BENCH_RETRIES=${RETRIES} times), keeping the busier attempt` : "no retries of disturbed cells"}
- cells are medians over the rounds whose server stayed busy >= ${DISTURBED}% ("rounds used"; ~ = none did, so all
  rounds); ratios are medians of per-round ratios against node:http over rounds where both stayed busy
  (req/s: higher is better; µs/req: lower is better)
- CPU µs/req = the server's utime+stime (all its threads, /proc/<pid>/stat) during the measured run / requests served;
  server busy = that CPU time / wall time: near 100% when the server is the bottleneck, lower when its core was
  taken by something else (a VM often reports no steal time) or when the server waits instead of working
- caveats: wrk shares the machine (its own core, but the same caches, memory bus and host), and a single wrk
  thread caps what the fastest server can show; loopback TCP work partly runs in softirq on wrk's core, so
  µs/req undercounts kernel time. On a shared, noisy machine req/s drifts between runs: read the ratios and µs/req

${summary}

${suspectNote}
${crowded ? `${crowded} cell(s) started while something else kept the machine busy for 30 s.\n` : "Every cell started on an idle machine (under 0.2 cores busy over the second before it).\n"}${failures.length ? `\nAborted cells:\n${failures.join("\n")}\n` : ""}
req/s per round (* suspect round, ~ server busy below ${DISTURBED}% even after retries: its core was taken, or it waited):

${rounds}
`;

console.log(report);
if (quick) console.error("--quick: bench/RESULTS.md not written");
else {
  // Other bench scripts (bench/serve.mjs) keep marked sections of their own in this file: carry them over.
  const file = `${ROOT}bench/RESULTS.md`;
  const sections = /<!-- ([^:\n]+): begin[^\n]*-->[\s\S]*?<!-- \1: end -->\n?/g; // "bench/variants.mjs cors" too
  const kept = existsSync(file) ? (readFileSync(file, "utf8").match(sections) ?? []) : [];
  writeFileSync(file, [report, ...kept].join("\n"));
}
