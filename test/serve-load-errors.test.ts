/**
 * S3: a binding module that does not load is one line naming the place to
 * fix, `file:line:column`, whatever the kind of error (syntax, early error,
 * missing export, a throw at the top level), in JavaScript or TypeScript,
 * in the module or in one it imports, in one process or in workers. The
 * suite runs on Node 20 (TypeScript through tsx) and on Node 24 (Node's own
 * type stripping), whose TypeScript parsers word and place some errors
 * differently: those rows accept either column.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { CLI } from "./fixtures/serve-helpers.js";

const DIR = mkdtempSync(join(tmpdir(), "usrv-load-"));
after(() => rmSync(DIR, { recursive: true, force: true }));
const nativeTs = Boolean((process.features as { typescript?: string }).typescript);

const FILES: Record<string, string> = {
  "package.json": '{ "type": "module" }\n',
  "end.mjs": "const a = 1;\nfunction f() {\n  return a;\n",
  "token.js": "const a = 1;\nconst b = ;\n",
  "twice.mjs": "let a = 1;\nlet a = 2;\n",
  "ok.mjs": "export const yes = 1;\n",
  "no-export.mjs": 'import { yes } from "./ok.mjs";\nimport { nope } from "./ok.mjs";\n',
  "lib/end.mjs": "export function f() {\n  return 1;\n",
  "outer.mjs": 'import { f } from "./lib/end.mjs";\nf();\n',
  "lib/token.cjs": "const a = 1;\nconst b = ;\n",
  "outer-cjs.mjs": 'import "./lib/token.cjs";\n',
  "throws.mjs": 'const ready = false;\nif (!ready) throw new Error("database is down");\n',
  "end.ts": "const a: number = 1;\nfunction f(): number {\n  return a;\n",
  "arrow.ts": "const a: number = 1;\nconst b = (x: number => x;\n",
  "outer.ts": 'import { f } from "./lib/end.mjs";\nconst n: number = f();\nconsole.log(n);\n',
  "throws.ts": 'const ready: boolean = false;\nif (!ready) throw new Error("database is down");\n',
  "enum.ts": "enum E {\n  A,\n}\nexport const x = E.A;\n",
};
for (const [name, text] of Object.entries(FILES)) {
  mkdirSync(dirname(join(DIR, name)), { recursive: true });
  writeFileSync(join(DIR, name), text);
}

const ROWS: [string, string, RegExp][] = [
  ["an unclosed block (.mjs)", "end.mjs", /^SyntaxError: Unexpected end of input at end\.mjs:4:1$/],
  ["an unexpected token (.js)", "token.js", /^SyntaxError: Unexpected token ';' at token\.js:2:11$/],
  [
    "a name declared twice",
    "twice.mjs",
    /^SyntaxError: Identifier 'a' has already been declared at twice\.mjs:2:5$/,
  ],
  [
    "an import of a missing export",
    "no-export.mjs",
    /^SyntaxError: The requested module '\.\/ok\.mjs' does not provide an export named 'nope' at no-export\.mjs:2:10$/,
  ],
  [
    "a syntax error in an imported module",
    "outer.mjs",
    /^SyntaxError: Unexpected end of input at lib\/end\.mjs:3:1$/,
  ],
  [
    "a syntax error in an imported CommonJS file",
    "outer-cjs.mjs",
    /^SyntaxError: Unexpected token ';' at lib\/token\.cjs:2:11$/,
  ],
  ["a throw at the top level (.mjs)", "throws.mjs", /^database is down at throws\.mjs:2:19$/],
  ["an unclosed block (.ts)", "end.ts", /^SyntaxError: .+ at end\.ts:4:1$/],
  ["an unexpected token (.ts)", "arrow.ts", /^SyntaxError: .+ at arrow\.ts:2:(22|26)$/],
  [
    "a syntax error in a module a .ts imports",
    "outer.ts",
    /^SyntaxError: Unexpected end of input at lib\/end\.mjs:3:1$/,
  ],
  ["a throw at the top level (.ts)", "throws.ts", /^database is down at throws\.ts:2:19$/],
];
if (nativeTs)
  ROWS.push([
    "an enum, which type stripping cannot erase (Node 24)",
    "enum.ts",
    /^SyntaxError: TypeScript enum is not supported in strip-only mode at enum\.ts:1:1 \(Node's built-in TypeScript only strips types: .+\)$/,
  ]);

describe("S3: a binding module that does not load names file:line:column", () => {
  for (const threads of ["1", "2"]) {
    for (const [what, module, why] of ROWS) {
      it(`S3: ${what} (-t ${threads}): one line with the place, exit 1`, () => {
        const r = spawnSync(process.execPath, [CLI, "serve", "-t", threads, "-p", "0", "-l", "40", module], {
          cwd: DIR,
          encoding: "utf8",
          env: { ...process.env, USRV_HOME: DIR },
          timeout: 60_000,
        });
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.stdout, "");
        const lines = r.stderr.split("\n").filter(Boolean);
        assert.equal(lines.length, 1, r.stderr);
        const prefix = `usrv serve: cannot load ${module}: `;
        assert.ok(lines[0]!.startsWith(prefix), r.stderr);
        assert.match(lines[0]!.slice(prefix.length), why);
      });
    }
  }
});
