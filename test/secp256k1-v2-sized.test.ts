/**
 * Sized records (docs/wire-v2.md, "Live answers"): the framing on its own
 * (a stand-in AEAD that appends a 16-byte tag), then the vector of
 * test/fixtures/vectors/usrv-v2-sized.json on both backends.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  createSizedOpener,
  createSizedSealer,
  type Keypair,
  LENGTH_SIZE,
  MAX_SIZED_RECORD,
  RECORD_SIZE,
  runAll,
} from "usrv/secp256k1";
import { hex, jsonFixture, v2Backends } from "./fixtures/helpers.js";

const TAG = new Uint8Array(16).fill(0xaa);

/** A stand-in AEAD: the record, then 16 bytes 0xaa; opens only with those 16 bytes intact. */
async function seal(record: Uint8Array): Promise<Uint8Array> {
  const out = new Uint8Array(record.length + 16);
  out.set(record, 0);
  out.set(TAG, record.length);
  return out;
}
async function open(sealed: Uint8Array): Promise<Uint8Array | null> {
  const tag = sealed.subarray(sealed.length - 16);
  return tag.every((b) => b === 0xaa) ? sealed.slice(0, sealed.length - 16) : null;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** A sized body: one record per event, then the empty last one. */
async function body(events: string[]): Promise<Uint8Array[]> {
  const sealer = createSizedSealer(seal);
  const out: Uint8Array[] = [];
  for (const e of events) out.push(...(await sealer.push(utf8(e))));
  out.push(...(await sealer.finish()));
  return out;
}

/** Opens `bytes` in pieces of `step` bytes; the plaintext chunks, in order. */
async function openAll(bytes: Uint8Array, step = bytes.length || 1): Promise<string[]> {
  const opener = createSizedOpener(open);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += step)
    out.push(...(await opener.push(bytes.subarray(at, at + step))));
  out.push(...(await opener.finish()));
  return out.map(text);
}

const refused = { code: "USRV_ERR_DECRYPT" };

describe("E9: sized records (docs/wire-v2.md, Live answers)", () => {
  test("E9: each push is sealed at once as its own record, its length first; finish adds an empty 0x02 record", async () => {
    const records = await body(["a", "bc"]);
    assert.deepEqual(
      records.map((r) => [...r.subarray(0, LENGTH_SIZE)]),
      [
        [0, 0, 18],
        [0, 0, 19],
        [0, 0, 17],
      ],
    );
    assert.equal(records[0]![LENGTH_SIZE + 1], 0x01);
    assert.equal(records[2]![LENGTH_SIZE], 0x02);
    assert.deepEqual(await openAll(concat(records)), ["a", "bc", ""]);
  });

  test("E9: a chunk over 65,536 bytes is cut into full records; an empty push seals nothing", async () => {
    const sealer = createSizedSealer(seal);
    assert.deepEqual(await sealer.push(new Uint8Array(0)), []);
    const big = await sealer.push(new Uint8Array(RECORD_SIZE + 1).fill(7));
    assert.deepEqual(
      big.map((r) => r.length),
      [MAX_SIZED_RECORD, LENGTH_SIZE + 18],
    );
    const opened = await openAll(concat([...big, ...(await sealer.finish())]), 1000);
    assert.deepEqual(
      opened.map((t) => t.length),
      [RECORD_SIZE, 1, 0],
    );
  });

  test("E9: the opener takes its input in any pieces, a byte at a time included", async () => {
    const bytes = concat(await body(["one", "two", "three"]));
    for (const step of [1, 2, 3, 4, 20, 21, 1000]) {
      assert.deepEqual((await openAll(bytes, step)).join("|"), "one|two|three|", `pieces of ${step}`);
    }
  });

  test("E9: push after finish and finish twice are misuse, on both ends", async () => {
    const sealer = createSizedSealer(seal);
    await sealer.finish();
    const afterFinish = { code: "USRV_ERR_BAD_ARGUMENT", message: /push\(\) after finish\(\)/ };
    const twiceOver = { code: "USRV_ERR_BAD_ARGUMENT", message: /finish\(\) called twice/ };
    await assert.rejects(sealer.push(utf8("x")), afterFinish);
    const other = createSizedSealer(seal);
    await other.finish();
    await assert.rejects(other.finish(), twiceOver);
    const opener = createSizedOpener(open);
    await opener.push(concat(await body([])));
    await opener.finish();
    await assert.rejects(opener.push(new Uint8Array(1)), afterFinish);
    const twice = createSizedOpener(open);
    await twice.push(concat(await body([])));
    await twice.finish();
    await assert.rejects(twice.finish(), twiceOver);
    await assert.rejects(createSizedSealer(seal).push("x" as unknown as Uint8Array), {
      code: "USRV_ERR_BAD_ARGUMENT",
    });
  });

  test("E9: a length outside 17..65,553 is refused as soon as its 3 bytes are in", async () => {
    for (const [length, ok] of [
      [16, false],
      [17, true],
      [65_553, true],
      [65_554, false],
      [0xffffff, false],
    ] as const) {
      const opener = createSizedOpener(open);
      const prefix = Uint8Array.of(length >>> 16, (length >>> 8) & 0xff, length & 0xff);
      if (ok) assert.deepEqual(await opener.push(prefix), [], `length ${length}`);
      else
        await assert.rejects(
          opener.push(prefix),
          { ...refused, message: /record length/ },
          `length ${length}`,
        );
    }
  });

  test("E9: a lying length, a changed byte, a dropped record, a cut body, bytes after the last record: refused", async () => {
    const records = await body(["one", "two"]);
    const good = concat(records);
    const lies = good.slice();
    lies[2] = lies[2]! + 1; // record 0 claims one byte more: it swallows the next prefix's first byte
    await assert.rejects(openAll(lies), refused);
    const shorter = good.slice();
    shorter[2] = shorter[2]! - 1;
    await assert.rejects(openAll(shorter), refused);
    const changed = good.slice();
    changed[LENGTH_SIZE + 19] = changed[LENGTH_SIZE + 19]! ^ 1; // a tag byte of record 0
    await assert.rejects(openAll(changed), { ...refused, message: /record 0 does not open/ });
    // the stand-in AEAD has no nonce: a dropped record shows as a truncation here, and as a record that does not open with the real one (below)
    await assert.rejects(openAll(concat(records.slice(0, 2))), { ...refused, message: /truncated/ });
    await assert.rejects(openAll(good.subarray(0, good.length - 1)), { ...refused, message: /truncated/ });
    await assert.rejects(openAll(good.subarray(0, LENGTH_SIZE - 1)), { ...refused, message: /truncated/ });
    await assert.rejects(openAll(new Uint8Array(0)), { ...refused, message: /truncated/ });
    await assert.rejects(openAll(concat([...records, Uint8Array.of(0)])), {
      ...refused,
      message: /after the last record/,
    });
  });

  test("E9: a record with a bad delimiter, or with no byte for one, is refused", async () => {
    const bad = await createSizedSealer(async (r) => seal(Uint8Array.of(...r.subarray(0, -1), 0x03))).push(
      utf8("x"),
    );
    await assert.rejects(openAll(concat(bad)), { ...refused, message: /bad delimiter/ });
    const empty = Uint8Array.of(0, 0, 17, ...new Uint8Array(1), ...TAG);
    const noByte = createSizedOpener(async () => new Uint8Array(0));
    await assert.rejects(noByte.push(empty), { ...refused, message: /does not open/ });
  });
});

interface Vector {
  server: Keypair;
  client: Keypair;
  request: {
    method: string;
    target: string;
    contentType: string;
    nonce: string;
    ekm_hex: string;
    enc_b64: string;
  };
  response: {
    status: number;
    content_type: string;
    response_nonce_b64: string;
    events: string[];
    records_hex: string[];
    body_b64: string;
  };
}
const V = jsonFixture<Vector>("vectors/usrv-v2-sized.json");

describe("E9: the sized-records vector (test/fixtures/vectors/usrv-v2-sized.json)", () => {
  for (const [name, v2] of v2Backends) {
    test(`E9: ${name} reproduces it byte for byte and opens it; a dropped record does not open`, async () => {
      const { request: q, response: r } = V;
      const head = { method: q.method, target: q.target, contentType: q.contentType, nonce: q.nonce };
      const sealed = await v2.sealRequest({
        serverPublicKey: V.server.publicKey,
        senderPrivateKey: V.client.privateKey,
        ekm: hex(q.ekm_hex),
        ...head,
      });
      assert.equal(sealed.enc, q.enc_b64);
      const answer = await v2.sealResponse(sealed.context, {
        status: r.status,
        contentType: r.content_type,
        responseNonce: Buffer.from(r.response_nonce_b64, "base64"),
        framing: "sized",
      });
      const records: Uint8Array[] = [];
      for (const e of r.events) records.push(...(await answer.records.push(utf8(e))));
      records.push(...(await answer.records.finish()));
      assert.deepEqual(
        records.map((x) => Buffer.from(x).toString("hex")),
        r.records_hex,
      );
      const headOf = { status: r.status, contentType: r.content_type };
      const opener = await v2.openResponse(sealed.context, r.response_nonce_b64, headOf, "sized");
      const plain = await runAll(opener, Buffer.from(r.body_b64, "base64"));
      assert.equal(text(plain), r.events.join(""));
      const dropped = await v2.openResponse(sealed.context, r.response_nonce_b64, headOf, "sized");
      await assert.rejects(
        runAll(dropped, concat([hex(r.records_hex[1]!), hex(r.records_hex[2]!)])),
        refused,
      );
      // read in the fixed framing (the header stripped), the body does not open either
      const fixed = await v2.openResponse(sealed.context, r.response_nonce_b64, headOf);
      await assert.rejects(runAll(fixed, Buffer.from(r.body_b64, "base64")), refused);
      await assert.rejects(v2.openResponse(sealed.context, r.response_nonce_b64, headOf, "big" as "sized"), {
        code: "USRV_ERR_BAD_ARGUMENT",
      });
    });
  }
});
