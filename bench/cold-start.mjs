// Cold start: spawn, import, bind one route, listen, first correct answer; raw node:http, Hono, Fastify and
// usrv side by side, interleaved.
//   node bench/cold-start.mjs               (build first: npm run build; 20 rounds)
//   env: COLD_ROUNDS=20 COLD_ONLY=node-http,usrv
// Each app (bench/cold/<name>.mjs) listens on a free port and prints `ready <url>`; the time of a spawn runs
// from spawn() to the end of the first GET /hello whose body is right. Per round every app is spawned once,
// in a rotated order; one unmeasured round first fills the page cache.
import { spawn } from "node:child_process";
import { get } from "node:http";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { pinning, waitIdle } from "./harness.mjs";
import { fmt, median, table } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const APPS = ["node-http", "hono", "fastify", "usrv"];
const ANCHOR = "node-http";
const BODY = '{"hello":"world"}';
const ROUNDS = Number(process.env.COLD_ROUNDS ?? 20);
const apps = process.env.COLD_ONLY ? APPS.filter((a) => process.env.COLD_ONLY.split(",").includes(a)) : APPS;
const canPin = pinning.startsWith("server pinned");

/** GET url on a fresh connection; resolves to the body. */
function fetchBody(url) {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

/** One spawn: ms to the ready line, ms to the first correct answer. */
function coldStart(name) {
  const args = [`bench/cold/${name}.mjs`];
  const [cmd, argv] = canPin ? ["taskset", ["-c", "0", process.execPath, ...args]] : [process.execPath, args];
  const t0 = performance.now();
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let asked = false;
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no ready line within 10 s\n${err}`)), 10_000);
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}) before answering\n${err}`)));
    child.stdout.on("data", async (d) => {
      out += d;
      const m = /ready (http:\/\/\S+?)\/?\s/.exec(out);
      if (!m || asked) return;
      asked = true;
      const ready = performance.now() - t0;
      try {
        const body = await fetchBody(`${m[1]}/hello`);
        const answer = performance.now() - t0;
        if (body !== BODY) throw new Error(`${name}: wrong body ${body}`);
        resolve({ ready, answer });
      } catch (e) {
        reject(e);
      } finally {
        clearTimeout(timer);
      }
    });
  }).finally(() => {
    child.kill("SIGKILL");
    return exited;
  });
}

// The parent's own HTTP client is compiled once before anything is timed.
await new Promise((resolve) => {
  const probe = spawn(process.execPath, ["bench/cold/node-http.mjs"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  probe.stdout.once("data", async (d) => {
    await fetchBody(`${/ready (\S+)/.exec(String(d))[1]}/hello`);
    probe.kill("SIGKILL");
    probe.once("exit", resolve);
  });
});
for (const a of apps) await coldStart(a); // fills the page cache: not counted

console.error(`# ${ROUNDS} round(s), ${apps.join(", ")}; ${canPin ? "apps pinned to core 0" : "not pinned"}`);
const results = Object.fromEntries(apps.map((a) => [a, []]));
let crowded = 0;
for (let round = 0; round < ROUNDS; round++) {
  if (!(await waitIdle(10))) crowded++;
  const shift = round % apps.length;
  for (const a of [...apps.slice(shift), ...apps.slice(0, shift)]) {
    const r = await coldStart(a);
    results[a][round] = r;
  }
  console.error(
    `round ${round + 1}/${ROUNDS} ${apps.map((a) => `${a} ${fmt(results[a][round].answer, 1)}`).join("  ")} ms`,
  );
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
};
const rows = apps.map((a) => {
  const answers = results[a].map((r) => r.answer);
  // Per-round differences pair spawns made seconds apart, so a slow phase of the machine partly cancels out.
  const diff = apps.includes(ANCHOR)
    ? median(results[a].map((r, i) => r.answer - results[ANCHOR][i].answer))
    : Number.NaN;
  return [
    a,
    fmt(median(answers), 1),
    `${fmt(quantile(answers, 0.25), 1)} - ${fmt(quantile(answers, 0.75), 1)}`,
    `${fmt(Math.min(...answers), 1)} - ${fmt(Math.max(...answers), 1)}`,
    fmt(median(results[a].map((r) => r.ready)), 1),
    fmt(median(results[a].map((r) => r.answer - r.ready)), 1),
    a === ANCHOR ? "" : `${diff >= 0 ? "+" : ""}${fmt(diff, 1)}`,
  ];
});
console.log(`# Cold start

- date: ${new Date().toISOString()}; node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model.trim()})
- ${ROUNDS} interleaved round(s) (order rotated each round) after one unmeasured round; ${canPin ? "each app pinned to core 0 (taskset)" : "not pinned"}
- time = spawn() to the end of the first GET /hello answered \`${BODY}\` on a fresh connection: node's start,
  the imports, one route bound, listen, the ready line on stdout, one request
- ${crowded ? `${crowded} round(s) started while the machine stayed busy` : "every round started on an idle machine"}

${table(["app", "median ms", "p25 - p75", "min - max", "to ready line", "ready to answer", "vs node:http (ms)"], rows)}
`);
