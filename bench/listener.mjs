// What usrv itself costs a request, and what each feature adds: CPU nanoseconds per request spent in the Node
// listener (routing, binding, the handler, hooks, rendering, writeHead/end), with node:http's own parsing and
// socket work left out. Each variant runs in its own process (one app, as a server has), pinned to core 0,
// its requests made in a loop on plain objects shaped like node's req and res; the figure is CPU time
// (process.cpuUsage), not wall time, so a busy machine moves it far less than wrk's req/s.
//   node bench/listener.mjs            (build first; writes its section of bench/RESULTS.md)
//   node bench/listener.mjs --quick    (2 rounds, RESULTS.md left alone); env: LISTENER_ROUNDS (default 5)
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { fmt, median, table, writeSection } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ORIGIN = "https://app.example.com";

/** The variants: a route (bench/run.mjs's a, b, c) and what the app adds to it. */
const VARIANTS = {
  a: { url: "/hello", base: null, note: "GET /hello" },
  "a+hooks": { url: "/hello", base: "a", note: "one no-op onRequest, one no-op onResponse" },
  "a+cors": { url: "/hello", base: "a", note: "`cors({ origins: [origin] })`, the request from that origin" },
  b: { url: "/user/42?x=foo", base: null, note: "/user/<int:id>?x=" },
  "b+zod": { url: "/user/42?x=foo", base: "b", note: "a zod query schema (x: 1-64 characters)" },
  "b+valibot": { url: "/user/42?x=foo", base: "b", note: "the same schema in valibot" },
  c: { url: "/r199/abc/items/7", base: null, note: "200 routes, the last one" },
};

if (process.argv[2] === "--child") {
  const name = process.argv[3];
  const { url } = VARIANTS[name];
  const { createApp } = await import("../dist/index.js");
  const app = createApp({ logLevel: 40 });
  if (name === "a+hooks") {
    app.onRequest(() => {});
    app.onResponse(() => {});
  }
  if (name === "a+cors") app.use((await import("../dist/middleware/cors.js")).cors({ origins: [ORIGIN] }));
  app.bind("/hello", () => [200, { hello: "world" }]);
  if (name === "b+zod") {
    const { z } = await import("zod");
    app.bind("/user/<int:id>", { query: z.object({ x: z.string().min(1).max(64) }) }, ({ id, x }) => [
      200,
      id,
      x,
    ]);
  } else if (name === "b+valibot") {
    const v = await import("valibot");
    const query = v.object({ x: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) });
    app.bind("/user/<int:id>", { query }, ({ id, x }) => [200, id, x]);
  } else app.bind("/user/<int:id>", ({ id, x }) => [200, id, x]);
  for (let i = 0; i < 200; i++) app.bind(`/r${i}/<a>/items/<int:b>`, ({ a, b }) => [200, i, a, b]);

  const listener = app.listener;
  let ended = 0;
  let status = 0;
  const res = {
    headersSent: false,
    destroyed: false,
    writeHead(s) {
      status = s;
    },
    end() {
      ended++;
    },
    once() {},
  };
  // what wrk sends, plus the Origin the CORS variant admits
  const req = () => ({
    method: "GET",
    url,
    headers: { host: "127.0.0.1:3000", origin: ORIGIN },
    socket: { remoteAddress: "127.0.0.1" },
  });
  listener(req(), res); // the lazy parts (a schema's checks) load with the first request
  await new Promise((r) => setTimeout(r, 200));
  const N = 100_000;
  const runs = [];
  for (let run = 0; run < 9; run++) {
    const before = ended;
    const t = process.cpuUsage();
    for (let i = 0; i < N; i++) listener(req(), res);
    const used = process.cpuUsage(t);
    await new Promise((r) => setImmediate(r));
    if (ended - before !== N || status !== 200)
      throw new Error(`${name}: ${ended - before} answers, status ${status}`);
    if (run >= 2) runs.push(((used.user + used.system) * 1000) / N); // 2 runs of warm-up for the JIT
  }
  console.log(JSON.stringify(Math.min(...runs)));
  process.exit(0);
}

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 2 : Number(process.env.LISTENER_ROUNDS ?? 5);
const names = Object.keys(VARIANTS);
const pin = availableParallelism() >= 2;
const got = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 ? [...names].reverse() : names) {
    const args = ["bench/listener.mjs", "--child", name];
    const [cmd, argv] = pin ? ["taskset", ["-c", "0", process.execPath, ...args]] : [process.execPath, args];
    got[name].push(JSON.parse(execFileSync(cmd, argv, { cwd: ROOT, encoding: "utf8" })));
  }
}
const ns = Object.fromEntries(names.map((n) => [n, median(got[n])]));
const rows = names.map((n) => {
  const { base, note } = VARIANTS[n];
  return [n, note, fmt(ns[n]), base === null ? "" : `+${fmt(ns[n] - ns[base])}`];
});
const section = `## The listener's own cost (bench/listener.mjs)

- date: ${new Date().toISOString()}; node ${process.version}; each variant in its own process${pin ? ", pinned to core 0 (taskset)" : ""}
- CPU ns per request through \`app.listener\` on plain req/res objects (node:http's parsing and socket work left out):
  the least of 7 runs of 100,000 requests in each process, then the median over ${ROUNDS} interleaved round(s)
- "added": what the variant costs over its route alone

${table(["variant", "what", "CPU ns/req", "added"], rows, 2)}
`;
console.log(section);
const RESULTS = `${ROOT}bench/RESULTS.md`;
const BEGIN = "<!-- bench/listener.mjs: begin (this section is rewritten by `node bench/listener.mjs`) -->";
const END = "<!-- bench/listener.mjs: end -->";
if (quick) console.error("--quick: bench/RESULTS.md left alone");
else writeSection(RESULTS, BEGIN, END, section);
