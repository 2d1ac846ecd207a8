// The cost of a typed client to the type checker (issue 15.3): the same 500 routes as a usrv app with a client
// typed by `usrv types` (createClient<Routes>), and as a Hono app chained for its RPC client (hc<typeof app>),
// each with code that calls every route once and reads its answer and its typed 404. Interleaved rounds
// (order alternates) of `tsc --noEmit --extendedDiagnostics` on each; medians of check time, total time, memory
// and instantiations; ratios against Hono, the anchor. Target: at most half of Hono's check time and memory.
//   node bench/types.mjs [--quick] [--routes N]     --quick: 1 round, bench/RESULTS.md left alone
//   env: BENCH_ROUNDS (default 5)
// Build first (`usrv types` runs from dist/). The apps are written under bench/.tmp/types/ (not committed).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fmt, median, table, writeSection } from "./report.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS = `${ROOT}bench/RESULTS.md`;
const WORK = `${ROOT}bench/.tmp/types/`;
const TSC = `${ROOT}node_modules/typescript/bin/tsc`;
const CLI = `${ROOT}dist/cli/main.js`;
const quick = process.argv.includes("--quick");
const at = process.argv.indexOf("--routes");
const ROUTES = at === -1 ? 500 : Number(process.argv[at + 1]);
const ROUNDS = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 5);
const BEGIN = "<!-- bench/types.mjs: begin (this section is rewritten by `node bench/types.mjs`) -->";
const END = "<!-- bench/types.mjs: end -->";

// One in five routes has a query schema, one in five a JSON body schema (POST); the rest a path value only.
const kind = (i) => (i % 5 === 0 ? "query" : i % 5 === 1 ? "body" : "plain");

function usrvApp() {
  const lines = [
    'import { createApp } from "usrv";',
    'import { z } from "zod";',
    "",
    "const app = createApp();",
    "export default app;",
  ];
  for (let i = 0; i < ROUTES; i++) {
    const k = kind(i);
    if (k === "query") {
      lines.push(
        `const q${i} = z.object({ x: z.string(), n: z.coerce.number().optional() });`,
        `export const r${i} = app.bind("/r${i}/<int:id>", { query: q${i} }, ({ id, x }) => (id < 0 ? [404, "no r${i}"] : [200, { id, x, route: ${i} }]));`,
      );
    } else if (k === "body") {
      lines.push(
        `const b${i} = z.object({ name: z.string(), tags: z.array(z.string()).optional() });`,
        `export const r${i} = app.bind("/r${i}/<int:id>", { methods: ["POST"], body: b${i} }, ({ id, name }) => (id < 0 ? [404, "no r${i}"] : [201, { id, name, route: ${i} }]));`,
      );
    } else {
      lines.push(
        `export const r${i} = app.bind("/r${i}/<int:id>", ({ id }) => (id < 0 ? [404, "no r${i}"] : [200, { id, route: ${i} }]));`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function usrvUse() {
  const lines = [
    'import { attempt, createClient } from "usrv/client";',
    'import type { Routes } from "./api.js";',
    "",
    "declare function use(value: unknown): void;",
    'const client = createClient<Routes>({ peer: "http://127.0.0.1:5000" });',
    "",
    "export async function callAll(): Promise<void> {",
  ];
  for (let i = 0; i < ROUTES; i++) {
    const k = kind(i);
    const call =
      k === "query"
        ? `client.GET.r${i}(1, { x: "a" })`
        : k === "body"
          ? `client.POST.r${i}(1, { name: "a" })`
          : `client.GET.r${i}(1)`;
    lines.push(
      `  const a${i} = await attempt(${call});`,
      `  if (a${i}.ok) use(a${i}.data.route);`,
      `  else if (a${i}.error.serverCode === "USRV_ERR_STATUS" && a${i}.error.status === 404) use(a${i}.error.body.detail);`,
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

function honoApp() {
  const lines = [
    'import { Hono } from "hono";',
    'import { validator } from "hono/validator";',
    'import { z } from "zod";',
    "",
  ];
  const chain = [];
  for (let i = 0; i < ROUTES; i++) {
    const k = kind(i);
    if (k === "query") {
      lines.push(`const q${i} = z.object({ x: z.string(), n: z.coerce.number().optional() });`);
      chain.push(
        `  .get("/r${i}/:id", validator("query", (v) => q${i}.parse(v)), (c) => { const id = Number(c.req.param("id")); const { x } = c.req.valid("query"); return id < 0 ? c.json("no r${i}", 404) : c.json({ id, x, route: ${i} }, 200); })`,
      );
    } else if (k === "body") {
      lines.push(`const b${i} = z.object({ name: z.string(), tags: z.array(z.string()).optional() });`);
      chain.push(
        `  .post("/r${i}/:id", validator("json", (v) => b${i}.parse(v)), (c) => { const id = Number(c.req.param("id")); const { name } = c.req.valid("json"); return id < 0 ? c.json("no r${i}", 404) : c.json({ id, name, route: ${i} }, 201); })`,
      );
    } else {
      chain.push(
        `  .get("/r${i}/:id", (c) => { const id = Number(c.req.param("id")); return id < 0 ? c.json("no r${i}", 404) : c.json({ id, route: ${i} }, 200); })`,
      );
    }
  }
  lines.push("", "export const app = new Hono()", ...chain, ";", "export type AppType = typeof app;");
  return `${lines.join("\n")}\n`;
}

function honoUse() {
  const lines = [
    'import { hc } from "hono/client";',
    'import type { AppType } from "./app.js";',
    "",
    "declare function use(value: unknown): void;",
    'const client = hc<AppType>("http://127.0.0.1:5000");',
    "",
    "export async function callAll(): Promise<void> {",
  ];
  for (let i = 0; i < ROUTES; i++) {
    const k = kind(i);
    const call =
      k === "query"
        ? `client.r${i}[":id"].$get({ param: { id: "1" }, query: { x: "a" } })`
        : k === "body"
          ? `client.r${i}[":id"].$post({ param: { id: "1" }, json: { name: "a" } })`
          : `client.r${i}[":id"].$get({ param: { id: "1" } })`;
    const ok = k === "body" ? 201 : 200;
    lines.push(
      `  const a${i} = await ${call};`,
      `  if (a${i}.status === ${ok}) use((await a${i}.json()).route);`,
      `  else if (a${i}.status === 404) use(await a${i}.json());`,
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

const TSCONFIG = JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2023", "DOM", "DOM.Iterable"],
      types: ["node"],
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ["."],
  },
  null,
  2,
);

function write() {
  rmSync(WORK, { recursive: true, force: true });
  for (const [dir, files] of [
    ["usrv", { "routes.ts": usrvApp(), "use.ts": usrvUse() }],
    ["hono", { "app.ts": honoApp(), "use.ts": honoUse() }],
  ]) {
    mkdirSync(`${WORK}${dir}`, { recursive: true });
    writeFileSync(`${WORK}${dir}/tsconfig.json`, TSCONFIG);
    for (const [name, text] of Object.entries(files)) writeFileSync(`${WORK}${dir}/${name}`, text);
  }
  const t0 = performance.now();
  execFileSync(process.execPath, [CLI, "types", "routes.ts", "-o", "api.ts"], {
    cwd: `${WORK}usrv`,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return (performance.now() - t0) / 1000;
}

/** One `tsc --extendedDiagnostics` run: seconds, KiB, instantiations; a type error fails the benchmark. */
function check(dir) {
  let out;
  try {
    out = execFileSync(
      process.execPath,
      [TSC, "-p", `${WORK}${dir}/tsconfig.json`, "--extendedDiagnostics"],
      {
        encoding: "utf8",
        maxBuffer: 64 << 20,
      },
    );
  } catch (e) {
    throw new Error(`${dir}: tsc failed\n${String(e.stdout).slice(0, 3000)}`);
  }
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+([\\d.]+)`, "m").exec(out);
    if (!m) throw new Error(`${dir}: no "${name}" in tsc's diagnostics`);
    return Number(m[1]);
  };
  return {
    check: field("Check time"),
    total: field("Total time"),
    memory: field("Memory used") / 1024,
    instantiations: field("Instantiations"),
    types: field("Types"),
  };
}

const generate = write();
console.error(`# ${ROUTES} routes; usrv types wrote the table in ${fmt(generate, 2)} s; ${ROUNDS} round(s)`);
const FRAMEWORKS = ["hono", "usrv"];
const results = { hono: [], usrv: [] };
for (let round = 1; round <= ROUNDS; round++) {
  for (const f of round % 2 ? FRAMEWORKS : [...FRAMEWORKS].reverse()) {
    const r = check(f);
    results[f].push(r);
    console.error(
      `round ${round}/${ROUNDS} ${f.padEnd(5)} check ${fmt(r.check, 2)} s  total ${fmt(r.total, 2)} s  memory ${fmt(r.memory)} MiB  ${fmt(r.instantiations)} instantiations`,
    );
  }
}
const med = (f, key) => median(results[f].map((r) => r[key]));
const ratio = (f, key) => median(results[f].map((r, i) => r[key] / results.hono[i][key]));
const rows = FRAMEWORKS.map((f) => [
  f === "hono" ? "Hono + hc<typeof app>" : "usrv + createClient<Routes> (usrv types)",
  fmt(med(f, "check"), 2),
  fmt(med(f, "total"), 2),
  fmt(med(f, "memory")),
  fmt(med(f, "instantiations")),
  fmt(med(f, "types")),
  `${fmt(ratio(f, "check"), 2)}x`,
  `${fmt(ratio(f, "memory"), 2)}x`,
]);
const version = (pkg) => JSON.parse(readFileSync(`${ROOT}node_modules/${pkg}/package.json`, "utf8")).version;
const section = `## Type-checking a typed client: ${ROUTES} routes (bench/types.mjs)

- date: ${new Date().toISOString()}; node ${process.version}; typescript ${version("typescript")}, hono ${version("hono")}, zod ${version("zod")}
- the same ${ROUTES} routes (\`/rN/<int:id>\`; one in five with a zod query schema, one in five a POST with a zod body
  schema), each answering 200/201 or a 404, and code that calls every route once through the typed client and reads
  its answer and its 404; \`tsc --noEmit --extendedDiagnostics\` (strict, skipLibCheck), ${ROUNDS} interleaved round(s),
  medians; ratios are medians of per-round ratios against Hono. \`usrv types\` wrote the table in ${fmt(generate, 2)} s
  (a build step, not in the figures)

${table(["setup", "check s", "total s", "memory MiB", "instantiations", "types", "check vs Hono", "memory vs Hono"], rows)}
`;
console.log(section);
if (quick) console.error("--quick: bench/RESULTS.md left alone");
else writeSection(RESULTS, BEGIN, END, section);
