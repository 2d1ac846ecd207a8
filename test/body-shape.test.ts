/**
 * Limits on body shapes (issue 16, item 5), on both faces: a form's pairs and
 * a JSON object's top-level keys (413 USRV_ERR_TOO_MANY_KEYS) and JSON's
 * nesting (400 USRV_ERR_TOO_DEEP), checked on the text before it is parsed
 * and bound; per app, group and route.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { createApp } from "usrv";
import { json, matrix, withoutId } from "./_setup.js";

const form = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=${i}`).join("&");
const object = (n: number) =>
  JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const post = (body: string, type = "application/json") => ({
  method: "POST",
  headers: { "content-type": type },
  body,
});

matrix(
  "issue 16 item 5: body shapes",
  (app) => {
    app.bind("/in", { methods: ["POST"], style: "object" }, (values) => [200, Object.keys(values).length]);
    app.bind("/two", { methods: ["POST"], maxKeys: 2, maxDepth: 2 }, ({ data }) => [200, data?.length ?? 0]);
    app.group("/g", { maxKeys: 3 }, (g) =>
      g.bind("/in", { methods: ["POST"] }, ({ data }) => [200, data?.length]),
    );
  },
  (send) => {
    it("a form of 1,000 pairs binds; 1,001 is a 413 USRV_ERR_TOO_MANY_KEYS", async () => {
      assert.equal(
        await json(await send()("/in", post(form(1000), "application/x-www-form-urlencoded")), 200),
        1003,
      );
      const body = withoutId(
        await json(await send()("/in", post(form(1001), "application/x-www-form-urlencoded")), 413),
      );
      assert.equal(body.code, "USRV_ERR_TOO_MANY_KEYS");
      assert.match(String(body.message), /form body has more than 1000 keys/);
    });

    it("a form of 100,000 pairs under the default 1 MiB body limit is refused by its pairs", async () => {
      // 0.79 MB of 100,000 short keys, as in the issue: under the body limit, refused by its pairs
      const text = Array.from({ length: 100_000 }, (_, i) => `${i.toString(36)}=1`).join("&");
      assert.ok(text.length < 1024 * 1024);
      const res = await send()("/in", post(text, "application/x-www-form-urlencoded"));
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { code: string }).code, "USRV_ERR_TOO_MANY_KEYS");
    });

    it("a JSON object of 1,001 top-level keys is a 413; nested keys are not counted", async () => {
      assert.equal(await json(await send()("/in", post(object(1000))), 200), 1003);
      assert.equal(
        withoutId(await json(await send()("/in", post(object(1001))), 413)).code,
        "USRV_ERR_TOO_MANY_KEYS",
      );
      const records = JSON.stringify({
        items: Array.from({ length: 5000 }, (_, i) => ({ a: i, b: { c: i } })),
      });
      assert.equal(await json(await send()("/in", post(records)), 200), 4);
      // a top-level list has no named keys to bind
      const list = JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ [`k${i}`]: i })));
      assert.equal(await json(await send()("/in", post(list)), 200), 3);
    });

    it("JSON nested 64 deep parses; 65 is a 400 USRV_ERR_TOO_DEEP, 100,000 too", async () => {
      assert.equal(await json(await send()("/in", post(nested(64))), 200), 3);
      for (const depth of [65, 100_000]) {
        const body = withoutId(await json(await send()("/in", post(nested(depth))), 400));
        assert.equal(body.code, "USRV_ERR_TOO_DEEP");
      }
    });

    it("braces, colons and escaped quotes inside strings are not structure", async () => {
      // two keys and depth 2 (the route's limits), whatever the strings hold
      const text = JSON.stringify({ a: '{{[[::\\"\\', c: ['"]]}}{"x":{"y":1}}', "\\"] });
      assert.ok(text.includes('\\\\\\"')); // an escaped backslash before an escaped quote
      assert.equal(await json(await send()("/two", post(text)), 200), text.length);
    });

    it("the limits hold to the key and the level, and the refusals name them", async () => {
      const form = "application/x-www-form-urlencoded";
      assert.equal(await json(await send()("/two", post("a=1&b=2", form)), 200), 7);
      const pairs = withoutId(await json(await send()("/two", post("a=1&b=2&c", form)), 413));
      assert.equal(pairs.message, "the form body has more than 2 keys (the route's maxKeys)");
      const two = '{"a":{"x":1,"y":2,"z":3},"b":[]}'; // two keys, two levels
      assert.equal(await json(await send()("/two", post(two)), 200), two.length);
      const keys = withoutId(await json(await send()("/two", post('{"a":1,"b":2,"c":3}')), 413));
      assert.deepEqual(
        [keys.code, keys.message],
        ["USRV_ERR_TOO_MANY_KEYS", "the JSON body has more than 2 keys (the route's maxKeys)"],
      );
      const deep = withoutId(await json(await send()("/two", post('{"a":{"b":[]}}')), 400));
      assert.deepEqual(
        [deep.code, deep.message],
        ["USRV_ERR_TOO_DEEP", "the JSON body nests deeper than 2 levels (the route's maxDepth)"],
      );
      // a form's pairs are counted from its first separator, wherever it is
      assert.equal(
        withoutId(await json(await send()("/two", post("&a=1&b=2", form)), 413)).code,
        "USRV_ERR_TOO_MANY_KEYS",
      );
      // the keys after a nested value are still the top level's
      assert.equal(
        withoutId(await json(await send()("/two", post('{"a":[],"b":1,"c":2}')), 413)).code,
        "USRV_ERR_TOO_MANY_KEYS",
      );
      // an escaped quote does not close a string, an escaped backslash before a quote does
      for (const text of ['{"a":"\\"[[[[","b":1}', '{"a":"\\\\","b":"[[[["}', '{"a":"x\\\\\\"[[[[\\\\"}']) {
        assert.equal(await json(await send()("/two", post(text)), 200), text.length, text);
      }
      // a colon straight inside a top-level list (not JSON) is left to JSON.parse: a 400, not a 413
      assert.equal(
        withoutId(await json(await send()("/two", post('["a":1,"b":2,"c":3]')), 400)).code,
        "USRV_ERR_BAD_JSON",
      );
      // a top-level list's objects are not the keys of a top-level object, whatever follows it
      const list = '[{"a":1,"b":2,"c":3}]';
      assert.equal(await json(await send()("/two", post(list)), 200), list.length);
      // an unclosed string ends the count: JSON.parse refuses the text
      assert.equal(
        withoutId(await json(await send()("/two", post('{"a":1,"b":2,"c')), 400)).code,
        "USRV_ERR_BAD_JSON",
      );
    });

    it("a route's and a group's limits hold for them", async () => {
      assert.equal(
        withoutId(await json(await send()("/two", post(object(3))), 413)).code,
        "USRV_ERR_TOO_MANY_KEYS",
      );
      assert.equal(
        withoutId(await json(await send()("/two", post(nested(3))), 400)).code,
        "USRV_ERR_TOO_DEEP",
      );
      assert.equal(await json(await send()("/g/in", post(object(3))), 200), object(3).length);
      assert.equal(
        withoutId(await json(await send()("/g/in", post(object(4))), 413)).code,
        "USRV_ERR_TOO_MANY_KEYS",
      );
    });
  },
);

it("maxKeys and maxDepth are whole numbers >= 1 (createApp, group, bind)", () => {
  assert.throws(() => createApp({ maxKeys: 0 }), /option "maxKeys" must be a whole number of keys >= 1/);
  const app = createApp({ logLevel: 50 });
  assert.throws(
    () => app.bind("/x", { maxDepth: 1.5 }, () => [200]),
    /option "maxDepth" must be a whole number of levels >= 1/,
  );
  assert.throws(() => app.group("/g", { maxKeys: -1 }, () => {}), /maxKeys/);
});
