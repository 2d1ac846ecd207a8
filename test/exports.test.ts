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

it("package.json: ESM, exports with types first, engines", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.type, "module");
  assert.equal(pkg.sideEffects, false);
  assert.equal(pkg.engines.node, ">=20.19");
  for (const [key, value] of Object.entries<Record<string, string> | string>(pkg.exports)) {
    if (typeof value === "object") assert.deepEqual(Object.keys(value)[0], "types", key);
  }
});
