// The second half of `npm run build`: tsc writes the JavaScript to build/lib/ (and the declarations to dist/),
// then esbuild bundles every entry of the package (its exports, the #platform targets, the bin, the CLI's
// worker and the demo) from build/lib/ into dist/, the code they share split into dist/chunks/ and every
// dynamic import kept a separate chunk, loaded when it runs. Why: Node's ESM loader spends ~0.5 ms a module,
// so `import "usrv"` took 24 ms over 31 files and takes 8 as one (bench/import-cost.mjs); the lazy parts
// (the Node server, the secure steps, the parsers) stay lazy, and one shared chunk per module keeps one copy
// of every class (an HttpError from usrv/conditional is the pipeline's HttpError).
// Not minified: stack traces stay readable. Packages stay imports (`packages: "external"`).
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LIB = "build/lib";
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** Every `./dist/X.js` the package names (exports, imports, bin), plus what is run by its path. */
function entries() {
  const found = new Set(["./dist/cli/serve-worker.js", "./dist/demo.js"]);
  const walk = (v) => {
    if (typeof v === "string") {
      if (v.startsWith("./dist/") && v.endsWith(".js")) found.add(v);
    } else if (v && typeof v === "object") for (const x of Object.values(v)) walk(x);
  };
  walk(pkg.exports);
  walk(pkg.imports);
  walk(pkg.bin);
  return Object.fromEntries(
    [...found].map((d) => {
      const rel = d.slice("./dist/".length, -".js".length);
      return [rel, join(ROOT, LIB, `${rel}.js`)];
    }),
  );
}

/** The JavaScript of an earlier build (tsc wrote it to dist/ once, or chunks with other hashes); declarations stay. */
function clean(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) clean(path);
    else if (name.endsWith(".js") || name.endsWith(".js.map")) rmSync(path);
  }
}

clean(join(ROOT, "dist"));
await build({
  entryPoints: entries(),
  absWorkingDir: ROOT,
  outdir: join(ROOT, "dist"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  packages: "external",
  external: ["#platform", "node:*", ...builtinModules],
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
  legalComments: "none",
});
