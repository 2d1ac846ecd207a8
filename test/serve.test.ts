/**
 * S3-S5: `usrv serve` as a user runs it: bindings, one-line errors, workers,
 * the replay check across workers, graceful shutdown, TLS.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createClient } from "usrv/client";
import { decrypt, encrypt, generateKeypair, sign } from "usrv/secp256k1";
import { CLI, FIX, fresh as freshRequest, ROOT, type Served, startServe } from "./fixtures/serve-helpers.js";
import { selfSignedCert } from "./fixtures/tls.js";

const HOME = mkdtempSync(join(tmpdir(), "usrv-serve-"));
after(() => rmSync(HOME, { recursive: true, force: true }));

/** Runs the CLI to completion (for commands that exit). */
function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: FIX,
    encoding: "utf8",
    env: { ...process.env, USRV_HOME: HOME, ...env },
    timeout: 20_000,
  });
}

/** Starts `usrv serve` on a free port, quiet but for errors; resolves once the banner is out. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  return startServe(["-p", "0", "-l", "40", ...args], { USRV_HOME: HOME, ...env });
}

/** One request on its own connection; one the cluster hands to a worker in the instant it dies is lost: 5 s at most. */
const fresh = (url: string, init: Parameters<typeof freshRequest>[1] = {}) =>
  freshRequest(url, { timeout: 5_000, ...init });

describe("S3: usrv serve", () => {
  it("--help and --version print to stdout and exit 0", () => {
    const help = cli(["serve", "--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: usrv serve \[options\] BINDINGS\.\.\./);
    for (const env of [
      "USRV_THREADS",
      "USRV_LOG_LEVEL",
      "USRV_IP",
      "USRV_PORT",
      "USRV_REPLAY_STORE",
      "USRV_IDENTITY",
    ]) {
      assert.match(help.stdout, new RegExp(env));
    }
    const version = cli(["serve", "--version"]);
    assert.equal(version.status, 0);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  // a certificate and the key of another pair, and a file that is no PEM
  const [one, two] = [selfSignedCert(HOME, "one"), selfSignedCert(HOME, "two")];
  const notPem = join(HOME, "not.pem");
  writeFileSync(notPem, "not a certificate\n");

  const usage: [string, string[], number, RegExp, Record<string, string>?][] = [
    ["an unknown option", ["serve", "--bogus"], 2, /^usrv serve: Unknown option '--bogus'/],
    ["a bad thread count", ["serve", "-t", "zero"], 2, /--threads must be an integer/],
    ["a bad log level", ["serve", "-l", "loud"], 2, /invalid log level/],
    [
      "a missing module",
      ["serve", "-p", "0", "nope.mjs"],
      1,
      /^usrv serve: binding module not found: nope\.mjs$/,
    ],
    [
      "a module that throws at import",
      ["serve", "-t", "1", "-p", "0", "bind-throws.mjs"],
      1,
      /^usrv serve: cannot load bind-throws\.mjs: database is down at bind-throws\.mjs:1:7$/,
    ],
    [
      "the same route in two modules",
      ["serve", "-t", "1", "-p", "0", "bind-a.mjs", "bind-dup.mjs"],
      1,
      /^usrv serve: GET \/a\/<int:n> is bound by both bind-a\.mjs and bind-dup\.mjs$/,
    ],
    [
      "an unreadable certificate",
      ["serve", "-p", "0", "--tls-cert", "nope.crt", "--tls-key", "nope.key"],
      1,
      /^usrv serve: cannot read the TLS certificate nope\.crt: ENOENT$/,
    ],
    [
      "a certificate that is no PEM",
      ["serve", "-p", "0", "--tls-cert", notPem, "--tls-key", one.key],
      1,
      /^usrv serve: cannot use the TLS certificate \S+not\.pem with the key \S+one\.key: no start line/,
    ],
    [
      "a key of another certificate",
      ["serve", "-p", "0", "--tls-cert", one.cert, "--tls-key", two.key],
      1,
      /^usrv serve: cannot use the TLS certificate \S+one\.crt with the key \S+two\.key: key values mismatch/,
    ],
    [
      "a USRV_HOME where no self-signed certificate can be made",
      ["serve", "-p", "0", "--tls-self-signed"],
      1,
      /^usrv serve: cannot make \/dev\/null\/x\/tls for the self-signed certificate: ENOTDIR/,
      { USRV_HOME: "/dev/null/x" },
    ],
    [
      "an identity file that cannot be read",
      ["serve", "-p", "0", "--identity", "file:nope.txt"],
      1,
      /^usrv serve: cannot read the identity file nope\.txt: ENOENT$/,
    ],
  ];
  for (const [what, args, code, message, env] of usage) {
    it(`bad input: ${what} is one line on stderr and exit ${code}`, () => {
      const r = cli(args, env);
      assert.equal(r.status, code, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }

  it("a port in use is one line and exit 1, with workers too", async () => {
    const first = await serve(["-t", "1"]);
    const port = new URL(first.url).port;
    for (const t of ["1", "2"]) {
      const r = cli(["serve", "-t", t, "-p", port, "-l", "40"]);
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trim(), `usrv serve: port ${port} on 127.0.0.1 is in use`);
    }
    first.child.kill("SIGTERM");
    assert.equal(await first.exit, 0);
  });

  it("no bindings: the demo routes, listed at start-up", async () => {
    const s = await serve(["-t", "1"]);
    for (const route of [
      "HEAD    /",
      "GET     /puk",
      "GET     /vargs",
      "GET     /kwargs",
      "GET     /error_406",
      "GET     /error_500",
    ]) {
      assert.ok(s.out().includes(route), `${route} in ${s.out()}`);
    }
    const puk = await (await fetch(`${s.url}/puk`)).json();
    assert.equal(typeof puk, "string");
    assert.ok(s.out().includes(`public key ${puk}`));
    assert.equal((await fetch(`${s.url}/error_406`)).status, 406);
    assert.equal((await fetch(`${s.url}/error_500`)).status, 500);
    s.child.kill("SIGTERM");
    assert.equal(await s.exit, 0);
  });

  it("JavaScript and TypeScript binding modules, routes named with their module", async () => {
    const s = await serve(["-t", "1", "bind-a.mjs", "bind-b.ts"]);
    assert.match(s.out(), /GET {5}\/a\/<int:n> {3}\(bind-a\.mjs\)/);
    assert.match(s.out(), /GET {5}\/b\/<name> {3}\(bind-b\.ts\)/);
    assert.equal(await (await fetch(`${s.url}/a/21`)).json(), 42);
    assert.equal(await (await fetch(`${s.url}/b/bob`)).json(), "hello bob");
    s.child.kill("SIGTERM");
    assert.equal(await s.exit, 0);
  });

  it("environment variables set the options", async () => {
    const s = await serve(["bind-a.mjs"], { USRV_THREADS: "1", USRV_IDENTITY: "secret:server-secret" });
    assert.match(s.out(), /\(1 process, public key /);
    assert.equal(await (await fetch(`${s.url}/vargs`)).status, 404); // bindings given: no demo routes
    assert.equal(await (await fetch(`${s.url}/puk`)).json(), generateKeypair("server-secret").publicKey);
    s.child.kill("SIGTERM");
    await s.exit;
  });
});

describe("S3/C2: the default routes HEAD / and GET /puk", () => {
  for (const threads of ["1", "2"]) {
    it(`C2: user bindings get them, so usrv client and connect() accept the server (-t ${threads})`, async () => {
      const s = await serve(["-t", threads, "--identity", "secret:server-secret", "bind-a.mjs"]);
      const puk = generateKeypair("server-secret").publicKey;
      assert.match(s.out(), /HEAD {4}\/ {3}\(default route\)/);
      assert.match(s.out(), /GET {5}\/puk {3}\(default route\)/);
      assert.equal((await fetch(s.url, { method: "HEAD" })).status, 200);
      assert.equal(await (await fetch(`${s.url}/puk`)).json(), puk);
      assert.equal(await createClient().connect(s.url), 200);
      const console = spawnSync(process.execPath, [CLI, "client", s.url, "--no-history"], {
        input: "GET a 21\nexit\n",
        encoding: "utf8",
        timeout: 20_000,
      });
      assert.equal(console.status, 0, console.stderr);
      assert.ok(console.stdout.includes(`server public key: ${puk}\n`), console.stdout);
      assert.ok(console.stdout.includes("> 42\n"), console.stdout);
      s.child.kill("SIGTERM");
      assert.equal(await s.exit, 0);
    });
  }

  it("S3: bindings that answer / and /puk themselves keep them; --no-default-routes adds none", async () => {
    const own = await serve(["-t", "1", "bind-own-root.mjs"]);
    assert.doesNotMatch(own.out(), /default route/);
    assert.equal(await (await fetch(own.url)).json(), "my root");
    assert.equal(await (await fetch(`${own.url}/puk`)).json(), "my puk");
    own.child.kill("SIGTERM");
    const none = await serve(["-t", "1", "--no-default-routes", "bind-a.mjs"]);
    assert.doesNotMatch(none.out(), /default route/);
    assert.equal((await fetch(none.url, { method: "HEAD" })).status, 404);
    assert.equal((await fetch(`${none.url}/puk`)).status, 404);
    none.child.kill("SIGTERM");
    assert.equal(await own.exit, 0);
    assert.equal(await none.exit, 0);
  });
});

describe("S3: a module that binds nothing", () => {
  for (const threads of ["1", "2"]) {
    it(`S3: an app exported by default is served, with its own identity unless --identity (-t ${threads})`, async () => {
      const s = await serve(["-t", threads, "bind-export-app.mjs"]);
      assert.match(s.out(), /POST {4}\/pay {3}\(bind-export-app\.mjs\)/);
      assert.match(s.out(), /HEAD {4}\/ {3}\(default route\)/);
      assert.doesNotMatch(s.out(), /warning/);
      const own = generateKeypair("module secret").publicKey;
      assert.ok(s.out().includes(`public key ${own}`), s.out());
      const pids = new Set<number>();
      for (let i = 0; i < 50 && pids.size < Number(threads); i++) {
        const who = (await fresh(`${s.url}/whoami`)).body as { pid: number; puk: string };
        assert.equal(who.puk, own);
        pids.add(who.pid);
      }
      assert.equal(pids.size, Number(threads), "every process serves the app");
      const paid = await fresh(`${s.url}/pay`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"amount": 3}',
      });
      assert.equal((paid.body as { paid: number }).paid, 3);
      assert.equal(await (await fetch(`${s.url}/puk`)).json(), own);
      s.child.kill("SIGTERM");
      assert.equal(await s.exit, 0);

      const given = await serve(["-t", threads, "--identity", "secret:server-secret", "bind-export-app.mjs"]);
      assert.equal(
        ((await fresh(`${given.url}/whoami`)).body as { puk: string }).puk,
        generateKeypair("server-secret").publicKey,
      );
      given.child.kill("SIGTERM");
      assert.equal(await given.exit, 0);
    });

    it(`S3: a module with no route and no app is warned about, once (-t ${threads})`, async () => {
      const s = await serve(["-t", threads, "bind-nothing.mjs", "bind-b.ts"]);
      const warnings = s
        .out()
        .split("\n")
        .filter((l) => l.includes("warning"));
      assert.deepEqual(warnings, [
        'usrv serve: warning: bind-nothing.mjs binds no route: call bind() from "usrv" at its top level, or export default the app you made with createApp()',
      ]);
      assert.equal(await (await fetch(`${s.url}/b/x`)).json(), "hello x");
      s.child.kill("SIGTERM");
      assert.equal(await s.exit, 0);
    });
  }

  const mixes: [string, string[], RegExp][] = [
    [
      "an exported app beside a module that binds on the default app",
      ["bind-a.mjs", "bind-export-app.mjs"],
      /^usrv serve: bind-export-app\.mjs exports its own app, so the routes bind-a\.mjs binds with bind\(\) would not be served: bind them on that app, or serve the modules apart$/,
    ],
    [
      "two modules exporting an app",
      ["bind-export-app.mjs", "bind-export-other.mjs"],
      /^usrv serve: bind-export-app\.mjs and bind-export-other\.mjs each export an app: one server serves one app/,
    ],
  ];
  for (const [what, bindings, message] of mixes) {
    it(`S3: ${what} is one line and exit 1`, () => {
      const r = cli(["serve", "-t", "1", "-p", "0", ...bindings]);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr.trim(), message);
    });
  }
});

describe("S3: workers", () => {
  it("two workers share the port; a crashed worker is replaced", async () => {
    const s = await serve(["-t", "2", "bind-a.mjs"]);
    const pids = new Set<number>();
    for (let i = 0; i < 20 && pids.size < 2; i++) pids.add((await fresh(`${s.url}/pid`)).body as number);
    assert.equal(pids.size, 2, "both workers answer");
    await fresh(`${s.url}/crash`).catch(() => null);
    let ok = 0;
    for (let i = 0; i < 40; i++) if ((await fresh(`${s.url}/a/1`).catch(() => null))?.status === 200) ok++;
    assert.ok(ok >= 38, `${ok}/40 served after a crash`);
    assert.match(s.out(), /worker \d+ died \(code 3\); starting another/);
    // The replacement boots in the background: two workers answer again within a few seconds.
    const after = new Set<unknown>();
    for (let i = 0; i < 100 && after.size < 2; i++) {
      const pid = (await fresh(`${s.url}/pid`).catch(() => null))?.body;
      if (typeof pid === "number") after.add(pid);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(after.size, 2, "two workers again");
    s.child.kill("SIGTERM");
    assert.equal(await s.exit, 0);
  });

  it("I2: a nonce used on one worker is refused on the others", async () => {
    const s = await serve(["-t", "2", "-l", "info", "--identity", "secret:server-secret", "bind-a.mjs"]);
    const server = generateKeypair("server-secret");
    const client = generateKeypair("client-secret");
    const nonce = new Date().toISOString().replace("Z", "123+00:00");
    const { R, ciphertext } = encrypt(server.publicKey, '"hi"');
    const init = {
      method: "POST",
      headers: {
        "content-type": "application/json",
        nonce,
        "ephemeral-public-key": R,
        "sender-public-key": client.publicKey,
        "sender-signature": sign(ciphertext + R + nonce, client.privateKey),
      },
      body: ciphertext,
    };
    const first = await fresh(`${s.url}/echo`, init);
    assert.equal(first.status, 200);
    const opened = JSON.parse(
      decrypt(client.privateKey, first.headers["ephemeral-public-key"] as string, first.text),
    );
    assert.deepEqual(opened.slice(0, 2), ['"hi"', client.publicKey]);
    const firstPid = opened[2];
    // The cluster deals connections round-robin, so replays reach both workers;
    // the access lines (usrv[PID]) tell which worker refused each one.
    for (let i = 0; i < 6; i++) {
      const again = await fresh(`${s.url}/echo`, init);
      assert.equal(again.status, 412);
      assert.equal((again.body as { code: string }).code, "USRV_ERR_REPLAY");
    }
    await new Promise((r) => setTimeout(r, 200)); // let the workers' stderr arrive
    const refusers = new Set(
      [...s.out().matchAll(/usrv\[(\d+)\]:POST \/echo 412/g)].map((m) => Number(m[1])),
    );
    assert.ok(
      [...refusers].some((pid) => pid !== firstPid),
      `a worker other than ${firstPid} refused a replay: ${[...refusers]}`,
    );
    s.child.kill("SIGTERM");
    assert.equal(await s.exit, 0);
  });
});

describe("S3: graceful shutdown", () => {
  for (const threads of ["1", "2"]) {
    it(`SIGTERM lets in-flight requests finish, then exits 0 (-t ${threads})`, async () => {
      const s = await serve(["-t", threads, "bind-a.mjs"]);
      const inflight = Array.from({ length: 6 }, () =>
        fetch(`${s.url}/slow?ms=800`).then(async (r) => [r.status, await r.json()]),
      );
      await new Promise((r) => setTimeout(r, 300));
      s.child.kill("SIGTERM");
      const answers = await Promise.all(inflight);
      assert.deepEqual(answers, Array(6).fill([200, "done"]), "no in-flight request dropped");
      assert.equal(await s.exit, 0);
      await assert.rejects(fetch(`${s.url}/a/1`), "no longer accepting");
    });
  }

  it("a second signal forces the exit", async () => {
    const s = await serve(["-t", "1", "--drain-timeout", "60000", "bind-a.mjs"]);
    const slow = fetch(`${s.url}/slow?ms=30000`).catch(() => "cut");
    await new Promise((r) => setTimeout(r, 200));
    s.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    s.child.kill("SIGTERM");
    assert.equal(await s.exit, 1);
    assert.equal(await slow, "cut");
  });
});

describe("S4: TLS", () => {
  it("--tls-self-signed serves HTTPS with a certificate kept under USRV_HOME", async () => {
    const s = await serve(["-t", "1", "--tls-self-signed", "bind-a.mjs"]);
    assert.match(s.url, /^https:\/\//);
    const ca = readFileSync(join(HOME, "tls", "self-signed.crt"));
    const body = await new Promise<string>((resolve, reject) => {
      httpsRequest(`${s.url}/a/4`, { ca, servername: "localhost" }, (res) => {
        let b = "";
        res.on("data", (d) => (b += d));
        res.on("end", () => resolve(b));
      })
        .on("error", reject)
        .end();
    });
    assert.equal(body, "8");
    s.child.kill("SIGTERM");
    assert.equal(await s.exit, 0);
  });
});
