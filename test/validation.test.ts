/**
 * Schemas (issue 15, item 1; rows V10-V12) with two real Standard Schema
 * libraries, zod 4 and valibot, on both faces: inputs checked before any
 * beforeHandle hook or the handler, every issue listed in one 400, outputs in
 * place of what they checked, path values a schema types not overridden by
 * the query, answers checked when the app asks.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { BindError, type Context, createApp, type StandardSchemaV1 } from "usrv";
import { decrypt, encrypt, generateKeypair, sign } from "usrv/secp256k1";
import * as v from "valibot";
import { z } from "zod";
import { json, matrix, withoutId } from "./_setup.js";

type Issue = { in: string; path: (string | number)[]; message: string };
const issuesOf = (body: unknown) => (body as { detail: { issues: Issue[]; more?: number } }).detail;

/** The same schemas in both libraries: a query of a number and a flag, a JSON item. */
const LIBRARIES = {
  zod: {
    query: z.object({ n: z.coerce.number().int().min(1), flag: z.enum(["on", "off"]).default("off") }),
    body: z.object({
      name: z.string().min(2),
      price: z.number().positive(),
      tags: z.array(z.string()).max(3),
    }),
    params: z.object({ id: z.coerce.number().int() }),
    headers: z.object({ "x-tenant": z.string().regex(/^t-\d+$/) }),
    answer: z.object({ id: z.number() }),
  },
  valibot: {
    query: v.object({
      n: v.pipe(v.string(), v.transform(Number), v.number(), v.integer(), v.minValue(1)),
      flag: v.optional(v.picklist(["on", "off"]), "off"),
    }),
    body: v.object({
      name: v.pipe(v.string(), v.minLength(2)),
      price: v.pipe(v.number(), v.minValue(0.01)),
      tags: v.pipe(v.array(v.string()), v.maxLength(3)),
    }),
    params: v.object({ id: v.pipe(v.string(), v.transform(Number), v.number(), v.integer()) }),
    headers: v.looseObject({ "x-tenant": v.pipe(v.string(), v.regex(/^t-\d+$/)) }),
    answer: v.object({ id: v.number() }),
  },
};

for (const [library, s] of Object.entries(LIBRARIES)) {
  matrix(
    `V10-V12: schemas (${library})`,
    (app) => {
      app.bind("/sum", { query: s.query }, ({ n, flag }) => {
        const twice: number = n * 2; // typed from the schema's output
        return [200, twice, flag];
      });
      app.bind("/items", { methods: ["POST"], body: s.body }, ({ name, price, tags, data }) => [
        201,
        { name, price, tags, raw: data },
      ]);
      // the path literal says string; the schema makes it a number, and it wins over the query
      app.bind("/user/<id>", { params: s.params }, ({ id }) => [200, id, typeof id]);
      app.bind("/tenant", { headers: s.headers }, ({ headers }) => [200, headers["x-tenant"]]);
      app.bind("/both", { methods: ["POST"], query: s.query, body: s.body }, ({ n, name }) => [200, n, name]);
      app.bind("/answer/<id>", { response: s.answer }, ({ id }) => [
        200,
        id === "good" ? { id: 1 } : { id: "1" },
      ]);
      app.bind("/statuses/<id>", { response: { 404: s.answer } }, ({ id }) =>
        id === "1" ? [200, { any: "thing" }] : [404, { id: "not a number" }],
      );
      // the context reaches a checked handler in either style (it is made only for one that can take it)
      app.bind("/ctx", { query: s.query }, ({ n }, ctx) => {
        ctx.header("x-n", String(n));
        return [200, n, ctx.requestId.length > 0];
      });
      app.bind("/this", { query: s.query, style: "positional" }, function (this: Context, n: number) {
        this.header("x-n", String(n));
        return [200, n];
      });
      app.group("/g", (g) => {
        g.beforeHandle((values) => (typeof values.n === "number" ? undefined : [500, "hook saw raw values"]));
        g.bind("/sum", { query: s.query }, ({ n }) => [200, n]);
      });
    },
    (send) => {
      it("V10: a checked handler gets the context in either style, and its output values", async () => {
        const res = await send()("/ctx?n=4");
        assert.equal(res.headers.get("x-n"), "4");
        assert.deepEqual(await json(res, 200), [4, true]);
        const positional = await send()("/this?n=5");
        assert.equal(positional.headers.get("x-n"), "5");
        assert.equal(await json(positional, 200), 5);
      });

      it("V10: a query schema's output replaces the query values (coerced, defaults applied)", async () => {
        assert.deepEqual(await json(await send()("/sum?n=21"), 200), [42, "off"]);
        assert.deepEqual(await json(await send()("/sum?n=2&flag=on"), 200), [4, "on"]);
      });

      it("V10: every failing value of every input is listed in one 400 USRV_ERR_VALIDATION", async () => {
        const body = withoutId(await json(await send()("/sum?n=0&flag=maybe"), 400));
        assert.equal(body.code, "USRV_ERR_VALIDATION");
        assert.equal(body.status, 400);
        assert.match(String(body.message), /^2 invalid values for GET \/sum \(first: query\.n: /);
        const { issues } = issuesOf(body);
        assert.deepEqual(
          issues.map((i) => [i.in, i.path]),
          [
            ["query", ["n"]],
            ["query", ["flag"]],
          ],
        );
        for (const issue of issues) assert.ok(issue.message.length > 0);
      });

      it("V10: a JSON body is checked as parsed, its output fields bound; data stays the text sent", async () => {
        const text = '{"name":"pen","price":2.5,"tags":["a"]}';
        const init = { method: "POST", headers: { "content-type": "application/json" }, body: text };
        assert.deepEqual(await json(await send()("/items", init), 201), {
          name: "pen",
          price: 2.5,
          tags: ["a"],
          raw: text,
        });
        const bad = { ...init, body: '{"name":"p","price":-1,"tags":["a","b","c","d"]}' };
        const { issues } = issuesOf(await json(await send()("/items", bad), 400));
        assert.deepEqual(issues.map((i) => i.path).sort(), [["name"], ["price"], ["tags"]]);
        assert.ok(issues.every((i) => i.in === "body"));
        // no body at all: the schema sees undefined
        const none = issuesOf(await json(await send()("/items", { method: "POST" }), 400)).issues;
        assert.deepEqual(
          none.map((i) => [i.in, i.path]),
          [["body", []]],
        );
      });

      it("V10: the query and the body are both checked; their issues come together", async () => {
        const init = {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"name":"x"}',
        };
        const { issues } = issuesOf(await json(await send()("/both?n=zero", init), 400));
        assert.deepEqual([...new Set(issues.map((i) => i.in))], ["query", "body"]);
        const ok = { ...init, body: '{"name":"xy","price":1,"tags":[]}' };
        assert.deepEqual(await json(await send()("/both?n=3", ok), 200), [3, "xy"]);
      });

      it("V11: a path value a schema types is not overridden by the query (and is converted)", async () => {
        assert.deepEqual(await json(await send()("/user/5"), 200), [5, "number"]);
        assert.deepEqual(await json(await send()("/user/5?id=admin"), 200), [5, "number"]);
        const { issues } = issuesOf(await json(await send()("/user/abc"), 400));
        assert.deepEqual(
          issues.map((i) => [i.in, i.path]),
          [["params", ["id"]]],
        );
      });

      it("V10: a headers schema checks the headers (lower-case names)", async () => {
        assert.equal(await json(await send()("/tenant", { headers: { "X-Tenant": "t-42" } }), 200), "t-42");
        const { issues } = issuesOf(
          await json(await send()("/tenant", { headers: { "x-tenant": "42" } }), 400),
        );
        assert.deepEqual(
          issues.map((i) => [i.in, i.path]),
          [["headers", ["x-tenant"]]],
        );
      });

      it("V10: a group's beforeHandle hook sees the checked values, not the raw ones", async () => {
        assert.deepEqual(await json(await send()("/g/sum?n=7"), 200), 7);
        assert.equal(withoutId(await json(await send()("/g/sum?n=x"), 400)).code, "USRV_ERR_VALIDATION");
      });

      it("V12: response schemas are not checked unless the app asks", async () => {
        assert.deepEqual(await json(await send()("/answer/bad"), 200), { id: "1" });
      });
    },
  );
}

matrix(
  "V12: answers checked against their schemas (checkResponses)",
  (app) => {
    app.bind("/answer/<id>", { response: z.object({ id: z.number() }) }, ({ id }) => [
      200,
      id === "good" ? { id: 1 } : { id: "1" },
    ]);
    app.bind("/statuses/<id>", { response: { 404: v.object({ id: v.number() }) } }, ({ id }) =>
      id === "1" ? [200, { any: "thing" }] : [404, { id: "not a number" }],
    );
    app.bind("/async", { response: z.object({ id: z.number() }) }, async () => [200, { id: "late" }]);
  },
  (send) => {
    it("V12: a matching answer passes untouched; one that does not is a 500 naming the route", async () => {
      assert.deepEqual(await json(await send()("/answer/good"), 200), { id: 1 });
      const body = withoutId(await json(await send()("/answer/bad"), 500));
      assert.equal(body.code, "USRV_ERR_BAD_RESPONSE");
      assert.match(
        String(body.message),
        /the 200 answer of GET \/answer\/<id> does not match its response schema/,
      );
      assert.deepEqual(
        issuesOf(body).issues.map((i) => [i.in, i.path]),
        [["response", ["id"]]],
      );
    });
    it("V12: a schema per status checks that status only", async () => {
      assert.deepEqual(await json(await send()("/statuses/1"), 200), { any: "thing" });
      assert.equal(withoutId(await json(await send()("/statuses/2"), 500)).code, "USRV_ERR_BAD_RESPONSE");
    });
    it("V12: an async handler's answer is checked too", async () => {
      assert.equal(withoutId(await json(await send()("/async"), 500)).code, "USRV_ERR_BAD_RESPONSE");
    });
  },
  { checkResponses: true },
);

matrix(
  "V10: hostile inputs against a schema",
  (app) => {
    const item = z.object({ name: z.string() }).strict();
    app.bind("/strict", { methods: ["POST"], body: item }, ({ name }) => [200, name]);
    app.bind(
      "/many",
      { methods: ["POST"], bodyLimit: 8 << 20, maxKeys: 20_000, body: z.record(z.string(), z.number()) },
      () => [200, "ok"],
    );
    const slow: StandardSchemaV1 = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value) =>
          new Promise((resolve) =>
            setTimeout(
              () => resolve(value === "5" ? { value: 5 } : { issues: [{ message: "not five" }] }),
              5,
            ),
          ),
      },
    };
    app.bind(
      "/async-schema",
      { query: z.object({ q: z.string() }), body: slow, methods: ["POST"] },
      ({ q, data }) => [200, q, data],
    );
  },
  (send) => {
    const post = (body: string) => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    it("V9: a __proto__ key is refused before any schema sees it", async () => {
      const body = withoutId(
        await json(await send()("/strict", post('{"name":"a","__proto__":{"x":1}}')), 400),
      );
      assert.equal(body.code, "USRV_ERR_BAD_JSON");
    });
    it("V10: 10,000 bad fields make at most 100 issues, the rest counted (the error body stays small)", async () => {
      const fields = Object.fromEntries(
        Array.from({ length: 10_000 }, (_, i) => [`k${"x".repeat(300)}${i}`, "no"]),
      );
      const res = await send()("/many", post(JSON.stringify(fields)));
      const text = await res.text();
      assert.equal(res.status, 400);
      const detail = issuesOf(JSON.parse(text));
      assert.equal(detail.issues.length, 100);
      assert.equal(detail.more, 9_900);
      // each key of the path is cut to 200 characters and an ellipsis
      assert.ok(detail.issues.every((i) => String(i.path[0]).length <= 203));
      assert.ok(text.length < 64 * 1024, `error body of ${text.length} bytes`);
    });
    it("V10: an async schema is awaited, and issues of sync and async schemas come together", async () => {
      const ok = await send()("/async-schema?q=a", { method: "POST", body: "5" });
      assert.deepEqual(await json(ok, 200), ["a", "5"]);
      const { issues } = issuesOf(
        await json(await send()("/async-schema", { method: "POST", body: "6" }), 400),
      );
      assert.deepEqual(
        issues.map((i) => [i.in, i.message]),
        [
          ["query", issues[0]!.message],
          ["body", "not five"],
        ],
      );
    });
  },
);

it("V10: a schema option that is not a Standard Schema is a BindError at bind time", () => {
  const app = createApp({ logLevel: 50 });
  assert.throws(() => app.bind("/x", { query: { parse() {} } as never }, () => [200]), {
    name: "BindError",
    message: /option "query" must be a Standard Schema \(zod, valibot, ArkType\.\.\.\)/,
  });
  assert.throws(() => app.bind("/y", { response: { 999: z.string() } as never }, () => [200]), BindError);
  assert.throws(() => app.bind("/z", { params: 5 as never }, () => [200]), BindError);
  // a list of names is still the positional style's parameter names
  app.bind("/w", { params: ["a"] }, (...args: unknown[]) => [200, args]);
});

it("V10: a v1 encrypted request's body is checked once it is verified and decrypted", async () => {
  const app = createApp({ logLevel: 50 });
  const server = await app.identify("validation server");
  const client = generateKeypair("validation client");
  app.bind("/pay", { methods: ["POST"], body: z.object({ amount: z.number().positive() }) }, ({ amount }) => [
    200,
    amount,
  ]);
  const sealed = (text: string) => {
    const { R, ciphertext } = encrypt(server, text);
    return {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "ephemeral-public-key": R,
        "sender-public-key": client.publicKey,
        "sender-signature": sign(ciphertext + R, client.privateKey),
      },
      body: ciphertext,
    };
  };
  // the answers are sealed for the client, the error too
  const opened = async (res: Response) =>
    JSON.parse(decrypt(client.privateKey, res.headers.get("ephemeral-public-key")!, await res.text()));
  const bad = await app.request("/pay", sealed('{"amount":-3}'));
  assert.equal(bad.status, 400);
  assert.equal((await opened(bad)).code, "USRV_ERR_VALIDATION");
  const good = await app.request("/pay", sealed('{"amount":3}'));
  assert.equal(good.status, 200);
  assert.equal(await opened(good), 3);
});

it("issue 15 item 4: the Python reference client's recorded requests pass validated routes, and its refusals reach it as JSON", async () => {
  type Transcript = {
    client_secret: string;
    server_secret: string;
    request: { method: string; path: string; headers: Record<string, string>; body?: string };
  };
  const transcripts = JSON.parse(
    readFileSync(
      new URL("../../test/fixtures/vectors/usrv-0.4.3-http-transcripts.json", import.meta.url),
      "utf8",
    ),
  ) as Transcript[];
  const [post, get] = transcripts as [Transcript, Transcript];
  const client = generateKeypair(post.client_secret);
  const opened = async (res: Response) =>
    JSON.parse(decrypt(client.privateKey, res.headers.get("ephemeral-public-key")!, await res.text()));
  const replay = (app: ReturnType<typeof createApp>, t: Transcript) =>
    app.request(t.request.path, {
      method: t.request.method,
      headers: t.request.headers,
      body: t.request.body,
    });

  for (const strict of [false, true]) {
    // recorded three days ago: the nonces are old, so no age limit here
    const app = createApp({ logLevel: 50, maxNonceAge: Number.POSITIVE_INFINITY });
    await app.identify(post.server_secret);
    const body = z.object({
      value1: z.number(),
      value2: z.string(),
      ...(strict ? { value3: z.string() } : {}),
    });
    app.bind(
      "/api/endpoint",
      {
        methods: ["GET", "POST"],
        body,
        query: z.object({ a: z.string().optional(), b: z.string().optional() }),
      },
      ({ method, value1, value2, a, b }) => (method === "POST" ? [202, { value1, value2 }] : [200, a, b]),
    );
    const answer = await replay(app, post);
    if (strict) {
      assert.equal(answer.status, 400);
      const error = await opened(answer); // sealed for the client, as every answer to a sealed request
      assert.equal(error.code, "USRV_ERR_VALIDATION");
      assert.deepEqual(error.detail.issues[0].path, ["value3"]);
    } else {
      assert.equal(answer.status, 202);
      assert.deepEqual(await opened(answer), { value1: 1, value2: "é" });
    }
  }
  // the GET has no body: a route without a body schema serves it
  const app = createApp({ logLevel: 50, maxNonceAge: Number.POSITIVE_INFINITY });
  await app.identify(get.server_secret);
  app.bind("/api/endpoint", { query: z.object({ a: z.coerce.number(), b: z.string() }) }, ({ a, b }) => [
    200,
    a,
    b,
  ]);
  const res = await replay(app, get);
  assert.equal(res.status, 200);
  assert.deepEqual(await opened(res), [12, "test"]);
});
