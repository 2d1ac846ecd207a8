/**
 * I1/I2: where `usrv serve` keeps its secrets, read from the outside as
 * another process would: /proc/PID/cmdline (any local user can read it) and
 * /proc/PID/environ (the same user can) of the primary, of the workers and
 * of a process a handler starts, and process.env as a handler sees it. No
 * command line holds the identity secret or the PIN; no environment but the
 * primary's own initial one (the kernel keeps it as it was at exec) does.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dumpSecret, generateKeypair } from "usrv/secp256k1";
import { fresh, probeAll, startServe } from "./fixtures/serve-helpers.js";

const HOME = mkdtempSync(join(tmpdir(), "usrv-secrets-"));
after(() => rmSync(HOME, { recursive: true, force: true }));
const SECRET = "s3cret-Passphrase-q7Zk";
const STORED = "stored-Secret-w9Xv";
const PIN = "735194";
const FILE = join(HOME, "identity.txt");

before(async () => {
  await dumpSecret(STORED, PIN, { home: HOME });
  writeFileSync(FILE, `${SECRET}\n`, { mode: 0o600 });
});

interface Row {
  name: string;
  args: string[];
  env: Record<string, string>;
  /** The secret the key is derived from. */
  key: string;
  /** The strings no other process may see. */
  secrets: string[];
  /** Given through the environment: the primary's /proc environ keeps it (documented). */
  viaEnv: boolean;
}

const ROWS: Row[] = [
  {
    name: "--identity secret:TEXT",
    args: ["--identity", `secret:${SECRET}`],
    env: {},
    key: SECRET,
    secrets: [SECRET],
    viaEnv: false,
  },
  {
    name: "--identity=secret:TEXT",
    args: [`--identity=secret:${SECRET}`],
    env: {},
    key: SECRET,
    secrets: [SECRET],
    viaEnv: false,
  },
  {
    name: "USRV_IDENTITY=secret:TEXT",
    args: [],
    env: { USRV_IDENTITY: `secret:${SECRET}` },
    key: SECRET,
    secrets: [SECRET],
    viaEnv: true,
  },
  {
    name: "--identity file:PATH",
    args: ["--identity", `file:${FILE}`],
    env: {},
    key: SECRET,
    secrets: [SECRET],
    viaEnv: false,
  },
  {
    name: "--identity stored with USRV_PIN",
    args: ["--identity", "stored"],
    env: { USRV_PIN: PIN },
    key: STORED,
    secrets: [STORED, PIN],
    viaEnv: true,
  },
];

const proc = (pid: number, what: "cmdline" | "environ") => readFileSync(`/proc/${pid}/${what}`, "latin1");

describe("I1/I2: usrv serve keeps its secrets out of other processes' reach", {
  skip: process.platform !== "linux" && "reads /proc (Linux)",
}, () => {
  for (const threads of [1, 2]) {
    for (const row of ROWS) {
      it(`I1: ${row.name} (-t ${threads}): in no command line, in no environment but the primary's own`, async () => {
        const s = await startServe(
          ["-t", String(threads), "-p", "0", "-l", "40", ...row.args, "bind-probe.mjs"],
          {
            USRV_HOME: HOME,
            ...row.env,
          },
        );
        const get = (path: string) => fresh(`${s.url}${path}`);
        assert.ok(s.out().includes(generateKeypair(row.key).publicKey), "served with that identity");
        const serving = (await probeAll(get, threads)).map((p) => p.pid);
        const child = (await get("/spawn")).body as number;
        try {
          for (const pid of [s.pid, ...serving, child]) {
            const who = pid === s.pid ? "the primary" : pid === child ? "a handler's child" : "a worker";
            const cmdline = proc(pid, "cmdline");
            const environ = proc(pid, "environ");
            for (const secret of row.secrets) {
              assert.ok(!cmdline.includes(secret), `${secret} in the command line of ${who}: ${cmdline}`);
              if (pid !== s.pid || !row.viaEnv)
                assert.ok(!environ.includes(secret), `${secret} in the environment of ${who}`);
            }
            assert.doesNotMatch(environ, /USRV_WORKER_SECRET/);
          }
          for (let i = 0; i < threads * 4; i++) {
            const env = (await get("/env")).body as Record<string, string>;
            for (const name of ["USRV_IDENTITY", "USRV_PIN", "USRV_WORKER_SECRET"])
              assert.equal(env[name], undefined, `${name} in a handler's process.env`);
          }
        } finally {
          process.kill(child, "SIGKILL");
        }
        s.child.kill("SIGTERM");
        assert.equal(await s.exit, 0);
      });
    }
  }
});
