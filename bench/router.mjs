// Router layer, in process, no HTTP: lookups/s of the last of N routes `/r{i}/<a>/items/<int:b>`
// with N = 10, 200 and 2000, to show whether lookup cost grows with the number of routes.
//   npm run build && node bench/router.mjs          (BENCH_ROUNDS, default 5; --quick for 1 round)
//   taskset -c 0 node bench/router.mjs              (steadier on a busy machine)
import FindMyWay from "find-my-way";
import { Router } from "../build/lib/core/router.js";
import { fmt, median, table } from "./report.mjs";

const SIZES = [10, 200, 2000];
const ROUNDS = process.argv.includes("--quick") ? 1 : Number(process.env.BENCH_ROUNDS ?? 5);
const SAMPLE_MS = 250;

// Each maker registers n routes and returns [find, toTuple], toTuple(result) -> [i, a, b] to check the match.
const ROUTERS = {
  "find-my-way": (n) => {
    const r = FindMyWay();
    for (let i = 0; i < n; i++) r.on("GET", `/r${i}/:a/items/:b`, () => {}, i);
    return [(path) => r.find("GET", path), (m) => [m.store, m.params.a, Number(m.params.b)]];
  },
  usrv: (n) => {
    const r = new Router();
    for (let i = 0; i < n; i++) r.add("GET", `/r${i}/<a>/items/<int:b>`, i);
    return [(path) => r.find("GET", path), (m) => [m.value, ...m.values]];
  },
  // What the raw node:http server of bench/servers does: one regex per route, tried in order.
  "regex loop": (n) => {
    const res = Array.from({ length: n }, (_, i) => new RegExp(`^/r${i}/([^/]+)/items/(\\d+)$`));
    const find = (path) => {
      for (let i = 0; i < res.length; i++) {
        const m = res[i].exec(path);
        if (m) return [i, m[1], Number(m[2])];
      }
      return null;
    };
    return [find, (m) => m];
  },
};

const cases = [];
for (const [name, make] of Object.entries(ROUTERS)) {
  for (const n of SIZES) {
    const path = `/r${n - 1}/abc/items/7`;
    const [find, toTuple] = make(n);
    const got = JSON.stringify(toTuple(find(path)));
    const want = JSON.stringify([n - 1, "abc", 7]);
    if (got !== want) throw new Error(`${name} with ${n} routes: ${path} gave ${got}, expected ${want}`);
    cases.push({ name, n, path, find, rates: [] });
  }
}

/** Lookups per second over about SAMPLE_MS. */
function sample({ find, path }) {
  let hits = 0;
  let ops = 0;
  const t0 = performance.now();
  let elapsed;
  do {
    for (let k = 0; k < 200; k++) if (find(path)) hits++;
    ops += 200;
  } while ((elapsed = performance.now() - t0) < SAMPLE_MS);
  if (hits !== ops) throw new Error("a lookup missed"); // also keeps the results observable
  return (ops / elapsed) * 1000;
}

for (const c of cases) sample(c); // warm-up: let the JIT settle before anything counts
for (let round = 0; round < ROUNDS; round++) {
  const shift = round % cases.length;
  for (const c of [...cases.slice(shift), ...cases.slice(0, shift)]) c.rates.push(sample(c));
}

const rate = (name, n) => median(cases.find((c) => c.name === name && c.n === n).rates);
const perSecond = (x) => (x >= 1e6 ? `${fmt(x / 1e6, 2)} M/s` : `${fmt(x / 1e3, 1)} k/s`);

const rows = Object.keys(ROUTERS).map((name) => [
  name,
  ...SIZES.map((n) => `${perSecond(rate(name, n))} (${fmt(1e9 / rate(name, n))} ns)`),
  `${fmt(rate(name, SIZES[0]) / rate(name, SIZES.at(-1)), 2)}x the time`,
]);
console.log(
  [
    `Router lookup of the last route, median of ${ROUNDS} interleaved round(s) (node ${process.version})`,
    "",
    table(["router", ...SIZES.map((n) => `${n} routes`), `${SIZES.at(-1)} vs ${SIZES[0]}`], rows),
    "",
    "find-my-way leaves :b a string (converted with Number in the check only); usrv converts <int:b> during lookup.",
  ].join("\n"),
);
