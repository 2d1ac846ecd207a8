// Features against their anchors, one preset at a time: the same interleaved protocol as bench/run.mjs (a fresh
// server per cell, warm-up, wrk pinned apart, server CPU from /proc), on one route, each framework with and
// without the feature.
//   node bench/variants.mjs validation   route b with a query schema: usrv+zod, usrv+valibot against fastify+schema (ajv)
//   node bench/variants.mjs compress     a 100 KB JSON answer, gzip: usrv+compress against fastify+compress
//   node bench/variants.mjs static       a 1 MiB file from disk: usrv+static against fastify+static
//   node bench/variants.mjs cors         route a with an Origin: usrv+cors against fastify+cors (@fastify/cors)
//   node bench/variants.mjs ws           route a with a WebSocket route bound: usrv+ws against usrv
//   --quick: 1 round x 2 s, bench/RESULTS.md left alone; env: BENCH_ROUNDS BENCH_SECONDS BENCH_WARMUP BENCH_CONNECTIONS
// Build first. Writes the preset's own section of bench/RESULTS.md (between its markers).
import { fileURLToPath } from "node:url";
import { check, cpuMicros, pinning, SCENARIOS, startServer, stopServer, waitIdle, wrk } from "./harness.mjs";
import { fmt, interleave, median, roundRatio, table, usedRuns, writeSection } from "./report.mjs";
import { BIG_TEXT, STATIC_FILE } from "./servers/big.mjs";

const PRESETS = {
  validation: {
    title: "Validation: route b with a query schema",
    scenario: SCENARIOS.b,
    frameworks: ["node-http", "fastify", "fastify+schema", "usrv", "usrv+zod", "usrv+valibot"],
    anchor: "fastify+schema",
    headers: {},
    // a request the schema refuses: usrv answers 400 USRV_ERR_VALIDATION, Fastify 400 FST_ERR_VALIDATION
    refused: { path: "/user/42", status: 400 },
    notes:
      '"+zod", "+valibot": usrv with `bind(path, { query: schema })`; "+schema": Fastify\'s `schema.querystring` ' +
      "(ajv); each checks x, a string of 1-64 characters, and refuses a request without it (400)",
  },
  compress: {
    title: "Compression: a 100 KB JSON answer, gzip",
    scenario: { label: "GET /big", path: "/big", body: BIG_TEXT },
    frameworks: ["node-http", "fastify", "fastify+compress", "usrv", "usrv+compress"],
    anchor: "fastify+compress",
    headers: { "accept-encoding": "gzip" },
    encoded: "gzip",
    notes:
      '"+compress": usrv with `app.use(compress())`, Fastify with @fastify/compress (threshold 1024); every request ' +
      "accepts gzip only, the coding both write at level 6; node:http and the plain servers send the 100 KB as it is",
  },
  static: {
    title: "Static files: a 1 MiB file from disk",
    scenario: { label: "GET /static/file.bin", path: "/static/file.bin", size: STATIC_FILE.length },
    frameworks: ["fastify+static", "usrv+static"],
    anchor: "fastify+static",
    headers: {},
    notes:
      '"+static": usrv with `app.mount("/static", serveStatic(dir))`, Fastify with @fastify/static `{ root: dir, prefix: "/static/" }`; ' +
      "the same 1 MiB file, streamed from disk (page cache) on every request",
  },
  cors: {
    title: "CORS: route a with an admitted Origin",
    scenario: SCENARIOS.a,
    frameworks: ["node-http", "fastify", "fastify+cors", "usrv", "usrv+cors"],
    anchor: "fastify+cors",
    headers: { origin: "https://app.example.com" },
    notes:
      '"+cors": usrv with `app.use(cors({ origins: [origin] }))`, Fastify with @fastify/cors `{ origin: [origin] }`; ' +
      "every request carries that Origin, so each answer gets Access-Control-Allow-Origin and Vary",
  },
  ws: {
    title: "WebSocket routes bound: route a over HTTP",
    scenario: SCENARIOS.a,
    frameworks: ["node-http", "usrv", "usrv+ws"],
    anchor: "usrv",
    headers: {},
    notes:
      '"+ws": usrv with a WebSocket route bound (`app.ws("/ws/<int:room>", ...)`) that no request uses: a route ' +
      "nobody calls must cost plain HTTP nothing (WebSocket messages themselves: bench/ws.mjs)",
  },
};

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = `${ROOT}bench/RESULTS.md`;
const name = process.argv.slice(2).find((a) => !a.startsWith("-"));
const preset = PRESETS[name];
if (!preset) throw new Error(`usage: node bench/variants.mjs ${Object.keys(PRESETS).join("|")} [--quick]`);
const BEGIN = `<!-- bench/variants.mjs ${name}: begin (this section is rewritten by \`node bench/variants.mjs ${name}\`) -->`;
const END = `<!-- bench/variants.mjs ${name}: end -->`;
const FRAMEWORKS = preset.frameworks;
const quick = process.argv.includes("--quick");
const env = process.env;
const ROUNDS = quick ? 1 : Number(env.BENCH_ROUNDS ?? 3);
const SECONDS = quick ? 2 : Number(env.BENCH_SECONDS ?? 5);
const WARMUP = quick ? 1 : Number(env.BENCH_WARMUP ?? 10);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const DISTURBED = 85;
const { scenario } = preset;

async function measure(framework) {
  await waitIdle();
  const server = await startServer(framework, ROOT);
  try {
    const url = server.url + scenario.path;
    if (scenario.size === undefined) await check(url, scenario);
    else {
      const res = await fetch(url);
      const got = (await res.arrayBuffer()).byteLength;
      if (res.status !== 200 || got !== scenario.size)
        throw new Error(`${framework}: ${res.status}, ${got} bytes`);
    }
    if (preset.refused && framework.includes("+")) {
      const refused = await fetch(server.url + preset.refused.path);
      await refused.body?.cancel();
      if (refused.status !== preset.refused.status)
        throw new Error(`${framework}: ${preset.refused.path} answered ${refused.status}`);
    }
    if (preset.encoded && framework.includes("+")) {
      const res = await fetch(url, { headers: preset.headers });
      await res.body?.cancel();
      if (res.headers.get("content-encoding") !== preset.encoded)
        throw new Error(`${framework}: not ${preset.encoded}-encoded`);
    }
    if (preset.headers.origin && framework.includes("+")) {
      const res = await fetch(url, { headers: preset.headers });
      await res.body?.cancel();
      if (res.headers.get("access-control-allow-origin") !== preset.headers.origin)
        throw new Error(`${framework}: no Access-Control-Allow-Origin for ${preset.headers.origin}`);
    }
    await wrk(url, WARMUP, CONNECTIONS, preset.headers);
    const [cpu0, t0] = [cpuMicros(server.pid), performance.now()];
    const run = await wrk(url, SECONDS, CONNECTIONS, preset.headers);
    const [cpu, wall] = [cpuMicros(server.pid) - cpu0, (performance.now() - t0) * 1000];
    return { ...run, us: cpu / run.requests, busy: (100 * cpu) / wall };
  } finally {
    await stopServer(server);
  }
}

console.error(
  `# ${ROUNDS} round(s) x ${SECONDS} s after ${WARMUP} s of warm-up, ${CONNECTIONS} connections; ${pinning}`,
);
const results = await interleave(
  FRAMEWORKS,
  ROUNDS,
  measure,
  (f, r) =>
    `${f.padEnd(15)} ${fmt(r.rps)} req/s  p99 ${fmt(r.p99, 2)} ms  ${fmt(r.us, 1)} µs/req  busy ${fmt(r.busy)}%`,
);

const used = (f) => usedRuns(results[f], DISTURBED);
const ratio = (f, anchor, key) => roundRatio(results[f], results[anchor], key, DISTURBED);
const rows = FRAMEWORKS.map((f) => [
  f,
  fmt(median(used(f).map((r) => r.rps))),
  fmt(median(used(f).map((r) => r.p99)), 2),
  fmt(median(used(f).map((r) => r.us)), 1),
  `${used(f).length}/${ROUNDS}`,
  `${fmt(ratio(f, "node-http", "rps"), 2)}x`,
  `${fmt(ratio(f, preset.anchor, "rps"), 2)}x`,
]);
const section = `## ${preset.title} (bench/variants.mjs ${name})

- date: ${new Date().toISOString()}; node ${process.version}; ${pinning}
- ${ROUNDS} interleaved round(s) (order alternates); per cell a fresh server, ${WARMUP} s warm-up, then \`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s\`
  on \`${scenario.path}\`; ${preset.notes}
- medians over the rounds whose server stayed busy >= ${DISTURBED}%; ratios are medians of per-round ratios

${table(["framework", "req/s", "p99 ms", "CPU µs/req", "rounds used", "vs node:http", `vs ${preset.anchor}`], rows)}
`;
console.log(section);
if (quick) console.error("--quick: bench/RESULTS.md left alone");
else writeSection(RESULTS, BEGIN, END, section);
