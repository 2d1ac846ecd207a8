/**
 * Reading the Python reference's secret file (usrv 0.4.3 `dump_secret`), so
 * users can migrate. The scheme, worked out by trying candidates against the
 * `secret_file` vector (PIN "1234" opens "my secret passphrase"):
 *
 *   file name = lowercase_hex(SHA256(UTF-8(pin))) + ".key"
 *   content   = aes_encrypt(secret, lowercase_hex(bip39_hash(pin, "SALT")))
 *
 * i.e. lowercase hex of AES-256-CTR over UTF-8(secret), counter block 1, with
 * key = SHA256(ASCII(hex(PBKDF2-HMAC-SHA512(NFKD(pin), "mnemonicSALT", 2048, 64)))):
 * the same `aes` step as the body encryption (docs/wire.md steps 3-4). It is weak:
 * the file name gives a short PIN away at once (one SHA-256 per guess), the
 * KDF is 2048 PBKDF2 rounds and nothing authenticates the content. Hence we
 * only read it; secret-store.ts writes the hardened format.
 *
 * Without a MAC, CTR turns a changed ciphertext nibble into the same change
 * of the secret, so a damaged file can only be caught by its shape: what the
 * reference writes (`hexlify(...).decode()`, no newline) is lowercase hex,
 * and what it encrypts is the text of a secret pasted at a `getpass` prompt
 * or passed to `dump_secret`: valid UTF-8 without control characters (but tab,
 * and a final line end). We
 * refuse any other content (row I3). A change that keeps that shape (a hex
 * digit into another that turns a printable character into another printable
 * one) cannot be seen; the public key printed by `usrv secret migrate` is the
 * check left to the user.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CryptoError } from "./errors.js";
import { nodeSecp256k1 } from "./node.js";

/** The reference's file name for `pin`: SHA256 of the PIN, in hex, plus `.key`. */
export function legacyFileName(pin: string): string {
  return `${createHash("sha256").update(pin, "utf8").digest("hex")}.key`;
}

// what the reference writes, plus the final newline an editor may add
const CONTENT = /^((?:[0-9a-f]{2})+)\r?\n?$/;
// C0 but tab, DEL, C1; a final line end is allowed (a secret read from a file for dump_secret)
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/**
 * Decrypts the content of a reference secret file with `pin`. Throws
 * `USRV_ERR_BAD_SECRET_FILE` for content the reference does not write: not
 * lowercase hex, or a secret that is not UTF-8 text without control characters.
 */
export function decryptLegacy(content: string, pin: string, path = "the legacy secret file"): string {
  const corrupted = (why: string, cause?: unknown) =>
    new CryptoError(
      "USRV_ERR_BAD_SECRET_FILE",
      `${path} is corrupted: ${why}, which the Python usrv never writes; restore it from a backup`,
      { cause },
    );
  const hex = CONTENT.exec(content)?.[1];
  if (hex === undefined) throw corrupted("its content is not lowercase hex");
  let secret: string;
  try {
    secret = nodeSecp256k1.aesDecrypt(hex, Buffer.from(nodeSecp256k1.bip39Hash(pin, "SALT")).toString("hex"));
  } catch (cause) {
    throw corrupted("the secret in it is not valid UTF-8", cause);
  }
  if (CONTROL.test(secret.replace(/\r?\n$/, "")))
    throw corrupted("the secret in it holds control characters");
  return secret;
}

/**
 * The secret in `dir`'s legacy file for `pin`, or `undefined` when there is
 * none. Throws `USRV_ERR_BAD_SECRET_PIN` when other legacy files exist: as the
 * PIN names the file, a wrong PIN shows up as a missing file.
 */
export async function readLegacySecret(
  pin: string,
  dir: string,
): Promise<{ secret: string; path: string } | undefined> {
  const path = join(dir, legacyFileName(pin));
  let content: string;
  try {
    // latin1: every byte stays one character, so a byte that is no hex digit is seen as such
    content = await readFile(path, "latin1");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new CryptoError("USRV_ERR_BAD_SECRET_FILE", `cannot read ${path}`, { cause: err });
    }
    const others = await readdir(dir).catch(() => [] as string[]);
    if (others.some((f) => /^[0-9a-f]{64}\.key$/.test(f))) {
      throw new CryptoError("USRV_ERR_BAD_SECRET_PIN", `no legacy secret file in ${dir} matches this PIN`);
    }
    return undefined;
  }
  return { secret: decryptLegacy(content, pin, path), path };
}
