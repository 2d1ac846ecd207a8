// WebSocket echo: usrv's `app.ws` against the `ws` package alone on node:http (its README's noServer
// pattern), the same interleaved protocol as bench/variants.mjs: a fresh server per cell pinned to core 0,
// warm-up, then a load generator pinned to core 1 (this file with --load) keeping C connections each with one
// message in flight (send, await the echo, send again), server CPU from /proc.
//   node bench/ws.mjs [--quick]   env: BENCH_ROUNDS BENCH_SECONDS BENCH_WARMUP BENCH_CONNECTIONS BENCH_SIZE
// Build first. Writes its own section of bench/RESULTS.md (between its markers) unless --quick.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { interleave, roundRatio, usedRuns, writeSection } from "./report.mjs";

const env = process.env;

if (process.argv[2] === "--load") {
  // the load generator: node bench/ws.mjs --load URL SECONDS CONNECTIONS SIZE; prints one JSON line
  const [url, seconds, connections, size] = process.argv.slice(3);
  const { default: WebSocket } = await import("ws");
  const payload = "x".repeat(Number(size));
  let messages = 0;
  const rtts = [];
  let stop = false;
  const one = (i) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url}/ws/${i}`);
      let sent = 0;
      ws.on("error", reject);
      ws.on("open", () => {
        sent = performance.now();
        ws.send(payload);
      });
      ws.on("message", (data) => {
        if (data.length !== payload.length) return reject(new Error(`echo of ${data.length} bytes`));
        messages++;
        if (rtts.length < 200_000) rtts.push(performance.now() - sent);
        if (stop) {
          ws.close();
          return resolve();
        }
        sent = performance.now();
        ws.send(payload);
      });
    });
  const t0 = performance.now();
  const all = Promise.all(Array.from({ length: Number(connections) }, (_, i) => one(i)));
  setTimeout(() => (stop = true), Number(seconds) * 1000);
  await all;
  rtts.sort((a, b) => a - b);
  const wall = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({ messages, mps: messages / wall, p99: rtts[Math.floor(rtts.length * 0.99)] ?? NaN }),
  );
  process.exit(0);
}

const { cpuMicros, pinning, startServer, stopServer, waitIdle } = await import("./harness.mjs");
const { fmt, median, table } = await import("./report.mjs");

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = `${ROOT}bench/RESULTS.md`;
const BEGIN = "<!-- bench/ws.mjs: begin (this section is rewritten by `node bench/ws.mjs`) -->";
const END = "<!-- bench/ws.mjs: end -->";
const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 1 : Number(env.BENCH_ROUNDS ?? 3);
const SECONDS = quick ? 2 : Number(env.BENCH_SECONDS ?? 5);
const WARMUP = quick ? 1 : Number(env.BENCH_WARMUP ?? 5);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const SIZE = Number(env.BENCH_SIZE ?? 64);
const DISTURBED = 85;
const FRAMEWORKS = ["node-http+ws", "usrv+ws"];
const ANCHOR = "node-http+ws";

/** One run of the load generator, pinned to core 1 as wrk is in the other benches. */
function load(url, seconds) {
  const args = [
    fileURLToPath(import.meta.url),
    "--load",
    url.replace(/^http/, "ws"),
    seconds,
    CONNECTIONS,
    SIZE,
  ];
  const [cmd, argv] =
    availableParallelism() >= 2
      ? ["taskset", ["-c", "1", process.execPath, ...args]]
      : [process.execPath, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`)),
    );
  });
}

async function measure(framework) {
  await waitIdle();
  const server = await startServer(framework, ROOT);
  try {
    await load(server.url, WARMUP);
    const [cpu0, t0] = [cpuMicros(server.pid), performance.now()];
    const run = await load(server.url, SECONDS);
    const [cpu, wall] = [cpuMicros(server.pid) - cpu0, (performance.now() - t0) * 1000];
    return { ...run, us: cpu / run.messages, busy: (100 * cpu) / wall };
  } finally {
    await stopServer(server);
  }
}

console.error(
  `# ${ROUNDS} round(s) x ${SECONDS} s after ${WARMUP} s of warm-up, ${CONNECTIONS} connections, ${SIZE}-byte text messages; ${pinning}`,
);
const results = await interleave(
  FRAMEWORKS,
  ROUNDS,
  measure,
  (f, r) =>
    `${f.padEnd(13)} ${fmt(r.mps)} msg/s  p99 ${fmt(r.p99, 2)} ms  ${fmt(r.us, 1)} µs/msg  busy ${fmt(r.busy)}%`,
);

const used = (f) => usedRuns(results[f], DISTURBED);
const ratio = (f, key) => roundRatio(results[f], results[ANCHOR], key, DISTURBED);
const rows = FRAMEWORKS.map((f) => [
  f,
  fmt(median(used(f).map((r) => r.mps))),
  fmt(median(used(f).map((r) => r.p99)), 2),
  fmt(median(used(f).map((r) => r.us)), 1),
  `${used(f).length}/${ROUNDS}`,
  `${fmt(ratio(f, "mps"), 2)}x`,
]);
const section = `## WebSocket echo (bench/ws.mjs)

- date: ${new Date().toISOString()}; node ${process.version}; ${pinning.replace("wrk", "the load generator (bench/ws.mjs --load)")}
- ${ROUNDS} interleaved round(s) (order alternates); per cell a fresh server, ${WARMUP} s warm-up, then ${SECONDS} s of
  ${CONNECTIONS} connections each echoing one ${SIZE}-byte text message at a time; "node-http+ws": the \`ws\` package
  alone on node:http (noServer, one upgrade listener); "usrv+ws": \`app.ws("/ws/<int:room>", { message })\` on \`run()\`
- medians over the rounds whose server stayed busy >= ${DISTURBED}%; ratios are medians of per-round ratios

${table(["server", "msg/s", "p99 ms", "CPU µs/msg", "rounds used", `vs ${ANCHOR}`], rows)}
`;
console.log(section);
if (quick) console.error("--quick: bench/RESULTS.md left alone");
else writeSection(RESULTS, BEGIN, END, section);
