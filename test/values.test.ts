/**
 * V1-V9: the values a handler receives, in both styles.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import type { Context } from "usrv";
import { json, matrix } from "./_setup.js";

const JSON_HEADERS = { "content-type": "application/json" };

matrix(
  "V1-V9",
  (app) => {
    app.bind("/defaults", (a: unknown = "A", b: unknown = 2) => [200, a, b]);
    app.bind("/obj-defaults", ({ a = "A", b = 2 }) => [200, a, b]);
    app.bind("/repeat", function (this: Context, a: unknown) {
      return [200, a, this.query.getAll("a")];
    });
    app.bind("/repeat-obj", ({ a }, ctx) => [200, a, ctx.query.getAll("a")]);
    app.bind("/headers", ({ headers }) => [200, headers["x-custom-thing"]]);
    app.bind("/arity", function (a: unknown) {
      // biome-ignore lint/complexity/noArguments: the count of what the handler was given is the point
      return [200, a, arguments.length];
    });
    app.bind("/array-pattern", ([x]: unknown[] = ["default"], b: unknown) => [200, x, b]);
    app.bind("/query-values", { style: "object" }, (values) => {
      const { method, headers, data, ...kw } = values as Record<string, unknown>;
      return [200, kw];
    });
    app.bind("/<int:id>/fields", { methods: ["POST"] }, ({ id, a, b, data }) => [200, id, a, b, data]);
    app.bind("/proto", ({ ...all }) => {
      const { method, headers, data, ...kw } = all;
      return [
        200,
        Object.keys(kw),
        ({} as Record<string, unknown>).polluted ?? null,
        Object.getPrototypeOf(all) === Object.prototype,
      ];
    });
    app.bind("/proto-chain", { style: "object" }, (values) => {
      const chain: unknown[] = [];
      for (let p = Object.getPrototypeOf(values); p !== null; p = Object.getPrototypeOf(p)) {
        chain.push([Object.isFrozen(p), Reflect.ownKeys(p).length]);
      }
      return [200, chain, "constructor" in values, "toString" in values, Object.hasOwn(values, "__proto__")];
    });
    app.bind("/proto-pos", (...args: unknown[]) => [
      200,
      args.length,
      ({} as Record<string, unknown>).polluted ?? null,
    ]);
    app.bind(
      "/minified",
      { params: ["a", "b"] },
      // what a minifier leaves: names that mean nothing
      (x: unknown, y: unknown, ...z: unknown[]) => [200, x, y, z.length],
    );
    app.bind("/named-context", (a: unknown, method: unknown, data: unknown) => [200, a, method, data]);
    app.bind("/ctx/<int:n>", function (this: Context) {
      return [200, this.method, this.path, this.rawQuery, this.params];
    });
  },
  (send) => {
    it("V1: function defaults apply to missing values, in both styles", async () => {
      assert.deepEqual(await json(await send()("/defaults?b=x"), 200), ["A", "x"]);
      assert.deepEqual(await json(await send()("/obj-defaults"), 200), ["A", 2]);
    });
    it("V1: blank query values (a=, a) are dropped, as the reference's parse_qsl does, so defaults apply; ctx.query keeps them", async () => {
      assert.deepEqual(await json(await send()("/defaults?a=&b"), 200), ["A", 2]);
      assert.deepEqual(await json(await send()("/obj-defaults?a=&b=&=x"), 200), ["A", 2]);
      assert.deepEqual(
        await json(await send()("/defaults?a=+&b=%20"), 200),
        [" ", " "],
        "a space is a value",
      );
      assert.deepEqual(await json(await send()("/repeat?a=1&a="), 200), ["1", ["1", ""]]);
      assert.deepEqual(await json(await send()("/repeat-obj?a=&a"), 200), [null, ["", ""]]);
    });
    it("V1: blank fields of a url-encoded body are dropped too; data keeps them", async () => {
      const res = await send()("/7/fields", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "a=&b",
      });
      assert.deepEqual(await json(res, 200), [7, null, null, "a=&b"]);
    });
    it("V1: the pairs of a query string are split at every & and at the first = of each, and nowhere else", async () => {
      const values = async (query: string) => json(await send()(`/query-values?${query}`), 200);
      assert.deepEqual(await values("&a=1"), { a: "1" }, "a leading &");
      assert.deepEqual(await values("a=1&b"), { a: "1" }, "a last pair without =");
      assert.deepEqual(await values("=x&a=1"), { "": "x", a: "1" }, "an empty name is a name");
      assert.deepEqual(await values("a=b=c&d=1"), { a: "b=c", d: "1" }, "the first = splits");
      assert.deepEqual(await values("a&b&c=1&d&e=2"), { c: "1", e: "2" }, "the = after pairs without one");
    });
    it("400: a bad escape's message quotes at most 64 characters of it, in the query and the path", async () => {
      for (const path of [`/query-values?a=%zz${"a".repeat(1000)}`, `/x/%zz${"a".repeat(1000)}`]) {
        const body = (await json(await send()(path), 400)) as { code: string; message: string };
        assert.equal(body.code, "USRV_ERR_BAD_ENCODING", path);
        assert.match(body.message, path.includes("?") ? /in the query string: / : /in the path: /);
        assert.ok(body.message.includes(`%zz${"a".repeat(61)}"`), body.message);
        assert.ok(!body.message.includes("a".repeat(62)), body.message);
      }
    });
    it("V1: a positional handler without a rest parameter gets exactly its parameters", async () => {
      assert.deepEqual(await json(await send()("/arity?a=1&b=2"), 200), ["1", 1]);
    });
    it("V1: a parameter that is a pattern binds nothing, even from a key named null", async () => {
      assert.deepEqual(await json(await send()("/array-pattern?null=zz&b=1"), 200), ["default", "1"]);
    });
    it("V4: a repeated key: last one wins, all stay reachable", async () => {
      assert.deepEqual(await json(await send()("/repeat?a=1&a=2&a=3"), 200), ["3", ["1", "2", "3"]]);
      assert.deepEqual(await json(await send()("/repeat-obj?a=1&a=2"), 200), ["2", ["1", "2"]]);
    });
    it("V4: + and percent-encoding decode in the query", async () => {
      assert.deepEqual(await json(await send()("/repeat?a=caf%C3%A9+au+lait"), 200), [
        "café au lait",
        ["café au lait"],
      ]);
    });
    it("V7: headers are a plain object with lower-case names", async () => {
      assert.equal(
        await json(await send()("/headers", { headers: { "X-Custom-Thing": "yes" } }), 200),
        "yes",
      );
    });
    it("V8: JSON body fields bind by name; query wins over body, body over path", async () => {
      const res = await send()("/7/fields?a=query", {
        method: "POST",
        headers: JSON_HEADERS,
        body: '{"a":"body","b":[1,2],"id":"body"}',
      });
      assert.deepEqual(await json(res, 200), ["body", "query", [1, 2], '{"a":"body","b":[1,2],"id":"body"}']);
    });
    it("V8: url-encoded body fields bind by name", async () => {
      const res = await send()("/7/fields", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "a=x+y&b=%C3%A9",
      });
      assert.deepEqual(await json(res, 200), [7, "x y", "é", "a=x+y&b=%C3%A9"]);
    });
    it("V8: multipart fields and files bind by name", async () => {
      const form = new FormData();
      form.append("a", "field");
      form.append("b", new Blob(["file bytes"], { type: "text/plain" }), "../../etc/passwd");
      const res = await send()("/7/fields", { method: "POST", body: form });
      const [id, a, b] = (await json(res, 200)) as [
        number,
        string,
        { filename: string; type: string; data: Record<string, number> },
      ];
      assert.equal(id, 7);
      assert.equal(a, "field");
      assert.equal(b.filename, "passwd", "a client's path never survives in a file name");
      assert.equal(b.type, "text/plain");
      assert.equal(Buffer.from(Object.values(b.data)).toString(), "file bytes");
    });
    it("V8: a body that is not JSON-object, form or multipart binds nothing but is data", async () => {
      const res = await send()("/7/fields", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "a=1",
      });
      assert.deepEqual(await json(res, 200), [7, null, null, "a=1"]);
    });
    it("V9: __proto__, constructor and prototype in the query never reach a prototype", async () => {
      const res = await send()("/proto?__proto__[polluted]=1&__proto__=x&constructor=y&prototype=z&a=1");
      assert.deepEqual(await json(res, 200), [
        ["__proto__[polluted]", "__proto__", "constructor", "prototype", "a"],
        null,
        true,
      ]);
      const res2 = await send()("/proto-pos?__proto__=x&constructor[prototype][polluted]=1");
      assert.deepEqual(await json(res2, 200), [5, null]);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
    it("V9: the values' prototype chain is one empty, frozen object, then null", async () => {
      assert.deepEqual(await json(await send()("/proto-chain"), 200), [[[true, 0]], false, false, false]);
      assert.deepEqual(await json(await send()("/proto-chain?__proto__=x"), 200), [
        [[true, 0]],
        false,
        false,
        true,
      ]);
    });
    it("V9: __proto__ in a JSON body is refused, at the top level as below it", async () => {
      for (const body of [
        '{"__proto__":{"polluted":1},"a":"ok"}',
        '{"a":{"b":{"__proto__":{"polluted":1}}}}',
      ]) {
        const res = await send()("/7/fields", { method: "POST", headers: JSON_HEADERS, body });
        assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_BAD_JSON");
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
    it("positional style: a params option overrides names lost to minification", async () => {
      assert.deepEqual(await json(await send()("/minified?b=2&a=1&c=3"), 200), ["1", "2", 4]);
    });
    it("V5: parameters named method or data receive the request's", async () => {
      assert.deepEqual(await json(await send()("/named-context?a=1&method=nope"), 200), ["1", "GET", null]);
    });
    it("the context: this in positional style", async () => {
      assert.deepEqual(await json(await send()("/ctx/3?z=1"), 200), ["GET", "/ctx/3", "z=1", { n: 3 }]);
    });
  },
);
