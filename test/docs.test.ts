/**
 * Docs drift: the README's error table lists exactly the codes that exist,
 * with their statuses.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { ERRORS } from "usrv";
import { CLIENT_ERRORS } from "usrv/client";

it("README error table == ERRORS", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const rows = [...readme.matchAll(/^\| `(USRV_ERR_\w+)` \| (\d+|any) \| (.+) \|$/gm)].map((m) => [
    m[1],
    m[2],
    m[3],
  ]);
  const want = Object.entries(ERRORS).map(([code, [status, meaning]]) => [
    code,
    status === 0 ? "any" : String(status),
    meaning,
  ]);
  assert.deepEqual(rows, want);
});

it("README client error table == CLIENT_ERRORS", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const rows = [...readme.matchAll(/^\| `(USRV_ERR_CLIENT_\w+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(rows, Object.entries(CLIENT_ERRORS));
});
