/**
 * DHKEM(secp256k1, HKDF-SHA256), KEM 0x0016, against every published vector of
 * draft-wahby-cfrg-hpke-kem-secp256k1 (test/fixtures/vectors/hpke-secp256k1-draft-wahby.json),
 * on both backends: DeriveKeyPair, Encap with the fixed ephemeral ikm, Decap,
 * the shared secret, the key schedule (key, base_nonce, exporter_secret), and
 * seal / open / export checked against an independent AES-GCM and HKDF of
 * node:crypto fed with the published key schedule. The vectors give no
 * ciphertexts, so those are computed here from the published key and nonce.
 * The draft's Auth vectors print the recipient's key pair as skSm/pkSm (see
 * the file's erratum): the sender's pair is DeriveKeyPair(ikmS), as in RFC 9180.
 */
import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import { describe, test } from "node:test";
import type { AeadInterface } from "@hpke/common";
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import type { V2 } from "usrv/secp256k1";
import { hex, jsonFixture, toHex, v2Backends } from "./fixtures/helpers.js";

interface Vector {
  aead: string;
  aead_id: 1 | 2 | 3;
  mode: 0 | 2;
  info: string;
  ikmE: string;
  skEm: string;
  pkEm: string;
  ikmR: string;
  skRm: string;
  pkRm: string;
  ikmS?: string;
  skSm?: string;
  pkSm?: string;
  shared_secret: string;
  key: string;
  base_nonce: string;
  exporter_secret: string;
}

const F = jsonFixture<{ source: string; erratum: string; kem_id: number; kdf_id: number; vectors: Vector[] }>(
  "vectors/hpke-secp256k1-draft-wahby.json",
);

const CIPHERS = { 1: ["aes-128-gcm", 16], 2: ["aes-256-gcm", 32], 3: ["chacha20-poly1305", 32] } as const;

/** An AEAD for @hpke/core on node:crypto that records the keys it is given and the nonces it uses. */
function recordingAead(id: 1 | 2 | 3, seen: { keys: string[]; nonces: string[] }): AeadInterface {
  const [cipher, keySize] = CIPHERS[id];
  const u8 = (b: ArrayBufferLike | ArrayBufferView) =>
    ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
  return {
    id: id as AeadInterface["id"],
    keySize,
    nonceSize: 12,
    tagSize: 16,
    createEncryptionContext(key) {
      const k = u8(key).slice();
      seen.keys.push(toHex(k));
      return {
        async seal(iv, data, aad) {
          seen.nonces.push(toHex(u8(iv)));
          return independentSeal(cipher, k, u8(iv), u8(data), u8(aad)).slice().buffer;
        },
        async open(iv, data, aad) {
          // chacha20-poly1305 has the GCM methods too; the cast only picks those typings
          const d = createDecipheriv(cipher as "aes-128-gcm", k, u8(iv), { authTagLength: 16 });
          const ct = u8(data);
          d.setAAD(u8(aad));
          d.setAuthTag(ct.subarray(ct.length - 16));
          const out = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
          return new Uint8Array(out).buffer;
        },
      };
    },
  };
}

function independentSeal(cipher: string, key: Uint8Array, iv: Uint8Array, pt: Uint8Array, aad: Uint8Array) {
  const c = createCipheriv(cipher as "aes-128-gcm", key, iv, { authTagLength: 16 });
  c.setAAD(aad);
  return new Uint8Array(Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]));
}

/** RFC 9180 LabeledExpand(exporter_secret, "sec", ctx, L) on node:crypto's HMAC. */
function independentExport(v: Vector, ctx: Uint8Array, length: number): string {
  const suiteId = Buffer.from([0x48, 0x50, 0x4b, 0x45, 0, F.kem_id, 0, F.kdf_id, 0, v.aead_id]);
  const info = Buffer.concat([
    Buffer.from([0, length]),
    Buffer.from("HPKE-v1"),
    suiteId,
    Buffer.from("sec"),
    ctx,
  ]);
  let t = Buffer.alloc(0);
  let out = Buffer.alloc(0);
  for (let i = 1; out.length < length; i++) {
    t = createHmac("sha256", hex(v.exporter_secret))
      .update(t)
      .update(info)
      .update(Buffer.from([i]))
      .digest();
    out = Buffer.concat([out, t]);
  }
  return out.subarray(0, length).toString("hex");
}

function nonceAt(baseNonce: string, seq: number): Uint8Array {
  const n = hex(baseNonce);
  n[11]! ^= seq;
  return n;
}

test("the vector file: 18 vectors, Base and Auth for each of the three AEADs, KEM 0x0016", () => {
  assert.equal(F.kem_id, 0x16);
  assert.match(F.source, /draft-wahby-cfrg-hpke-kem-secp256k1.*commit [0-9a-f]{40}/);
  const kinds = F.vectors.map((v) => `${v.aead}/${v.mode}`);
  for (const aead of ["AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"])
    for (const mode of [0, 2]) assert.equal(kinds.filter((k) => k === `${aead}/${mode}`).length, 3);
});

for (const [name, v2] of v2Backends) {
  const { kem } = v2;
  const sk = async (pair: CryptoKeyPair) =>
    toHex(new Uint8Array(await kem.serializePrivateKey(pair.privateKey)));
  const pk = async (key: CryptoKey) => toHex(new Uint8Array(await kem.serializePublicKey(key)));

  describe(`DHKEM(secp256k1) vectors: ${name}`, () => {
    test("kem parameters: id 0x0016, Nsecret 32, Nenc 65, Npk 65, Nsk 32", () => {
      assert.deepEqual(
        [kem.id, kem.secretSize, kem.encSize, kem.publicKeySize, kem.privateKeySize],
        [0x16, 32, 65, 65, 32],
      );
    });

    for (const [i, v] of F.vectors.entries()) {
      const label = `${i}: ${v.aead} ${v.mode === 0 ? "Base" : "Auth"}`;
      test(`${label}: DeriveKeyPair gives skEm/pkEm and skRm/pkRm`, async () => {
        for (const [ikm, skHex, pkHex] of [
          [v.ikmE, v.skEm, v.pkEm],
          [v.ikmR, v.skRm, v.pkRm],
        ] as const) {
          const pair = await kem.deriveKeyPair(hex(ikm));
          assert.equal(await sk(pair), skHex);
          assert.equal(await pk(pair.publicKey), pkHex);
        }
      });

      if (v.ikmS) {
        test(`${label}: the erratum: published skSm/pkSm repeat skRm/pkRm, not DeriveKeyPair(ikmS)`, async () => {
          assert.equal(v.skSm, v.skRm);
          assert.equal(v.pkSm, v.pkRm);
          assert.notEqual(await sk(await kem.deriveKeyPair(hex(v.ikmS!))), v.skSm);
        });
      }

      test(`${label}: Encap with ikmE and Decap give shared_secret; enc is pkEm`, async () => {
        const recipient = await kem.deriveKeyPair(hex(v.ikmR));
        const sender = v.ikmS ? await kem.deriveKeyPair(hex(v.ikmS)) : undefined;
        const { enc, sharedSecret } = await kem.encap({
          recipientPublicKey: recipient.publicKey,
          ekm: hex(v.ikmE),
          ...(sender ? { senderKey: sender } : {}),
        });
        assert.equal(toHex(new Uint8Array(enc)), v.pkEm);
        assert.equal(toHex(new Uint8Array(sharedSecret)), v.shared_secret);
        const decap = async (senderPublicKey?: CryptoKey) =>
          toHex(
            new Uint8Array(
              await kem.decap({
                recipientKey: await kem.deserializePrivateKey(hex(v.skRm)),
                enc: hex(v.pkEm),
                ...(senderPublicKey ? { senderPublicKey } : {}),
              }),
            ),
          );
        assert.equal(await decap(sender?.publicKey), v.shared_secret);
        if (sender) {
          // the erratum: the published pkSm (a copy of pkRm) does not reproduce the shared secret
          assert.notEqual(await decap(await kem.deserializePublicKey(hex(v.pkSm!))), v.shared_secret);
        }
      });

      test(`${label}: key schedule, seal, open and export match the published key, base_nonce, exporter_secret`, async () => {
        const seen = { keys: [] as string[], nonces: [] as string[] };
        const suite = new CipherSuite({ kem, kdf: new HkdfSha256(), aead: recordingAead(v.aead_id, seen) });
        const recipient = await kem.deriveKeyPair(hex(v.ikmR));
        const sender = v.ikmS ? await kem.deriveKeyPair(hex(v.ikmS)) : undefined;
        const info = hex(v.info);
        const sctx = await suite.createSenderContext({
          recipientPublicKey: recipient.publicKey,
          info,
          ekm: hex(v.ikmE),
          ...(sender ? { senderKey: sender } : {}),
        });
        const rctx = await suite.createRecipientContext({
          recipientKey: recipient,
          enc: sctx.enc,
          info,
          ...(sender ? { senderPublicKey: sender.publicKey } : {}),
        });
        assert.deepEqual(seen.keys, [v.key, v.key]);
        const [cipher] = CIPHERS[v.aead_id];
        for (let seq = 0; seq < 3; seq++) {
          const pt = Buffer.from(`Beauty is truth, truth beauty ${seq}`);
          const aad = Buffer.from(`Count-${seq}`);
          const ct = new Uint8Array(await sctx.seal(pt, aad));
          assert.equal(seen.nonces.at(-1), toHex(nonceAt(v.base_nonce, seq)), `nonce ${seq}`);
          assert.equal(
            toHex(ct),
            toHex(independentSeal(cipher, hex(v.key), nonceAt(v.base_nonce, seq), pt, aad)),
          );
          assert.deepEqual(new Uint8Array(await rctx.open(ct, aad)), new Uint8Array(pt));
        }
        for (const [ctx, length] of [
          ["", 32],
          ["00", 32],
          ["54657374436f6e74657874", 32],
          ["54657374436f6e74657874", 70],
        ] as const) {
          const want = independentExport(v, hex(ctx), length);
          assert.equal(toHex(new Uint8Array(await sctx.export(hex(ctx), length))), want);
          assert.equal(toHex(new Uint8Array(await rctx.export(hex(ctx), length))), want);
        }
      });
    }

    test("this backend's AES-128-GCM (the v2 AEAD) seals as node:crypto under the published keys and nonces", async () => {
      const gcm = v2.backend.primitives;
      for (const v of F.vectors.filter((x) => x.aead_id === 1)) {
        const key = gcm.aes128Gcm(hex(v.key));
        for (const pt of [new Uint8Array(0), Buffer.from("a record"), new Uint8Array(70_000).fill(7)]) {
          const nonce = hex(v.base_nonce);
          const aad = Buffer.from(v.info);
          const ct = await key.seal(nonce, pt, aad);
          assert.equal(toHex(ct), toHex(independentSeal("aes-128-gcm", hex(v.key), nonce, pt, aad)));
          assert.deepEqual(await key.open(nonce, ct, aad), new Uint8Array(pt));
          const bad = ct.slice();
          bad[bad.length - 1]! ^= 1;
          assert.equal(await key.open(nonce, bad, aad), null);
          assert.equal(await key.open(nonce, ct, Buffer.from("other")), null);
          assert.equal(await key.open(nonce, ct.subarray(0, 15), aad), null);
        }
      }
    });
  });

  describe(`DHKEM(secp256k1) key checks: ${name}`, () => {
    const valid = hex(F.vectors[0]!.pkRm);
    const offCurve = valid.slice();
    offCurve[64]! ^= 1;
    const xTooBig = new Uint8Array(65).fill(0xff);
    xTooBig[0] = 4;
    const refused: Array<[string, Uint8Array]> = [
      ["the point at infinity (SEC1 0x00)", new Uint8Array([0])],
      ["a compressed point", Uint8Array.of(2, ...valid.subarray(1, 33))],
      ["a hybrid or unknown prefix", Uint8Array.of(6, ...valid.subarray(1))],
      ["a point off the curve", offCurve],
      ["coordinates >= p", xTooBig],
      ["64 bytes X || Y without the prefix", valid.subarray(1)],
      ["empty", new Uint8Array(0)],
    ];
    for (const [what, bytes] of refused) {
      test(`a public key or enc that is ${what} is refused, by deserialize and by Decap`, async () => {
        await assert.rejects(kem.deserializePublicKey(bytes), { name: "DeserializeError" });
        const recipient = await kem.deriveKeyPair(hex(F.vectors[0]!.ikmR));
        await assert.rejects(kem.decap({ recipientKey: recipient, enc: bytes }));
      });
    }
    const N = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
    for (const [what, skHex] of [
      ["zero", "00".repeat(32)],
      ["N", N],
      ["N + 1", `${N.slice(0, -1)}2`],
      ["31 bytes", "01".repeat(31)],
    ] as const) {
      test(`a private key of ${what} is refused`, async () => {
        await assert.rejects(kem.deserializePrivateKey(hex(skHex)), { name: "DeserializeError" });
      });
    }
    test("generateKeyPair gives a pair whose public key is the private key's", async () => {
      const pair = await kem.generateKeyPair();
      const again = await kem.deserializePrivateKey(await kem.serializePrivateKey(pair.privateKey));
      const { enc, sharedSecret } = await kem.encap({ recipientPublicKey: pair.publicKey });
      assert.deepEqual(await kem.decap({ recipientKey: again, enc }), sharedSecret);
    });
  });
}

test("across backends: Encap on one, Decap on the other, same shared secret", async () => {
  const [a, b] = v2Backends.map(([, v2]) => v2) as [V2, V2];
  const pairs: Array<[V2, V2]> = [
    [a, b],
    [b, a],
  ];
  for (const [x, y] of pairs) {
    const recipient = await y.kem.generateKeyPair();
    const sender = await x.kem.generateKeyPair();
    const pkR = await x.kem.deserializePublicKey(await y.kem.serializePublicKey(recipient.publicKey));
    const { enc, sharedSecret } = await x.kem.encap({ recipientPublicKey: pkR, senderKey: sender });
    const pkS = await y.kem.deserializePublicKey(await x.kem.serializePublicKey(sender.publicKey));
    assert.deepEqual(await y.kem.decap({ recipientKey: recipient, enc, senderPublicKey: pkS }), sharedSecret);
  }
});
