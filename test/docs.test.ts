/**
 * Docs drift: the README's error tables list exactly the codes that exist,
 * with their statuses; the specification the tests and comments cite is in
 * the repository (docs/), and every row cited exists there.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { ERRORS } from "usrv";
import { CLIENT_ERRORS } from "usrv/client";
import { BINANCE_ERRORS } from "usrv/plugins/binance";
import { PINATA_ERRORS } from "usrv/plugins/pinata";
import { CRYPTO_ERRORS } from "usrv/secp256k1";

it("README error table == ERRORS", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const rows = [...readme.matchAll(/^\| `(USRV_ERR_\w+)` \| (\d+|any) \| (.+) \|$/gm)].map((m) => [
    m[1],
    m[2],
    m[3],
  ]);
  const want = Object.entries(ERRORS).map(([code, [status, meaning]]) => [
    code,
    status === null ? "any" : String(status),
    meaning,
  ]);
  assert.deepEqual(rows, want);
});

it("README client error table == CLIENT_ERRORS", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const rows = [...readme.matchAll(/^\| `(USRV_ERR_CLIENT_\w+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(rows, Object.entries(CLIENT_ERRORS));
});

for (const [label, code, table] of [
  ["Pinata", "USRV_ERR_PINATA_\\w+", PINATA_ERRORS],
  ["Binance", "USRV_ERR_BINANCE_\\w+", BINANCE_ERRORS],
  // usrv/secp256k1 shares codes with the core (USRV_ERR_BAD_KEY): its rows are the ones without a status
  ["usrv/secp256k1", "USRV_ERR_(?!CLIENT_|PINATA_|BINANCE_)\\w+", CRYPTO_ERRORS],
] as const) {
  it(`README ${label} error table == its module's table`, () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const row = new RegExp(`^\\| \`(${code})\` \\| (?!(?:\\d+|any) \\| )(.+) \\|$`, "gm");
    const rows = [...readme.matchAll(row)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, Object.entries(table));
  });
}

const root = new URL("../../", import.meta.url);
const text = (path: string) => readFileSync(new URL(path, root), "utf8");

/** Every text file git tracks under the given folders (the repository as a clone has it). */
function tracked(...folders: string[]): string[] {
  return execFileSync("git", ["ls-files", "-z", "--", ...folders], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter((f) => f !== "" && !/\.(png|jpg|gz|br|wasm)$/.test(f));
}

it("the repository stands alone: nothing in it reads the specification folder beside it", () => {
  const outside = tracked(".").filter((f) => /\.\.\/shared\b|shared\/spec\//.test(text(f)));
  assert.deepEqual(outside, []);
});

it("every behaviour row cited in the README and the sources exists in docs/behaviour.md", () => {
  const rows = new Set(
    [...text("docs/behaviour.md").matchAll(/^\| ([BVRSCIPEHGOW]\d+) \|/gm)].map((m) => m[1]),
  );
  assert.ok(rows.size > 30, `docs/behaviour.md lists ${rows.size} rows`);
  const cited = new Map<string, string>();
  for (const f of ["README.md", ...tracked("src")]) {
    for (const m of text(f).matchAll(/\b(?:rows? |\()([BVRSCIPEHGOW]\d+)\b/g)) cited.set(m[1]!, f);
  }
  for (const [row, file] of cited)
    assert.ok(rows.has(row), `${file} cites ${row}, which docs/behaviour.md lacks`);
});

it("the README links each behaviour row it cites to docs/behaviour.md", () => {
  const readme = text("README.md");
  const bare = [...readme.matchAll(/[^[]\b(?:rows? |\()([BVRSCIPEHGOW]\d+)\b/g)].map((m) => m[0]);
  assert.deepEqual(bare, []);
});

it("every test the README's security model and docs/wire-v2.md name exists, word for word", () => {
  const readme = text("README.md");
  const model = readme.slice(readme.indexOf("### Security model"));
  const table = model.slice(0, model.indexOf("\n## ")) + text("docs/wire-v2.md");
  const named = [...table.matchAll(/^\|.*\| (".+") \|$/gm)].flatMap((m) =>
    [...m[1]!.matchAll(/"([^"]+)"/g)].map((n) => n[1]!),
  );
  assert.ok(named.length >= 7, `the threat table names ${named.length} tests`);
  const tests = tracked("test")
    .filter((f) => f.endsWith(".test.ts"))
    .map(text)
    .join("\n");
  for (const name of named) assert.ok(tests.includes(`"${name}"`), `no test is named "${name}"`);
});
