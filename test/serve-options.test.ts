/**
 * S3-S5: every option of `usrv serve`, given as a flag and as its
 * environment variable, takes effect in a serving server, in one process
 * (-t 1) and with workers (-t 2). The options and their variables are read
 * from `usrv serve --help`: an option added there without a row here fails.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@redis/client";
import { decrypt, dumpSecret, encrypt, generateKeypair, sign } from "usrv/secp256k1";
import { h2Client } from "./fixtures/h2-fetch.js";
import {
  type Answer,
  CLI,
  freePort,
  fresh,
  type Probe,
  probeAll,
  type Served,
  startServe,
  until,
  which,
} from "./fixtures/serve-helpers.js";
import { selfSignedCert } from "./fixtures/tls.js";

const signer = generateKeypair("serve options client");

/** The JSON of an answer sealed for `signer` (docs/wire.md: hex body, R in a header). */
function opened<T>(a: { text: string; headers: Record<string, string | string[] | undefined> }): T {
  return JSON.parse(decrypt(signer.privateKey, a.headers["ephemeral-public-key"] as string, a.text)) as T;
}

/** The headers of a signed, bodiless GET for the server key `puk`, as docs/wire.md has them. */
function signedGet(puk: string, nonce: string): Record<string, string> {
  const { R, ciphertext } = encrypt(puk, "");
  return {
    nonce,
    "ephemeral-public-key": R,
    "sender-public-key": signer.publicKey,
    "sender-signature": sign(ciphertext + R + nonce, signer.privateKey),
  };
}

const HOME = mkdtempSync(join(tmpdir(), "usrv-options-"));
after(() => rmSync(HOME, { recursive: true, force: true }));

/** Each long option of `usrv serve --help` and its environment variable. */
function optionsOfHelp(): Map<string, string | undefined> {
  const help = spawnSync(process.execPath, [CLI, "serve", "--help"], { encoding: "utf8" }).stdout;
  const options = new Map<string, string | undefined>();
  let current: string | undefined;
  for (const line of help.split("\n")) {
    const start = /^\s+(?:-\w, )?--([a-z0-9-]+)/.exec(line);
    if (start) options.set((current = start[1]!), undefined);
    else if (!/^\s{8,}\S/.test(line)) current = undefined; // not a continuation line
    const env = /\[(USRV_[A-Z0-9_]+)/.exec(line);
    if (current && env) options.set(current, env[1]!);
  }
  options.delete("help");
  options.delete("version");
  return options;
}
const ENV = optionsOfHelp();

const REDIS = which("redis-server");

// ---------------------------------------------------------------- what the rows need

const CERT = join(HOME, "given.crt");
const KEY = join(HOME, "given.key");
const ID_FILE = join(HOME, "identity.txt");
const PIN = "482913";
const STORED = "the stored server secret";
let redisUrl = "";
let redis: ChildProcess | undefined;

before(async () => {
  selfSignedCert(HOME, "given");
  await dumpSecret(STORED, PIN, { home: HOME });
  writeFileSync(ID_FILE, "file secret\n", { mode: 0o600 });
  if (REDIS) {
    const port = await freePort();
    redis = spawn(REDIS, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", HOME], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      redis!.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("Ready to accept connections")) resolve();
      });
      redis!.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
    redisUrl = `redis://127.0.0.1:${port}`;
  }
});
after(() => redis?.kill("SIGKILL"));

// ---------------------------------------------------------------- the server under test

interface Run extends Served {
  threads: number;
  /** The options it was started with, values made. */
  options: Record<string, Value>;
  /** GET (or another method) on the server, trusting the row's certificate. */
  get(path: string, init?: { method?: string; headers?: Record<string, string> }): Promise<Answer>;
}

/** The public key of the banner. */
const bannerKey = (s: Run) => /public key (\S+)\)/.exec(s.out())![1]!;

/** A fresh Nonce in the reference's format. */
const nonce = () =>
  new Date().toISOString().replace("Z", `${String(Math.floor(Math.random() * 1000)).padStart(3, "0")}+00:00`);

type Value = string | true;

interface Row {
  /** The behaviour row and what the test shows. */
  name: string;
  /** Long option names and values (`true` for a switch, a function for a value made at run time). */
  options: Record<string, Value | (() => Promise<Value> | Value)>;
  /** More environment for the server. */
  env?: Record<string, string>;
  /** The certificate to trust, for HTTPS rows. */
  ca?: () => Buffer;
  skip?: string | false;
  check(s: Run): Promise<void>;
}

const ROWS: Row[] = [
  {
    name: "S3: threads: one process, or workers of the primary, answer",
    options: {},
    async check(s) {
      const probes = await probeAll(s.get, s.threads);
      if (s.threads === 1) {
        assert.match(s.out(), /\(1 process, /);
        assert.equal(probes[0]!.pid, s.pid);
      } else {
        assert.match(s.out(), /\(2 workers, /);
        for (const p of probes) {
          assert.equal(p.ppid, s.pid, "a worker of the primary");
          assert.notEqual(p.pid, s.pid);
        }
      }
    },
  },
  {
    name: "S5: log level info: info lines are written",
    options: { "log-level": "info" },
    async check(s) {
      await s.get("/log");
      await s.waitFor(/probe-error/);
      assert.match(s.out(), /INFO:usrv(\[\d+\])?:probe-info\n/);
    },
  },
  {
    name: "S5: log level error: info lines are not",
    options: { "log-level": "error" },
    async check(s) {
      await s.get("/log");
      await s.waitFor(/probe-error/); // written right after the info line, had it been enabled
      assert.doesNotMatch(s.out(), /probe-info/);
    },
  },
  {
    name: "S3: ip: listens on that address only",
    options: { ip: "127.0.0.2" },
    async check(s) {
      const url = new URL(s.url);
      assert.equal(url.hostname, "127.0.0.2");
      assert.equal((await s.get("/probe")).status, 200);
      await assert.rejects(fresh(`http://127.0.0.1:${url.port}/probe`), /ECONNREFUSED/);
    },
  },
  {
    name: "S3: port: listens on that port",
    options: { port: () => freePort().then(String) },
    async check(s) {
      assert.equal(new URL(s.url).port, s.options.port);
      assert.equal((await s.get("/probe")).status, 200);
    },
  },
  {
    name: "S4: a given certificate and key: HTTPS with them",
    options: { "tls-cert": CERT, "tls-key": KEY },
    ca: () => readFileSync(CERT),
    async check(s) {
      assert.match(s.url, /^https:/);
      assert.equal((await s.get("/probe")).status, 200);
    },
  },
  {
    name: "S4: a self-signed certificate: HTTPS with the one kept under USRV_HOME",
    options: { "tls-self-signed": true },
    ca: () => readFileSync(join(HOME, "tls", "self-signed.crt")),
    async check(s) {
      assert.match(s.url, /^https:/);
      assert.equal((await s.get("/probe")).status, 200);
    },
  },
  {
    name: "S6: http2 with a certificate: h2 for an h2 client, HTTP/1.1 for the others, on one port",
    options: { http2: true, "tls-cert": CERT, "tls-key": KEY },
    ca: () => readFileSync(CERT),
    async check(s) {
      assert.match(s.out(), /, HTTP\/2, /);
      assert.equal((await s.get("/probe")).status, 200); // https over HTTP/1.1
      const h2 = h2Client(s.url, { ca: readFileSync(CERT), servername: "localhost" });
      try {
        const res = await h2.fetch("/probe");
        assert.equal(h2.session.alpnProtocol, "h2");
        assert.equal(res.status, 200);
        assert.equal(typeof ((await res.json()) as Probe).pid, "number");
      } finally {
        await h2.close();
      }
    },
  },
  {
    name: "S6: http2 without a certificate: h2c",
    options: { http2: true },
    async check(s) {
      assert.match(s.url, /^http:/);
      const h2 = h2Client(s.url);
      try {
        const res = await h2.fetch("/probe");
        assert.equal(res.status, 200);
        assert.equal(typeof ((await res.json()) as Probe).pid, "number");
      } finally {
        await h2.close();
      }
    },
  },
  {
    name: "I1: identity random: one key for every process",
    options: { identity: "random" },
    async check(s) {
      for (const p of await probeAll(s.get, s.threads)) assert.equal(p.puk, bannerKey(s));
    },
  },
  {
    name: "I1: identity secret:TEXT: the key derived from TEXT",
    options: { identity: "secret:option secret" },
    async check(s) {
      const puk = generateKeypair("option secret").publicKey;
      assert.equal(bannerKey(s), puk);
      for (const p of await probeAll(s.get, s.threads)) assert.equal(p.puk, puk);
    },
  },
  {
    name: "I1: identity file:PATH: the key derived from the file's text",
    options: { identity: `file:${ID_FILE}` },
    async check(s) {
      const puk = generateKeypair("file secret").publicKey;
      for (const p of await probeAll(s.get, s.threads)) assert.equal(p.puk, puk);
    },
  },
  {
    name: "I2: identity stored: the stored secret's key (PIN from USRV_PIN)",
    options: { identity: "stored" },
    env: { USRV_PIN: PIN },
    async check(s) {
      const puk = generateKeypair(STORED).publicKey;
      for (const p of await probeAll(s.get, s.threads)) assert.equal(p.puk, puk);
    },
  },
  {
    name: "I2: replay store redis://: used nonces are kept in Redis",
    options: { "replay-store": () => redisUrl },
    skip: !REDIS && !process.env.CI && "redis-server not found (Debian: apt-get install redis-server)",
    async check(s) {
      // each process's store connects on its first signed Nonce (an unsigned one
      // proves nothing and stays in the process); on a loaded machine that may take
      // longer than the store's 1 s timeout (503, and the next one tries again)
      const puk = bannerKey(s);
      const connected = new Set<number>();
      await until("every process reaches Redis", async () => {
        const a = await s.get("/probe", { headers: signedGet(puk, nonce()) });
        if (a.status === 200) connected.add(opened<Probe>(a).pid);
        return connected.size === s.threads;
      });
      const n = nonce();
      assert.equal((await s.get("/probe", { headers: signedGet(puk, n) })).status, 200);
      assert.equal((await s.get("/probe", { headers: signedGet(puk, n) })).status, 412);
      const client = createClient({ url: redisUrl });
      await client.connect();
      try {
        const keys = await client.keys("*");
        assert.ok(
          keys.some((k) => k.includes(n)),
          `a key holding ${n} in ${keys}`,
        );
      } finally {
        client.destroy();
      }
    },
  },
  {
    name: "S3: no default routes: HEAD / and GET /puk are not added",
    options: { "no-default-routes": true },
    async check(s) {
      assert.equal((await s.get("/", { method: "HEAD" })).status, 404);
      assert.equal((await s.get("/puk")).status, 404);
    },
  },
  {
    name: "S3: drain timeout: in-flight requests are cut after it",
    options: { "drain-timeout": "1500", "log-level": "warning" },
    async check(s) {
      const held = s.get("/hold").then(
        (a) => a.status,
        () => "cut",
      );
      await s.waitFor(/holding in \d+/);
      s.child.kill("SIGTERM");
      await s.waitFor(/drain timeout \(1500 ms\)/);
      assert.equal(await s.exit, 0);
      assert.equal(await held, "cut");
    },
  },
];

/** Starts `usrv serve bind-probe.mjs` with the row's options as flags or as environment variables. */
async function launch(row: Row, threads: number, form: "flag" | "env"): Promise<Run> {
  const options: Record<string, Value> = { threads: String(threads), port: "0", "log-level": "40" };
  for (const [name, value] of Object.entries(row.options))
    options[name] = typeof value === "function" ? await value() : value;
  // Nothing from the test's own environment: only what the row sets.
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith("USRV_")) env[k] = undefined;
  Object.assign(env, { USRV_HOME: HOME }, row.env);
  const args: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (form === "flag") args.push(`--${name}`, ...(value === true ? [] : [value]));
    else env[ENV.get(name)!] = value === true ? "1" : value;
  }
  const s = await startServe([...args, "bind-probe.mjs"], env);
  const ca = s.url.startsWith("https:") ? row.ca?.() : undefined;
  return { ...s, threads, options, get: (path, init = {}) => fresh(`${s.url}${path}`, { ...init, ca }) };
}

it("S3: every option of --help has an environment variable and a row here", () => {
  // every run sets the thread count (-t 1, -t 2); each other option has a row
  const covered = new Set(["threads", ...ROWS.flatMap((r) => Object.keys(r.options))]);
  assert.ok(ENV.size >= 10, `options read from --help: ${[...ENV.keys()]}`);
  for (const [option, env] of ENV) {
    assert.ok(env, `--${option} names its environment variable in --help`);
    assert.ok(covered.has(option), `a row sets --${option}`);
  }
});

for (const threads of [1, 2]) {
  for (const form of ["flag", "env"] as const) {
    describe(`S3: options as ${form === "flag" ? "flags" : "environment variables"} at -t ${threads}`, () => {
      for (const row of ROWS) {
        it(`${row.name} (-t ${threads}, ${form})`, { skip: row.skip }, async () => {
          const s = await launch(row, threads, form);
          await row.check(s);
          if (s.child.exitCode === null) {
            s.child.kill("SIGTERM");
            assert.equal(await s.exit, 0, s.out());
          }
        });
      }
    });
  }
}
