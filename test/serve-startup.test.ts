/**
 * S3: `usrv serve` stopped or failing during its start-up: one line on
 * stderr, no stack from the primary or the workers, every worker gone, and
 * the exit code a shell gives that signal (130 for SIGINT, 143 for SIGTERM).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dumpSecret } from "usrv/secp256k1";
import { spawnServe } from "./fixtures/serve-helpers.js";

const HOME = mkdtempSync(join(tmpdir(), "usrv-startup-"));
after(() => rmSync(HOME, { recursive: true, force: true }));
before(() => dumpSecret("stored", "482913", { home: HOME }).then(() => undefined));

const CODE = { SIGINT: 130, SIGTERM: 143 } as const;

/** One line of `usrv serve` on stderr, and no trace of a stack or a broken pipe anywhere. */
function assertOneLine(out: string, line: string): void {
  assert.equal(
    out
      .split("\n")
      .filter((l) => l.startsWith("usrv"))
      .join("\n"),
    line,
    out,
  );
  assert.doesNotMatch(out, /\n\s+at |EPIPE|ERR_IPC|Error/, out);
}

describe("S3: signals during start-up", () => {
  for (const threads of [1, 2]) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      for (const target of ["the primary", "the process group"] as const) {
        it(`S3: ${signal} to ${target} while the bindings load (-t ${threads}): exit ${CODE[signal]}, one line, no worker left`, async () => {
          const s = spawnServe(
            ["-t", String(threads), "-p", "0", "bind-slow-start.mjs"],
            { USRV_HOME: HOME },
            {
              detached: true,
            },
          );
          // every serving process is inside the binding module's top level
          const re = /loading in (\d+)\n/g;
          await s.waitFor(threads === 1 ? /loading in \d+\n/ : /loading in \d+\n[\s\S]*loading in \d+\n/);
          const loading = [...s.out().matchAll(re)].map((m) => Number(m[1]));
          process.kill(target === "the primary" ? s.pid : -s.pid, signal);
          assert.equal(await s.exit, CODE[signal]);
          assertOneLine(s.out(), `usrv serve: stopped during start-up (${signal})`);
          for (const pid of loading) assert.ok(!existsSync(`/proc/${pid}`), `process ${pid} is gone`);
        });
      }
    }
  }
});

describe("S3: the PIN prompt of --identity stored", () => {
  it("I2: input at its end and no USRV_PIN: one line naming USRV_PIN, exit 1", async () => {
    const s = spawnServe(["-t", "1", "-p", "0", "--identity", "stored"], { USRV_HOME: HOME });
    assert.equal(await s.exit, 1);
    assert.match(s.out(), /^PIN of the stored secret: \n/);
    assertOneLine(
      s.out().replace(/^PIN of the stored secret: \n/, ""),
      "usrv serve: --identity stored needs the PIN: set USRV_PIN, or start usrv serve where it can ask (the input ended)",
    );
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`I2: ${signal} while the prompt waits: exit ${CODE[signal]}, one line`, async () => {
      const s = spawnServe(
        ["-t", "2", "-p", "0", "--identity", "stored"],
        { USRV_HOME: HOME },
        { stdin: "pipe" },
      );
      await s.waitFor(/PIN of the stored secret: /);
      s.child.kill(signal);
      assert.equal(await s.exit, CODE[signal]);
      assertOneLine(
        s.out().replace(/^PIN of the stored secret: \n/, ""),
        `usrv serve: stopped during start-up (${signal})`,
      );
    });
  }
});
