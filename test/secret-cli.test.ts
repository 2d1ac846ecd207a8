/**
 * I2 from the command line: `usrv secret dump|load|migrate`, spawned as
 * `node dist/cli/main.js` with piped stdin and a temporary USRV_HOME; the no-echo
 * prompt through a pseudo-terminal (`script`, util-linux) when available.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { generateKeypair } from "usrv/secp256k1";
import { jsonFixture } from "./fixtures/helpers.js";

const cli = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};
const legacy = jsonFixture<{
  secret_file: { pin: string; secret: string; file_name: string; file_content: string };
}>("vectors/usrv-0.4.3-crypto.json").secret_file;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/main.js ...args` with `input` piped to stdin. */
function run(args: string[], input: string, home: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, USRV_HOME: home, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

let root: string;
let n = 0;
const freshHome = () => join(root, `home-${++n}`);
const SECRET = "my secret passphrase";
const PUBLIC = generateKeypair(SECRET).publicKey;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "usrv-cli-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("usrv (dispatcher)", () => {
  test("--version: the package version on stdout, exit 0", async () => {
    const r = await run(["--version"], "", freshHome());
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${pkg.version}\n`, ""]);
  });
  for (const flag of ["--help", "-h"]) {
    test(`${flag}: usage on stdout, exit 0`, async () => {
      const r = await run([flag], "", freshHome());
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^usage: usrv <command>/);
      assert.match(r.stdout, /secret dump\|load\|migrate/);
    });
  }
  test("no command: usage on stderr, exit 2", async () => {
    const r = await run([], "", freshHome());
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^usage: usrv/);
  });
  test("an unexpected error (a bug) is one line and exit 1; USRV_DEBUG=1 adds its stack", async () => {
    const inject = fileURLToPath(new URL("../../test/fixtures/break-json.mjs", import.meta.url));
    const quiet = spawnSync(process.execPath, ["--import", inject, cli, "--version"], { encoding: "utf8" });
    assert.equal(quiet.status, 1);
    assert.equal(quiet.stderr, "usrv: injected fault (unexpected: USRV_DEBUG=1 prints the stack)\n");
    const debug = spawnSync(process.execPath, ["--import", inject, cli, "--version"], {
      encoding: "utf8",
      env: { ...process.env, USRV_DEBUG: "1" },
    });
    assert.equal(debug.status, 1);
    assert.match(debug.stderr, /^usrv: TypeError: injected fault\n\s+at /);
    assert.match((await run(["--help"], "", freshHome())).stdout, /USRV_DEBUG=1/);
  });
  test("unknown command or option: usage on stderr, exit 2", async () => {
    for (const args of [["bogus"], ["--bogus"], ["constructor"]]) {
      const r = await run(args, "", freshHome());
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, /usage: usrv/);
    }
  });
});

describe("I2: usrv secret", () => {
  test("secret --help: usage on stdout, exit 0; no action: exit 2", async () => {
    const help = await run(["secret", "--help"], "", freshHome());
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: usrv secret/);
    const none = await run(["secret"], "", freshHome());
    assert.equal(none.code, 2);
    const bad = await run(["secret", "load", "--bogus"], "", freshHome());
    assert.equal(bad.code, 2);
  });

  test("dump asks the secret and the PIN twice, stores 0600, prints the public key", async () => {
    const home = freshHome();
    const r = await run(["secret", "dump"], `${SECRET}\n482913\n482913\n`, home);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${PUBLIC}\n`);
    assert.match(r.stderr, /secret: \nPIN: \nPIN again: \n/);
    assert.ok(!r.stderr.includes("warning"));
    if (process.platform !== "win32") {
      assert.equal((await stat(join(home, "secret.key"))).mode & 0o777, 0o600);
    }
  });

  test("load prints the public key, not the secret; --show-secret adds it", async () => {
    const home = freshHome();
    await run(["secret", "dump"], `${SECRET}\n482913\n482913\n`, home);
    const r = await run(["secret", "load"], "482913\n", home);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${PUBLIC}\n`);
    assert.ok(!(r.stdout + r.stderr).includes(SECRET));
    const shown = await run(["secret", "load", "--show-secret"], "482913\r\n", home);
    assert.equal(shown.stdout, `${PUBLIC}\n${SECRET}\n`);
  });

  test("load with a wrong PIN: exit 1, 'wrong PIN' on stderr, nothing on stdout", async () => {
    const home = freshHome();
    await run(["secret", "dump"], `${SECRET}\n482913\n482913\n`, home);
    const r = await run(["secret", "load"], "000000\n", home);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /wrong PIN/);
  });

  test("dump with PINs that differ: exit 1, nothing stored", async () => {
    const home = freshHome();
    const r = await run(["secret", "dump"], `${SECRET}\n482913\n482914\n`, home);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /PINs differ/);
    await assert.rejects(stat(join(home, "secret.key")));
  });

  test("dump over an existing secret: exit 1 unless --force", async () => {
    const home = freshHome();
    await run(["secret", "dump"], `${SECRET}\n482913\n482913\n`, home);
    const r = await run(["secret", "dump"], "other\n482913\n482913\n", home);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--force/);
    assert.doesNotMatch(r.stderr, /secret: \n|PIN/, "refused before asking anything");
    const forced = await run(["secret", "dump", "--force"], "other\n482913\n482913\n", home);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, `${generateKeypair("other").publicKey}\n`);
  });

  test("a short PIN is stored, with a warning", async () => {
    const r = await run(["secret", "dump"], `${SECRET}\n1234\n1234\n`, freshHome());
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: a PIN under 6 characters/);
  });

  test("input ending before an answer: exit 1", async () => {
    const r = await run(["secret", "dump"], `${SECRET}\n`, freshHome());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /input ended/);
  });

  test("nothing stored: exit 1 with a hint, before asking a PIN (load, migrate)", async () => {
    const r = await run(["secret", "load"], "", freshHome());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^usrv secret: no secret stored in \S+secret\.key; run "usrv secret dump"\n$/);
    const m = await run(["secret", "migrate"], "", freshHome());
    assert.equal(m.code, 1);
    assert.match(m.stderr, /^usrv secret: no legacy secret file \(sha256\(PIN\)\.key\) in \S+ to migrate\n$/);
  });

  test("usage mistakes say what is wrong, in one line before the usage", async () => {
    for (const [args, why] of [
      [["secret", "frob"], /^usrv secret: unknown action "frob" \(dump, load or migrate\)\n\nusage:/],
      [["secret"], /^usrv secret: which action\? dump, load or migrate\n/],
      [["secret", "load", "dump"], /^usrv secret: one action at a time/],
      [["secret", "load", "--bogus"], /^usrv secret: Unknown option '--bogus' \(see usrv secret --help\)\n$/],
      [["serve", "--bogus"], /^usrv serve: Unknown option '--bogus' \(see usrv serve --help\)\n$/],
      [
        ["client", "--timeout", "abc", "http://x"],
        /^usrv client: --timeout is a number of ms >= 0, not "abc"\n/,
      ],
      [["client", "http://a", "http://b"], /^usrv client: one peer, not "http:\/\/a" "http:\/\/b"\n/],
      [["client"], /^usrv client: which peer\?/],
    ] as const) {
      const r = await run([...args], "", freshHome());
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, why, args.join(" "));
    }
  });

  test("a USRV_HOME that cannot be a folder: one line naming it, exit 1", async () => {
    const r = await run(["secret", "dump"], `${SECRET}\n482913\n482913\n`, "/dev/null/x");
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /\nusrv secret: ENOTDIR: not a directory, mkdir '\/dev\/null\/x' \(USRV_HOME, else ~\/\.usrv, must be a folder you can write\)\n$/,
    );
  });

  test("--name keeps several secrets", async () => {
    const home = freshHome();
    await run(["secret", "dump", "--name", "client.key"], `${SECRET}\n482913\n482913\n`, home);
    assert.deepEqual(await readdir(home), ["client.key"]);
    const r = await run(["secret", "load", "--name", "client.key"], "482913\n", home);
    assert.equal(r.stdout, `${PUBLIC}\n`);
  });

  test("USRV_PIN is the PIN of dump, load and migrate: no PIN prompt", async () => {
    const home = freshHome();
    const dumped = await run(["secret", "dump"], `${SECRET}\n`, home, { USRV_PIN: "482913" });
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.equal(dumped.stdout, `${PUBLIC}\n`);
    assert.doesNotMatch(dumped.stderr, /PIN/);
    const loaded = await run(["secret", "load", "--show-secret"], "", home, { USRV_PIN: "482913" });
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(loaded.stdout, `${PUBLIC}\n${SECRET}\n`);
    assert.doesNotMatch(loaded.stderr, /PIN/);
    const wrong = await run(["secret", "load"], "482913\n", home, { USRV_PIN: "000000" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong PIN/);

    const legacyHome = freshHome();
    await mkdir(legacyHome);
    await writeFile(join(legacyHome, legacy.file_name), legacy.file_content);
    const migrated = await run(["secret", "migrate"], "", legacyHome, { USRV_PIN: legacy.pin });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.equal(migrated.stdout, `${generateKeypair(legacy.secret).publicKey}\n`);
    assert.doesNotMatch(migrated.stderr, /PIN/);

    const help = await run(["secret", "--help"], "", freshHome());
    assert.match(help.stdout, /USRV_PIN/);
  });

  /** A home folder holding the reference's file for the vector's PIN. */
  async function legacyHome(content = legacy.file_content): Promise<string> {
    const home = freshHome();
    await mkdir(home);
    await writeFile(join(home, legacy.file_name), content);
    return home;
  }
  const LEGACY_PUBLIC = generateKeypair(legacy.secret).publicKey;

  test("I3: load reads the reference's sha256(PIN).key with a warning naming it and usrv secret migrate", async () => {
    const home = await legacyHome();
    const loaded = await run(["secret", "load"], `${legacy.pin}\n`, home);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(loaded.stdout, `${LEGACY_PUBLIC}\n`);
    assert.match(
      loaded.stderr,
      /\nusrv secret: WARNING: the secret was read from the Python usrv's file \S+, whose name \(SHA-256 of the PIN\) gives a short PIN away .*; run "usrv secret migrate" to move it to \S+secret\.key and delete it\n$/,
    );
    assert.ok(loaded.stderr.includes(join(home, legacy.file_name)));
  });

  test("I3: migrate rewrites it, reads the new file back, deletes the legacy file and says so", async () => {
    const home = await legacyHome();
    const migrated = await run(["secret", "migrate"], `${legacy.pin}\n`, home);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.equal(migrated.stdout, `${LEGACY_PUBLIC}\n`);
    const from = join(home, legacy.file_name);
    assert.ok(
      migrated.stderr.endsWith(
        `usrv secret: ${from} -> ${join(home, "secret.key")}, read back: same secret; ${from} deleted\n`,
      ),
      migrated.stderr,
    );
    assert.deepEqual(await readdir(home), ["secret.key"]);
    const loaded = await run(["secret", "load"], `${legacy.pin}\n`, home);
    assert.equal(loaded.stdout, `${LEGACY_PUBLIC}\n`);
    assert.doesNotMatch(loaded.stderr, /WARNING/);
  });

  const faults = fileURLToPath(new URL("../../test/fixtures/secret-faults.mjs", import.meta.url));
  /** `usrv secret migrate` with a fault of test/fixtures/secret-faults.mjs injected. */
  function migrateWith(fault: string, home: string): Run {
    const r = spawnSync(process.execPath, ["--import", faults, cli, "secret", "migrate"], {
      encoding: "utf8",
      input: `${legacy.pin}\n`,
      env: { ...process.env, USRV_HOME: home, USRV_TEST_FAULT: fault },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  test("I3: migrate whose new file does not read back the same secret: exit 1, legacy file kept", async () => {
    const home = await legacyHome();
    const r = migrateWith("garble-new", home);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /\nusrv secret: \S+secret\.key did not give the same secret back when read again \(wrong PIN \(or the secret file was altered\)\); removed it and kept \S+\.key\n$/,
    );
    assert.deepEqual(await readdir(home), [legacy.file_name]);
    assert.equal(await readFile(join(home, legacy.file_name), "utf8"), legacy.file_content);
  });

  test("I3: migrate that cannot delete the legacy file: exit 1, says the new file holds the secret", async () => {
    const home = await legacyHome();
    const r = migrateWith("stuck-legacy", home);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /\nusrv secret: \S+secret\.key holds the secret now \(read back and checked\), but \S+\.key could not be deleted \(EACCES\): delete it yourself, it still gives the secret away\n$/,
    );
    assert.deepEqual((await readdir(home)).sort(), [legacy.file_name, "secret.key"].sort());
  });

  test("I3: a damaged legacy file: load and migrate exit 1 naming it, nothing written or deleted", async () => {
    // byte 2 '1' -> '9': the secret's 'y' becomes 0xF9, not UTF-8
    const content = `${legacy.file_content.slice(0, 2)}9${legacy.file_content.slice(3)}`;
    const home = await legacyHome(content);
    for (const action of ["load", "migrate"]) {
      const r = await run(["secret", action], `${legacy.pin}\n`, home);
      assert.equal(r.code, 1, action);
      assert.equal(r.stdout, "", action);
      assert.ok(
        r.stderr.endsWith(
          `usrv secret: ${join(home, legacy.file_name)} is corrupted: the secret in it is not valid UTF-8, which the Python usrv never writes; restore it from a backup\n`,
        ),
        r.stderr,
      );
    }
    assert.deepEqual(await readdir(home), [legacy.file_name]);
    assert.equal(await readFile(join(home, legacy.file_name), "utf8"), content);
  });
});

// `script` (util-linux) gives the child a pseudo-terminal: what the terminal
// echoes shows up in script's output, so a typed PIN must not appear there.
const hasScript = process.platform === "linux" && spawnSync("script", ["--version"]).status === 0;

/** Runs `command` under a pseudo-terminal, typing each answer when its prompt shows up. */
function runPty(command: string, answers: [prompt: string, answer: string][], home: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      env: { ...process.env, USRV_HOME: home },
    });
    let stdout = "";
    let seen = 0;
    child.stdout.on("data", (d) => {
      stdout += d;
      const next = answers[0];
      // type only once the prompt is out: the program is in raw mode by then
      if (next && stdout.indexOf(next[0], seen) !== -1) {
        seen = stdout.indexOf(next[0], seen) + next[0].length;
        answers.shift();
        setTimeout(() => child.stdin.write(`${next[1]}\r`), 50);
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr: "" }));
  });
}

describe("I2: hidden prompt on a terminal (no echo)", {
  skip: !hasScript && "script (util-linux) is not available",
}, () => {
  test("control: the same harness does show what a plain `read` gets typed", async () => {
    const r = await runPty(`sh -c 'printf "PIN: "; read x'`, [["PIN: ", "917364"]], freshHome());
    assert.match(r.stdout, /917364/);
  });

  test("dump then load: neither the secret nor the PIN is echoed", async () => {
    const home = freshHome();
    const dumped = await runPty(
      `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} secret dump`,
      [
        ["secret: ", SECRET],
        ["PIN: ", "917364"],
        ["PIN again: ", "917364"],
      ],
      home,
    );
    assert.equal(dumped.code, 0, dumped.stdout);
    assert.ok(dumped.stdout.includes(PUBLIC));
    assert.ok(!dumped.stdout.includes(SECRET));
    assert.ok(!dumped.stdout.includes("917364"));
    const loaded = await runPty(
      `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} secret load`,
      [["PIN: ", "917364"]],
      home,
    );
    assert.equal(loaded.code, 0, loaded.stdout);
    assert.ok(loaded.stdout.includes(PUBLIC));
    assert.ok(!loaded.stdout.includes("917364"));
  });
});
