/**
 * Every example of the seed README, changed only in syntax (Python -> TypeScript).
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { json, matrix } from "./_setup.js";

const URL_ARGS = "/test?b=12&a=Paris&unexpected=there";

matrix(
  "seed: Fast and simple, /test",
  (app) => {
    app.bind("/test", function do_test(a: unknown, b: unknown) {
      return [200, a, b];
    });
  },
  (send) => {
    it("V1: missing values are null", async () => {
      assert.deepEqual(await json(await send()("/test"), 200), [null, null]);
    });
    it("V2: query values are strings", async () => {
      assert.deepEqual(await json(await send()("/test?b=12&a=Paris"), 200), ["Paris", "12"]);
    });
    it("unexpected values are ignored", async () => {
      assert.deepEqual(await json(await send()(URL_ARGS), 200), ["Paris", "12"]);
    });
  },
);

matrix(
  "seed: Extracting values from url path, /<int:b>/<a>",
  (app) => {
    app.bind("/<int:b>/<a>", function do_test(a: unknown, b: unknown) {
      return [200, a, b];
    });
  },
  (send) => {
    it("V2: path values are converted", async () => {
      assert.deepEqual(await json(await send()("/5/test"), 200), ["test", 5]);
    });
    it("V3: query overrides path, as strings", async () => {
      assert.deepEqual(await json(await send()("/5/test?a=2&b=6"), 200), ["2", "6"]);
    });
  },
);

matrix(
  "seed: Variable args (*args)",
  (app) => {
    app.bind("/test", function do_test(a: unknown, b: unknown, ...args: unknown[]) {
      return [200, a, b, args];
    });
  },
  (send) => {
    it("V5: unexpected query values, then method, headers, data", async () => {
      const body = (await json(await send()(URL_ARGS, { headers: { "x-seed": "1" } }), 200)) as unknown[];
      assert.equal(body.length, 3);
      assert.deepEqual(body.slice(0, 2), ["Paris", "12"]);
      const args = body[2] as unknown[];
      assert.equal(args.length, 4);
      assert.deepEqual(args.slice(0, 2), ["there", "GET"]);
      assert.equal((args[2] as Record<string, string>)["x-seed"], "1");
      assert.equal(args[3], null);
    });
  },
);

matrix(
  "seed: Keyword args (**kwargs)",
  (app) => {
    app.bind("/test", ({ a, b, ...kwargs }) => [200, a, b, kwargs]);
  },
  (send) => {
    it("V6: unexpected values by name, then method, headers, data, in that order", async () => {
      const [a, b, kwargs] = (await json(await send()(URL_ARGS, { headers: { "x-seed": "1" } }), 200)) as [
        string,
        string,
        Record<string, unknown>,
      ];
      assert.deepEqual([a, b], ["Paris", "12"]);
      assert.deepEqual(Object.keys(kwargs), ["unexpected", "method", "headers", "data"]);
      assert.equal(kwargs.unexpected, "there");
      assert.equal(kwargs.method, "GET");
      assert.equal((kwargs.headers as Record<string, string>)["x-seed"], "1");
      assert.equal(kwargs.data, null);
    });
  },
);

matrix(
  "seed: usrv.app index(**kw) and the issue's five lines",
  (app) => {
    app.bind("/index", ({ method, headers, data, ...kw }) => [200, "Index page", kw]);
    app.bind("/api/endpoint", { methods: ["GET", "POST"] }, ({ a, b, method, data }) =>
      method === "POST" ? [202, data] : [200, a, b],
    );
  },
  (send) => {
    it("index page with the query as kw", async () => {
      assert.deepEqual(await json(await send()("/index?x=1"), 200), ["Index page", { x: "1" }]);
    });
    it("B1: one function for GET and POST", async () => {
      assert.deepEqual(await json(await send()("/api/endpoint?a=12&b=test"), 200), ["12", "test"]);
      const res = await send()("/api/endpoint", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"value1": 1, "value2": 2}',
      });
      assert.equal(await json(res, 202), '{"value1": 1, "value2": 2}');
    });
  },
);
