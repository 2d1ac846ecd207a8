/**
 * S4: certificates for HTTPS. A self-signed one for development is made
 * once with the openssl binary and kept under USRV_HOME (or ~/.usrv).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { UsageError } from "./errors.js";

/** Reads a certificate and its key and checks that TLS can use them together, or fails with one line. */
export function readTls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new UsageError(
        `usrv serve: cannot read the TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  };
  const pair = { cert: read(certFile, "certificate"), key: read(keyFile, "key") };
  try {
    createSecureContext(pair);
  } catch (e) {
    // OpenSSL's "error:05800074:x509 certificate routines::key values mismatch": keep the words
    const why = (e as Error).message.replace(/^error:[0-9A-F]+:[^:]*::?/, "");
    throw new UsageError(
      `usrv serve: cannot use the TLS certificate ${certFile} with the key ${keyFile}: ${why} (PEM files of one pair expected)`,
    );
  }
  return pair;
}

/** Paths of a self-signed certificate for localhost and 127.0.0.1, made on first use. */
export function selfSigned(home = process.env.USRV_HOME ?? join(homedir(), ".usrv")): {
  cert: string;
  key: string;
} {
  const dir = join(home, "tls");
  const cert = join(dir, "self-signed.crt");
  const key = join(dir, "self-signed.key");
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UsageError(
      `usrv serve: cannot make ${dir} for the self-signed certificate: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (set USRV_HOME to a writable folder)`,
    );
  }
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "365",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      { stdio: "ignore" },
    );
  } catch (e) {
    throw new UsageError(
      `usrv serve: cannot make a self-signed certificate (is openssl installed?): ${(e as Error).message}`,
    );
  }
  return { cert, key };
}
