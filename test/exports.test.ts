/**
 * The public surface: a change to the exported names is a deliberate act.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import * as usrv from "usrv";
import * as otel from "usrv/otel";
import * as stores from "usrv/stores";

it("exports of usrv", () => {
  assert.deepEqual(Object.keys(usrv).sort(), [
    "App",
    "BindError",
    "ConsoleLogger",
    "DEFAULT_BODY_LIMIT",
    "ERRORS",
    "EndpointAlreadyDefined",
    "HttpError",
    "MemoryReplayStore",
    "Router",
    "bind",
    "createApp",
    "defaultApp",
    "defineErrors",
    "parseLevel",
    "registerConverter",
    "run",
    "setParamParser",
  ]);
});

// usrv/secp256k1's names are held by test/secp256k1-api.test.ts
it("exports of usrv/otel", () => {
  assert.deepEqual(Object.keys(otel).sort(), ["spanOf", "tracing"]);
});

it("exports of usrv/stores", () => {
  assert.deepEqual(Object.keys(stores).sort(), [
    "ClusterReplayStore",
    "MemoryReplayStore",
    "RedisReplayStore",
    "serveReplay",
  ]);
});

/**
 * The runtime names of the other subpaths; usrv/client's names and types are held by
 * test/client-builder.test.ts, the plugins' by their own tests, usrv/secp256k1's by secp256k1-api.test.ts.
 */
const SUBPATHS: Record<string, string[]> = {
  cors: ["cors"],
  compress: ["compress", "compressible", "negotiate"],
  conditional: ["conditional", "etagOf", "preconditions"],
  static: ["serveStatic"],
  "rate-limit": ["MemoryRateLimitStore", "RedisRateLimitStore", "rateLimit"],
  stream: ["MAX_LAST_EVENT_ID", "MAX_STREAMS", "encodeEvent", "lastEventId", "ndjson", "openStreams", "sse"],
  ws: ["nodeUpgrade"],
};

for (const [subpath, names] of Object.entries(SUBPATHS)) {
  it(`exports of usrv/${subpath}`, async () => {
    assert.deepEqual(Object.keys(await import(`usrv/${subpath}`)).sort(), names);
  });
}

it("every subpath of package.json's exports has its snapshot", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  const held = new Set([
    ".",
    "./package.json",
    "./otel",
    "./stores",
    // held elsewhere (see above)
    "./secp256k1",
    "./client",
    "./plugins/pinata",
    "./plugins/binance",
    ...Object.keys(SUBPATHS).map((s) => `./${s}`),
  ]);
  assert.deepEqual(
    Object.keys(pkg.exports).filter((k) => !held.has(k)),
    [],
  );
});

it("package.json: ESM, exports with types first, engines", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.type, "module");
  assert.equal(pkg.sideEffects, false);
  assert.equal(pkg.engines.node, ">=20.19");
  for (const [key, value] of Object.entries<Record<string, string> | string>(pkg.exports)) {
    if (typeof value === "object") assert.deepEqual(Object.keys(value)[0], "types", key);
  }
});
