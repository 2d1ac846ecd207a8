// Process plumbing for run.mjs and warmup.mjs: the scenarios, pinned server processes, pinned wrk runs,
// server CPU time from /proc.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

const TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;
const canPin = availableParallelism() >= 2;
const live = new Set();

// Server and load generator on separate cores, so that neither steals the other's CPU.
function pinned(core, cmd, args) {
  return canPin ? ["taskset", ["-c", String(core), cmd, ...args]] : [cmd, args];
}

export const pinning = canPin
  ? "server pinned to core 0, wrk pinned to core 1 (taskset)"
  : "fewer than 2 cores: NOT pinned, server and wrk share the CPU";

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    for (const child of live) child.kill("SIGKILL");
    process.exit(sig === "SIGINT" ? 130 : 143);
  });
}

/** What every bench server answers (bench/servers/*.mjs), per scenario. */
export const SCENARIOS = {
  a: { label: "a: GET /hello", path: "/hello", body: '{"hello":"world"}' },
  b: { label: "b: /user/<int:id>?x=", path: "/user/42?x=foo", body: '[42,"foo"]' },
  c: { label: "c: 200 routes, last", path: "/r199/abc/items/7", body: '[199,"abc",7]' },
};

/** Fails the cell unless the server answers exactly what every other server answers. */
export async function check(url, scenario) {
  const res = await fetch(url);
  const body = await res.text();
  const type = res.headers.get("content-type") ?? "(none)";
  if (res.status !== 200 || body !== scenario.body || type.split(";")[0].trim() !== "application/json") {
    throw new Error(
      `wrong answer for ${scenario.path}: ${res.status} ${type} ${body} ` +
        `(expected 200 application/json ${scenario.body})`,
    );
  }
}

/**
 * Starts `bench/servers/<name>.mjs` on a free port; resolves once it prints its ready line.
 * `nodeArgs` go to node before the script (bench/cpu-profile.mjs: `--perf-basic-prof`).
 */
export function startServer(name, cwd, nodeArgs = []) {
  // taskset execs node, so child.pid is the server's own pid for /proc/<pid>/stat.
  // "usrv+hooks": the same server with one no-op hook before and one after the handler
  const [base, variant] = name.split("+");
  const [cmd, args] = pinned(0, process.execPath, [
    ...nodeArgs,
    `bench/servers/${base}.mjs`,
    "0",
    ...(variant ? [variant] : []),
  ]);
  const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      const head = err.trim().split("\n").slice(0, 8).join("\n"); // node prints the error before the stack
      reject(new Error(`${name} server ${why}${head ? `:\n${head}` : ""}`));
    };
    const timer = setTimeout(() => fail("printed no ready line within 15 s"), 15_000);
    child.once("exit", (code, signal) => fail(`exited (${signal ?? code}) before it was ready`));
    child.stdout.on("data", (d) => {
      out += d;
      const m = /ready (http:\/\/\S+)/.exec(out);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({ child, pid: child.pid, url: m[1].replace(/\/$/, "") });
      }
    });
  });
}

export function stopServer({ child }) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      live.delete(child);
      resolve();
    };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", done);
    child.kill("SIGTERM");
  });
}

/** utime + stime of a process and all its threads, in microseconds. */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // comm (field 2) may contain spaces: count fields after its closing parenthesis; utime is field 14.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS;
}

/** Busy seconds of the whole machine (all cores) since boot: all of /proc/stat's cpu line but idle and iowait. */
function machineBusy() {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
    .slice(4, 200)
    .trim()
    .split(/\s+/)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS;
}

/**
 * Waits up to `maxSeconds` for a second during which the machine is idle (under 0.2 cores busy):
 * other sessions' tests and benchmarks share these two cores. Resolves to whether it got one.
 */
export async function waitIdle(maxSeconds = 30) {
  for (let i = 0; i < maxSeconds; i++) {
    const before = machineBusy();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (machineBusy() - before < 0.2) return true;
  }
  return false;
}

/** Runs wrk pinned to core 1 and returns its parsed summary; `headers` go with every request. */
export function wrk(url, seconds, connections, headers = {}) {
  const extra = Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const [cmd, args] = pinned(1, "wrk", [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--latency",
    ...extra,
    url,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      live.delete(child);
      try {
        if (code !== 0) throw new Error(`wrk exited with ${code}`);
        resolve(parseWrk(out));
      } catch (e) {
        reject(new Error(`${e.message}\n${out.trim()}`));
      }
    });
  });
}

const UNIT_MS = { us: 1e-3, ms: 1, s: 1000 };

export function parseWrk(text) {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const count = /(\d+) requests in/.exec(text);
  const p50 = /^\s*50%\s+([\d.]+)(us|ms|s)\b/m.exec(text);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s)\b/m.exec(text);
  if (!rps || !count || !p99) throw new Error("could not parse wrk output");
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const socket = /Socket errors: (.*)/.exec(text);
  const problems = [
    count[1] === "0" && "no request completed",
    non2xx && `${non2xx[1]} non-2xx responses`,
    socket && `socket errors: ${socket[1]}`,
  ];
  return {
    rps: Number(rps[1]),
    requests: Number(count[1]),
    p50: p50 ? Number(p50[1]) * UNIT_MS[p50[2]] : Number.NaN,
    p99: Number(p99[1]) * UNIT_MS[p99[2]],
    problems: problems.filter(Boolean),
  };
}
