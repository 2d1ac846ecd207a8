// Validation benchmark (issue 15): route b (/user/<int:id>?x=foo) with its query checked by a schema, usrv with
// zod and with valibot against Fastify with its JSON schema (ajv), beside both without a schema and raw node:http;
// the same interleaved protocol as bench/run.mjs (fresh server per cell, warm-up, wrk, server CPU from /proc).
//   node bench/validation.mjs            (build first; 3 rounds x 5 s after 10 s of warm-up)
//   node bench/validation.mjs --quick    (1 round x 2 s; bench/RESULTS.md left alone)
//   env: BENCH_ROUNDS BENCH_SECONDS BENCH_WARMUP BENCH_CONNECTIONS
// Writes its section of bench/RESULTS.md (between the markers below).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { check, cpuMicros, pinning, SCENARIOS, startServer, stopServer, waitIdle, wrk } from "./harness.mjs";
import { fmt, median, table } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = `${ROOT}bench/RESULTS.md`;
const BEGIN =
  "<!-- bench/validation.mjs: begin (this section is rewritten by `node bench/validation.mjs`) -->";
const END = "<!-- bench/validation.mjs: end -->";
const FRAMEWORKS = ["node-http", "fastify", "fastify+schema", "usrv", "usrv+zod", "usrv+valibot"];
const quick = process.argv.includes("--quick");
const env = process.env;
const ROUNDS = quick ? 1 : Number(env.BENCH_ROUNDS ?? 3);
const SECONDS = quick ? 2 : Number(env.BENCH_SECONDS ?? 5);
const WARMUP = quick ? 1 : Number(env.BENCH_WARMUP ?? 10);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const DISTURBED = 85;
const scenario = SCENARIOS.b;

async function measure(framework) {
  await waitIdle();
  const server = await startServer(framework, ROOT);
  try {
    const url = server.url + scenario.path;
    await check(url, scenario);
    // a request the schema refuses: usrv answers 400 USRV_ERR_VALIDATION, Fastify 400 FST_ERR_VALIDATION
    if (framework.includes("+")) {
      const refused = await fetch(`${server.url}/user/42`);
      await refused.body?.cancel();
      if (refused.status !== 400)
        throw new Error(`${framework}: /user/42 without x answered ${refused.status}`);
    }
    await wrk(url, WARMUP, CONNECTIONS);
    const [cpu0, t0] = [cpuMicros(server.pid), performance.now()];
    const run = await wrk(url, SECONDS, CONNECTIONS);
    const [cpu, wall] = [cpuMicros(server.pid) - cpu0, (performance.now() - t0) * 1000];
    return { ...run, us: cpu / run.requests, busy: (100 * cpu) / wall };
  } finally {
    await stopServer(server);
  }
}

const results = Object.fromEntries(FRAMEWORKS.map((f) => [f, []]));
console.error(
  `# ${ROUNDS} round(s) x ${SECONDS} s after ${WARMUP} s of warm-up, ${CONNECTIONS} connections; ${pinning}`,
);
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 ? FRAMEWORKS : [...FRAMEWORKS].reverse();
  for (const f of order) {
    const r = await measure(f);
    results[f].push(r);
    console.error(
      `round ${round}/${ROUNDS} ${f.padEnd(15)} ${fmt(r.rps)} req/s  p99 ${fmt(r.p99, 2)} ms  ${fmt(r.us, 1)} µs/req  busy ${fmt(r.busy)}%`,
    );
  }
}

const used = (f) => {
  const good = results[f].filter((r) => r.busy >= DISTURBED);
  return good.length ? good : results[f];
};
const ratio = (f, anchor, key) => {
  const rs = [];
  for (let i = 0; i < ROUNDS; i++) {
    const [a, b] = [results[f][i], results[anchor][i]];
    if (a && b && a.busy >= DISTURBED && b.busy >= DISTURBED) rs.push(a[key] / b[key]);
  }
  return rs.length ? median(rs) : Number.NaN;
};
const rows = FRAMEWORKS.map((f) => [
  f,
  fmt(median(used(f).map((r) => r.rps))),
  fmt(median(used(f).map((r) => r.p99)), 2),
  fmt(median(used(f).map((r) => r.us)), 1),
  `${used(f).length}/${ROUNDS}`,
  `${fmt(ratio(f, "node-http", "rps"), 2)}x`,
  `${fmt(ratio(f, "fastify+schema", "rps"), 2)}x`,
]);
const section = `## Validation: route b with a query schema (bench/validation.mjs)

- date: ${new Date().toISOString()}; node ${process.version}; ${pinning}
- ${ROUNDS} interleaved round(s) (order alternates); per cell a fresh server, ${WARMUP} s warm-up, then \`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s\`
  on \`${scenario.path}\`; "+zod", "+valibot": usrv with \`bind(path, { query: schema })\`; "+schema": Fastify's
  \`schema.querystring\` (ajv); each checks x, a string of 1-64 characters, and refuses a request without it (400)
- medians over the rounds whose server stayed busy >= ${DISTURBED}%; ratios are medians of per-round ratios

${table(["framework", "req/s", "p99 ms", "CPU µs/req", "rounds used", "vs node:http", "vs fastify+schema"], rows)}
`;
console.log(section);
if (quick) console.error("--quick: bench/RESULTS.md left alone");
else if (existsSync(RESULTS)) {
  const text = readFileSync(RESULTS, "utf8");
  const block = `${BEGIN}\n${section.trimEnd()}\n${END}\n`;
  const [b, e] = [text.indexOf(BEGIN), text.indexOf(END)];
  writeFileSync(
    RESULTS,
    b !== -1 && e > b
      ? text.slice(0, b) + block + text.slice(e + END.length).replace(/^\n/, "")
      : `${text.trimEnd()}\n\n${block}`,
  );
}
