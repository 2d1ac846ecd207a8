/**
 * Every vector of test/fixtures/vectors/usrv-0.4.3-crypto.json (made by the Python
 * reference), on both backends. Suites are named after docs/wire.md's sections.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { auxFromInt, backends, hex, jsonFixture, toHex } from "./fixtures/helpers.js";

interface CryptoVectors {
  bip39_hash: { secret: string; passphrase: string; hash_hex: string }[];
  generate_keypair_from_secret: {
    secret: string;
    private_key_hex: string;
    public_key_b64: string;
    compressed_hex: string;
  }[];
  aes: { plaintext: string; secret: string; ciphertext_hex: string }[];
  ecies: {
    recipient_secret: string;
    recipient_private_key_hex: string;
    recipient_public_key_b64: string;
    ephemeral_public_key_b64: string;
    ciphertext_hex: string;
    plaintext: string;
  }[];
  schnorr_sign: {
    secret: string;
    private_key_hex: string;
    public_key_b64: string;
    message: string;
    aux_rand_int: number;
    signature_b64: string;
  }[];
  raw_sign: {
    secret: string;
    salt: string;
    message: string;
    public_key_b64: string;
    signature_hex: string;
  }[];
  secret_file: { pin: string; secret: string; file_name: string; file_content: string };
}

const V = jsonFixture<CryptoVectors>("vectors/usrv-0.4.3-crypto.json");
const q = JSON.stringify;

test("the vector file holds exactly the sections tested here", () => {
  assert.deepEqual(Object.keys(V).sort(), [
    "aes",
    "bip39_hash",
    "ecies",
    "generate_keypair_from_secret",
    "raw_sign",
    "schnorr_sign",
    "secret_file",
  ]);
});

for (const [name, s] of backends) {
  describe(`docs/wire.md vectors [${name}]`, () => {
    describe("Curve, keys and encodings: bip39_hash", () => {
      for (const v of V.bip39_hash) {
        test(`bip39Hash(${q(v.secret)}, ${q(v.passphrase)})`, () => {
          assert.equal(toHex(s.bip39Hash(v.secret, v.passphrase)), v.hash_hex);
        });
      }
      test("the passphrase defaults to SALT", () => {
        assert.equal(toHex(s.bip39Hash("secret")), V.bip39_hash[0]!.hash_hex);
      });
    });

    describe("Curve, keys and encodings: generate_keypair_from_secret", () => {
      for (const v of V.generate_keypair_from_secret) {
        test(`generateKeypair(${q(v.secret)})`, () => {
          assert.deepEqual(s.generateKeypair(v.secret), {
            privateKey: v.private_key_hex,
            publicKey: v.public_key_b64,
          });
        });
        test(`encode/decode ${q(v.secret)} <-> compressed_hex`, () => {
          assert.equal(s.encode(v.public_key_b64), v.compressed_hex);
          assert.equal(s.decode(v.compressed_hex), v.public_key_b64);
        });
      }
    });

    describe("Body encryption: aes (steps 3-4)", () => {
      for (const v of V.aes) {
        test(`aesEncrypt/aesDecrypt ${q(v.plaintext.slice(0, 24))} under ${q(v.secret.slice(0, 12))}`, () => {
          assert.equal(s.aesEncrypt(v.plaintext, v.secret), v.ciphertext_hex);
          assert.equal(s.aesDecrypt(v.ciphertext_hex, v.secret), v.plaintext);
        });
      }
    });

    describe("Body encryption: ecies (decrypt)", () => {
      for (const v of V.ecies) {
        test(`decrypt for ${q(v.recipient_secret)}: ${q(v.plaintext.slice(0, 24))}`, () => {
          const kp = s.generateKeypair(v.recipient_secret);
          assert.equal(kp.privateKey, v.recipient_private_key_hex);
          assert.equal(kp.publicKey, v.recipient_public_key_b64);
          assert.equal(
            s.decrypt(v.recipient_private_key_hex, v.ephemeral_public_key_b64, v.ciphertext_hex),
            v.plaintext,
          );
        });
      }
    });

    describe("Signatures: schnorr_sign (exact, with the given aux)", () => {
      for (const v of V.schnorr_sign) {
        test(`sign(${q(v.message)}) by ${q(v.secret)}, aux ${v.aux_rand_int}`, () => {
          assert.equal(s.generateKeypair(v.secret).publicKey, v.public_key_b64);
          assert.equal(s.sign(v.message, v.private_key_hex, auxFromInt(v.aux_rand_int)), v.signature_b64);
          assert.equal(s.verify(v.message, v.signature_b64, v.public_key_b64), true);
        });
      }
    });

    describe("Signatures: raw_sign (random aux: verified, not compared)", () => {
      for (const v of V.raw_sign) {
        test(`raw_sign(${q(v.message)}, ${q(v.secret)}, salt ${q(v.salt)}) verifies`, () => {
          assert.equal(s.generateKeypair(v.secret, v.salt).publicKey, v.public_key_b64);
          const b64 = (h: string) => Buffer.from(h, "hex").toString("base64");
          assert.equal(s.verify(v.message, b64(v.signature_hex), v.public_key_b64), true);
          const ours = s.rawSign(v.message, v.secret, v.salt);
          assert.match(ours, /^[0-9a-f]{128}$/);
          assert.equal(s.verify(v.message, b64(ours), v.public_key_b64), true);
        });
      }
    });

    describe("Where we differ: secret_file (the reference's legacy format)", () => {
      const v = V.secret_file;
      test("file name is sha256(PIN).key; content is aesEncrypt(secret, hex(bip39Hash(PIN)))", () => {
        assert.equal(v.file_name, `${createHash("sha256").update(v.pin).digest("hex")}.key`);
        const key = toHex(s.bip39Hash(v.pin, "SALT"));
        assert.equal(s.aesDecrypt(v.file_content, key), v.secret);
        assert.equal(s.aesEncrypt(v.secret, key), v.file_content);
        assert.equal(hex(v.file_content).length, Buffer.byteLength(v.secret));
      });
    });
  });
}
