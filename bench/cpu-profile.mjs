// Where a server's CPU goes, per request, by part: its own JavaScript, node's JavaScript (node:http, streams),
// V8 and node's native code, libc, and the kernel (the loopback TCP stack, waking wrk). `perf record -e cpu-clock`
// samples the pinned server while wrk loads it from the other core: a software clock, so it works on a VM
// without hardware counters (this one). Read with bench/RESULTS.md's "Where route b's CPU goes".
//   node bench/cpu-profile.mjs                 scenario b; node-http, usrv, fastify; 3 interleaved rounds x 5 s
//   node bench/cpu-profile.mjs a usrv,fastify  env: PROFILE_ROUNDS PROFILE_SECONDS PROFILE_HZ
// Needs Linux `perf` (Debian: linux-perf) and the right to profile (root, or kernel.perf_event_paranoid <= 1 for the
// kernel's share). Build first. Not part of `npm run bench`: it changes nothing in bench/RESULTS.md.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { check, SCENARIOS, startServer, stopServer, waitIdle, wrk } from "./harness.mjs";
import { median, table } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const scenario = SCENARIOS[process.argv[2] ?? "b"];
if (scenario === undefined)
  throw new Error(`unknown scenario ${process.argv[2]}: ${Object.keys(SCENARIOS).join(", ")}`);
const frameworks = (process.argv[3] ?? "node-http,usrv,fastify").split(",");
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 3);
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 5);
const HZ = Number(process.env.PROFILE_HZ ?? 1999);

try {
  execFileSync("perf", ["--version"], { stdio: "ignore" });
} catch {
  console.error("bench/cpu-profile.mjs needs Linux perf: apt-get install linux-perf");
  process.exit(1);
}

/** The part of the server a sample's symbol belongs to. */
function part(dso, symbol) {
  if (dso === "[kernel.kallsyms]")
    return symbol === "_raw_spin_unlock_irqrestore" ? "kernel: wake-ups" : "kernel: other";
  if (symbol.startsWith("JS:") || symbol.startsWith("RegExp:")) {
    if (/node:/.test(symbol)) return "node's JS";
    if (symbol.startsWith("RegExp:")) return "regular expressions";
    return "the server's own JS";
  }
  if (dso === "node" || dso.startsWith("[JIT]")) return "V8 and node native";
  return "libc and the rest";
}
const PARTS = [
  "the server's own JS",
  "node's JS",
  "regular expressions",
  "V8 and node native",
  "libc and the rest",
  "kernel: wake-ups",
  "kernel: other",
];

/** perf's samples of one file, by part. */
function samplesByPart(file) {
  const text = execFileSync(
    "perf",
    ["report", "-i", file, "--no-children", "-n", "--stdio", "-g", "none", "--sort", "dso,sym"],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] },
  );
  const out = Object.fromEntries(PARTS.map((p) => [p, 0]));
  for (const line of text.split("\n")) {
    // "    12.34%          2166  [kernel.kallsyms]  [k] _raw_spin_unlock_irqrestore"
    const m = /^\s*[\d.]+%\s+(\d+)\s+(\[JIT\] tid \d+|\S+)\s+\[[.kg]\]\s+(.*)$/.exec(line);
    if (m) out[part(m[2], m[3].trim())] += Number(m[1]);
  }
  return out;
}

/** One cell: a fresh server with perf maps, warmed, then profiled over one wrk run. */
async function profile(framework, dir) {
  await waitIdle();
  const server = await startServer(framework, ROOT, ["--perf-basic-prof"]);
  const file = join(dir, `${framework}.data`);
  try {
    const url = server.url + scenario.path;
    await check(url, scenario);
    await wrk(url, 5, 50);
    const perf = spawn(
      "perf",
      [
        "record",
        "-e",
        "cpu-clock",
        "-F",
        String(HZ),
        "-p",
        String(server.pid),
        "-o",
        file,
        "--",
        "sleep",
        String(SECONDS + 1),
      ],
      { stdio: "ignore" },
    );
    await new Promise((r) => setTimeout(r, 300)); // perf attached
    const run = await wrk(url, SECONDS, 50);
    await new Promise((resolve) => perf.once("exit", resolve));
    const samples = samplesByPart(file);
    const ns = Object.fromEntries(PARTS.map((p) => [p, (samples[p] * 1e9) / HZ / run.requests]));
    return { rps: run.rps, ns };
  } finally {
    await stopServer(server);
    rmSync(`/tmp/perf-${server.pid}.map`, { force: true });
  }
}

const dir = mkdtempSync(join(tmpdir(), "usrv-profile-"));
const cells = Object.fromEntries(frameworks.map((f) => [f, []]));
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const f of frameworks) {
      const cell = await profile(f, dir);
      cells[f].push(cell);
      const total = Object.values(cell.ns).reduce((a, b) => a + b, 0);
      console.error(
        `round ${r + 1} ${f}: ${Math.round(cell.rps)} req/s, ${Math.round(total)} ns/req sampled`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const anchor = frameworks[0];
const med = (f, p) => median(cells[f].map((c) => c.ns[p]));
const rows = [...PARTS, "total"].map((p) => {
  const value = (f) =>
    p === "total" ? median(cells[f].map((c) => Object.values(c.ns).reduce((a, b) => a + b, 0))) : med(f, p);
  return [
    p,
    ...frameworks.flatMap((f) =>
      f === anchor ? [Math.round(value(f))] : [Math.round(value(f)), signed(value(f) - value(anchor))],
    ),
  ];
});
const header = ["ns per request", ...frameworks.flatMap((f) => (f === anchor ? [f] : [f, `vs ${anchor}`]))];
console.log(
  `\n${scenario.label}: medians of ${ROUNDS} interleaved round(s), ${SECONDS} s each, perf cpu-clock at ${HZ} Hz\n`,
);
console.log(table(header, rows));

function signed(n) {
  const r = Math.round(n);
  return r > 0 ? `+${r}` : String(r);
}
