/**
 * Errors of the crypto module: one class, one table of stable codes. The HTTP
 * core maps `USRV_ERR_BAD_KEY` and `USRV_ERR_DECRYPT` to its own 400 answers;
 * the secret-store codes only reach the CLI and the user's own code.
 */
import { defineErrors } from "./define-errors.js";

/** Every code a {@link CryptoError} can carry, with what it means. */
export const CRYPTO_ERRORS = {
  USRV_ERR_BAD_KEY:
    "a private key, public key, ephemeral key R or v2 enc is malformed, out of range or not on secp256k1",
  USRV_ERR_BAD_BASE64: "a string is not standard, padded, canonical base64",
  USRV_ERR_BAD_ARGUMENT:
    "an argument has the wrong type or size (aux not 32 bytes, empty PIN, bad file name, a v2 AAD field with a newline)",
  USRV_ERR_DECRYPT:
    "a ciphertext is not hex or does not decrypt to valid UTF-8; a v2 body or answer does not open, or is cut short or extended",
  USRV_ERR_BAD_SECRET_PIN: "the PIN does not open the stored secret",
  USRV_ERR_NO_SECRET: "no stored secret was found (neither the usrv file nor a legacy Python one)",
  USRV_ERR_SECRET_EXISTS: "a stored secret already exists and overwriting was not asked for",
  USRV_ERR_BAD_SECRET_FILE:
    "the stored secret file is unreadable, of an unknown version or has unsafe KDF parameters; a legacy file is damaged; a migrated file did not read back the same secret",
} as const satisfies Record<string, string>;

/** A stable crypto error code, e.g. `USRV_ERR_DECRYPT`. */
export type CryptoErrorCode = keyof typeof CRYPTO_ERRORS;

/**
 * The one error type of `usrv/secp256k1`: a stable `code` plus a message for humans.
 *
 * @example
 * try {
 *   decrypt(privateKey, R, "not hex");
 * } catch (err) {
 *   if (err instanceof CryptoError && err.code === "USRV_ERR_DECRYPT") answer400();
 * }
 */
export class CryptoError extends defineErrors<typeof CRYPTO_ERRORS>("CryptoError", CRYPTO_ERRORS) {}
