// SSE fan-out (issue 17): N open event streams on one server process, and the memory each costs. The same
// interleaved protocol as bench/variants.mjs (a fresh server per cell, pinned to core 0, rounds in alternating
// order), against the anchors: raw node:http keeping its own Set of answers, and Hono's streamSSE.
// Per cell: RSS of the idle server (after a warm-up of 200 streams opened and closed), then N raw sockets each
// GET /events and wait for the stream's first bytes; once all are open, TICKS events are sent to all (POST /tick,
// each waited for on every socket); RSS again. Reports RSS per connection, and the server's CPU per event
// delivered (from /proc).
//   node bench/sse-fanout.mjs [--quick]   --quick: 1 round, 2,000 streams, bench/RESULTS.md left alone
//   env: BENCH_ROUNDS (3) BENCH_STREAMS (10000) BENCH_TICKS (5)
// Build first. Mind `ulimit -n`: each stream is one descriptor in the server and one here.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { cpuMicros, pinning as serverPinning, startServer, stopServer, waitIdle } from "./harness.mjs";
import { fmt, interleave, median, table, writeSection } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = `${ROOT}bench/RESULTS.md`;
const BEGIN =
  "<!-- bench/sse-fanout.mjs: begin (this section is rewritten by `node bench/sse-fanout.mjs`) -->";
const END = "<!-- bench/sse-fanout.mjs: end -->";
const quick = process.argv.includes("--quick");
const env = process.env;
const ROUNDS = quick ? 1 : Number(env.BENCH_ROUNDS ?? 3);
const STREAMS = Number(env.BENCH_STREAMS ?? (quick ? 2000 : 10_000));
const TICKS = Number(env.BENCH_TICKS ?? 5);
const FRAMEWORKS = ["node-http", "hono", "usrv"];
// the clients are sockets of this process, not wrk: only the server's pinning applies
const pinning = serverPinning.replace(
  /, wrk pinned to core 1 \(taskset\)/,
  "; the clients unpinned, in this process",
);
const BATCH = 500; // connections opened at once: under the listen backlog (511)

/** The server's resident set, in KiB (/proc/PID/status). */
function rss(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
}

const until = async (ok, what, ms = 120_000) => {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Opens `n` event streams; resolves once each has received its first bytes. */
async function open(url, n, sockets) {
  const { hostname, port } = new URL(url);
  for (let done = 0; done < n; ) {
    const batch = Math.min(BATCH, n - done);
    await Promise.all(
      Array.from({ length: batch }, (_, i) => {
        // several source addresses: 10,000 sockets per cell, cells in a row, and ports in TIME_WAIT
        const localAddress = `127.0.0.${2 + ((done + i) % 50)}`;
        return new Promise((resolve, reject) => {
          const s = connect({ host: hostname, port: Number(port), localAddress });
          s.events = 0;
          s.on("error", reject);
          s.once("data", () => {
            s.on("data", (chunk) => {
              // one event per tick: count the "data:" fields that arrive
              for (let at = chunk.indexOf("data:"); at !== -1; at = chunk.indexOf("data:", at + 5))
                s.events++;
            });
            resolve();
          });
          s.write("GET /events HTTP/1.1\r\nhost: bench\r\n\r\n");
          sockets.push(s);
        });
      }),
    );
    done += batch;
  }
}

async function measure(framework) {
  await waitIdle();
  const server = await startServer(`sse+${framework}`, ROOT);
  const sockets = [];
  try {
    const warm = [];
    await open(server.url, 200, warm);
    for (const s of warm) s.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const before = rss(server.pid);
    await open(server.url, STREAMS, sockets);
    const cpu0 = cpuMicros(server.pid);
    for (let t = 1; t <= TICKS; t++) {
      await fetch(`${server.url}/tick`, { method: "POST" }).then((r) => r.arrayBuffer());
      await until(() => sockets.every((s) => s.events >= t), `event ${t} on every stream`);
    }
    const cpu = cpuMicros(server.pid) - cpu0;
    const after = rss(server.pid);
    return {
      before,
      after,
      perStream: ((after - before) * 1024) / STREAMS,
      usPerEvent: cpu / (TICKS * STREAMS),
    };
  } finally {
    for (const s of sockets) s.destroy();
    await stopServer(server);
  }
}

console.error(`# ${ROUNDS} round(s), ${STREAMS} streams, ${TICKS} events each; ${pinning}`);
const results = await interleave(
  FRAMEWORKS,
  ROUNDS,
  measure,
  (f, r) =>
    `${f.padEnd(10)} RSS ${fmt(r.before / 1024, 1)} -> ${fmt(r.after / 1024, 1)} MiB  ` +
    `${fmt(r.perStream / 1024, 1)} KiB/stream  ${fmt(r.usPerEvent, 2)} µs/event`,
);

const med = (f, key) => median(results[f].map((r) => r[key]));
const rows = FRAMEWORKS.map((f) => [
  f,
  fmt(med(f, "before") / 1024, 1),
  fmt(med(f, "after") / 1024, 1),
  fmt(med(f, "perStream") / 1024, 1),
  `${fmt(med(f, "perStream") / med("node-http", "perStream"), 2)}x`,
  fmt(med(f, "usPerEvent"), 2),
]);
const section = `## SSE fan-out: ${STREAMS} open event streams on one process (bench/sse-fanout.mjs)

- date: ${new Date().toISOString()}; node ${process.version}; ${pinning}
- ${ROUNDS} interleaved round(s) (order alternates); per cell a fresh server, 200 streams opened and closed, then
  ${STREAMS} raw sockets each \`GET /events\` and ${TICKS} events sent to all (each awaited on every socket)
- node-http keeps a Set of answers and writes each event to all; hono uses \`streamSSE\`; usrv \`sse(ctx, generator)\`
  (each stream also holds its heartbeat timer, 15 s); every stream awaits one shared promise per event
- medians over the rounds; "KiB/stream" is (RSS with the streams open - RSS idle) / streams

${table(["framework", "RSS idle MiB", `RSS, ${STREAMS} open MiB`, "KiB/stream", "vs node:http", "CPU µs/event"], rows)}
`;
console.log(section);
if (quick) console.error("--quick: bench/RESULTS.md left alone");
else writeSection(RESULTS, BEGIN, END, section);
