/**
 * Round trips and bad input for `usrv/secp256k1`, on both backends and across
 * them (what one encrypts or signs, the other opens or verifies).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import * as mod from "usrv/secp256k1";
import { b64decode, b64encode, CRYPTO_ERRORS, CryptoError, type CryptoErrorCode } from "usrv/secp256k1";
import { backends } from "./fixtures/helpers.js";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Asserts that `fn` throws a CryptoError with `code`. */
function throwsCode(fn: () => unknown, code: CryptoErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CryptoError, `expected a CryptoError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, /^\[usrv\] /);
    return true;
  });
}

const alice = mod.generateKeypair("alice");
const bob = mod.generateKeypair("bob");
const xy = b64decode(alice.publicKey);
/** alice's point with Y + 1: 64 bytes, valid base64, not on the curve. */
const offCurve = (() => {
  const bad = Uint8Array.from(xy);
  bad[63] = (bad[63]! + 1) & 0xff;
  return b64encode(bad);
})();
/** X = p + 1 (beyond the field), any Y. */
const xTooBig = b64encode(
  Uint8Array.from(Buffer.from(`${"ff".repeat(27)}fffffc30${"00".repeat(33)}`, "hex")),
);

describe("docs/wire.md Curve, keys and encodings: b64encode / b64decode (strict)", () => {
  test("round trip of every length 0..70", () => {
    for (let n = 0; n <= 70; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const text = b64encode(bytes);
      assert.equal(text, Buffer.from(bytes).toString("base64"));
      assert.deepEqual(b64decode(text), bytes);
    }
  });
  const bad: [string, string][] = [
    ["AQI", "no padding"],
    ["AQ", "no padding"],
    ["A===", "too much padding"],
    ["=AQI", "padding first"],
    ["AQ=I", "padding inside"],
    ["AQ ID", "whitespace"],
    ["AQID\n", "trailing newline"],
    ["-_8=", "URL alphabet"],
    ["AQJ=", "stray bits before '='"],
    ["AR==", "stray bits before '=='"],
    ["é===", "non-ASCII"],
    ["====", "padding only"],
    ["AQ==AQ==", "padding, then more"],
  ];
  for (const [text, why] of bad) {
    test(`rejects ${JSON.stringify(text)} (${why}) with USRV_ERR_BAD_BASE64`, () => {
      throwsCode(() => b64decode(text), "USRV_ERR_BAD_BASE64");
    });
  }
  test("rejects a non-string", () => {
    throwsCode(() => b64decode(42 as unknown as string), "USRV_ERR_BAD_BASE64");
  });
  test("property: accepts exactly the canonical spellings Buffer produces, with the same bytes", () => {
    const chars = fc.constantFrom(..."AQgw+/9z=-_ \né".split(""));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 16 }), (list) => {
        const text = list.join("");
        const canonical = Buffer.from(text, "base64").toString("base64") === text;
        let bytes: Uint8Array | null = null;
        try {
          bytes = b64decode(text);
        } catch (err) {
          assert.ok(err instanceof CryptoError && err.code === "USRV_ERR_BAD_BASE64");
        }
        assert.equal(bytes !== null, canonical, JSON.stringify(text));
        if (bytes) assert.deepEqual(Buffer.from(bytes), Buffer.from(text, "base64"));
      }),
      { numRuns: 3000 },
    );
  });
});

for (const [name, s] of backends) {
  describe(`primitives [${name}]`, () => {
    test("randomBytes: 3,000 draws of 32 bytes (across pool refills) all distinct; every length from 0 to 200", () => {
      const { randomBytes } = s.backend.primitives;
      const seen = new Set<string>();
      for (let i = 0; i < 3000; i++) {
        const draw = randomBytes(32);
        assert.equal(draw.length, 32);
        seen.add(Buffer.from(draw).toString("hex"));
      }
      assert.equal(seen.size, 3000);
      for (let n = 0; n <= 200; n++) {
        const draw = randomBytes(n);
        assert.equal(draw.length, n);
        if (n >= 16)
          assert.ok(
            draw.some((b) => b !== 0),
            `${n} bytes all zero`,
          );
      }
    });
    test("randomBytes: a draw is a copy, so changing it changes no later draw", () => {
      const { randomBytes } = s.backend.primitives;
      const a = randomBytes(32);
      a.fill(0xaa);
      for (let i = 0; i < 100; i++) assert.ok(!randomBytes(32).every((b) => b === 0xaa));
    });
  });

  describe(`round trips [${name}]`, () => {
    test("generateKeypair(): random, 64 hex + 88 base64, encode/decode round trip", () => {
      const a = s.generateKeypair();
      const b = s.generateKeypair();
      assert.notEqual(a.privateKey, b.privateKey);
      assert.match(a.privateKey, /^[0-9a-f]{64}$/);
      assert.equal(a.publicKey.length, 88);
      assert.equal(b64decode(a.publicKey).length, 64);
      const c = s.encode(a.publicKey);
      assert.match(c, /^0[23][0-9a-f]{64}$/);
      assert.equal(s.decode(c), a.publicKey);
    });

    for (const text of [
      "",
      "hello",
      '{"value1": 1, "value2": "é ✓ 🎉"}',
      "\ufeffBOM kept",
      "x".repeat(100_000),
    ]) {
      test(`encrypt/decrypt round trip: ${JSON.stringify(text.slice(0, 20))} (${text.length} chars)`, () => {
        const { R, ciphertext } = s.encrypt(bob.publicKey, text);
        assert.equal(b64decode(R).length, 64);
        assert.match(ciphertext, /^(?:[0-9a-f]{2})*$/);
        assert.equal(ciphertext.length, 2 * Buffer.byteLength(text));
        assert.equal(s.decrypt(bob.privateKey, R, ciphertext), text);
      });
    }

    test("encrypt: a fresh R each time", () => {
      assert.notEqual(s.encrypt(bob.publicKey, "same").R, s.encrypt(bob.publicKey, "same").R);
    });

    test("sign/verify round trip; random aux by default, deterministic with aux", () => {
      const sig = s.sign("hello", alice.privateKey);
      assert.equal(b64decode(sig).length, 64);
      assert.equal(s.verify("hello", sig, alice.publicKey), true);
      assert.equal(s.verify("hellO", sig, alice.publicKey), false);
      assert.equal(s.verify("hello", sig, bob.publicKey), false);
      const aux = new Uint8Array(32).fill(7);
      assert.equal(s.sign("hello", alice.privateKey, aux), s.sign("hello", alice.privateKey, aux));
    });

    for (const [other, o] of backends) {
      if (other === name) continue;
      test(`interop with [${other}]: encrypt here, decrypt there; sign here, verify there`, () => {
        const { R, ciphertext } = s.encrypt(bob.publicKey, "across");
        assert.equal(o.decrypt(bob.privateKey, R, ciphertext), "across");
        assert.equal(o.verify("m", s.sign("m", alice.privateKey), alice.publicKey), true);
        const aux = new Uint8Array(32).fill(1);
        assert.equal(o.sign("m", alice.privateKey, aux), s.sign("m", alice.privateKey, aux));
      });
    }
  });

  describe(`bad input [${name}]`, () => {
    describe("verify never throws: false for", () => {
      const sig = s.sign("m", alice.privateKey);
      const cases: [string, unknown, unknown, unknown][] = [
        ["signature of 63 bytes", "m", b64encode(b64decode(sig).subarray(0, 63)), alice.publicKey],
        ["signature of 65 bytes", "m", b64encode(new Uint8Array([...b64decode(sig), 0])), alice.publicKey],
        ["signature not base64", "m", "!!!!", alice.publicKey],
        ["signature without padding", "m", sig.replace(/=+$/, ""), alice.publicKey],
        ["signature of zeros", "m", b64encode(new Uint8Array(64)), alice.publicKey],
        [
          "signature with s = N",
          "m",
          b64encode(
            new Uint8Array([...b64decode(sig).subarray(0, 32), ...Buffer.from(N.toString(16), "hex")]),
          ),
          alice.publicKey,
        ],
        ["public key not base64", "m", sig, "not base64 at all"],
        ["public key of 65 bytes (SEC1 with 0x04)", "m", sig, b64encode(new Uint8Array([4, ...xy]))],
        ["public key of 32 bytes (x-only)", "m", sig, b64encode(xy.subarray(0, 32))],
        ["public key off the curve (Y + 1)", "m", sig, offCurve],
        ["public key with X beyond the field", "m", sig, xTooBig],
        ["empty strings", "m", "", ""],
        ["non-string arguments", 42, null, undefined],
      ];
      for (const [why, message, signature, publicKey] of cases) {
        test(why, () => {
          assert.equal(s.verify(message as string, signature as string, publicKey as string), false);
        });
      }
    });

    test("encrypt: malformed or off-curve public key -> USRV_ERR_BAD_KEY", () => {
      throwsCode(() => s.encrypt("not base64", "x"), "USRV_ERR_BAD_KEY");
      throwsCode(() => s.encrypt(b64encode(xy.subarray(0, 63)), "x"), "USRV_ERR_BAD_KEY");
      throwsCode(() => s.encrypt(offCurve, "x"), "USRV_ERR_BAD_KEY");
      throwsCode(() => s.encrypt(xTooBig, "x"), "USRV_ERR_BAD_KEY");
    });

    test("decrypt: malformed R, R off the curve -> USRV_ERR_BAD_KEY", () => {
      const { ciphertext } = s.encrypt(bob.publicKey, "x");
      throwsCode(() => s.decrypt(bob.privateKey, "R?", ciphertext), "USRV_ERR_BAD_KEY");
      throwsCode(
        () => s.decrypt(bob.privateKey, b64encode(xy.subarray(0, 32)), ciphertext),
        "USRV_ERR_BAD_KEY",
      );
      throwsCode(() => s.decrypt(bob.privateKey, offCurve, ciphertext), "USRV_ERR_BAD_KEY");
    });

    test("decrypt: non-hex or odd-length ciphertext -> USRV_ERR_DECRYPT", () => {
      const { R } = s.encrypt(bob.publicKey, "x");
      for (const bad of ["zz", "abc", "ab cd", "0x12", "12\n"]) {
        throwsCode(() => s.decrypt(bob.privateKey, R, bad), "USRV_ERR_DECRYPT");
      }
    });

    test("decrypt: bad private key -> USRV_ERR_BAD_KEY", () => {
      const { R, ciphertext } = s.encrypt(bob.publicKey, "x");
      const cases = [
        "",
        "00".repeat(32),
        N.toString(16),
        (N + 1n).toString(16),
        bob.privateKey.slice(2),
        `${bob.privateKey}00`,
        "g".repeat(64),
      ];
      for (const bad of cases) throwsCode(() => s.decrypt(bad, R, ciphertext), "USRV_ERR_BAD_KEY");
    });

    test("decrypt with another key: no MAC, so either USRV_ERR_DECRYPT (invalid UTF-8) or wrong text", () => {
      // long text: garbage of 300 bytes is, in practice, never valid UTF-8
      const long = s.encrypt(bob.publicKey, "é".repeat(150));
      throwsCode(() => s.decrypt(alice.privateKey, long.R, long.ciphertext), "USRV_ERR_DECRYPT");
      // four ASCII bytes: garbage may be valid UTF-8; it is then some other text
      // (the same text once in 2^32: one byte was the same once in 256 runs)
      const short = s.encrypt(bob.publicKey, "abcd");
      try {
        assert.notEqual(s.decrypt(alice.privateKey, short.R, short.ciphertext), "abcd");
      } catch (err) {
        assert.ok(err instanceof CryptoError && err.code === "USRV_ERR_DECRYPT");
      }
    });

    test("aesDecrypt: invalid UTF-8 after decryption -> USRV_ERR_DECRYPT", () => {
      const c = Buffer.from(s.aesEncrypt("a", "k"), "hex");
      c[0] = c[0]! ^ 0x61 ^ 0xff; // plaintext byte becomes 0xff
      throwsCode(() => s.aesDecrypt(c.toString("hex"), "k"), "USRV_ERR_DECRYPT");
      throwsCode(() => s.aesDecrypt("xyz", "k"), "USRV_ERR_DECRYPT");
    });

    test("sign: aux not 32 bytes -> USRV_ERR_BAD_ARGUMENT; bad key -> USRV_ERR_BAD_KEY", () => {
      throwsCode(() => s.sign("m", alice.privateKey, new Uint8Array(31)), "USRV_ERR_BAD_ARGUMENT");
      throwsCode(() => s.sign("m", "00".repeat(32)), "USRV_ERR_BAD_KEY");
      throwsCode(() => s.sign("m", alice.publicKey), "USRV_ERR_BAD_KEY");
    });

    test("encode/decode: malformed points -> USRV_ERR_BAD_KEY", () => {
      throwsCode(() => s.encode(offCurve), "USRV_ERR_BAD_KEY");
      throwsCode(() => s.encode("AQID"), "USRV_ERR_BAD_KEY");
      const c = s.encode(alice.publicKey);
      throwsCode(() => s.decode(`04${c.slice(2)}`), "USRV_ERR_BAD_KEY");
      throwsCode(() => s.decode(c.slice(0, 64)), "USRV_ERR_BAD_KEY");
      throwsCode(() => s.decode(`02${"ff".repeat(32)}`), "USRV_ERR_BAD_KEY"); // X >= p
      throwsCode(() => s.decode(`02${"00".repeat(31)}05`), "USRV_ERR_BAD_KEY"); // x^3 + 7 not a square
      throwsCode(() => s.decode("zz".repeat(33)), "USRV_ERR_BAD_KEY");
    });

    test("generateKeypair(''): USRV_ERR_BAD_ARGUMENT (an empty secret is a typo, not a key)", () => {
      throwsCode(() => s.generateKeypair(""), "USRV_ERR_BAD_ARGUMENT");
    });
  });
}

describe("primitives conformance: both backends give the same bytes", () => {
  const [[, a], [, b]] = backends as [[string, mod.Secp256k1], [string, mod.Secp256k1]];
  const pa = a.backend.primitives;
  const pb = b.backend.primitives;
  const data = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 131) & 0xff);
  test("sha256, pbkdf2Sha512, aes256Ctr (across a counter carry)", () => {
    assert.deepEqual(pa.sha256(data), pb.sha256(data));
    assert.deepEqual(
      pa.pbkdf2Sha512(data.subarray(0, 9), data.subarray(9, 20), 2048, 64),
      pb.pbkdf2Sha512(data.subarray(0, 9), data.subarray(9, 20), 2048, 64),
    );
    const iv = new Uint8Array(16).fill(0xff); // the counter wraps after one block
    assert.deepEqual(
      pa.aes256Ctr(data.subarray(0, 32), iv, data),
      pb.aes256Ctr(data.subarray(0, 32), iv, data),
    );
  });
  test("toHex / fromHex: lowercase out, either case in, null for anything else", () => {
    for (const p of [pa, pb]) {
      const h = p.toHex(data);
      assert.equal(h, Buffer.from(data).toString("hex"));
      assert.deepEqual(p.fromHex(h), data);
      assert.deepEqual(p.fromHex("ABcd"), new Uint8Array([0xab, 0xcd]));
      assert.deepEqual(p.fromHex(""), new Uint8Array(0));
      for (const bad of ["a", "abc", "zz", "0x00", "ab cd", "éé"]) assert.equal(p.fromHex(bad), null, bad);
      assert.equal(p.randomBytes(100_000).length, 100_000);
    }
  });
  test("decrypt accepts uppercase hex ciphertext (as Python's unhexlify does)", () => {
    const { R, ciphertext } = a.encrypt(bob.publicKey, "case");
    assert.equal(b.decrypt(bob.privateKey, R, ciphertext.toUpperCase()), "case");
  });
});

describe("module surface", () => {
  test("exported names (drift check)", () => {
    assert.deepEqual(Object.keys(mod).sort(), [
      "CRYPTO_ERRORS",
      "CryptoError",
      "DEFAULT_SCRYPT",
      "LENGTH_SIZE",
      "MAX_SIZED_RECORD",
      "RECORD_SIZE",
      "SEALED_RECORD_SIZE",
      "aesDecrypt",
      "aesEncrypt",
      "b64decode",
      "b64encode",
      "bip39Hash",
      "canonicalKey",
      "compress",
      "createSizedOpener",
      "createSizedSealer",
      "decode",
      "decompress",
      "decrypt",
      "dumpSecret",
      "encode",
      "encrypt",
      "generateKeypair",
      "loadSecp256k1",
      "loadSecret",
      "loadV2",
      "migrateSecret",
      "openRequest",
      "openResponse",
      "rawSign",
      "runAll",
      "sealRequest",
      "sealResponse",
      "sealedLength",
      "secretPath",
      "sign",
      "transformRecords",
      "verify",
    ]);
  });

  test("error codes (drift check)", () => {
    assert.deepEqual(Object.keys(CRYPTO_ERRORS).sort(), [
      "USRV_ERR_BAD_ARGUMENT",
      "USRV_ERR_BAD_BASE64",
      "USRV_ERR_BAD_KEY",
      "USRV_ERR_BAD_SECRET_FILE",
      "USRV_ERR_BAD_SECRET_PIN",
      "USRV_ERR_DECRYPT",
      "USRV_ERR_NO_SECRET",
      "USRV_ERR_SECRET_EXISTS",
    ]);
  });

  test("module-level functions run on the node backend (tiny-secp256k1 + node:crypto)", async () => {
    const node = await mod.loadSecp256k1("node");
    assert.equal(node.backend.curve.name, "tiny-secp256k1");
    assert.equal(node.backend.primitives.name, "node:crypto");
    assert.deepEqual(mod.generateKeypair("x"), node.generateKeypair("x"));
    const portable = await mod.loadSecp256k1("portable");
    assert.equal(portable.backend.curve.name, "@noble/curves");
    await assert.rejects(mod.loadSecp256k1("nope" as "node"), TypeError);
  });

  test("compress and decompress are the seed's encode and decode", () => {
    assert.equal(mod.encode, mod.compress);
    assert.equal(mod.decode, mod.decompress);
    const compressed = mod.compress(bob.publicKey);
    assert.match(compressed, /^0[23][0-9a-f]{64}$/);
    assert.equal(mod.decompress(compressed), bob.publicKey); // the prefix keeps Y's parity
  });
});
