/**
 * I1-I2 (docs/behaviour.md) and the end of docs/wire.md: the secret stored under a
 * PIN, hardened, and the reference's legacy file read for migration.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CryptoError,
  type CryptoErrorCode,
  DEFAULT_SCRYPT,
  dumpSecret,
  generateKeypair,
  loadSecret,
  migrateSecret,
  secretPath,
} from "usrv/secp256k1";
import { jsonFixture } from "./fixtures/helpers.js";

const legacy = jsonFixture<{
  secret_file: { pin: string; secret: string; file_name: string; file_content: string };
}>("vectors/usrv-0.4.3-crypto.json").secret_file;

// cheapest scrypt the store accepts: these tests are about the format, not the cost
const kdf = { N: 2 ** 14 };
const isPosix = process.platform !== "win32";

let root: string;
let n = 0;
/** A fresh, not yet existing home folder. */
const freshHome = () => join(root, `home-${++n}`);

async function rejectsCode(promise: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CryptoError, `expected a CryptoError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), "usrv-secret-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("I2: dumpSecret / loadSecret", () => {
  test("round trip; I1: the key pair comes back from the stored secret", async () => {
    const home = freshHome();
    const path = await dumpSecret("my secret passphrase", "482913", { home, kdf });
    assert.equal(path, join(home, "secret.key"));
    const secret = await loadSecret("482913", { home });
    assert.equal(secret, "my secret passphrase");
    assert.deepEqual(generateKeypair(secret), generateKeypair("my secret passphrase"));
  });

  test("unicode secret and PIN; the PIN is NFKD-normalised", async () => {
    const home = freshHome();
    await dumpSecret("Ünïcödé sécret ✓", "p\u00e9n", { home, kdf });
    assert.equal(await loadSecret("pe\u0301n", { home }), "Ünïcödé sécret ✓");
  });

  test("the default cost (scrypt N=2^17, r=8, p=1) works", async () => {
    assert.deepEqual({ ...DEFAULT_SCRYPT }, { N: 131072, r: 8, p: 1 });
    const home = freshHome();
    await dumpSecret("s", "482913", { home });
    const doc = JSON.parse(await readFile(join(home, "secret.key"), "utf8"));
    assert.equal(doc.kdf.N, 131072);
    assert.equal(await loadSecret("482913", { home }), "s");
  });

  test("file format: versioned, self-describing JSON; the secret is not in it", async () => {
    const home = freshHome();
    await dumpSecret("my secret passphrase", "482913", { home, kdf });
    const text = await readFile(join(home, "secret.key"), "utf8");
    const doc = JSON.parse(text);
    assert.equal(doc.format, "usrv-secret");
    assert.equal(doc.version, 1);
    assert.deepEqual(Object.keys(doc.kdf).sort(), ["N", "name", "p", "r", "salt"]);
    assert.equal(doc.kdf.name, "scrypt");
    assert.equal(Buffer.from(doc.kdf.salt, "base64").length, 16);
    assert.equal(doc.cipher.name, "aes-256-gcm");
    assert.equal(Buffer.from(doc.cipher.iv, "base64").length, 12);
    assert.equal(Buffer.from(doc.cipher.tag, "base64").length, 16);
    assert.equal(Buffer.from(doc.ciphertext, "base64").length, "my secret passphrase".length);
    assert.ok(!text.includes("secret passphrase"));
  });

  test("a random salt and IV: the same secret and PIN give another file", async () => {
    const a = freshHome();
    const b = freshHome();
    await dumpSecret("s", "482913", { home: a, kdf });
    await dumpSecret("s", "482913", { home: b, kdf });
    const [fa, fb] = [
      JSON.parse(await readFile(join(a, "secret.key"), "utf8")),
      JSON.parse(await readFile(join(b, "secret.key"), "utf8")),
    ];
    assert.notEqual(fa.kdf.salt, fb.kdf.salt);
    assert.notEqual(fa.ciphertext, fb.ciphertext);
  });

  test("the file name does not derive from the PIN", async () => {
    const home = freshHome();
    await dumpSecret("s", "1234", { home, kdf });
    const files = await readdir(home);
    assert.deepEqual(files, ["secret.key"]);
    const pinHash = createHash("sha256").update("1234").digest("hex");
    assert.ok(!files.some((f) => f.includes("1234") || f.includes(pinHash)));
  });

  test("file mode 0600, new folder 0700", { skip: !isPosix && "POSIX file modes only" }, async () => {
    const home = join(freshHome(), "nested");
    await dumpSecret("s", "482913", { home, kdf });
    assert.equal((await stat(join(home, "secret.key"))).mode & 0o777, 0o600);
    assert.equal((await stat(home)).mode & 0o777, 0o700);
  });

  test("file mode stays 0600 under a permissive umask", {
    skip: !isPosix && "POSIX file modes only",
  }, async () => {
    const home = freshHome();
    const old = process.umask(0o000);
    try {
      await dumpSecret("s", "482913", { home, kdf });
    } finally {
      process.umask(old);
    }
    assert.equal((await stat(join(home, "secret.key"))).mode & 0o777, 0o600);
  });

  test("wrong PIN: USRV_ERR_BAD_SECRET_PIN, never garbage", async () => {
    const home = freshHome();
    await dumpSecret("s", "482913", { home, kdf });
    await rejectsCode(loadSecret("482914", { home }), "USRV_ERR_BAD_SECRET_PIN");
  });

  test("an altered file fails authentication (USRV_ERR_BAD_SECRET_PIN, the message says altered)", async () => {
    const home = freshHome();
    await dumpSecret("my secret", "482913", { home, kdf });
    const path = join(home, "secret.key");
    const doc = JSON.parse(await readFile(path, "utf8"));
    const ct = Buffer.from(doc.ciphertext, "base64");
    ct[0] = ct[0]! ^ 1;
    doc.ciphertext = ct.toString("base64");
    await writeFile(path, JSON.stringify(doc));
    await assert.rejects(loadSecret("482913", { home }), /altered/);
  });

  const corrupt: [string, (doc: any) => unknown][] = [
    ["not JSON", () => "{"],
    ["another format", (d) => ({ ...d, format: "other" })],
    ["version 2", (d) => ({ ...d, version: 2 })],
    ["unknown KDF", (d) => ({ ...d, kdf: { ...d.kdf, name: "pbkdf2" } })],
    ["unsafe scrypt N = 2^30 (memory bomb)", (d) => ({ ...d, kdf: { ...d.kdf, N: 2 ** 30 } })],
    ["weak scrypt N = 2^4", (d) => ({ ...d, kdf: { ...d.kdf, N: 16 } })],
    ["N not a power of two", (d) => ({ ...d, kdf: { ...d.kdf, N: 20000 } })],
    ["unknown cipher", (d) => ({ ...d, cipher: { ...d.cipher, name: "aes-256-cbc" } })],
    ["IV of 16 bytes", (d) => ({ ...d, cipher: { ...d.cipher, iv: Buffer.alloc(16).toString("base64") } })],
    ["tag not base64", (d) => ({ ...d, cipher: { ...d.cipher, tag: "???" } })],
    ["no ciphertext", (d) => ({ ...d, ciphertext: undefined })],
  ];
  for (const [why, change] of corrupt) {
    test(`corrupt file (${why}): USRV_ERR_BAD_SECRET_FILE`, async () => {
      const home = freshHome();
      await dumpSecret("s", "482913", { home, kdf });
      const path = join(home, "secret.key");
      const changed = change(JSON.parse(await readFile(path, "utf8")));
      await writeFile(path, typeof changed === "string" ? changed : JSON.stringify(changed));
      await rejectsCode(loadSecret("482913", { home }), "USRV_ERR_BAD_SECRET_FILE");
    });
  }

  test("nothing stored: USRV_ERR_NO_SECRET", async () => {
    await rejectsCode(loadSecret("482913", { home: freshHome() }), "USRV_ERR_NO_SECRET");
  });

  test("an existing file is kept unless overwrite", async () => {
    const home = freshHome();
    await dumpSecret("first", "482913", { home, kdf });
    await rejectsCode(dumpSecret("second", "482913", { home, kdf }), "USRV_ERR_SECRET_EXISTS");
    assert.equal(await loadSecret("482913", { home }), "first");
    await dumpSecret("second", "111111", { home, kdf, overwrite: true });
    assert.equal(await loadSecret("111111", { home }), "second");
    assert.deepEqual(await readdir(home), ["secret.key"]); // no temporary file left
  });

  test("name option: several secrets side by side", async () => {
    const home = freshHome();
    await dumpSecret("server", "482913", { home, kdf });
    await dumpSecret("client", "482913", { home, kdf, name: "client.key" });
    assert.equal(await loadSecret("482913", { home }), "server");
    assert.equal(await loadSecret("482913", { home, name: "client.key" }), "client");
  });

  test("bad arguments: USRV_ERR_BAD_ARGUMENT", async () => {
    const home = freshHome();
    await rejectsCode(dumpSecret("s", "", { home, kdf }), "USRV_ERR_BAD_ARGUMENT");
    await rejectsCode(dumpSecret("", "482913", { home, kdf }), "USRV_ERR_BAD_ARGUMENT");
    await rejectsCode(dumpSecret("s", "482913", { home, kdf: { N: 2 ** 10 } }), "USRV_ERR_BAD_ARGUMENT");
    await rejectsCode(
      dumpSecret("s", "482913", { home, kdf, name: "../escape.key" }),
      "USRV_ERR_BAD_ARGUMENT",
    );
    await rejectsCode(dumpSecret("s", "482913", { home, kdf, name: ".hidden" }), "USRV_ERR_BAD_ARGUMENT");
    await rejectsCode(loadSecret("", { home }), "USRV_ERR_BAD_ARGUMENT");
  });

  test("location: $USRV_HOME, else ~/.usrv", async () => {
    const saved = process.env.USRV_HOME;
    try {
      const home = freshHome();
      process.env.USRV_HOME = home;
      assert.equal(secretPath(), join(home, "secret.key"));
      await dumpSecret("from env", "482913", { kdf });
      assert.equal(await loadSecret("482913"), "from env");
      delete process.env.USRV_HOME;
      assert.match(secretPath(), /[/\\]\.usrv[/\\]secret\.key$/);
    } finally {
      if (saved === undefined) delete process.env.USRV_HOME;
      else process.env.USRV_HOME = saved;
    }
  });
});

describe("docs/wire.md, where we differ: the reference's legacy secret file (vector secret_file)", () => {
  async function legacyHome(content = legacy.file_content): Promise<string> {
    const home = freshHome();
    await mkdir(home, { recursive: true });
    await writeFile(join(home, legacy.file_name), content);
    return home;
  }

  /** loadSecret's warnings, caught. */
  function warnings(): { warn: (message: string) => void; seen: string[] } {
    const seen: string[] = [];
    return { warn: (message) => seen.push(message), seen };
  }

  test("loadSecret falls back to sha256(PIN).key when no usrv file exists", async () => {
    const { warn } = warnings();
    assert.equal(await loadSecret(legacy.pin, { home: await legacyHome(), warn }), legacy.secret);
  });

  test("I3: reading the legacy file warns, naming the file and usrv secret migrate", async () => {
    const home = await legacyHome();
    const { warn, seen } = warnings();
    await loadSecret(legacy.pin, { home, warn });
    assert.equal(seen.length, 1);
    assert.match(seen[0]!, /^\[usrv\] WARNING: /);
    assert.ok(seen[0]!.includes(join(home, legacy.file_name)), seen[0]);
    assert.match(seen[0]!, /run "usrv secret migrate" to move it to \S+secret\.key and delete it$/);
  });

  test("I3: the warning goes to stderr by default; it names --name and --legacy-dir when given", async () => {
    const dir = await legacyHome();
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
    try {
      await loadSecret(legacy.pin, { home: freshHome(), name: "id.key", legacyDir: dir });
    } finally {
      process.stderr.write = write;
    }
    assert.equal(written.length, 1);
    assert.match(written[0]!, /WARNING: .*"usrv secret migrate --name id\.key --legacy-dir "[^"]+"".*\n$/);
  });

  test("legacyDir: the reference's folder (its package's .keys) elsewhere", async () => {
    const dir = await legacyHome();
    const { warn } = warnings();
    assert.equal(await loadSecret(legacy.pin, { home: freshHome(), legacyDir: dir, warn }), legacy.secret);
  });

  test("a wrong PIN finds no legacy file: USRV_ERR_BAD_SECRET_PIN when some legacy file exists", async () => {
    await rejectsCode(loadSecret("0000", { home: await legacyHome() }), "USRV_ERR_BAD_SECRET_PIN");
  });

  test("legacy: false ignores it", async () => {
    await rejectsCode(
      loadSecret(legacy.pin, { home: await legacyHome(), legacy: false }),
      "USRV_ERR_NO_SECRET",
    );
  });

  test("the usrv file wins over a legacy file, without a warning", async () => {
    const home = await legacyHome();
    await dumpSecret("new one", legacy.pin, { home, kdf });
    const { warn, seen } = warnings();
    assert.equal(await loadSecret(legacy.pin, { home, warn }), "new one");
    assert.deepEqual(seen, []);
  });

  test("I3: migrateSecret rewrites it under the same PIN, reads it back, then deletes the legacy file", async () => {
    const home = await legacyHome();
    const { from, to, publicKey } = await migrateSecret(legacy.pin, { home, kdf });
    assert.equal(from, join(home, legacy.file_name));
    assert.equal(to, join(home, "secret.key"));
    assert.equal(publicKey, generateKeypair(legacy.secret).publicKey);
    assert.deepEqual(await readdir(home), ["secret.key"]);
    const { warn, seen } = warnings();
    assert.equal(await loadSecret(legacy.pin, { home, warn }), legacy.secret);
    assert.deepEqual(seen, []);
  });

  test("I3: migrateSecret over an existing usrv file: USRV_ERR_SECRET_EXISTS, the legacy file kept", async () => {
    const home = await legacyHome();
    await dumpSecret("other", legacy.pin, { home, kdf });
    await rejectsCode(migrateSecret(legacy.pin, { home, kdf }), "USRV_ERR_SECRET_EXISTS");
    assert.deepEqual((await readdir(home)).sort(), [legacy.file_name, "secret.key"].sort());
  });

  test("I3: a new file that does not read back the same secret is removed, the legacy file kept", async () => {
    const home = await legacyHome();
    // the disk alters what was written (as test/fixtures/secret-faults.mjs does to the CLI)
    const fsp = fs.promises;
    const rename = fsp.rename;
    fsp.rename = (async (from: string, to: string) => {
      await rename(from, to);
      const doc = JSON.parse(await fsp.readFile(to, "utf8"));
      doc.ciphertext = Buffer.from("other secret").toString("base64");
      await fsp.writeFile(to, JSON.stringify(doc));
    }) as typeof fsp.rename;
    syncBuiltinESMExports();
    try {
      await assert.rejects(migrateSecret(legacy.pin, { home, kdf }), (err: unknown) => {
        assert.ok(err instanceof CryptoError);
        assert.equal(err.code, "USRV_ERR_BAD_SECRET_FILE");
        assert.match(
          err.message,
          /secret\.key did not give the same secret back .*; removed it and kept \S+\.key$/,
        );
        return true;
      });
    } finally {
      fsp.rename = rename;
      syncBuiltinESMExports();
    }
    assert.deepEqual(await readdir(home), [legacy.file_name]);
  });

  test("migrateSecret without a legacy file: USRV_ERR_NO_SECRET", async () => {
    await rejectsCode(migrateSecret(legacy.pin, { home: freshHome(), kdf }), "USRV_ERR_NO_SECRET");
  });

  // The reference writes hexlify(AES-CTR(UTF-8(secret))): lowercase hex, and a text secret.
  // Content of any other shape is refused, in loadSecret and migrateSecret alike.
  const c = legacy.file_content;
  const at = (i: number, ch: string) => c.slice(0, i) + ch + c.slice(i + 1);
  const xorAt = (i: number, mask: number) => at(i, String.fromCharCode(c.charCodeAt(i) ^ mask));
  const damaged: [string, string, RegExp][] = [
    ["not hex at all", "not hex", /not lowercase hex/],
    ["empty", "", /not lowercase hex/],
    ["a hex digit made a letter (byte 0, 'e' -> 'u')", xorAt(0, 0x10), /not lowercase hex/],
    ["a hex digit made upper case (byte 9, 'b' -> 'B')", xorAt(9, 0x20), /not lowercase hex/],
    ["a byte out of ASCII (byte 17, high bit)", xorAt(17, 0x80), /not lowercase hex/],
    ["odd length (last digit lost)", c.slice(0, -1), /not lowercase hex/],
    ["a space inside (byte 20)", at(20, " "), /not lowercase hex/],
    ["text after it", `${c}\nmore`, /not lowercase hex/],
    // CTR: a changed high digit changes the high half of that byte of the secret
    ["byte 2 '1' -> '9': the secret's 'y' becomes 0xF9", xorAt(2, 0x08), /not valid UTF-8/],
    ["byte 38 '6' -> 'e': the secret's 'e' becomes 0xED", at(38, "e"), /not valid UTF-8/],
    ["byte 0 'e' -> '9': the secret's 'm' (0x6D) becomes 0x1D", at(0, "9"), /control characters/],
    ["byte 0 'e' -> '8': the secret's 'm' becomes a CR, not at the end", at(0, "8"), /control characters/],
    ["byte 30 '6' -> '0': the secret's 'h' becomes a backspace", at(30, "0"), /control characters/],
  ];
  for (const [why, content, reason] of damaged) {
    test(`I3: a damaged legacy file (${why}): USRV_ERR_BAD_SECRET_FILE, loaded and migrated never`, async () => {
      const home = await legacyHome(content);
      await assert.rejects(loadSecret(legacy.pin, { home }), (err: unknown) => {
        assert.ok(err instanceof CryptoError);
        assert.equal(err.code, "USRV_ERR_BAD_SECRET_FILE");
        assert.ok(err.message.includes(join(home, legacy.file_name)), err.message);
        assert.match(err.message, reason);
        assert.match(err.message, /is corrupted: .*restore it from a backup$/);
        return true;
      });
      await rejectsCode(migrateSecret(legacy.pin, { home, kdf }), "USRV_ERR_BAD_SECRET_FILE");
      assert.deepEqual(await readdir(home), [legacy.file_name]);
    });
  }

  test("I3: a final newline (an editor's) is read", async () => {
    const { warn } = warnings();
    for (const end of ["\n", "\r\n"]) {
      assert.equal(await loadSecret(legacy.pin, { home: await legacyHome(c + end), warn }), legacy.secret);
    }
  });

  test("I3: every single-bit flip of the vector's file is refused, or keeps the shape and cannot be seen", async () => {
    // What the shape check catches, bit by bit. The rest (94 of 320) turn one printable
    // character of the secret into another: nothing in the format tells them from a real
    // secret, so migrate prints the public key for the user to compare.
    const home = await legacyHome();
    const path = join(home, legacy.file_name);
    const { warn } = warnings();
    let refused = 0;
    const unseen: string[] = [];
    for (let i = 0; i < c.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bytes = Buffer.from(c, "latin1");
        bytes[i] = bytes[i]! ^ (1 << bit);
        await writeFile(path, bytes);
        try {
          unseen.push(await loadSecret(legacy.pin, { home, warn }));
        } catch (err) {
          assert.ok(err instanceof CryptoError && err.code === "USRV_ERR_BAD_SECRET_FILE", String(err));
          refused++;
        }
      }
    }
    assert.equal(refused, 226);
    assert.equal(unseen.length, 94);
    for (const secret of unseen) {
      assert.notEqual(secret, legacy.secret);
      assert.match(secret, /^[\x20-\x7e]{20}$/, "printable ASCII, as long as the real one");
    }
  });
});
