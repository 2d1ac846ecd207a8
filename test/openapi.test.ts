/**
 * OpenAPI 3.1 from the bindings (issue 15, item 2): every document is checked
 * by a maintained validator (@seriousme/openapi-schema-validator, OpenAPI
 * 3.1's own JSON Schema); `app.openapi()`, the opt-in route on both faces,
 * and `usrv openapi`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { createApp, registerConverter, type StandardSchemaV1 } from "usrv";
import * as v from "valibot";
import { z } from "zod";
import { json, matrix } from "./_setup.js";
import { CLI } from "./fixtures/serve-helpers.js";

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Record<string, any>>>;
  components: { schemas: Record<string, any> };
};

async function valid(doc: unknown): Promise<void> {
  const result = await new Validator().validate(doc as never);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
}

registerConverter("hex", (s) => BigInt(`0x${s}`));

function shop() {
  const app = createApp({ logLevel: 50 });
  const Item = z.object({ name: z.string().min(2), price: z.number().positive() });
  app.bind("/user/<int:id>/<name>", ({ id, name }) => [200, id, name]);
  app.bind(
    "/items",
    { methods: ["POST"], body: Item, response: { 201: z.object({ id: z.number() }) } },
    () => [201, { id: 1 }],
  );
  app.bind(
    "/items/<id>",
    { params: z.object({ id: z.coerce.number().int() }), methods: ["GET", "DELETE"] },
    ({ id }) => [200, id],
  );
  app.bind(
    "/search",
    { query: v.object({ q: v.string(), page: v.optional(v.pipe(v.string(), v.transform(Number))) }) },
    ({ q }) => [200, q],
  );
  app.bind("/tenant", { headers: z.object({ "x-tenant": z.string(), authorization: z.string() }) }, () => [
    200,
  ]);
  app.bind("/files/<path:rest>", ({ rest }) => [200, rest]);
  app.bind("/blob/<hex:h>", ({ h }) => [200, String(h)]);
  app.bind("/pay", { methods: ["POST"], encrypted: "v2" }, () => [200]);
  const own: StandardSchemaV1 = {
    "~standard": { version: 1, vendor: "home-made", validate: (value) => ({ value }) },
  };
  app.bind("/own", { query: own }, () => [200]);
  app.group("/v1", (g) => g.bind("/ping", () => [200, "pong"]));
  const admin = createApp({ logLevel: 50 });
  admin.bind("/stats", () => [200, {}]);
  app.mount("/admin", admin);
  return app;
}

describe("OpenAPI 3.1 from the bindings", () => {
  it("app.openapi(): a valid document with every route, typed parameters, bodies, answers and errors", async () => {
    const doc = (await shop().openapi({ title: "Shop", version: "1.2.0" })) as unknown as Doc;
    await valid(doc);
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(doc.info, { title: "Shop", version: "1.2.0" });
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      "/admin/stats",
      "/blob/{h}",
      "/files/{rest}",
      "/items",
      "/items/{id}",
      "/own",
      "/pay",
      "/search",
      "/tenant",
      "/user/{id}/{name}",
      "/v1/ping",
    ]);
    const user = doc.paths["/user/{id}/{name}"]!.get!;
    assert.deepEqual(user.parameters, [
      { name: "id", in: "path", required: true, schema: { type: "integer" } },
      { name: "name", in: "path", required: true, schema: { type: "string" } },
    ]);
    // a params schema's JSON Schema wins over the converter's; both methods documented
    const item = doc.paths["/items/{id}"]!;
    assert.deepEqual(Object.keys(item).sort(), ["delete", "get"]);
    assert.equal(item.get!.parameters[0].schema.type, "integer");
    // zod's body schema (Standard JSON Schema) for each body type usrv reads
    const post = doc.paths["/items"]!.post!;
    const body = post.requestBody.content["application/json"].schema;
    assert.deepEqual(body.required, ["name", "price"]);
    assert.equal(body.properties.name.minLength, 2);
    assert.deepEqual(Object.keys(post.requestBody.content), [
      "application/json",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
    ]);
    assert.deepEqual(Object.keys(post.responses).sort(), ["201", "400", "default"]);
    assert.deepEqual(post.responses["400"].content["application/json"].schema, {
      $ref: "#/components/schemas/UsrvError",
    });
    // valibot through @valibot/to-json-schema: the query's properties, required or not
    assert.deepEqual(
      doc.paths["/search"]!.get!.parameters.map((p: { name: string; in: string; required: boolean }) => [
        p.name,
        p.in,
        p.required,
      ]),
      [
        ["q", "query", true],
        ["page", "query", false],
      ],
    );
    // header parameters, except those OpenAPI describes elsewhere
    assert.deepEqual(
      doc.paths["/tenant"]!.get!.parameters.map((p: { name: string }) => p.name),
      ["x-tenant"],
    );
    assert.match(doc.paths["/files/{rest}"]!.get!.parameters[0].schema.description, /slashes included/);
    assert.match(doc.paths["/blob/{h}"]!.get!.parameters[0].schema.description, /converter "hex"/);
    assert.equal(doc.paths["/pay"]!.post!["x-usrv-encrypted"], "v2");
    assert.equal(doc.paths["/pay"]!.post!.requestBody.required, false);
    // a library without a converter: an open schema that says so (an object schema has no parameters to list)
    assert.deepEqual(doc.paths["/own"]!.get!.parameters, []);
    assert.deepEqual(doc.components.schemas.UsrvError.required, ["status", "error", "code", "message"]);
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    assert.equal(new Set(ids).size, ids.length, "operationIds are unique");
  });

  it("a route without schemas documents its values as open JSON and its errors", async () => {
    const app = createApp({ logLevel: 50 });
    app.bind("/", () => [200, "root"]);
    const doc = (await app.openapi()) as unknown as Doc;
    await valid(doc);
    assert.deepEqual(doc.info, { title: "usrv app", version: "0.0.0" });
    assert.deepEqual(Object.keys(doc.paths["/"]!.get!.responses), ["200", "default"]);
  });
});

matrix(
  "OpenAPI: the opt-in route",
  (app) => {
    app.serveOpenAPI("/openapi.json", { title: "Served", servers: [{ url: "https://api.example.com" }] });
    app.bind("/later", { query: z.object({ n: z.string() }) }, ({ n }) => [200, n]);
  },
  (send) => {
    it("GET /openapi.json: the document of every route bound by its first request, itself left out", async () => {
      const doc = (await json(await send()("/openapi.json"), 200)) as Doc;
      await valid(doc);
      assert.equal(doc.info.title, "Served");
      assert.deepEqual(Object.keys(doc.paths), ["/later"]);
      const head = await send()("/openapi.json", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), "");
    });
  },
);

describe("usrv openapi BINDINGS", () => {
  const module = fileURLToPath(new URL("../../test/fixtures/bind-openapi.mjs", import.meta.url));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, "openapi", ...args], { encoding: "utf8", timeout: 60_000 });

  it("prints the document of the modules' routes on stdout", async () => {
    const r = run(module, "--title", "Shop", "--api-version", "2.0.0", "--server", "http://127.0.0.1:5000");
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Doc & { servers: unknown };
    await valid(doc);
    assert.deepEqual(doc.info, { title: "Shop", version: "2.0.0" });
    assert.deepEqual(doc.servers, [{ url: "http://127.0.0.1:5000" }]);
    assert.deepEqual(Object.keys(doc.paths).sort(), ["/items", "/search", "/user/{id}"]);
  });

  it("-o FILE writes it there; no module, or an unknown option, is a usage error (exit 2)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "usrv-openapi-"));
    try {
      const out = join(dir, "openapi.json");
      const r = run("-o", out, module);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "");
      await valid(JSON.parse(readFileSync(out, "utf8")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const none = run();
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^usrv openapi: no binding module given/);
    const bad = run("--nope", module);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^usrv openapi: Unknown option '--nope'/);
    assert.match(run("--help").stdout, /^usage: usrv openapi \[options\] BINDINGS/);
  });
});
