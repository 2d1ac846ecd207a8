// `usrv serve -t 2` against `usrv serve -t 1` on this machine (S3, issue 5 item 7), GET /hello, wrk on the same machine.
//   node bench/serve.mjs            (after `npm run build`: 3 interleaved rounds x 5 s per cell)
//   node bench/serve.mjs --quick    (1 round x 2 s, smoke test; bench/RESULTS.md left alone)
//   BENCH_ROUNDS BENCH_SECONDS BENCH_CONNECTIONS; BENCH_RESULTS=FILE writes the section there instead
// Nothing is pinned: -t 2 needs both cores, and -t 1 runs the same way so that only the worker count differs.
// Writes its section of bench/RESULTS.md (between the markers below) when that file exists.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { fmt, median } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = `${ROOT}dist/cli/main.js`;
const BINDING = `${ROOT}test/fixtures/serve-bench.mjs`;
const RESULTS = process.env.BENCH_RESULTS ?? `${ROOT}bench/RESULTS.md`;
const BEGIN = "<!-- bench/serve.mjs: begin (this section is rewritten by `node bench/serve.mjs`) -->";
const END = "<!-- bench/serve.mjs: end -->";
const PATH = "/hello";
const EXPECTED = '{"hello":"world"}';

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 1 : positive("BENCH_ROUNDS", 3);
const SECONDS = quick ? 2 : positive("BENCH_SECONDS", 5);
const WARMUP = quick ? 1 : 2;
const CONNECTIONS = positive("BENCH_CONNECTIONS", 50);
const MODES = [1, 2]; // -t values
const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;

function positive(name, fallback) {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got ${process.env[name]}`);
  return n;
}

for (const [file, hint] of [
  [CLI, "run `npm run build` first"],
  [BINDING, "the fixture binding is missing"],
]) {
  if (!existsSync(file)) fail(`${file} not found: ${hint}`);
}
try {
  execFileSync("sh", ["-c", "command -v wrk"], { stdio: "ignore" });
} catch {
  fail("wrk not found (Debian: apt-get install wrk)");
}

function fail(message) {
  console.error(`bench/serve.mjs: ${message}`);
  process.exit(1);
}

const live = new Set();
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    for (const child of live) child.kill("SIGKILL");
    process.exit(130);
  });
}

// ------------------------------------------------------------------ processes

/** `usrv serve -t N` on a free port; resolves once its banner is out. */
function startServer(threads) {
  const args = [CLI, "serve", "-t", String(threads), "-p", "0", "-l", "40", BINDING];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => {
    let settled = false;
    const give = (f, v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f(v);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      give(reject, new Error(`usrv serve -t ${threads}: no banner within 20 s:\n${out}`));
    }, 20_000);
    child.once("exit", (code) =>
      give(reject, new Error(`usrv serve -t ${threads} exited (${code}):\n${out}`)),
    );
    child.stdout.on("data", () => {
      const m = /usrv serving on (http:\/\/\S+)/.exec(out);
      if (m) give(resolve, { child, url: m[1] });
    });
  });
}

function stopServer({ child }) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      live.delete(child);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** The server's processes: the one we started and its children (the cluster workers). */
function tree(pid) {
  const pids = [pid];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) pids.push(Number(entry));
    } catch {} // gone meanwhile
  }
  return pids;
}

/** utime + stime of these processes (all their threads), in seconds. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = fields.slice(fields.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks / TICKS;
}

/** Busy seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds() {
  // cpu  user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS;
}

const UNIT_MS = { us: 1e-3, ms: 1, s: 1000 };

function wrk(url, seconds) {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", url];
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      live.delete(child);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const count = /(\d+) requests in/.exec(out);
      const p99 = /^\s*99%\s+([\d.]+)(us|ms|s)\b/m.exec(out);
      if (code !== 0 || !rps || !count || !p99) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      const socket = /Socket errors: (.*)/.exec(out);
      resolve({
        rps: Number(rps[1]),
        requests: Number(count[1]),
        p99: Number(p99[1]) * UNIT_MS[p99[2]],
        problems: [
          non2xx && `${non2xx[1]} non-2xx responses`,
          socket && `socket errors: ${socket[1]}`,
        ].filter(Boolean),
      });
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Cores busy on the machine while nothing of ours runs: waits (up to 60 s) for it to drop under 0.2,
 * since a test suite or another benchmark on the same 2 cores would skew the cell. Returns the last sample.
 */
async function quiet() {
  const deadline = performance.now() + 60_000;
  for (let said = false; ; ) {
    const [b0, t0] = [machineBusySeconds(), performance.now()];
    await sleep(1_000);
    const busy = (machineBusySeconds() - b0) / ((performance.now() - t0) / 1000);
    if (busy < 0.2 || performance.now() > deadline) return busy;
    if (!said)
      console.error(
        `  the machine is busy (${fmt(busy, 2)} cores) before a cell: waiting up to 60 s for it to settle`,
      );
    said = true;
  }
}

/** One cell: a quiet machine, a fresh server, a check, a warm-up, then the measured run with CPU accounting. */
async function measure(threads) {
  const before = await quiet();
  const server = await startServer(threads);
  try {
    const url = server.url + PATH;
    const res = await fetch(url);
    const body = await res.text();
    if (res.status !== 200 || body !== EXPECTED)
      throw new Error(`GET ${PATH}: ${res.status} ${body}, expected 200 ${EXPECTED}`);
    await wrk(url, WARMUP);
    const pids = tree(server.child.pid);
    if (pids.length !== (threads === 1 ? 1 : threads + 1))
      throw new Error(`expected ${threads} worker(s), found pids ${pids}`);
    const [cpu0, busy0, t0] = [cpuSeconds(pids), machineBusySeconds(), performance.now()];
    const run = await wrk(url, SECONDS);
    const wall = (performance.now() - t0) / 1000;
    const server_ = (cpuSeconds(pids) - cpu0) / wall;
    const machine = (machineBusySeconds() - busy0) / wall;
    // server and machine are in cores (1.0 = one core busy for the whole run); "rest" is mostly wrk
    return {
      ...run,
      before,
      server: server_,
      rest: Math.max(0, machine - server_),
      perCore: run.rps / server_,
    };
  } finally {
    await stopServer(server);
  }
}

// ------------------------------------------------------------------ run

const results = Object.fromEntries(MODES.map((t) => [t, []]));
console.error(
  `# usrv serve -t 2 vs -t 1: ${ROUNDS} round(s) x ${SECONDS} s, wrk -t1 -c${CONNECTIONS}, GET ${PATH}, not pinned`,
);
for (let round = 1; round <= ROUNDS; round++) {
  // Alternate the order, so that neither mode always runs first.
  for (const threads of round % 2 ? MODES : [...MODES].reverse()) {
    const r = await measure(threads).catch((e) => fail(e.message));
    results[threads][round - 1] = r;
    const warn = r.problems.length ? `  WARNING: ${r.problems.join("; ")}` : "";
    console.error(
      `round ${round}/${ROUNDS} -t ${threads}  ${fmt(r.rps).padStart(7)} req/s  p99 ${fmt(r.p99, 2)} ms  ` +
        `server ${fmt(r.server, 2)} cores  wrk+rest ${fmt(r.rest, 2)} cores  (busy before: ${fmt(r.before, 2)})${warn}`,
    );
  }
}

const cells = (t, key) => results[t].map((r) => r[key]);
const med = (t, key) => median(cells(t, key));
const ratios = results[2].map((r, i) => r.rps / results[1][i].rps);
const ratio = median(ratios);
const problems = MODES.flatMap((t) =>
  results[t].flatMap((r, i) => r.problems.map((p) => `-t ${t}, round ${i + 1}: ${p}`)),
);
const noisy = MODES.flatMap((t) =>
  results[t].flatMap((r, i) =>
    r.before >= 0.2 ? [`-t ${t}, round ${i + 1}: ${fmt(r.before, 2)} cores busy before the cell`] : [],
  ),
);

const label = { 1: "`-t 1` (1 process)", 2: "`-t 2` (primary + 2 workers)" };
const rows = [
  "| server | req/s | req/s per round | p99 ms | server CPU (cores) | wrk + rest of the machine (cores) | req/s per server core |",
  "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
  ...MODES.map(
    (t) =>
      `| ${label[t]} | ${fmt(med(t, "rps"))} | ${cells(t, "rps")
        .map((x) => fmt(x))
        .join(", ")} | ${fmt(med(t, "p99"), 2)} | ` +
      `${fmt(med(t, "server"), 2)} | ${fmt(med(t, "rest"), 2)} | ${fmt(med(t, "perCore"))} |`,
  ),
];

let wrkVersion = "?";
try {
  wrkVersion =
    /wrk (\S+)/.exec(execFileSync("sh", ["-c", "wrk -v 2>&1 || true"], { encoding: "utf8" }))?.[1] ?? "?";
} catch {}
let commit = "unknown";
try {
  commit = execFileSync("git", ["describe", "--always", "--dirty"], { cwd: ROOT, encoding: "utf8" }).trim();
} catch {}
const cores = cpus().length;
const wrkCores = med(2, "rest");

const section = `## usrv serve: -t 2 vs -t 1

- date: ${new Date().toISOString()}; usrv ${commit}; node ${process.version}; wrk ${wrkVersion}
- machine: ${cores} cores (${cpus()[0]?.model.trim()}); load average at the end ${loadavg()
  .map((l) => l.toFixed(2))
  .join(" ")}
- \`usrv serve -t N -l 40 test/fixtures/serve-bench.mjs\`, GET ${PATH} answering \`${EXPECTED}\`; ${ROUNDS} interleaved
  round(s) (the order alternates); per cell a fresh server, ${WARMUP} s warm-up, then \`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s --latency\`;
  cells are medians over rounds; nothing pinned (\`-t 2\` needs both cores; \`-t 1\` runs the same way)
- CPU in cores: 1.00 = one core busy for the whole run; server = utime+stime of the server's processes
  (/proc/<pid>/stat), wrk + rest = the machine's busy time (/proc/stat) minus the server's

${rows.join("\n")}

**\`-t 2\` / \`-t 1\`: ${fmt(ratio, 2)}x** (median of the per-round ratios ${ratios.map((x) => fmt(x, 2)).join(", ")}).

How the load generator on the same ${cores} cores skews it: with \`-t 1\` the server can use one core and wrk
has the other, so they hardly compete. With \`-t 2\` the two workers could use both cores, but wrk takes
${fmt(wrkCores, 2)} core(s) of the same ${cores} (its event loop, the kernel's side of its sockets, the loopback
traffic), so the workers get about ${fmt(cores - wrkCores, 2)} cores, not ${cores}. The \`-t 2\` figure is therefore a
lower bound for this server on ${cores} dedicated cores, and the ratio understates how it scales: with the
load generated on another machine it would approach ${cores}x as long as the per-core rate holds (compare the
req/s per server core of the two rows).
${problems.length ? `\nWARNING, errors during the runs:\n${problems.map((p) => `- ${p}`).join("\n")}\n` : ""}${
  noisy.length
    ? `\nWARNING, the machine was not idle before these cells (something else ran on the same cores; their figures are low):\n${noisy.map((p) => `- ${p}`).join("\n")}\n`
    : "\nEvery cell started on an idle machine (under 0.2 cores busy over the second before it).\n"
}`;

console.log(section);
if (quick) console.error(`--quick: ${RESULTS} left alone`);
else if (!existsSync(RESULTS))
  console.error(`${RESULTS} does not exist: section not written (run \`npm run bench\` first)`);
else {
  const text = readFileSync(RESULTS, "utf8");
  const block = `${BEGIN}\n${section.trimEnd()}\n${END}\n`;
  const [b, e] = [text.indexOf(BEGIN), text.indexOf(END)];
  const next =
    b !== -1 && e > b
      ? text.slice(0, b) + block + text.slice(e + END.length).replace(/^\n/, "")
      : `${text.trimEnd()}\n\n${block}`;
  writeFileSync(RESULTS, next);
  console.error(
    `${RESULTS}: section "## usrv serve: -t 2 vs -t 1" ${b !== -1 && e > b ? "replaced" : "appended"}`,
  );
}
