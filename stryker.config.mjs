// Mutation testing (docs/mutation.md): `npm run mutate` (scripts/mutate.mjs)
// runs every group in turn, `USRV_MUTATE=core npm run mutate` one of them.
//
// The tests import usrv from dist/, so Stryker mutates src/ in its sandbox and
// buildCommand compiles that instrumented copy once: every mutant sits in the
// one build, switched on at run time by __STRYKER_ACTIVE_MUTANT__. The tap
// runner starts one node process per test file (node:test prints TAP), and
// its per-file coverage picks the files a mutant runs against. Each group
// names the few test files that pin its steps down: the whole suite per
// mutant would take hours on two cores.

/** group -> [files to mutate, test files that exercise them] */
export const groups = {
  core: {
    mutate: [
      "src/core/router.ts",
      "src/core/path.ts",
      "src/core/query.ts",
      "src/core/converters.ts",
      "src/core/values.ts",
      "src/core/render.ts",
    ],
    tests: ["binding", "params", "values", "responses", "body", "hardening-catalogue"],
  },
  secure: {
    mutate: ["src/secure/*.ts", "src/stores/replay.ts"],
    // stream-live and secp256k1-v2-sized pin the sized records seal-v2.ts writes for live v2 streams (E9)
    tests: ["secure", "secure-v2", "secure-attacks", "stream-live", "secp256k1-v2-sized"],
  },
  // issue 13's extension model: hooks (order, short-circuits, results checked), cookies (RFC 6265bis
  // attributes, signatures), request ids and the context a handler sees
  extension: {
    mutate: ["src/app/hooks.ts", "src/core/cookies.ts", "src/core/request-id.ts", "src/core/context.ts"],
    tests: ["hooks", "cookies", "request-id", "groups"],
  },
  // the one file that chains the core steps for both faces (routing to sealing, hooks, timeouts,
  // the request id in error bodies), and groups: mount and the settings a route inherits. secure,
  // validation and uploads (2-3 s each) reach its sealed, schema-checked and spooled paths;
  // params and body-shape (under 1 s) the bind-time shapes and the inherited maxKeys/maxDepth
  pipeline: {
    mutate: ["src/pipeline.ts", "src/app/group.ts"],
    tests: [
      "pipeline",
      "group-settings",
      "binding",
      "params",
      "body-shape",
      "responses",
      "body",
      "groups",
      "hooks",
      "values",
      "errors",
      "serving",
      "secure",
      "validation",
      "uploads",
    ],
  },
  // the two faces over the pipeline: the Node listener (bodies read with limits, heads written,
  // answers pumped and cut, HTTP/2's specifics), the fetch handler and the request as both present
  // it. Each file under 4 s alone, the fastest first (a mutant stops at its first failing file),
  // test/faces.test.ts (written against this group's survivors) before them;
  // left out: stream (5.1 s), hardening-floods (10.8 s), hardening-slow (11.8 s) and
  // cancellation (21.5 s)
  faces: {
    mutate: ["src/faces/node.ts", "src/faces/fetch.ts", "src/faces/incoming.ts"],
    tests: [
      "faces",
      "errors",
      "body",
      "responses",
      "serving",
      "pipeline",
      "http2",
      "uploads",
      "hooks",
      "hardening-faulty",
    ],
  },
  live: {
    mutate: ["src/secp256k1/sized-records.ts", "src/client/stream.ts"],
    tests: ["secp256k1-v2-sized", "stream-live"],
  },
  // the request body step, where a client's bytes meet the server: parse by Content-Type (JSON through
  // secure-json-parse, forms, text), charsets, the shape limits (maxKeys, maxDepth), multipart in memory
  // and the part heads of spooled uploads. Fast files first: a killed mutant stops at its first failure
  body: {
    mutate: [
      "src/core/body.ts",
      "src/core/charset.ts",
      "src/core/body-shape.ts",
      "src/core/multipart.ts",
      "src/core/part-heads.ts",
    ],
    tests: [
      "body-shape",
      "body",
      "multipart",
      "values",
      "responses",
      "hardening-catalogue",
      "uploads",
      "hardening-properties",
      "uploads-heads",
    ],
  },
};

const name = process.env.USRV_MUTATE || "core";
const group = groups[name];
if (group === undefined)
  throw new Error(`USRV_MUTATE=${name}: known groups are ${Object.keys(groups).join(", ")}`);

export default {
  testRunner: "tap",
  tap: {
    testFiles: group.tests.map((t) => `build/test/${t}.test.js`),
    nodeArgs: ["--test-reporter=tap", "-r", "{{hookFile}}", "{{testFile}}"],
  },
  buildCommand: "npm run mutate:build",
  mutate: group.mutate,
  ignorePatterns: ["/tools", "/bench", "/build", "/dist", "/reports"],
  coverageAnalysis: "perTest",
  concurrency: 1,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  tempDirName: ".stryker-tmp",
};
