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

/** Decrypts the content (hex) of a reference secret file with `pin`. */
export function decryptLegacy(contentHex: string, pin: string): string {
  const { aesDecrypt, bip39Hash } = nodeSecp256k1;
  try {
    return aesDecrypt(contentHex.trim(), Buffer.from(bip39Hash(pin, "SALT")).toString("hex"));
  } catch (cause) {
    throw new CryptoError(
      "USRV_ERR_BAD_SECRET_FILE",
      "the legacy secret file does not decrypt (corrupted?)",
      {
        cause,
      },
    );
  }
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
    content = await readFile(path, "utf8");
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
  return { secret: decryptLegacy(content, pin), path };
}
