/**
 * test/fixtures/vectors/usrv-v2.json (made by scripts/v2-vectors.mjs on the
 * Node backend): both backends reproduce every request and answer byte for
 * byte and open them; a second implementation written from docs/wire-v2.md
 * alone (@hpke/core's own WebCrypto AES-GCM for requests, node:crypto for
 * answers) makes the same bytes; and every header-bound field, every record's
 * place and the pairing of an answer with its request are checked by tampering.
 */
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { describe, test } from "node:test";
import { Aes128Gcm, CipherSuite, HkdfSha256 } from "@hpke/core";
import {
  b64decode,
  type Keypair,
  type OpenRequestOptions,
  type ResponseHead,
  runAll,
  SEALED_RECORD_SIZE,
  type V2,
  type V2Context,
} from "usrv/secp256k1";
import { hex, jsonFixture, toHex, v2Backends } from "./fixtures/helpers.js";

interface Sealed {
  length: number;
  records: number;
  sha256: string;
  b64?: string;
  records_sha256?: string[];
}
interface Case {
  name: string;
  method: string;
  target: string;
  content_type: string;
  nonce: string;
  ekm_hex: string;
  enc_b64: string;
  request_aad: string;
  request_body_length: number;
  request_sealed: Sealed;
  status: number;
  response_content_type: string;
  response_nonce_b64: string;
  response_secret_hex: string;
  response_key_hex: string;
  response_base_nonce_hex: string;
  response_aad: string;
  response_body_length: number;
  response_sealed: Sealed;
}
const V = jsonFixture<{ server: Keypair; client: Keypair; cases: Case[] }>("vectors/usrv-v2.json");
const { server, client } = V;

const body = (length: number, k: number) => Uint8Array.from({ length }, (_, j) => (j + k) % 251);
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const utf8 = (s: string) => new TextEncoder().encode(s);
const recordsOf = (sealed: Uint8Array) =>
  Array.from({ length: Math.ceil(sealed.length / SEALED_RECORD_SIZE) }, (_, i) =>
    sealed.subarray(i * SEALED_RECORD_SIZE, (i + 1) * SEALED_RECORD_SIZE),
  );
const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

function assertSealedIs(sealed: Uint8Array, want: Sealed, what: string): void {
  assert.equal(sealed.length, want.length, `${what}: length`);
  assert.equal(sha(sealed), want.sha256, `${what}: sha256`);
  if (want.b64 !== undefined) assert.equal(Buffer.from(sealed).toString("base64"), want.b64, what);
  else assert.deepEqual(recordsOf(sealed).map(sha), want.records_sha256, `${what}: records`);
}

const openOptions = (c: Case): OpenRequestOptions => ({
  serverPrivateKey: server.privateKey,
  senderPublicKey: client.publicKey,
  enc: c.enc_b64,
  method: c.method,
  target: c.target,
  contentType: c.content_type,
  nonce: c.nonce,
});
const responseHead = (c: Case): ResponseHead => ({ status: c.status, contentType: c.response_content_type });

/** One case on one backend: the client's request and context, the server's context, both sealed bodies. */
async function replay(v2: V2, c: Case) {
  const sealedRequest = await v2.sealRequest({
    serverPublicKey: server.publicKey,
    senderPrivateKey: client.privateKey,
    ekm: hex(c.ekm_hex),
    method: c.method,
    target: c.target,
    contentType: c.content_type,
    nonce: c.nonce,
  });
  const request = await runAll(sealedRequest.records, body(c.request_body_length, 0));
  const opened = await v2.openRequest(openOptions(c));
  const answer = await v2.sealResponse(opened.context, {
    ...responseHead(c),
    responseNonce: b64decode(c.response_nonce_b64),
  });
  const response = await runAll(answer.records, body(c.response_body_length, 1));
  return { sealedRequest, request, opened, answer, response };
}

/** Opens `sealed` with a fresh request opener built from `options`; the plaintext, or the thrown error. */
async function tryOpenRequest(v2: V2, options: OpenRequestOptions, sealed: Uint8Array) {
  const { records } = await v2.openRequest(options);
  return runAll(records, sealed);
}

async function tryOpenResponse(
  v2: V2,
  ctx: V2Context,
  nonce: string,
  head: ResponseHead,
  sealed: Uint8Array,
) {
  return runAll(await v2.openResponse(ctx, nonce, head), sealed);
}

const DECRYPT = { name: "CryptoError", code: "USRV_ERR_DECRYPT" };

test("the vector file: five cases, bodies of 0, 1, 65,536, 65,537 and 200,000 bytes", () => {
  assert.deepEqual(
    V.cases.map((c) => c.request_body_length),
    [0, 1, 65_536, 65_537, 200_000],
  );
  assert.deepEqual(
    V.cases.map((c) => c.request_sealed.records),
    [1, 1, 1, 2, 4],
  );
});

for (const [name, v2] of v2Backends) {
  describe(`v2 vectors: ${name}`, () => {
    for (const c of V.cases) {
      test(`${c.name}: request and answer reproduced byte for byte, and opened`, async () => {
        const r = await replay(v2, c);
        assert.equal(r.sealedRequest.enc, c.enc_b64);
        assertSealedIs(r.request, c.request_sealed, "request");
        assert.equal(r.answer.responseNonce, c.response_nonce_b64);
        assertSealedIs(r.response, c.response_sealed, "answer");
        const secret = await r.opened.context.export(utf8("usrv/2 response"), 16);
        assert.equal(toHex(secret), c.response_secret_hex);
        assert.deepEqual(await tryOpenRequest(v2, openOptions(c), r.request), body(c.request_body_length, 0));
        assert.deepEqual(
          await tryOpenResponse(
            v2,
            r.sealedRequest.context,
            c.response_nonce_b64,
            responseHead(c),
            r.response,
          ),
          body(c.response_body_length, 1),
        );
      });
    }

    const c = V.cases[4]!; // four records each way
    const head: Array<[string, Partial<OpenRequestOptions>]> = [
      ["method", { method: "PUT" }],
      ["method case", { method: c.method.toLowerCase() }],
      ["target", { target: `${c.target}?` }],
      ["target query", { target: "/upload?x=1" }],
      ["Content-Type", { contentType: "application/json" }],
      ["Content-Type left out", { contentType: "" }],
      ["nonce", { nonce: c.nonce.replace("12:00", "12:01") }],
      ["sender key", { senderPublicKey: server.publicKey }],
      ["server key", { serverPrivateKey: client.privateKey }],
      ["enc", { enc: V.cases[0]!.enc_b64 }],
    ];
    for (const [field, change] of head) {
      test(`v2: a request opened with another ${field} does not open`, async () => {
        const { request } = await replay(v2, c);
        await assert.rejects(tryOpenRequest(v2, { ...openOptions(c), ...change }, request), DECRYPT);
      });
    }

    const tampered: Array<[string, (records: Uint8Array[]) => Uint8Array]> = [
      ["two records swapped", ([a, b, ...rest]) => concat([b!, a!, ...rest])],
      ["a record moved to another position", ([a, b, cc, d]) => concat([b!, cc!, a!, d!])],
      ["a middle record dropped", ([a, , cc, d]) => concat([a!, cc!, d!])],
      ["the first record dropped", ([, ...rest]) => concat(rest)],
      ["a record repeated", ([a, ...rest]) => concat([a!, a!, ...rest])],
      ["the last record dropped (truncation)", (rs) => concat(rs.slice(0, -1))],
      ["the last record cut short", (rs) => concat(rs).subarray(0, -5)],
      [
        "the last record cut below 17 bytes",
        (rs) => concat([...rs.slice(0, -1), rs.at(-1)!.subarray(0, 16)]),
      ],
      ["a byte after the last record", (rs) => concat([...rs, new Uint8Array(1)])],
      ["a whole record after the last one", (rs) => concat([...rs, rs[0]!])],
      ["one bit flipped in a middle record", (rs) => flip(concat(rs), SEALED_RECORD_SIZE + 100)],
      ["one bit flipped in a tag", (rs) => flip(concat(rs), SEALED_RECORD_SIZE - 1)],
      ["everything dropped", () => new Uint8Array(0)],
    ];
    for (const [what, change] of tampered) {
      test(`v2: a request with ${what} does not open`, async () => {
        const { request } = await replay(v2, c);
        await assert.rejects(tryOpenRequest(v2, openOptions(c), change(recordsOf(request))), DECRYPT);
      });
      test(`v2: an answer with ${what} does not open`, async () => {
        const { sealedRequest, response } = await replay(v2, c);
        await assert.rejects(
          tryOpenResponse(
            v2,
            sealedRequest.context,
            c.response_nonce_b64,
            responseHead(c),
            change(recordsOf(response)),
          ),
          DECRYPT,
        );
      });
    }

    const one = V.cases[2]!; // one full-size record each way, the last
    for (const [what, extra] of [
      ["a byte", new Uint8Array(1)],
      ["17 bytes", new Uint8Array(17)],
    ] as const) {
      test(`v2: ${what} after a full-size last record does not open`, async () => {
        const { sealedRequest, request, response } = await replay(v2, one);
        await assert.rejects(tryOpenRequest(v2, openOptions(one), concat([request, extra])), DECRYPT);
        await assert.rejects(
          tryOpenResponse(
            v2,
            sealedRequest.context,
            one.response_nonce_b64,
            responseHead(one),
            concat([response, extra]),
          ),
          DECRYPT,
        );
      });
    }

    const answerChanges: Array<[string, (x: { nonce: string; head: ResponseHead }) => void]> = [
      ["status", (x) => (x.head = { ...x.head, status: 200 })],
      ["Content-Type", (x) => (x.head = { ...x.head, contentType: "application/json; charset=utf-8" })],
      ["Content-Type left out", (x) => (x.head = { status: x.head.status })],
      ["response nonce", (x) => (x.nonce = V.cases[0]!.response_nonce_b64)],
    ];
    for (const [field, change] of answerChanges) {
      test(`v2: an answer opened with another ${field} does not open`, async () => {
        const { sealedRequest, response } = await replay(v2, c);
        const x = { nonce: c.response_nonce_b64, head: responseHead(c) };
        change(x);
        await assert.rejects(tryOpenResponse(v2, sealedRequest.context, x.nonce, x.head, response), DECRYPT);
      });
    }

    test("v2: an answer opened with another request's context does not open (even the same request sealed again)", async () => {
      const { response } = await replay(v2, c);
      const other = await replay(v2, V.cases[3]!);
      await assert.rejects(
        tryOpenResponse(v2, other.sealedRequest.context, c.response_nonce_b64, responseHead(c), response),
        DECRYPT,
      );
      // same head and body, but a fresh (random) ephemeral key: another context
      const again = await v2.sealRequest({
        serverPublicKey: server.publicKey,
        senderPrivateKey: client.privateKey,
        method: c.method,
        target: c.target,
        contentType: c.content_type,
        nonce: c.nonce,
      });
      await assert.rejects(
        tryOpenResponse(v2, again.context, c.response_nonce_b64, responseHead(c), response),
        DECRYPT,
      );
    });

    test("v2: an answer's records do not open as a request, nor a request's as an answer", async () => {
      const { sealedRequest, request, response } = await replay(v2, c);
      await assert.rejects(tryOpenRequest(v2, openOptions(c), response), DECRYPT);
      await assert.rejects(
        tryOpenResponse(v2, sealedRequest.context, c.response_nonce_b64, responseHead(c), request),
        DECRYPT,
      );
    });
  });
}

/** A full record plaintext: 65,536 bytes and `delimiter`. */
function full(delimiter: number): Uint8Array {
  const out = new Uint8Array(65_537).fill(9);
  out[65_536] = delimiter;
  return out;
}

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at]! ^= 1;
  return out;
}

describe("v2 vectors from a second implementation written from docs/wire-v2.md", () => {
  const [, nodeV2] = v2Backends[0]!;

  /** Request records with @hpke/core's own AES-128-GCM (WebCrypto) and the wire document's framing. */
  async function independentRequest(c: Case, plaintexts: Uint8Array[]): Promise<Uint8Array> {
    const { kem } = nodeV2;
    const suite = new CipherSuite({ kem, kdf: new HkdfSha256(), aead: new Aes128Gcm() });
    const ctx = await suite.createSenderContext({
      recipientPublicKey: await kem.deserializePublicKey(Uint8Array.of(4, ...b64decode(server.publicKey))),
      senderKey: await kem.deserializePrivateKey(hex(client.privateKey)),
      info: utf8("usrv/2 request"),
      ekm: hex(c.ekm_hex),
    });
    const aad = utf8(c.request_aad);
    const out: Uint8Array[] = [];
    for (const p of plaintexts) out.push(new Uint8Array(await ctx.seal(p, aad)));
    return concat(out);
  }

  /** Answer records with node:crypto, from the key and base nonce in the file. */
  function independentResponse(c: Case, plaintexts: Uint8Array[]): Uint8Array {
    return concat(
      plaintexts.map((p, i) => {
        const nonce = hex(c.response_base_nonce_hex);
        for (let j = 11, x = i; x > 0; j--, x >>= 8) nonce[j]! ^= x & 0xff;
        const cipher = createCipheriv("aes-128-gcm", hex(c.response_key_hex), nonce);
        cipher.setAAD(utf8(c.response_aad));
        return concat([cipher.update(p), cipher.final(), cipher.getAuthTag()]);
      }),
    );
  }

  /** Record plaintexts as the wire document frames a body: 65,536-byte chunks, 0x01 / 0x02. */
  function frame(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    do {
      const chunk = bytes.subarray(at, at + 65_536);
      at += 65_536;
      out.push(Uint8Array.of(...chunk, at < bytes.length ? 1 : 2));
    } while (at < bytes.length);
    return out;
  }

  for (const c of V.cases) {
    test(`${c.name}: the same bytes`, async () => {
      assertSealedIs(
        await independentRequest(c, frame(body(c.request_body_length, 0))),
        c.request_sealed,
        "request",
      );
      assertSealedIs(
        independentResponse(c, frame(body(c.response_body_length, 1))),
        c.response_sealed,
        "answer",
      );
    });
  }

  const c = V.cases[1]!;
  const crafted: Array<[string, Uint8Array[]]> = [
    ["a delimiter 0x00", [Uint8Array.of(7, 0)]],
    ["a delimiter 0x03", [Uint8Array.of(7, 3)]],
    ["zero padding after the delimiter (RFC 8188 allows it, v2 does not)", [Uint8Array.of(7, 2, 0)]],
    ["a last record marked 0x01 (the body ends early)", [Uint8Array.of(7, 1)]],
    ["a short record marked 0x01 before the last", [Uint8Array.of(7, 1), Uint8Array.of(8, 2)]],
    ["a record after the 0x02 one", [Uint8Array.of(7, 2), Uint8Array.of(8, 2)]],
    ["an empty record plaintext (no delimiter)", [new Uint8Array(0)]],
    ["a full-size record with delimiter 0x00 before a good last one", [full(0), Uint8Array.of(8, 2)]],
    ["a full-size record with delimiter 0x03 before a good last one", [full(3), Uint8Array.of(8, 2)]],
    ["a record after a full-size 0x02 one", [full(2), Uint8Array.of(8, 2)]],
    ["a full-size record marked 0x01, then nothing", [full(1)]],
  ];
  for (const [what, plaintexts] of crafted) {
    test(`v2: records that authenticate but carry ${what} do not open`, async () => {
      const request = await independentRequest(c, plaintexts);
      await assert.rejects(tryOpenRequest(nodeV2, openOptions(c), request), DECRYPT);
      const answer = independentResponse(c, plaintexts);
      const { context } = await nodeV2.sealRequest({
        serverPublicKey: server.publicKey,
        senderPrivateKey: client.privateKey,
        ekm: hex(c.ekm_hex),
        method: c.method,
        target: c.target,
        contentType: c.content_type,
        nonce: c.nonce,
      });
      await assert.rejects(
        tryOpenResponse(nodeV2, context, c.response_nonce_b64, responseHead(c), answer),
        DECRYPT,
      );
    });
  }
  test("v2: the crafted records open when framed right (the crafting is sound)", async () => {
    const request = await independentRequest(c, [Uint8Array.of(7, 2)]);
    assert.deepEqual(await tryOpenRequest(nodeV2, openOptions(c), request), Uint8Array.of(7));
  });
});
