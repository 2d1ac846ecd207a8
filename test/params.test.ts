/**
 * V5/V6: the parameter list read with a real parser, table-driven.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BindError, createApp } from "usrv";

// Built from source text so the compiler cannot rewrite the shapes under test.
const fns: [string, string, unknown][] = [
  ["plain function", "(function (a, b) {})", { style: "positional", names: ["a", "b"], rest: false }],
  ["rest", "(function (a, b, ...args) {})", { style: "positional", names: ["a", "b"], rest: true }],
  [
    "defaults with commas and parens",
    "(function (a = f(1, 2), b = [3, (4)], c = ')') {})",
    { style: "positional", names: ["a", "b", "c"], rest: false },
  ],
  [
    "comments",
    "(function (a /* , x */, // y,\n b) {})",
    { style: "positional", names: ["a", "b"], rest: false },
  ],
  ["arrow", "((a, b) => 0)", { style: "positional", names: ["a", "b"], rest: false }],
  ["arrow, one bare param", "(a => 0)", { style: "positional", names: ["a"], rest: false }],
  ["async arrow", "(async (a, ...r) => 0)", { style: "positional", names: ["a"], rest: true }],
  ["async function", "(async function named(a) {})", { style: "positional", names: ["a"], rest: false }],
  ["method shorthand", "({ m(a, b) {} }).m", { style: "positional", names: ["a", "b"], rest: false }],
  ["async method shorthand", "({ async m(a) {} }).m", { style: "positional", names: ["a"], rest: false }],
  [
    "static class method",
    "(class { static m(a, b = `x`) {} }).m",
    { style: "positional", names: ["a", "b"], rest: false },
  ],
  [
    "array pattern binds nothing",
    "(function ([x, y], b) {})",
    { style: "positional", names: [null, "b"], rest: false },
  ],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
  ["template default", "((a = `)${'('}`, b) => 0)", { style: "positional", names: ["a", "b"], rest: false }],
  ["regex default", "((a = /[)]/g, b) => 0)", { style: "positional", names: ["a", "b"], rest: false }],
  ["object pattern: object style", "(({ a, b }) => 0)", { style: "object", arity: 1 }],
  ["object pattern with default, and the context", "(({ a } = {}, ctx) => 0)", { style: "object", arity: 2 }],
  ["object pattern with rest", "(function ({ a, ...kw }) {})", { style: "object", arity: 1 }],
  ["no params", "(() => 0)", { style: "positional", names: [], rest: false }],
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
