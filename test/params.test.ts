/**
 * V5/V6: the parameter list read by the scanner (src/core/param-scanner.ts), table-driven.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BindError, createApp } from "usrv";

// Built from source text so the compiler cannot rewrite the shapes under test.
const fns: [string, string, unknown][] = [
  [
    "plain function",
    "(function (a, b) {})",
    { style: "positional", names: ["a", "b"], rest: false, arrow: false },
  ],
  [
    "rest",
    "(function (a, b, ...args) {})",
    { style: "positional", names: ["a", "b"], rest: true, arrow: false },
  ],
  [
    "defaults with commas and parens",
    "(function (a = f(1, 2), b = [3, (4)], c = ')') {})",
    { style: "positional", names: ["a", "b", "c"], rest: false, arrow: false },
  ],
  [
    "comments",
    "(function (a /* , x */, // y,\n b) {})",
    { style: "positional", names: ["a", "b"], rest: false, arrow: false },
  ],
  ["arrow", "((a, b) => 0)", { style: "positional", names: ["a", "b"], rest: false, arrow: true }],
  ["arrow, one bare param", "(a => 0)", { style: "positional", names: ["a"], rest: false, arrow: true }],
  ["async arrow", "(async (a, ...r) => 0)", { style: "positional", names: ["a"], rest: true, arrow: true }],
  [
    "async function",
    "(async function named(a) {})",
    { style: "positional", names: ["a"], rest: false, arrow: false },
  ],
  [
    "method shorthand",
    "({ m(a, b) {} }).m",
    { style: "positional", names: ["a", "b"], rest: false, arrow: false },
  ],
  [
    "async method shorthand",
    "({ async m(a) {} }).m",
    { style: "positional", names: ["a"], rest: false, arrow: false },
  ],
  [
    "static class method",
    "(class { static m(a, b = `x`) {} }).m",
    { style: "positional", names: ["a", "b"], rest: false, arrow: false },
  ],
  [
    "array pattern binds nothing",
    "(function ([x, y], b) {})",
    { style: "positional", names: [null, "b"], rest: false, arrow: false },
  ],
  [
    "template default",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
    "((a = `)${'('}`, b) => 0)",
    { style: "positional", names: ["a", "b"], rest: false, arrow: true },
  ],
  [
    "regex default",
    "((a = /[)]/g, b) => 0)",
    { style: "positional", names: ["a", "b"], rest: false, arrow: true },
  ],
  ["object pattern: object style", "(({ a, b }) => 0)", { style: "object", arity: 1 }],
  ["object pattern with default, and the context", "(({ a } = {}, ctx) => 0)", { style: "object", arity: 2 }],
  ["object pattern with rest", "(function ({ a, ...kw }) {})", { style: "object", arity: 1 }],
  ["no params", "(() => 0)", { style: "positional", names: [], rest: false, arrow: true }],
];

describe("V5/V6: reading the parameter list", () => {
  for (const [name, src, want] of fns) {
    it(name, () => {
      const app = createApp({ logLevel: "silent" });
      const fn = new Function(`return ${src}`)() as Function;
      app.bind("/x", fn as () => [number]);
      const hit = app.router.find("GET", "/x");
      assert.ok(!("status" in hit));
      assert.deepEqual(hit.value.shape, want);
    });
  }

  it("a bound or native function asks for the params option", () => {
    const app = createApp({ logLevel: "silent" });
    const bound = ((a: unknown) => [200, a] as const).bind(null);
    assert.throws(
      () => app.bind("/x", bound),
      (e: Error) => e instanceof BindError && /pass \{ params: \[\.\.\.\] \}/.test(e.message),
    );
    app.bind("/y", { params: ["a"] }, bound); // and accepts it then
  });
});

describe("V5/V6: a handler written for the object style but read as positional is refused at bind", () => {
  // Each type-checks as an object-style handler; read as positional, its
  // parameter would be the value of that name (undefined) and every call a 500.
  const mistakes: [string, string, RegExp][] = [
    ["(req) => [200, req.method]", "((req) => [200, req.method])", /reads req\.method/],
    ["(values, ctx) => [200, ctx.path]", "((values, ctx) => [200, ctx.path])", /reads ctx\.path/],
    ["req.query.get()", "(function (req) { return [200, req.query.get('a')]; })", /reads req\.query/],
    ["computed member", "((req) => [200, req['headers']])", /reads req\.headers/],
    ["req.data", "((req) => [200, req.data])", /reads req\.data/],
    [
      "destructured in the body",
      "((req) => { const { headers } = req; return [200, headers]; })",
      /reads req\.headers/,
    ],
  ];
  for (const [name, src, why] of mistakes) {
    it(`${name}: a BindError that shows both styles and the way out`, () => {
      const app = createApp({ logLevel: "silent" });
      const fn = new Function(`return ${src}`)() as () => [number];
      assert.throws(
        () => app.bind("/v1", fn),
        (e: Error) =>
          e instanceof BindError &&
          why.test(e.message) &&
          /\(\{ a, b, method \}, ctx\) =>/.test(e.message) &&
          /\{ style: "object" \}/.test(e.message) &&
          /\{ style: "positional" \}/.test(e.message),
      );
    });
  }

  it('{ style: "object" } gives the values object to a plain parameter, and the context second', async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/v1", { style: "object" }, (req, ctx) => [200, req.method, req.a, ctx.path]);
    const res = await app.request("/v1?a=1");
    assert.deepEqual(await res.json(), ["GET", "1", "/v1"]);
  });

  it('{ style: "positional" } keeps a value that happens to have such a member', async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/p", { methods: ["POST"], style: "positional" }, (req: { path: string }) => [200, req.path]);
    const res = await app.request("/p", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ req: { path: "/inside/the/body" } }),
    });
    assert.deepEqual(await res.json(), "/inside/the/body");
  });

  it("the seed's positional handlers, values' own methods and file parts still bind", () => {
    const app = createApp({ logLevel: "silent" });
    const ok = [
      "(function (a, b) { return [200, a, b]; })",
      "(function (a, b, ...args) { return [200, a, b, args]; })",
      "((name) => [200, name.toUpperCase(), name.length])",
      "(function (file) { return [200, file.filename, file.type, file.data.length]; })",
      "(function (f) { return [200, f.data.byteLength]; })", // an uploaded file's bytes
      "(function (f) { return [200, f.type, f.data]; })",
      "(function (a) { return [200, this.path, this.query.get('a')]; })",
    ];
    ok.forEach((src, i) => {
      app.bind(`/ok${i}`, new Function(`return ${src}`)() as () => [number]);
    });
  });
});
