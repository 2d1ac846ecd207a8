/**
 * I1-I2: the identity secret stored under a PIN, hardened (end of docs/wire.md).
 * Node-only (file system). One JSON file, version 1:
 *
 *   { "format": "usrv-secret", "version": 1,
 *     "kdf": { "name": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": "<base64, 16 bytes>" },
 *     "cipher": { "name": "aes-256-gcm", "iv": "<base64, 12 bytes>", "tag": "<base64, 16 bytes>" },
 *     "ciphertext": "<base64 of AES-256-GCM(UTF-8(secret)), AAD = "usrv-secret/1">" }
 *
 * key = scrypt(NFKD(pin), salt, N, r, p, 32 bytes). The file name never
 * derives from the PIN; the file is 0600 in a 0700 folder. A memory-hard KDF
 * slows down guessing but cannot make a 4-digit PIN strong against someone
 * holding the file: prefer a long PIN.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { b64decode, b64encode, fromUtf8 } from "./encoding.js";
import { CryptoError } from "./errors.js";
import { nodeSecp256k1 } from "./node.js";
import { readLegacySecret } from "./secret-legacy.js";

/** scrypt cost parameters. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
}

/** Where the secret lives. */
export interface SecretOptions {
  /** Folder of the secret file; default `$USRV_HOME`, else `~/.usrv`. */
  home?: string;
  /** File name in that folder; default `secret.key`. */
  name?: string;
}

/** Options of {@link dumpSecret}. */
export interface DumpSecretOptions extends SecretOptions {
  /** Replace an existing file (default false: losing a secret loses an identity). */
  overwrite?: boolean;
  /** scrypt cost; default {@link DEFAULT_SCRYPT} (about 128 MiB and a few tenths of a second). */
  kdf?: Partial<ScryptParams>;
}

/** Options of {@link loadSecret}. */
export interface LoadSecretOptions extends SecretOptions {
  /** Fall back to the Python reference's file when no usrv file exists (default true). */
  legacy?: boolean;
  /** Folder of the reference's file; default the `home` folder. */
  legacyDir?: string;
  /**
   * Where the warning goes when the secret comes from the reference's file
   * (row I3); default stderr.
   */
  warn?: (message: string) => void;
}

/** Default scrypt cost: N = 2^17, r = 8, p = 1 (128 MiB). */
export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

const FORMAT = "usrv-secret";
const VERSION = 1;
const AAD = Buffer.from("usrv-secret/1");
// bounds on what a file may ask for, so a planted file cannot make us allocate gigabytes
const MAX_SCRYPT_MEMORY = 512 * 1024 * 1024;

/**
 * The path of the secret file for `options`.
 *
 * @example
 * secretPath(); // "/home/me/.usrv/secret.key" (or "$USRV_HOME/secret.key")
 */
export function secretPath(options: SecretOptions = {}): string {
  const name = options.name ?? "secret.key";
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name)) {
    throw new CryptoError(
      "USRV_ERR_BAD_ARGUMENT",
      `bad secret file name ${JSON.stringify(name)} (letters, digits, . _ -)`,
    );
  }
  return join(secretHome(options), name);
}

function secretHome(options: SecretOptions): string {
  return options.home || process.env.USRV_HOME || join(homedir(), ".usrv");
}

function checkScrypt({ N, r, p }: ScryptParams): boolean {
  return (
    Number.isInteger(N) &&
    Number.isInteger(r) &&
    Number.isInteger(p) &&
    N >= 2 ** 14 &&
    N <= 2 ** 22 &&
    (N & (N - 1)) === 0 &&
    r >= 1 &&
    r <= 32 &&
    p >= 1 &&
    p <= 16 &&
    128 * N * r <= MAX_SCRYPT_MEMORY
  );
}

function scryptKey(pin: string, salt: Uint8Array, { N, r, p }: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const maxmem = 128 * N * r * 2 + 128 * r * p + 1024 * 1024;
    scrypt(pin.normalize("NFKD"), salt, 32, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function checkText(value: unknown, what: string): asserts value is string {
  if (typeof value !== "string" || value === "") {
    throw new CryptoError("USRV_ERR_BAD_ARGUMENT", `${what} must be a non-empty string`);
  }
}

/**
 * I2: stores `secret` encrypted under `pin` (scrypt + AES-256-GCM), in a 0600
 * file written atomically. Resolves to the file's path.
 *
 * @example
 * await dumpSecret("my secret passphrase", "482913");
 * await dumpSecret("other", "482913", { name: "client.key", overwrite: true });
 */
export async function dumpSecret(
  secret: string,
  pin: string,
  options: DumpSecretOptions = {},
): Promise<string> {
  checkText(secret, "secret");
  checkText(pin, "PIN");
  const params = { ...DEFAULT_SCRYPT, ...options.kdf };
  if (!checkScrypt(params)) {
    throw new CryptoError(
      "USRV_ERR_BAD_ARGUMENT",
      "scrypt parameters out of bounds (N 2^14..2^22, r 1..32, p 1..16)",
    );
  }
  const path = secretPath(options);
  const home = secretHome(options);
  await mkdir(home, { recursive: true, mode: 0o700 });
  if (!options.overwrite && (await stat(path).catch(() => undefined))) {
    throw new CryptoError("USRV_ERR_SECRET_EXISTS", `${path} exists; pass overwrite (--force) to replace it`);
  }
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", await scryptKey(pin, salt, params), iv).setAAD(AAD);
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  const doc = {
    format: FORMAT,
    version: VERSION,
    kdf: { name: "scrypt", N: params.N, r: params.r, p: params.p, salt: b64encode(salt) },
    cipher: { name: "aes-256-gcm", iv: b64encode(iv), tag: b64encode(cipher.getAuthTag()) },
    ciphertext: b64encode(ciphertext),
  };
  // write then rename: a crash never leaves a half-written secret in place
  const tmp = join(home, `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(doc, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, 0o600); // open's mode went through the umask
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return path;
}

function badFile(path: string, why: string, cause?: unknown): CryptoError {
  return new CryptoError("USRV_ERR_BAD_SECRET_FILE", `${path}: ${why}`, { cause });
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === "object" && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

function bytesField(obj: unknown, key: string, path: string, length?: number): Buffer {
  try {
    const bytes = b64decode(field(obj, key) as string);
    if (length === undefined || bytes.length === length) return Buffer.from(bytes);
  } catch {}
  throw badFile(path, `bad "${key}"`);
}

async function openFile(text: string, pin: string, path: string): Promise<string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw badFile(path, "not a usrv secret file (not JSON)", cause);
  }
  if (field(doc, "format") !== FORMAT) throw badFile(path, "not a usrv secret file");
  if (field(doc, "version") !== VERSION) {
    throw badFile(
      path,
      `version ${String(field(doc, "version"))} is not supported (this usrv reads ${VERSION})`,
    );
  }
  const kdf = field(doc, "kdf");
  const cipher = field(doc, "cipher");
  const params = { N: field(kdf, "N"), r: field(kdf, "r"), p: field(kdf, "p") } as ScryptParams;
  if (field(kdf, "name") !== "scrypt" || !checkScrypt(params)) {
    throw badFile(path, "unsupported or unsafe KDF");
  }
  if (field(cipher, "name") !== "aes-256-gcm") throw badFile(path, "unsupported cipher");
  const salt = bytesField(kdf, "salt", path);
  const iv = bytesField(cipher, "iv", path, 12);
  const tag = bytesField(cipher, "tag", path, 16);
  const ciphertext = bytesField(doc, "ciphertext", path);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", await scryptKey(pin, salt, params), iv);
    decipher.setAAD(AAD).setAuthTag(tag);
    plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (cause) {
    // GCM cannot tell a wrong PIN from an altered file; the PIN is by far the likelier
    throw new CryptoError("USRV_ERR_BAD_SECRET_PIN", "wrong PIN (or the secret file was altered)", { cause });
  }
  const secret = fromUtf8(plain);
  if (secret === null) throw badFile(path, "the secret is not valid UTF-8");
  return secret;
}

/**
 * I2: reads the secret stored under `pin`. Without a usrv file, falls back to
 * the Python reference's file (`sha256(pin).key`, see secret-legacy.ts), with
 * a warning naming it and `usrv secret migrate` (row I3).
 * Throws `USRV_ERR_BAD_SECRET_PIN` for a wrong PIN, `USRV_ERR_NO_SECRET` when
 * nothing is stored, `USRV_ERR_BAD_SECRET_FILE` for a damaged file.
 *
 * @example
 * const secret = await loadSecret("482913");
 * const { publicKey } = generateKeypair(secret);
 */
export async function loadSecret(pin: string, options: LoadSecretOptions = {}): Promise<string> {
  checkText(pin, "PIN");
  const path = secretPath(options);
  let text: string | undefined;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw badFile(path, "cannot read", err);
  }
  if (text !== undefined) return openFile(text, pin, path);
  if (options.legacy !== false) {
    const legacy = await readLegacySecret(pin, options.legacyDir ?? secretHome(options));
    if (legacy) {
      const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
      warn(legacyWarning(legacy.path, path, options));
      return legacy.secret;
    }
  }
  throw new CryptoError("USRV_ERR_NO_SECRET", `no secret stored in ${path}; run "usrv secret dump"`);
}

function legacyWarning(from: string, to: string, options: LoadSecretOptions): string {
  const args = [
    options.name === undefined ? "" : ` --name ${options.name}`,
    options.legacyDir === undefined ? "" : ` --legacy-dir ${JSON.stringify(options.legacyDir)}`,
  ].join("");
  return (
    `[usrv] WARNING: the secret was read from the Python usrv's file ${from}, whose name ` +
    "(SHA-256 of the PIN) gives a short PIN away in milliseconds and whose content nothing protects; " +
    `run "usrv secret migrate${args}" to move it to ${to} and delete it`
  );
}

/**
 * Moves the Python reference's secret file for `pin` to the usrv format (same
 * PIN): writes the new file, reads it back, and only when it gives the same
 * secret deletes the old file, which would otherwise go on giving the secret
 * away to anyone who guesses a short PIN from its name (row I3). Resolves to
 * both paths and the public key of the secret, to compare with the one the
 * peers know (the old format cannot show every damage). When the read-back
 * differs, the new file is removed, the old one kept, and it throws
 * `USRV_ERR_BAD_SECRET_FILE`.
 *
 * @example
 * const { from, to, publicKey } = await migrateSecret("1234", {
 *   legacyDir: "/usr/lib/python3/site-packages/usrv/.keys",
 * });
 */
export async function migrateSecret(
  pin: string,
  options: DumpSecretOptions & Pick<LoadSecretOptions, "legacyDir"> = {},
): Promise<{ from: string; to: string; publicKey: string }> {
  checkText(pin, "PIN");
  const legacy = await readLegacySecret(pin, options.legacyDir ?? secretHome(options));
  if (!legacy) throw new CryptoError("USRV_ERR_NO_SECRET", "no legacy secret file to migrate");
  const to = await dumpSecret(legacy.secret, pin, options);
  let back: string | undefined;
  let cause: unknown;
  try {
    back = await loadSecret(pin, { home: options.home, name: options.name, legacy: false });
  } catch (err) {
    cause = err;
  }
  if (back !== legacy.secret) {
    // a file that does not give the secret back would hide the legacy one from loadSecret
    await rm(to, { force: true });
    const why = cause === undefined ? "another secret" : (cause as Error).message.replace("[usrv] ", "");
    throw new CryptoError(
      "USRV_ERR_BAD_SECRET_FILE",
      `${to} did not give the same secret back when read again (${why}); removed it and kept ${legacy.path}`,
      { cause },
    );
  }
  try {
    await rm(legacy.path);
  } catch (err) {
    throw new CryptoError(
      "USRV_ERR_BAD_SECRET_FILE",
      `${to} holds the secret now (read back and checked), but ${legacy.path} could not be deleted ` +
        `(${(err as NodeJS.ErrnoException).code ?? String(err)}): delete it yourself, it still gives the secret away`,
      { cause: err },
    );
  }
  return { from: legacy.path, to, publicKey: nodeSecp256k1.generateKeypair(legacy.secret).publicKey };
}
