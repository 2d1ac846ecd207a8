/**
 * V5/V6: the parameter scanner (src/core/param-scanner.ts) against acorn. Many
 * generated functions of every form (function, async, generator, arrows with
 * and without parentheses, method shorthand, getters and setters, class
 * methods, computed names), with defaults and bodies full of what hides a
 * comma or a bracket (nested brackets, strings of three kinds, templates with
 * `${}` nested, regular expressions, comments): wherever the scanner answers,
 * it answers what acorn's tree gives (the parameters and the body's reads of
 * them, in the walk's order); on the common forms it always answers. And
 * `import "usrv"` loads no acorn. A failure prints the smallest source found
 * and the seed to replay it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseExpressionAt } from "acorn";
import fc from "fast-check";
import { BindError, createApp, setParamParser } from "usrv";

// Internal modules, from tsc's output (build/lib; dist/ holds their types and the bundled entries).
type ScannerModule = typeof import("../dist/core/param-scanner.js");
type ParamsModule = typeof import("../dist/core/params.js");
const { scanParams } = (await import(
  new URL("../../build/lib/core/param-scanner.js", import.meta.url).href
)) as ScannerModule;
const { parseParams } = (await import(
  new URL("../../build/lib/core/params.js", import.meta.url).href
)) as ParamsModule;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Anything: every property, call and construction gives itself; as a key, "k". */
const any: any = new Proxy(() => {}, {
  get: (_, key) => (key === Symbol.toPrimitive ? () => "k" : any),
  apply: () => any,
  construct: () => any,
});
/** Parameter names: common ones, and names that are keywords in places (`of`, `let`...: the full forms only). */
const COMMON_NAMES = ["a", "b", "req", "ctx", "file", "name", "$x", "_y", "é"];
const CONTEXTUAL_NAMES = ["get", "async", "of", "let", "yield", "await", "static"];
/** Names a generated source may use without declaring them. */
const FREE = [...COMMON_NAMES, ...CONTEXTUAL_NAMES, "f", "x", "tag", "F"];

/** The function a generated expression gives, or undefined when it is not valid JavaScript. */
function make(expr: string): Function | undefined {
  try {
    const fn = new Function(...FREE, `return ${expr}`)(...FREE.map(() => any));
    return typeof fn === "function" ? fn : undefined;
  } catch {
    return undefined;
  }
}

// ---- generators ---------------------------------------------------------------------------------

/** "common": what handlers are made of; "full": also what the scanner may decline (a `/` after `}`...). */
type Mode = "common" | "full";

const KEYS = "method headers path query params body data filename type length x".split(" ");
const pieces = (list: string[], max = 6) =>
  fc.array(fc.constantFrom(...list), { maxLength: max }).map((p) => p.join(""));
const STRING_PIECES = "a|,|)|(|]|[|}|{|/|*|`|${|\\'|\\\"|\\\\|//|/*| ".split("|");
// escapes, a line continuation
STRING_PIECES.push("\\x41", "\\u0041", "\\u{1F600}", "\\n", "\\\n", "\\0", "\\q");
/** `key` spelled with an escape: `\x6dethod`. */
const escaped = (key: string) => `\\x${key.charCodeAt(0).toString(16)}${key.slice(1)}`;
const TEMPLATE_PIECES = "a|,|)|(|]|[|}|{|/|'|\"|\\`|\\${| |//|/*|=>".split("|");
const REGEX_PIECES = "a|,|\\)|\\(|[)(,\\]]|\\/|[/]|}|x*|[}{]|\\[| |'|\"|`".split("|");

const atom = (names: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom("1", ".5", "0x1F", "1e3", "1_000", "10n", "1.5e-3", "0", "1..toString()"),
    fc.tuple(fc.constantFrom("'", '"'), pieces(STRING_PIECES)).map(([q, s]) => `${q}${s}${q}`),
    pieces(TEMPLATE_PIECES).map((s) => `\`${s}\``),
    fc
      .tuple(fc.constantFrom(...REGEX_PIECES), pieces(REGEX_PIECES, 4), fc.constantFrom("", "g", "gi", "m"))
      .map(([h, s, flags]) => `/${h}${s}/${flags}`),
    fc.constantFrom(...names, "x", "undefined", "this", "null"),
  );

/** An expression over `names`: nested brackets, strings, templates, regexes, comments, functions. */
function exprArb(names: string[], mode: Mode): fc.Arbitrary<string> {
  const { e } = fc.letrec<{ e: string }>((tie) => {
    const E = tie("e");
    const two = fc.tuple(E, E);
    const compounds: fc.Arbitrary<string>[] = [
      two.map(([a, b]) => `f(${a}, ${b})`),
      two.map(([a, b]) => `[${a}, ${b}]`),
      two.map(([a, b]) => `({ k: ${a}, "s,)": ${b}, [${a}]: 1 })`),
      E.map((a) => `(${a})`),
      two.map(([a, b]) => `${a} + ${b}`),
      two.map(([a, b]) => `(${a}) / ${b}`),
      fc.tuple(E, E, E).map(([a, b, c]) => `${a} ? ${b} : ${c}`),
      E.map((a) => `(x) => ${a}`),
      two.map(([a, b]) => `(x, y = ${a}) => { return ${b}; }`),
      two.map(([a, b]) => `function (z = ${a}) { return ${b} }`),
      two.map(([a, b]) => `tag\`a\${${a}}b\${\`c\${${b}}\`}\``),
      two.map(([a, b]) => `\`\${${a}},)\${{ x: ${b} }.x}\``),
      E.map((a) => `${a}?.k`),
      two.map(([a, b]) => `${a}[${b}]`),
      E.map((a) => `/* c,) */ ${a}`),
      E.map((a) => `${a} // c,) }\n`),
      E.map((a) => `new F(${a})`),
      E.map((a) => `typeof ${a}`),
      E.map((a) => `!${a}`),
      two.map(([a, b]) => `{ a: ${a}, ...${b} }.a`),
    ];
    if (mode === "full") {
      compounds.push(
        two.map(([a, b]) => `${a} / ${b}`), // after `}`: the scanner may decline
        two.map(([a, b]) => `(function () {} / ${a}, ${b})`),
        E.map((a) => `async () => await ${a}`),
        E.map((a) => `class { static m(q = ${a}) { return q } }`),
        E.map((a) => `(() => { return { x: 1 } })() / ${a}`),
      );
    }
    return { e: fc.oneof({ maxDepth: 3, depthSize: "small" }, atom(names), ...compounds) };
  });
  return e;
}

/** A read of parameter `p` in the body (what the REQUEST_MEMBERS heuristic looks at), or a decoy. */
function readArb(p: string, names: string[], mode: Mode): fc.Arbitrary<string> {
  const key = fc.constantFrom(...KEYS);
  const E = exprArb(names, mode);
  const reads: fc.Arbitrary<string>[] = [
    key.map((k) => `${p}.${k}`),
    key.map((k) => `${p}?.${k}`),
    fc.constantFrom(...KEYS, "", "a b").map((k) => `${p}["${k}"]`),
    key.map((k) => `${p}?.['${k}']`),
    key.map((k) => `${p}["${escaped(k)}"]`),
    key.map((k) => `${p}[('${k}')]`),
    key.map((k) => `${p}[\`${k}\`]`),
    key.map((k) => `(${p}).${k}`),
    key.map((k) => `((${p})).${k}`),
    key.map((k) => `f(${p}).${k}`),
    key.map((k) => `f((${p})).${k}`),
    key.map((k) => `x.${p}.${k}`),
    key.map((k) => `this.${p}.${k}`),
    key.map((k) => `new ${p}.${k}()`),
    fc.constant(`${p}.data.length`),
    fc.constant(`${p}.data[0]`),
    fc.constant(`${p}["data"].byteLength`),
    fc.constant(`(${p}.data).length`),
    fc.constant(`(${p}?.data).length`),
    fc.constant(`${p}?.data?.length`),
    fc.constant(`(${p})?.data.length`),
    fc.constant(`((${p})?.data).length`),
    fc.constant(`f(${p}.data).length`),
    fc.constant(`${p}.data`),
    fc.constant(`${p}.data()`),
    E.map((e) => `${p}[${e}]`),
    fc.constant(p),
    fc.constant(`({ ${p} })`),
    fc.constant(`{ ${p}: 1 }.${p}`),
    key.map((k) => `"${p}.${k}"`),
    key.map((k) => `/${p}.${k}/`),
    key.map((k) => `\`\${${p}.${k}}\``),
    key.map((k) => `/* ${p}.${k} */ 0`),
    key.map((k) => `(${p}) => ${p}.${k}`),
    key.map((k) => `${p}.${k}\n.trim()`),
  ];
  if (mode === "full") {
    reads.push(
      key.map((k) => `${p}\n["${k}"]`), // ASI or a member? the scanner declines
      key.map((k) => `{}.x, (${p}).${k}`),
    );
  }
  return fc.oneof(...reads);
}

/** A statement of the body, reading `p` in one of the ways that matter, or around them. */
function statementArb(p: string, names: string[], mode: Mode): fc.Arbitrary<string> {
  const R = readArb(p, names, mode);
  const E = exprArb(names, mode);
  const key = fc.constantFrom(...KEYS, "default");
  const statements: fc.Arbitrary<string>[] = [
    fc.tuple(R, E).map(([r, e]) => `return [200, ${r}, ${e}];`),
    fc.tuple(R, E).map(([r, e]) => `x = ${r} + ${e};`),
    fc.tuple(key, key).map(([k, j]) => `const { ${k}, ${j}: v1 } = ${p};`),
    fc.tuple(key, R).map(([k, r]) => `let { ${k}: v2 = ${r}, ...more } = (${p});`),
    key.map((k) => `var { "${k}": v3 } = ${p}\nx = 1`),
    key.map((k) => `const { '${escaped(k)}': v8 } = ${p};`),
    key.map((k) => `const [ v4 ] = ${p}, { ${k}: v5 } = {};`),
    key.map((k) => `const { ${k}: v9 } = ${p}, v10 = 1;`),
    fc.tuple(key, E).map(([k, e]) => `let v7 = ${e},\n  v11 = (${e}), { ${k} } = ${p};`),
    key.map((k) => `x = f(1, { ${k} } = ${p});`),
    key.map((k) => `for (const { ${k} } of [${p}]) {}`),
    key.map((k) => `const { ${k}: v6 } = ${p}.data;`),
    key.map((k) => `({ ${k}: x } = ${p});`),
    R.map((r) => `if (${p}) [${r}].map(String);`),
    R.map((r) => `if (x) (${p}).method; else ${r};`),
    R.map((r) => `while (x) { ${r}; break; }`),
    fc.tuple(R, E).map(([r, e]) => `label: for (let i = 0; i < ${e}; i++) { ${r}; break label; }`),
    R.map((r) => `function g(${p}) { return ${r}; }`),
    R.map((r) => `x = { get [${r}]() { return 1; }, m(${p}) {} };`),
    fc.tuple(R, E).map(([r, e]) => (mode === "full" ? `x = ${e} / ${r} / 2;` : `x = (${e}) / ${r} / 2;`)),
    R.map((r) => `// ${r.replaceAll("\n", " ")}\nx = 1;`),
    R.map((r) => `x = '${p}.method' + "${p}.headers" + \`\${${r}}\`;`),
    R.map((r) => `if (/[/]${p}.method/.test(x)) ${r};`),
    R.map((r) => `try { ${r}; } catch (${p}) { ${p}.method; } finally { x = 1; }`),
    E.map((e) => `x = ${e};`),
  ];
  if (mode === "full") {
    statements.push(
      R.map((r) => `if (x) {}\n/re/.test(${r});`),
      key.map((k) => `const v7 = 1\nx, { ${k} } = ${p};`), // ASI: no declarator; the scanner declines
      key.map((k) => `{}\n(${p}).${k};`),
    );
  }
  return fc.oneof(...statements);
}

/** One parameter at position `i` (names inside patterns are the position's own: no duplicates). */
function paramArb(name: string, i: number, names: string[], mode: Mode, last: boolean): fc.Arbitrary<string> {
  const D = exprArb(names, mode);
  const def = fc.option(D, { nil: undefined }).map((d) => (d === undefined ? "" : ` = ${d}`));
  const forms: fc.Arbitrary<string>[] = [
    def.map((d) => `${name}${d}`),
    fc.tuple(D, def).map(([e, d]) => `{ k${i}, j${i}: v${i} = ${e}, ...o${i} }${d}`),
    fc.tuple(D, def).map(([e, d]) => `[w${i}, , [u${i}] = ${e}]${d}`),
  ];
  if (last) forms.push(fc.constantFrom(`...${name}`, `...{ r${i} }`, `...[s${i}]`));
  return fc.oneof({ weight: 4, arbitrary: forms[0]! }, ...forms.slice(1));
}

/** The function as a generated expression that gives it (its toString is what params.ts reads). */
function functionArb(mode: Mode): fc.Arbitrary<string> {
  const pool = mode === "full" ? [...COMMON_NAMES, ...CONTEXTUAL_NAMES] : COMMON_NAMES;
  return fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 4 }).chain((names) => {
    const p = fc.constantFrom(...names, ...names, "x"); // mostly a parameter
    const params = fc
      .tuple(...names.map((n, i) => paramArb(n, i, names, mode, i === names.length - 1)))
      .map((ps) => ps.join(", "));
    const sep = fc.constantFrom("\n", " ", "; ", " /* ; */\n");
    const body = p
      .chain((q) => fc.array(statementArb(q, names, mode), { minLength: 1, maxLength: 4 }))
      .chain((ss) => sep.map((s) => `{${s}${ss.join(s)}${s}}`));
    const exprBody = p.chain((q) => readArb(q, names, mode)).map((r) => `[200, ${r}]`);
    const key = fc.oneof(
      fc.constantFrom("m", "get", "set", "async", "static", "function", "class", "of"),
      fc.constantFrom('"a b"', "'m,)'", "1", "0x10", "1n"),
      exprArb(names, mode).map((e) => `[${e}]`),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
      fc.constant("[`k${1}`]"),
    );
    return fc.oneof(
      fc
        .tuple(fc.constantFrom("function", "async function", "function*", "async function *"), params, body)
        .chain(([kw, ps, b]) => fc.constantFrom("", " handler", " h2").map((n) => `(${kw}${n}(${ps}) ${b})`)),
      fc
        .tuple(
          fc.constantFrom("", "async "),
          params,
          fc.oneof(body, exprBody),
          fc.constantFrom("", "\n", " /* => */ "),
        )
        .map(([a, ps, b, s]) => `(${a}(${ps})${s}=> ${b})`),
      fc
        .tuple(fc.constantFrom("", "async "), fc.oneof(body, exprBody))
        .map(([a, b]) => `(${a}${names[0]} => ${b})`),
      fc
        .tuple(fc.constantFrom("", "async ", "*", "async *"), key, params, body, fc.boolean())
        .map(([pre, k, ps, b, inClass]) => memberOf(`${pre}${k}(${ps}) ${b}`, inClass)),
      fc.tuple(key, body, fc.boolean()).map(([k, b, inClass]) => memberOf(`get ${k}() ${b}`, inClass)),
      fc
        .tuple(key, body, fc.boolean())
        .map(([k, b, inClass]) => memberOf(`set ${k}(${names[0]}) ${b}`, inClass)),
    );
  });
}

/** An object's (or a class's) one member, as the function it defines. */
function memberOf(member: string, inClass: boolean): string {
  const own = inClass ? "class C { MEMBER }.prototype" : "{ MEMBER }";
  return (
    `(() => { const d = Object.getOwnPropertyDescriptors(${own.replace("MEMBER", member)}); delete d.constructor; ` +
    "const v = d[Reflect.ownKeys(d)[0]]; return v.value ?? v.get ?? v.set; })()"
  );
}

// ---- properties ---------------------------------------------------------------------------------

/** Both readers on one function's source; undefined when the generated text is not valid JavaScript. */
function compare(expr: string, readBody: boolean) {
  const fn = make(expr);
  if (fn === undefined) return undefined;
  const src = Function.prototype.toString.call(fn);
  return { src, scanned: scanParams(src, readBody), parsed: parseParams(parseExpressionAt, src, readBody) };
}

describe("V5/V6: the parameter scanner reads what acorn reads", () => {
  for (const mode of ["common", "full"] as const) {
    it(`${mode} forms: wherever the scanner answers, it answers acorn's parameters and reads${mode === "common" ? ", and it always answers" : ""}`, () => {
      fc.assert(
        fc.property(functionArb(mode), fc.constantFrom(true, true, true, false), (expr, readBody) => {
          const r = compare(expr, readBody);
          fc.pre(r !== undefined && r.parsed !== undefined);
          if ("unknown" in r.scanned) {
            assert.notEqual(mode, "common", `declined ${JSON.stringify(r.src)}: ${r.scanned.unknown}`);
            return;
          }
          assert.deepEqual(r.scanned, r.parsed, r.src);
        }),
        { numRuns: mode === "common" ? 3000 : 2000 },
      );
    });
  }

  // What the generators do not make, by hand: [what, source, scanner's params (names; {} object, [] array, ... rest)].
  const table: [string, string, string[] | "unknown"][] = [
    ["private method (acorn cannot read it alone)", "#m(a, b = ')') {}", ["a", "b"]],
    ["getter", "get x() { return 1 }", []],
    ["unicode names and spaces", "(é,\u00a0ß\u3000= 1) => 0", ["é", "ß"]],
    ["a class", "class A { constructor(a) {} }", "unknown"],
    ["method named class", "class(a) {}", ["a"]],
    ["arrow named async", "async => 0", ["async"]],
    ["async arrow, one bare param", "async a => 0", ["a"]],
    ["escaped name", "(\\u0061) => 0", "unknown"],
    ["a `/` after `}` in a default", "(a = {} / 2) => 0", "unknown"],
    ["HTML-like comment", "(a) => { x\n--> b\n}", ["a"]],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source under test
    ["nested templates", "(a = `${`${'}'}`}`, b) => 0", ["a", "b"]],
    ["regex class holding a slash", "(a = /[/]/, b) => 0", ["a", "b"]],
    ["comment closing a paren", "function (a /* ) */, b // )\n) {}", ["a", "b"]],
    ["trailing comma", "function (a, b,) {}", ["a", "b"]],
  ];
  for (const [what, src, want] of table) {
    it(`${what}: ${want === "unknown" ? "declined" : "read"}`, () => {
      const r = scanParams(src, false);
      if (want === "unknown") {
        assert.ok("unknown" in r, JSON.stringify(r));
        return;
      }
      assert.ok(!("unknown" in r), JSON.stringify(r));
      const names = r.params.map((p) => ("name" in p ? p.name : "rest" in p ? "..." : p.pattern));
      assert.deepEqual(names, want);
    });
  }
  it("the HTML-like comment's body is declined, not misread", () => {
    const r = scanParams("(a) => { x\n--> a.method\n}", true);
    assert.ok("unknown" in r && r.inBody);
  });
});

describe("V5/V6: where the scanner declines, a registered parser reads it, else bind says what settles it", () => {
  const declined = new Function("return (a) => { x = {} / a.length; return [200, a]; }")() as () => [number];
  const declinedList = new Function(
    "return function handler(a = {} / 2, b) { return [200, a, b]; }",
  )() as () => [number];
  after(() => setParamParser(undefined));

  it("without a parser: a BindError naming the function, where, and the options", () => {
    const app = createApp({ logLevel: "silent" });
    assert.throws(
      () => app.bind("/x", declined),
      (e: Error) =>
        e instanceof BindError &&
        /`\/` after `\}`/.test(e.message) &&
        /1:17/.test(e.message) &&
        /\{ style: "positional" \}/.test(e.message),
    );
    assert.throws(
      () => app.bind("/y", declinedList),
      (e: Error) =>
        e instanceof BindError &&
        /"handler"/.test(e.message) &&
        /Pass \{ params: \[\.\.\.\] \}/.test(e.message) &&
        /\{ style: "object" \}/.test(e.message),
    );
    app.bind("/x", { style: "positional" }, declined); // the body is not read then
    app.bind("/y", { params: ["a", "b"] }, declinedList);
  });

  it("with acorn registered: read as before", () => {
    setParamParser(parseExpressionAt);
    const app = createApp({ logLevel: "silent" });
    app.bind("/x", declined);
    app.bind("/y", declinedList);
    const hit = app.router.find("GET", "/y");
    assert.ok(!("status" in hit));
    assert.deepEqual(hit.value.shape, { style: "positional", names: ["a", "b"], rest: false, arrow: false });
  });
});

describe('V5/V6: import "usrv" loads no acorn', () => {
  it("with acorn unloadable, usrv imports and binds both styles", () => {
    const hook = `export async function resolve(s, c, next) {
      if (s === "acorn" || s.startsWith("acorn/")) throw new Error("acorn was loaded");
      return next(s, c);
    }`;
    const script = `
      import { register } from "node:module";
      register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));
      const { createApp } = await import("usrv");
      const app = createApp({ logLevel: "silent" });
      app.bind("/a", function (a, b = f(1, 2), ...args) { return [200, a, b, args]; });
      app.bind("/b", ({ a, b }, ctx) => [200, a, b, ctx.path]);
      app.bind("/c", (file) => [200, file.filename, file.data.length]);
      console.log("bound");`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.equal(r.stdout.trim(), "bound", r.stderr);
  });
});
