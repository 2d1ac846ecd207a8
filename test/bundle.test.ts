/**
 * S2: the fetch face is portable, so `import "usrv"` loads no `node:` module
 * and no acorn until a part that needs them is called (issue 13 item 7).
 *
 * esbuild bundles tsc's build/lib/index.js (minified, split at every dynamic
 * import, no platform), and the test walks the static import graph from the entry chunk:
 * what a runtime loads for `import "usrv"` before any dynamic import runs.
 * Node's built-ins are left external, so that one reached statically shows up
 * as an import of the graph instead of failing the build.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENTRY = "build/lib/index.js";
const KB = 1024;
/**
 * The static graph's minified size, at most. Issue 13's target is 25 KB and it
 * is NOT met: 80,640 bytes were measured when this test was written, 69,638
 * once the JSON and multipart parsers and the cookies' HMAC loaded on first
 * use; then 72,290 with what issues 15 and 16 added to the core (schema
 * options, body shape limits, `use()`, `openapi()`, seven error codes), the
 * schema checks and the body shape scan themselves loading on first use; then
 * 75,659 (72,599 before) with issue 17 item 2 (`body: "stream"` on both
 * faces, whose stream a handler gets synchronously, the bind checks of
 * `uploads`, four error codes), the upload spooler itself loading on first
 * use; then 78,741 with WebSocket routes (issue 17 item 4): 0.9 KB of `ws()`'s
 * bind-time checks, and about 1 KB of import and export lists because esbuild
 * splits the pipeline's steps into a chunk shared with the lazily loaded
 * WebSocket face (no code on the request path); then 80,940 with the Node
 * face feeding a body to a writer chunk by chunk (`pipeBody`: spooled uploads
 * read the request's own Buffers, 0.3 KB net), arrow handlers told apart
 * (no context built for them), `onResponse` on an upgrade's 101 and no
 * Content-Type on a 204; then 72,934 once the Node listener (faces/node.ts)
 * and the body parsers (core/body.ts, core/charset.ts) loaded on first use:
 * the listener when `app.listener` is first read or `run()` starts, the
 * parsers with the first request that has a body; then 73,256 with option
 * errors that never quote a secret and a signed-cookie read that needs keys;
 * then 74,653 with a timeout's 503 going through onError and onResponse
 * (pipeline.ts's one pass over onResponse, cut off and resumed at a
 * deadline: 0.6 KB) and setCookie refusing an unknown option and a lone
 * surrogate (0.3 KB); then 75,042 with usrv's 500 naming the hook that
 * threw and a hook's bad result logged (0.4 KB); then 75,959 with what
 * attacking the extension model found (0.9 KB): a thrown value the log
 * cannot read and a logger that throws on it, a hook's unsendable Response
 * or thenable named, timers bounded at 2^31-1 ms, the cookie prefixes in
 * any case, and mount's check of cookieKeys, each with the message that
 * names the fix. The budget is the last
 * figure rounded up to the
 * next KB. Lower it as the core shrinks; never raise it without saying why
 * in the commit.
 *
 * Why 25 KB is out of reach without dropping behaviour (measured 2026-11-28
 * by bundling with these inputs left external): without the bind-time
 * checks (the parameter scanner and params.ts, option checks, group.ts,
 * ws/route.ts) the graph is 48,854 bytes; without the hooks, cookies, the
 * replay store and the logger as well, 37,699. What remains is what serves
 * any request: the pipeline, router, renderer, context, error table and
 * fetch face.
 */
const BUDGET = 75 * KB;
/** The parts that must stay behind a dynamic import, by the file esbuild splits them at. */
const LAZY: Record<string, string> = {
  "the Node server": "build/lib/faces/serve.js",
  "the Node listener": "build/lib/faces/node.js",
  "the body parsers": "build/lib/core/body.js",
  "the secure steps": "build/lib/secure/steps.js",
  "the multipart parser": "build/lib/core/multipart.js",
  "the JSON parser": "node_modules/secure-json-parse/index.js",
  "the HMAC of signed cookies": "node_modules/@noble/hashes/hmac.js",
  "the schema checks": "build/lib/core/validate.js",
  "the body shape checks": "build/lib/core/body-shape.js",
  "the upload spooler": "build/lib/core/uploads.js",
  "the WebSocket face": "build/lib/ws/upgrade.js",
  "the WebSocket connections": "build/lib/ws/socket.js",
};

const builtin = new Set(builtinModules);
const isBuiltin = (path: string) => path.startsWith("node:") || builtin.has(path.split("/")[0]!);
const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;

type Outputs = Metafile["outputs"];

/** The chunks reached from `from` through static imports, and the external modules they import. */
function staticGraph(outputs: Outputs, from: string): { chunks: Set<string>; externals: Set<string> } {
  const chunks = new Set([from]);
  const externals = new Set<string>();
  const queue = [from];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const imp of outputs[next]!.imports) {
      if (imp.kind !== "import-statement") continue;
      if (imp.external) externals.add(imp.path);
      else if (!chunks.has(imp.path)) {
        chunks.add(imp.path);
        queue.push(imp.path);
      }
    }
  }
  return { chunks, externals };
}

const bytesOf = (outputs: Outputs, chunks: Iterable<string>) =>
  [...chunks].reduce((sum, chunk) => sum + outputs[chunk]!.bytes, 0);

describe('S2: import "usrv" loads no node: module and no acorn until needed (issue 13 item 7)', () => {
  let outputs: Outputs;
  let entry: string;
  let core: { chunks: Set<string>; externals: Set<string> };
  let coreInputs: string[];

  before(async () => {
    const result = await build({
      entryPoints: [join(ROOT, ENTRY)],
      absWorkingDir: ROOT,
      outdir: join(ROOT, "build", "bundle"), // only named: write is false
      write: false,
      metafile: true,
      bundle: true,
      splitting: true,
      minify: true,
      format: "esm",
      platform: "neutral",
      // no package but Node's built-ins: an optional peer (busboy) must be out of a bundler's sight
      external: ["node:*", ...builtinModules],
      logLevel: "silent",
    });
    outputs = result.metafile.outputs;
    const found = Object.keys(outputs).find((out) => outputs[out]!.entryPoint === ENTRY);
    assert.ok(found, `no output chunk for ${ENTRY}`);
    entry = found;
    core = staticGraph(outputs, entry);
    coreInputs = [...core.chunks].flatMap((chunk) => Object.keys(outputs[chunk]!.inputs));
  });

  it("the static graph imports no Node built-in, with or without node:", () => {
    const reached = [...core.externals].filter(isBuiltin);
    assert.deepEqual(reached, [], `loaded by import "usrv": ${reached.join(", ")}`);
    // Externals are only Node's built-ins; anything else would not be bundled.
    assert.deepEqual([...core.externals], reached);
  });

  it("the static graph holds no acorn", () => {
    const acorn = coreInputs.filter((input) => /(^|\/)node_modules\/acorn(-[^/]+)?\//.test(input));
    assert.deepEqual(acorn, []);
  });

  for (const [part, file] of Object.entries(LAZY)) {
    it(`${part} (${file}) is a dynamic chunk, outside the static graph`, () => {
      const chunk = Object.keys(outputs).find((out) => outputs[out]!.entryPoint === file);
      assert.ok(chunk, `no dynamic chunk for ${file}: renamed, or no longer imported dynamically?`);
      assert.ok(!core.chunks.has(chunk), `${file} is imported statically by ${ENTRY}`);
      assert.ok(!coreInputs.includes(file), `${file} is bundled into the static graph`);
    });
  }

  it("no optional peer is in a bundler's sight, in any chunk: a bundle builds without them", () => {
    const peers = Object.keys(
      (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { peerDependencies: object })
        .peerDependencies,
    );
    const bundled = Object.values(outputs)
      .flatMap((out) => Object.keys(out.inputs))
      .filter((input) => peers.some((peer) => input.includes(`node_modules/${peer}/`)));
    assert.deepEqual([...new Set(bundled)], []);
  });

  it(`the static graph is at most ${kb(BUDGET)} minified (issue 13's target: 25 KB, not met yet)`, (t) => {
    const size = bytesOf(outputs, core.chunks);
    t.diagnostic(`static graph: ${size} bytes (${kb(size)}) in ${core.chunks.size} chunks; budget ${BUDGET}`);
    // What each source file puts in it, largest first: where to look when the figure grows.
    const byInput = new Map<string, number>();
    for (const chunk of core.chunks)
      for (const [input, { bytesInOutput }] of Object.entries(outputs[chunk]!.inputs))
        byInput.set(input, (byInput.get(input) ?? 0) + bytesInOutput);
    for (const [input, bytes] of [...byInput].sort((a, b) => b[1] - a[1]))
      t.diagnostic(`static ${input}: ${bytes} bytes`);
    // Each dynamic chunk, and what loading it adds to the static graph.
    for (const [out, meta] of Object.entries(outputs)) {
      if (!meta.entryPoint || out === entry) continue;
      const added = [...staticGraph(outputs, out).chunks].filter((chunk) => !core.chunks.has(chunk));
      t.diagnostic(
        `dynamic ${meta.entryPoint}: ${meta.bytes} bytes, ${bytesOf(outputs, added)} with its own chunks`,
      );
    }
    assert.ok(size <= BUDGET, `${size} bytes > budget ${BUDGET}`);
  });
});
