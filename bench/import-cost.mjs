// Where the import of "usrv" goes: what each dependency and each group of usrv's own files costs on a cold
// process. Build first (npm run build).
//   node bench/import-cost.mjs            (21 fresh processes per table, medians)
//   env: IMPORT_RUNS=21
// "alone": a fresh process imports only that (with whatever it imports itself). "step by step": one fresh
// process imports the groups in order, leaves first, so each row is what that group adds to the ones above;
// separate import() calls cost a little more than one import of the same graph, hence the total row.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pinning } from "./harness.mjs";
import { fmt, median, table } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = Number(process.env.IMPORT_RUNS ?? 21);

if (process.argv[2] === "--child") {
  // [label, ms] for node's own start (up to this module), then per group
  const out = [["node start to the main module", performance.now()]];
  for (const group of JSON.parse(process.argv[3])) {
    const t = performance.now();
    for (const spec of group.specs)
      await import(spec.startsWith("dist/") || spec.startsWith("build/") ? `../${spec}` : spec);
    out.push([group.label, performance.now() - t]);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

const g = (label, ...specs) => ({ label, specs });
const ALONE = [
  [g("usrv (dist/index.js, everything it imports)", "usrv")],
  [g("secure-json-parse (CommonJS)", "secure-json-parse")],
  [g("@noble/hashes hmac + sha2", "@noble/hashes/hmac.js", "@noble/hashes/sha2.js")],
  [g("what run() imports: faces/serve (node:http, node:https)", "build/lib/faces/serve.js")],
];
const d = (dir, ...files) => files.map((f) => `build/lib/${dir}/${f}.js`);
const STEPS = [
  g("secure-json-parse (CommonJS)", "secure-json-parse"),
  g("@noble/hashes hmac + sha2", "@noble/hashes/hmac.js", "@noble/hashes/sha2.js"),
  g(
    "common: errors, log, options, bytes, media-type",
    ...d("common", "errors", "log", "options", "bytes", "media-type"),
  ),
  g("routing: query, path, converters, router", ...d("core", "query", "path", "converters", "router")),
  g(
    "parameters: param-tokens, param-scanner, params",
    ...d("core", "param-tokens", "param-scanner", "params"),
  ),
  g("body parsing: body, multipart, charset", ...d("core", "body", "multipart", "charset")),
  g(
    "cookies, context, request-id, render, values",
    ...d("core", "cookies", "context", "request-id", "render", "values"),
  ),
  g(
    "secure/security (the loader of the secure steps), stores/replay",
    "build/lib/secure/security.js",
    "build/lib/stores/replay.js",
  ),
  g("faces: incoming, node, fetch", ...d("faces", "incoming", "node", "fetch")),
  g(
    "pipeline, app/hooks, app/group, app/app, index",
    "build/lib/pipeline.js",
    ...d("app", "hooks", "group", "app"),
    "build/lib/index.js",
  ),
  g("run(): faces/serve (node:http, node:https)", "build/lib/faces/serve.js"),
];

function runs(groups) {
  const args = ["bench/import-cost.mjs", "--child", JSON.stringify(groups)];
  const [cmd, argv] = pinning.startsWith("server pinned")
    ? ["taskset", ["-c", "0", process.execPath, ...args]]
    : [process.execPath, args];
  const all = [];
  for (let i = 0; i < RUNS; i++)
    all.push(JSON.parse(execFileSync(cmd, argv, { cwd: ROOT, encoding: "utf8" })));
  return all;
}

const aloneRows = [];
let start = [];
for (const groups of ALONE) {
  const r = runs(groups);
  start = start.concat(r.map((x) => x[0][1]));
  aloneRows.push([groups[0].label, fmt(median(r.map((x) => x[1][1])), 1)]);
}
const steps = runs(STEPS);
const stepRows = STEPS.map((s, i) => [s.label, fmt(median(steps.map((x) => x[i + 1][1])), 1)]);
const total = median(steps.map((x) => x.slice(1).reduce((sum, [, ms]) => sum + ms, 0)));
stepRows.push(["total, step by step", fmt(total, 1)]);

console.log(`# Import cost

- node ${process.version}; medians of ${RUNS} fresh processes per table${pinning.startsWith("server pinned") ? ", pinned to core 0" : ""}
- node's own start, up to the first line of the main module: ${fmt(median(start), 1)} ms (median over all processes)

Alone (a fresh process imports only this):

${table(["import", "ms"], aloneRows)}

Step by step (one process, in this order; each row is what it adds to the rows above):

${table(["group", "ms"], stepRows)}
`);
