/**
 * The public operations of `usrv/secp256k1`, built once over a {@link Backend}
 * (a curve plus symmetric primitives). index.ts builds the fast Node instance,
 * portable.ts the pure-JS one; both pass the same vector tests.
 * Wire formats and derivations: docs/wire.md (compatibility with Python usrv 0.4.3).
 */
import { type Curve, isPrivateKey, N } from "./curve.js";
import { b64decode, b64encode, bigIntTo32, bytesToBigInt, fromUtf8, utf8 } from "./encoding.js";
import { CryptoError } from "./errors.js";
import { privateKeyBytes as parsePrivateKey, pointBytes } from "./keys.js";
import type { Primitives } from "./primitives.js";

/** A curve implementation plus symmetric primitives. */
export interface Backend {
  readonly name: string;
  readonly curve: Curve;
  readonly primitives: Primitives;
}

/** A key pair: the private key as 64 hex characters, the public key as base64 of `X || Y` (88 characters). */
export interface Keypair {
  readonly privateKey: string;
  readonly publicKey: string;
}

/** An encrypted text: the ephemeral public key `R` (base64 of `X || Y`) and the ciphertext (lowercase hex). */
export interface Encrypted {
  readonly R: string;
  readonly ciphertext: string;
}

/**
 * The operations of `usrv/secp256k1` bound to one backend. The module-level
 * functions of `usrv/secp256k1` are this interface over the fast Node backend;
 * see them for full documentation.
 *
 * @example
 * const portable: Secp256k1 = await loadSecp256k1("portable");
 * const { privateKey, publicKey } = portable.generateKeypair("my secret");
 * portable.verify("hi", portable.sign("hi", privateKey), publicKey); // true
 */
export interface Secp256k1 {
  /** The backend these operations run on. */
  readonly backend: Backend;
  /** BIP39 seed function of `secret` (64 bytes). */
  bip39Hash(secret: string, passphrase?: string): Uint8Array;
  /** Key pair derived from `secret` (BIP39 seed mod N), or random without one. */
  generateKeypair(secret?: string, passphrase?: string): Keypair;
  /** Compressed SEC1 hex (66 characters) of a base64 `X || Y` public key. */
  encode(publicKey: string): string;
  /** Base64 `X || Y` public key of a compressed SEC1 hex point. */
  decode(compressedHex: string): string;
  /** AES-256-CTR (counter block 1) of UTF-8 `text` under `SHA256(secret)`, as lowercase hex. */
  aesEncrypt(text: string, secret: string): string;
  /** Inverse of {@link Secp256k1.aesEncrypt}; throws `USRV_ERR_DECRYPT` on non-hex input or invalid UTF-8. */
  aesDecrypt(ciphertextHex: string, secret: string): string;
  /** ECIES encryption of `text` for `publicKey`. */
  encrypt(publicKey: string, text: string): Encrypted;
  /** ECIES decryption with `privateKey` of a ciphertext made for its public key. */
  decrypt(privateKey: string, R: string, ciphertextHex: string): string;
  /** BIP340 signature (base64 of `r || s`) of `SHA256(UTF-8(message))`. */
  sign(message: string, privateKey: string, aux?: Uint8Array): string;
  /** Checks a {@link Secp256k1.sign} signature; false, never a throw, on any malformed input. */
  verify(message: string, signature: string, publicKey: string): boolean;
  /** Signature as 128 hex characters with a key pair derived from `secret` and `salt`. */
  rawSign(message: string, secret: string, salt?: string): string;
}

// docs/wire.md: the initial counter block is the integer 1, big-endian
const COUNTER_1 = Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? 1 : 0));

/**
 * Builds the operations of `usrv/secp256k1` over one backend.
 *
 * @example
 * import { createSecp256k1, nodeBackend } from "usrv/secp256k1";
 * // the WASM curve with your own symmetric primitives (e.g. a hardware RNG)
 * const mine = createSecp256k1({ ...nodeBackend, name: "mine", primitives: myPrimitives });
 * mine.sign("hello", privateKey);
 */
export function createSecp256k1(backend: Backend): Secp256k1 {
  const { curve, primitives: h } = backend;

  const privateKeyBytes = (privateKey: string) => parsePrivateKey(privateKey, h.fromHex);

  function sharedSecret(d: Uint8Array, xy: Uint8Array, what: string): string {
    let x: Uint8Array;
    try {
      x = curve.ecdhX(d, xy);
    } catch (cause) {
      throw new CryptoError("USRV_ERR_BAD_KEY", `${what} is not a point on secp256k1`, { cause });
    }
    // docs/wire.md step 2: the ASCII hex of SHA256(X(S)) is the AES "secret"
    return h.toHex(h.sha256(x));
  }

  function randomScalar(): Uint8Array {
    // rejection sampling: a draw >= N has probability ~2^-128
    for (;;) {
      const d = h.randomBytes(32);
      if (isPrivateKey(d)) return d;
    }
  }

  function keypairOf(d: Uint8Array): Keypair {
    return { privateKey: h.toHex(d), publicKey: b64encode(curve.getPublicKey(d)) };
  }

  function bip39Hash(secret: string, passphrase = "SALT"): Uint8Array {
    if (typeof secret !== "string" || typeof passphrase !== "string") {
      throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "secret and passphrase must be strings");
    }
    const password = utf8(secret.normalize("NFKD"));
    const salt = utf8(`mnemonic${passphrase}`.normalize("NFKD"));
    return h.pbkdf2Sha512(password, salt, 2048, 64);
  }

  function generateKeypair(secret?: string, passphrase = "SALT"): Keypair {
    if (secret == null) return keypairOf(randomScalar());
    if (secret === "") {
      // a typo must not silently yield a key anyone can derive
      throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "empty secret: omit it for a random key pair");
    }
    const k = bytesToBigInt(bip39Hash(secret, passphrase)) % N;
    if (k === 0n) {
      throw new CryptoError("USRV_ERR_BAD_KEY", "this secret derives the zero key; choose another one");
    }
    return keypairOf(bigIntTo32(k));
  }

  function encode(publicKey: string): string {
    const xy = pointBytes(publicKey, "public key");
    if (!curve.isPoint(xy)) {
      throw new CryptoError("USRV_ERR_BAD_KEY", "public key is not a point on secp256k1");
    }
    return ((xy[63]! & 1) === 1 ? "03" : "02") + h.toHex(xy.subarray(0, 32));
  }

  function decode(compressedHex: string): string {
    const c =
      typeof compressedHex === "string" && compressedHex.length === 66 ? h.fromHex(compressedHex) : null;
    const xy = c === null ? null : curve.decompress(c);
    if (xy === null) {
      throw new CryptoError(
        "USRV_ERR_BAD_KEY",
        "not a compressed secp256k1 point (66 hex characters, 02/03 prefix)",
      );
    }
    return b64encode(xy);
  }

  function aesEncrypt(text: string, secret: string): string {
    if (typeof text !== "string" || typeof secret !== "string") {
      throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "text and secret must be strings");
    }
    return h.toHex(h.aes256Ctr(h.sha256(utf8(secret)), COUNTER_1, utf8(text)));
  }

  function aesDecryptBytes(ciphertext: Uint8Array, secret: string): string {
    const text = fromUtf8(h.aes256Ctr(h.sha256(utf8(secret)), COUNTER_1, ciphertext));
    if (text === null) {
      throw new CryptoError("USRV_ERR_DECRYPT", "ciphertext does not decrypt to valid UTF-8 (wrong key?)");
    }
    return text;
  }

  function ciphertextBytes(ciphertextHex: string): Uint8Array {
    const ct = h.fromHex(ciphertextHex);
    if (ct === null) throw new CryptoError("USRV_ERR_DECRYPT", "ciphertext is not an even-length hex string");
    return ct;
  }

  function aesDecrypt(ciphertextHex: string, secret: string): string {
    if (typeof secret !== "string") throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "secret must be a string");
    return aesDecryptBytes(ciphertextBytes(ciphertextHex), secret);
  }

  function encrypt(publicKey: string, text: string): Encrypted {
    if (typeof text !== "string") throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "text must be a string");
    const P = pointBytes(publicKey, "public key");
    const r = randomScalar();
    const secret = sharedSecret(r, P, "public key");
    return { R: b64encode(curve.getPublicKey(r)), ciphertext: aesEncrypt(text, secret) };
  }

  function decrypt(privateKey: string, R: string, ciphertextHex: string): string {
    const d = privateKeyBytes(privateKey);
    const ct = ciphertextBytes(ciphertextHex); // cheap checks before the curve work
    const secret = sharedSecret(d, pointBytes(R, "ephemeral key R"), "ephemeral key R");
    return aesDecryptBytes(ct, secret);
  }

  function signBytes(message: string, d: Uint8Array, aux: Uint8Array | undefined): Uint8Array {
    if (typeof message !== "string") {
      throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "message must be a string");
    }
    aux ??= h.randomBytes(32);
    if (!(aux instanceof Uint8Array) || aux.length !== 32) {
      throw new CryptoError("USRV_ERR_BAD_ARGUMENT", "aux must be 32 bytes");
    }
    return curve.schnorrSign(h.sha256(utf8(message)), d, aux);
  }

  function sign(message: string, privateKey: string, aux?: Uint8Array): string {
    return b64encode(signBytes(message, privateKeyBytes(privateKey), aux));
  }

  function verify(message: string, signature: string, publicKey: string): boolean {
    try {
      if (typeof message !== "string") return false;
      const sig = b64decode(signature);
      const xy = b64decode(publicKey);
      // the full point must be valid even though BIP340 only reads X
      if (sig.length !== 64 || xy.length !== 64 || !curve.isPoint(xy)) return false;
      return curve.schnorrVerify(sig, h.sha256(utf8(message)), xy.subarray(0, 32));
    } catch {
      return false;
    }
  }

  function rawSign(message: string, secret: string, salt = ""): string {
    const { privateKey } = generateKeypair(secret, salt);
    return h.toHex(signBytes(message, privateKeyBytes(privateKey), undefined));
  }

  return {
    backend,
    bip39Hash,
    generateKeypair,
    encode,
    decode,
    aesEncrypt,
    aesDecrypt,
    encrypt,
    decrypt,
    sign,
    verify,
    rawSign,
  };
}
