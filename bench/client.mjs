// Client benchmark (C1, C5): plain GET round trips per second through the
// endpoint builder (`client.GET.hello()`) against raw fetch
// (`await (await fetch(url)).json()`) to the same usrv server.
//   npm run build && node bench/client.mjs
//   env: BENCH_PAIRS (default 200)
// The server is pinned to core 0 (harness.mjs), this process re-runs itself
// on core 1 (taskset). Each cell runs many pairs of small batches, raw and
// builder back to back, the order flipping each pair (ABBA), so that what
// else the machine does hits both alike; the table shows the medians of the
// rates and of the per-pair ratios builder/raw (target >= 0.9x). The "no
// network" row times the builder with a stub fetch: its own cost per call,
// which is the most a cache of built requests (C5) could ever save.
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { createClient } from "../dist/client/index.js";
import { startServer, stopServer } from "./harness.mjs";
import { median } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PAIRS = Number(process.env.BENCH_PAIRS ?? 200);

if (availableParallelism() >= 2 && !process.env.USRV_BENCH_PINNED) {
  const r = spawnSync("taskset", ["-c", "1", process.execPath, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, USRV_BENCH_PINNED: "1" },
  });
  process.exit(r.status ?? 1);
}

/** Runs `n` calls of `one`, `inFlight` at a time; returns calls per second. */
async function rate(one, n, inFlight) {
  let next = 0;
  const worker = async () => {
    while (next++ < n) await one();
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (n * 1000) / (performance.now() - t0);
}

const server = await startServer("usrv", ROOT);
const url = `${server.url}/hello`;
const client = createClient({ peer: server.url });
const body = '{"hello":"world"}';
const stub = () => Promise.resolve(new Response(body, { headers: { "content-type": "application/json" } }));
const stubbed = createClient({ peer: server.url, fetch: stub });
const raw = async () => (await fetch(url)).json();

const cells = [
  { name: "GET /hello, 1 in flight", batch: 40, inFlight: 1, raw, builder: () => client.GET.hello() },
  { name: "GET /hello, 16 in flight", batch: 160, inFlight: 16, raw, builder: () => client.GET.hello() },
  {
    name: "no network (stub fetch)",
    batch: 1000,
    inFlight: 1,
    raw: async () => (await stub()).json(),
    builder: () => stubbed.GET.hello(),
  },
];

try {
  const check = await client.GET.hello();
  if (JSON.stringify(check) !== body) throw new Error(`unexpected answer ${JSON.stringify(check)}`);
  for (const c of cells) {
    await rate(c.raw, 1000, c.inFlight); // warm-up, both paths
    await rate(c.builder, 1000, c.inFlight);
    c.raws = [];
    c.builders = [];
    c.ratios = [];
    for (let i = 0; i < PAIRS; i++) {
      const order = i % 2 === 0 ? ["raw", "builder"] : ["builder", "raw"];
      const got = {};
      for (const which of order) got[which] = await rate(c[which], c.batch, c.inFlight);
      c.raws.push(got.raw);
      c.builders.push(got.builder);
      c.ratios.push(got.builder / got.raw);
    }
    process.stderr.write(`${c.name}: done\n`);
  }
} finally {
  await stopServer(server);
}

console.log(
  `\nusrv client vs raw fetch: ${PAIRS} interleaved pairs per cell, medians; node ${process.version}; server on core 0, client on core 1`,
);
console.log("| cell | raw fetch (req/s) | builder (req/s) | builder / raw | builder cost per call |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const c of cells) {
  const [r, b, ratio] = [median(c.raws), median(c.builders), median(c.ratios)];
  const cost = (1e6 / r) * (1 / ratio - 1);
  console.log(
    `| ${c.name} | ${Math.round(r)} | ${Math.round(b)} | ${ratio.toFixed(2)}x | ${cost.toFixed(2)} µs |`,
  );
}
const worst = Math.min(
  ...cells.filter((c) => c.inFlight > 0 && !c.name.startsWith("no network")).map((c) => median(c.ratios)),
);
console.log(
  `\ntarget >= 0.90x over the network: ${worst >= 0.9 ? "met" : "NOT met"} (worst ${worst.toFixed(2)}x)`,
);
