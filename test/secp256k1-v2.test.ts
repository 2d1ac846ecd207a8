/**
 * The v2 body encryption's behaviour (docs/wire-v2.md) on both backends:
 * round trips at the record boundaries, streaming with at most one record
 * held, the two backends talking to each other, and the errors of the API.
 * Tampering and vectors: secp256k1-v2-vectors.test.ts; the KEM: secp256k1-v2-kem.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as mod from "usrv/secp256k1";
import {
  generateKeypair,
  RECORD_SIZE,
  type RequestHead,
  runAll,
  SEALED_RECORD_SIZE,
  sealedLength,
  transformRecords,
  type V2,
} from "usrv/secp256k1";
import { v2Backends } from "./fixtures/helpers.js";

const server = generateKeypair("v2 behaviour: server");
const client = generateKeypair("v2 behaviour: client");
const head: RequestHead = {
  method: "POST",
  target: "/items?id=3",
  contentType: "application/json",
  nonce: "n-1",
};
const answerHead = { status: 200, contentType: "application/octet-stream" };

const bytes = (length: number, seed = 0) => Uint8Array.from({ length }, (_, i) => (i * 13 + seed) % 256);
const BAD_KEY = { name: "CryptoError", code: "USRV_ERR_BAD_KEY" };
const BAD_ARGUMENT = { name: "CryptoError", code: "USRV_ERR_BAD_ARGUMENT" };
const DECRYPT = { name: "CryptoError", code: "USRV_ERR_DECRYPT" };

function seal(v2: V2, extra: Partial<mod.SealRequestOptions> = {}) {
  return v2.sealRequest({
    serverPublicKey: server.publicKey,
    senderPrivateKey: client.privateKey,
    ...head,
    ...extra,
  });
}
function open(v2: V2, enc: string, extra: Partial<mod.OpenRequestOptions> = {}) {
  return v2.openRequest({
    serverPrivateKey: server.privateKey,
    senderPublicKey: client.publicKey,
    enc,
    ...head,
    ...extra,
  });
}

/** Pushes `data` in pieces of `size` bytes, then finishes; all outputs concatenated. */
async function inPieces(stage: mod.Sealer | mod.Opener, data: Uint8Array, size: number): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size)
    out.push(...(await stage.push(data.subarray(at, at + size))));
  out.push(...(await stage.finish()));
  return new Uint8Array(Buffer.concat(out));
}

const SIZES = [
  0,
  1,
  17,
  RECORD_SIZE - 1,
  RECORD_SIZE,
  RECORD_SIZE + 1,
  2 * RECORD_SIZE,
  2 * RECORD_SIZE + 1,
  300_000,
];

for (const [name, v2] of v2Backends) {
  describe(`v2: ${name}`, () => {
    for (const size of SIZES) {
      test(`v2: a ${size}-byte body and a ${size}-byte answer round-trip; ${sealedLength(size)} bytes on the wire`, async () => {
        const body = bytes(size);
        const sealed = await seal(v2);
        const wire = await runAll(sealed.records, body);
        assert.equal(wire.length, sealedLength(size));
        const opened = await open(v2, sealed.enc);
        assert.deepEqual(await runAll(opened.records, wire), body);
        const answer = await v2.sealResponse(opened.context, answerHead);
        const answerWire = await runAll(answer.records, bytes(size, 1));
        assert.equal(answerWire.length, sealedLength(size));
        const reader = await v2.openResponse(sealed.context, answer.responseNonce, answerHead);
        assert.deepEqual(await runAll(reader, answerWire), bytes(size, 1));
      });
    }

    test("v2: every record but the last is 65,553 bytes; an empty body is one 17-byte record", async () => {
      const sealer = (await seal(v2)).records;
      const records = [...(await sealer.push(bytes(3 * RECORD_SIZE + 5))), ...(await sealer.finish())];
      assert.deepEqual(
        records.map((r) => r.length),
        [SEALED_RECORD_SIZE, SEALED_RECORD_SIZE, SEALED_RECORD_SIZE, 5 + 17],
      );
      const empty = (await seal(v2)).records;
      assert.deepEqual(await empty.push(new Uint8Array(0)), []);
      assert.deepEqual(
        (await empty.finish()).map((r) => r.length),
        [17],
      );
    });

    test("v2: the sealed bytes do not depend on how the body is cut into pushes", async () => {
      const ekm = new Uint8Array(32).fill(5);
      const body = bytes(2 * RECORD_SIZE + 300);
      const whole = await runAll((await seal(v2, { ekm })).records, body);
      for (const size of [1000, RECORD_SIZE, RECORD_SIZE + 1, 7919]) {
        assert.deepEqual(
          await inPieces((await seal(v2, { ekm })).records, body, size),
          whole,
          `pieces of ${size}`,
        );
      }
      const opened = await open(v2, (await seal(v2, { ekm })).enc);
      assert.deepEqual(await inPieces(opened.records, whole, 4099), body);
    });

    test("v2: at most one record is held: a full record goes out as soon as a byte follows it", async () => {
      const sealed = await seal(v2);
      const { records } = sealed;
      assert.deepEqual(await records.push(bytes(RECORD_SIZE)), [], "a full record may still be the last");
      const [first, ...none] = await records.push(bytes(1));
      assert.equal(first?.length, SEALED_RECORD_SIZE);
      assert.deepEqual(none, []);
      const [last] = await records.finish();
      const opener = (await open(v2, sealed.enc)).records;
      assert.deepEqual(await opener.push(first!.subarray(0, 100)), []);
      const [chunk] = await opener.push(first!.subarray(100));
      assert.deepEqual(chunk, bytes(RECORD_SIZE), "a full record opens before the body ends");
      assert.deepEqual(await opener.push(last!), [], "a short record may be the start of a full one");
      assert.deepEqual(await opener.finish(), [bytes(1)]);
    });

    test("v2: transformRecords streams a 1 MiB body through both ends", async () => {
      const body = bytes(1 << 20);
      async function* source(data: Uint8Array, size: number) {
        for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
      }
      const sealed = await seal(v2);
      const wire: Uint8Array[] = [];
      for await (const record of transformRecords(sealed.records, source(body, 10_000))) {
        assert.ok(record.length <= SEALED_RECORD_SIZE);
        wire.push(record);
      }
      const opened = await open(v2, sealed.enc);
      const out: Uint8Array[] = [];
      for await (const chunk of transformRecords(opened.records, source(Buffer.concat(wire), 30_001)))
        out.push(chunk);
      assert.deepEqual(new Uint8Array(Buffer.concat(out)), body);
    });

    test("v2: pushes need not be awaited: they run in order", async () => {
      const body = bytes(3 * RECORD_SIZE + 10);
      const sealed = await seal(v2);
      const parts = await Promise.all([
        sealed.records.push(body.subarray(0, 70_000)),
        sealed.records.push(body.subarray(70_000, 150_000)),
        sealed.records.push(body.subarray(150_000)),
        sealed.records.finish(),
      ]);
      const opened = await open(v2, sealed.enc);
      assert.deepEqual(await runAll(opened.records, new Uint8Array(Buffer.concat(parts.flat()))), body);
    });

    test("v2: two answers to one request differ (fresh response nonces) and each opens only with its own", async () => {
      const sealed = await seal(v2);
      const opened = await open(v2, sealed.enc);
      await runAll(opened.records, await runAll(sealed.records, bytes(10)));
      const a = await v2.sealResponse(opened.context, answerHead);
      const b = await v2.sealResponse(opened.context, answerHead);
      assert.notEqual(a.responseNonce, b.responseNonce);
      assert.equal(Buffer.from(a.responseNonce, "base64").length, 32);
      const wireA = await runAll(a.records, bytes(50));
      const wireB = await runAll(b.records, bytes(50));
      assert.notDeepEqual(wireA, wireB);
      assert.deepEqual(
        await runAll(await v2.openResponse(sealed.context, a.responseNonce, answerHead), wireA),
        bytes(50),
      );
      await assert.rejects(
        runAll(await v2.openResponse(sealed.context, b.responseNonce, answerHead), wireA),
        DECRYPT,
      );
    });

    test("v2: a context exposes enc and export only", async () => {
      const { context, enc } = await seal(v2);
      assert.deepEqual(Object.keys(context).sort(), ["enc", "export"]);
      assert.equal(context.enc, enc);
      assert.ok(Object.isFrozen(context));
      assert.equal((await context.export(new Uint8Array(0), 42)).length, 42);
    });

    describe("v2: errors", () => {
      const offCurve = Buffer.from(Uint8Array.from({ length: 64 }, (_, i) => i + 1)).toString("base64");
      const badPublic: Array<[string, string]> = [
        ["not base64", "not base64!"],
        ["33 bytes", Buffer.alloc(33, 2).toString("base64")],
        ["off the curve", offCurve],
      ];
      const N = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
      const badPrivate: Array<[string, string]> = [
        ["63 hex characters", "1".repeat(63)],
        ["zero", "0".repeat(64)],
        ["N", N],
        ["not hex", "g".repeat(64)],
      ];
      for (const [what, key] of badPublic) {
        test(`v2: a server public key, sender public key or enc ${what} is USRV_ERR_BAD_KEY`, async () => {
          const { enc } = await seal(v2);
          await assert.rejects(seal(v2, { serverPublicKey: key }), BAD_KEY);
          await assert.rejects(open(v2, enc, { senderPublicKey: key }), BAD_KEY);
          await assert.rejects(open(v2, key), BAD_KEY);
        });
      }
      for (const [what, key] of badPrivate) {
        test(`v2: a sender or server private key of ${what} is USRV_ERR_BAD_KEY`, async () => {
          const { enc } = await seal(v2);
          await assert.rejects(seal(v2, { senderPrivateKey: key }), BAD_KEY);
          await assert.rejects(open(v2, enc, { serverPrivateKey: key }), BAD_KEY);
        });
      }
      for (const field of ["method", "target", "contentType", "nonce"] as const) {
        test(`v2: a ${field} with a newline is USRV_ERR_BAD_ARGUMENT (it would make two heads share an AAD)`, async () => {
          await assert.rejects(seal(v2, { [field]: "a\nb" }), BAD_ARGUMENT);
          await assert.rejects(open(v2, (await seal(v2)).enc, { [field]: "a\nb" }), BAD_ARGUMENT);
        });
      }
      test("v2: an empty method or target is USRV_ERR_BAD_ARGUMENT; an absent Content-Type is the empty one", async () => {
        await assert.rejects(seal(v2, { method: "" }), BAD_ARGUMENT);
        await assert.rejects(seal(v2, { target: "" }), BAD_ARGUMENT);
        const sealed = await seal(v2, { contentType: undefined });
        const opened = await open(v2, sealed.enc, { contentType: "" });
        assert.deepEqual(await runAll(opened.records, await runAll(sealed.records, bytes(3))), bytes(3));
      });
      test("v2: a status outside 100-999, a Content-Type with a newline or a response nonce not of 32 bytes is refused", async () => {
        const { context } = await seal(v2);
        for (const status of [99, 1000, 200.5, Number.NaN]) {
          await assert.rejects(v2.sealResponse(context, { status }), BAD_ARGUMENT, String(status));
          await assert.rejects(
            v2.openResponse(context, Buffer.alloc(32).toString("base64"), { status }),
            BAD_ARGUMENT,
          );
        }
        await assert.rejects(v2.sealResponse(context, { status: 200, contentType: "a\nb" }), BAD_ARGUMENT);
        await assert.rejects(
          v2.sealResponse(context, { status: 200, responseNonce: new Uint8Array(16) }),
          BAD_ARGUMENT,
        );
        for (const nonce of ["", "AAAA", "not base64", Buffer.alloc(33).toString("base64")]) {
          await assert.rejects(v2.openResponse(context, nonce, answerHead), DECRYPT, nonce);
        }
      });
      test("v2: after a record fails, every later call fails the same way", async () => {
        const sealed = await seal(v2);
        const wire = await runAll(sealed.records, bytes(RECORD_SIZE + 10));
        wire[5]! ^= 1;
        const { records } = await open(v2, sealed.enc);
        const error = await records.push(wire).catch((e: unknown) => e);
        assert.equal((error as mod.CryptoError).code, "USRV_ERR_DECRYPT");
        await assert.rejects(records.push(new Uint8Array(0)), (e) => e === error);
        await assert.rejects(records.finish(), (e) => e === error);
      });
      test("v2: push after finish, finish twice and a chunk that is not bytes are USRV_ERR_BAD_ARGUMENT", async () => {
        const a = (await seal(v2)).records;
        await a.finish();
        await assert.rejects(a.push(bytes(1)), BAD_ARGUMENT);
        const b = (await seal(v2)).records;
        await b.finish();
        await assert.rejects(b.finish(), BAD_ARGUMENT);
        const c = (await seal(v2)).records;
        await assert.rejects(c.push("text" as unknown as Uint8Array), BAD_ARGUMENT);
      });
    });
  });
}

describe("v2 across backends and entry points", () => {
  const [[, nodeV2], [, portableV2]] = v2Backends as unknown as [[string, V2], [string, V2]];
  const pairs: Array<[string, V2, V2]> = [
    ["node seals, portable opens", nodeV2, portableV2],
    ["portable seals, node opens", portableV2, nodeV2],
  ];
  for (const [what, clientSide, serverSide] of pairs) {
    test(`v2: ${what}, and the answer goes back the other way`, async () => {
      const body = bytes(RECORD_SIZE + 77);
      const sealed = await seal(clientSide);
      const opened = await open(serverSide, sealed.enc);
      assert.deepEqual(await runAll(opened.records, await runAll(sealed.records, body)), body);
      const answer = await serverSide.sealResponse(opened.context, answerHead);
      const wire = await runAll(answer.records, body);
      assert.deepEqual(
        await runAll(await clientSide.openResponse(sealed.context, answer.responseNonce, answerHead), wire),
        body,
      );
    });
  }

  test("v2: the functions of usrv/secp256k1 run on the node backend", async () => {
    const node = await mod.loadV2("node");
    assert.equal(node.backend.curve.name, "tiny-secp256k1");
    assert.equal(node.backend.primitives.name, "node:crypto");
    assert.equal(node, nodeV2);
    const sealed = await mod.sealRequest({
      serverPublicKey: server.publicKey,
      senderPrivateKey: client.privateKey,
      ...head,
    });
    const opened = await mod.openRequest({
      serverPrivateKey: server.privateKey,
      senderPublicKey: client.publicKey,
      enc: sealed.enc,
      ...head,
    });
    assert.deepEqual(await runAll(opened.records, await runAll(sealed.records, bytes(9))), bytes(9));
    const answer = await mod.sealResponse(opened.context, answerHead);
    const wire = await runAll(answer.records, bytes(4));
    assert.deepEqual(
      await runAll(await mod.openResponse(sealed.context, answer.responseNonce, answerHead), wire),
      bytes(4),
    );
  });

  test("v2: loadV2 knows two backends by name and refuses anything else (an object too)", async () => {
    assert.equal((await mod.loadV2("portable")).backend.curve.name, "@noble/curves");
    await assert.rejects(mod.loadV2("nope" as "node"), TypeError);
    const own = { name: "mine", curve: nodeV2.backend.curve, primitives: portableV2.backend.primitives };
    await assert.rejects(mod.loadV2(own as unknown as "node"), TypeError);
  });

  test("v2: sealedLength is the wire length of a body (17 bytes a record, at least one record)", () => {
    assert.deepEqual([0, 1, RECORD_SIZE, RECORD_SIZE + 1, 200_000].map(sealedLength), [
      17,
      18,
      SEALED_RECORD_SIZE,
      SEALED_RECORD_SIZE + 18,
      200_000 + 4 * 17,
    ]);
    assert.throws(() => sealedLength(-1), BAD_ARGUMENT);
  });
});
