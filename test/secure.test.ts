/**
 * docs/wire.md on the server: replay check (412), signature (401), decryption
 * (400), route policy (403), encrypted answers; and the Python reference's
 * recorded requests answered by our server.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import type { ServerHandle } from "usrv";
import { createApp, MemoryReplayStore } from "usrv";
import { decrypt, encrypt, generateKeypair, sign, verify } from "usrv/secp256k1";
import { json, matrix, quietApp, withoutId } from "./_setup.js";
import { jsonFixture } from "./fixtures/helpers.js";
import { client, nonce, open, sealed, server } from "./fixtures/v1-requests.js";
import { v2Request } from "./fixtures/v2-requests.js";

const transcripts = jsonFixture<any[]>("vectors/usrv-0.4.3-http-transcripts.json");

/**
 * The current time as an ISO-8601 Nonce in the local time of `offsetMin`
 * minutes east of UTC, with the given separator, fraction and offset text.
 */
function stamp(offsetMin: number, sep: string, fraction: string, zone: string): string {
  const local = new Date(Date.now() + offsetMin * 60_000).toISOString(); // its fields read as local time
  return `${local.slice(0, 10)}${sep}${local.slice(11, 19)}${fraction}${zone}`;
}

matrix(
  "I2 / docs/wire.md: encrypted requests on our server",
  (app) => {
    void app.identify("server-secret");
    app.bind("/api/endpoint", { methods: ["GET", "POST"] }, ({ a, b, method, data }, ctx) =>
      method === "POST" ? [202, data, ctx.senderPublicKey] : [200, a, b],
    );
    app.bind("/fields", { methods: ["POST"] }, ({ value1 }) => [200, value1]);
    app.bind("/secret", { methods: ["POST"], encrypted: true }, ({ data }) => [200, data]);
    app.bind("/vip", { methods: ["POST"], allow: [client.publicKey] }, () => [200, "welcome"]);
    app.bind("/vip-fn", { methods: ["POST"], allow: (k) => k.startsWith("nope") }, () => [200, "never"]);
    app.bind("/plain-error", { methods: ["POST"] }, () => [409, "conflict"]);
    app.bind("/bytes", { methods: ["POST"] }, ({ data, a }, ctx) => [
      200,
      Buffer.from(ctx.body ?? []).toString("hex"),
      data,
      a ?? null,
    ]);
  },
  (send) => {
    it("I2: a signed, encrypted body is verified, decrypted, handled and answered encrypted", async () => {
      const res = await send()("/api/endpoint", sealed('{"value1": 1, "value2": 2}'));
      assert.equal(res.status, 202);
      assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
      assert.deepEqual(await open(res), ['{"value1": 1, "value2": 2}', client.publicKey]);
    });
    it("V8: decrypted JSON fields bind by name", async () => {
      assert.equal(await open(await send()("/fields", sealed('{"value1": "x"}'))), "x");
    });
    it("a plain GET with Sender-Public-Key gets an encrypted answer", async () => {
      const res = await send()("/api/endpoint?a=12&b=test", {
        headers: { "sender-public-key": client.publicKey },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await open(res), ["12", "test"]);
    });
    it("a handler's error status is encrypted too; the framework's refusals are not", async () => {
      assert.deepEqual(withoutId(await open(await send()("/plain-error", sealed("{}")))), {
        status: 409,
        error: "Conflict",
        code: "USRV_ERR_STATUS",
        message: "Conflict",
        detail: "conflict",
      });
    });
    it("I2: a binary body as the Python client encrypts it (the Latin-1 reading of its bytes) is bound byte for byte", async () => {
      const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x80, 0xc3, 0xa9, 0xff]);
      // usrv/req.py build_request: secp256k1.encrypt(puk, data), data the body read as Latin-1
      const res = await send()(
        "/bytes",
        sealed(bytes.toString("latin1"), { type: "application/octet-stream" }),
      );
      assert.equal(((await open(res)) as string[])[0], bytes.toString("hex"));
    });
    it("I2: JSON and form bodies decrypt as UTF-8 text, whatever their characters", async () => {
      const body = '{"a": "été ✓"}'; // UTF-8 JSON, as a client that does not escape writes it
      assert.deepEqual(await open(await send()("/bytes", sealed(body))), [
        Buffer.from(body).toString("hex"),
        body,
        "été ✓",
      ]);
      const form = "a=%C3%A9t%C3%A9";
      assert.deepEqual(
        (
          (await open(
            await send()("/bytes", sealed(form, { type: "application/x-www-form-urlencoded" })),
          )) as unknown[]
        ).slice(1),
        [form, "été"],
      );
      // text beyond Latin-1 cannot be a Latin-1 reading: its UTF-8 bytes
      const text = "日本 é";
      assert.deepEqual(
        ((await open(await send()("/bytes", sealed(text, { type: "text/plain" })))) as unknown[]).slice(0, 2),
        [Buffer.from(text).toString("hex"), text],
      );
    });
    it("412: a reused nonce, also when sent twice at once", async () => {
      const init = sealed("{}");
      const [a, b] = await Promise.all([send()("/api/endpoint", init), send()("/api/endpoint", init)]);
      assert.deepEqual([a.status, b.status].sort(), [202, 412]);
      const again = await send()("/api/endpoint", init);
      assert.equal(((await json(again, 412)) as { code: string }).code, "USRV_ERR_REPLAY");
    });
    it("412: stale, future and unparseable nonces", async () => {
      for (const n of [nonce(-11_000), nonce(11_000), "yesterday", "2026-11-24T05:52:02.266283", ""]) {
        const res = await send()("/api/endpoint", sealed("{}", { nonce: n }));
        assert.equal(((await json(res, 412)) as { code: string }).code, "USRV_ERR_REPLAY", n);
      }
    });
    it("412 and docs/wire.md: a Nonce in the ISO-8601 spellings Python's fromisoformat reads is accepted", async () => {
      for (const n of [
        stamp(0, "T", ".123456", "+00:00"), // the reference's own
        stamp(0, "T", ".123456", "+0000"),
        stamp(0, " ", ".123456", "+00:00"),
        stamp(0, "T", "", "Z"),
        stamp(0, "T", ",5", "+00"),
        stamp(0, "T", ".123456789", "-00:00"),
        stamp(330, "T", ".1", "+05:30"), // local time 5.5 h ahead: the offset is applied
        stamp(-90, " ", "", "-0130"),
      ]) {
        assert.equal((await send()("/api/endpoint", sealed("{}", { nonce: n }))).status, 202, n);
      }
    });
    it("412: Nonce spellings outside docs/wire.md's grammar, or not a real time, are refused", async () => {
      const now = stamp(0, "T", ".123456", "+00:00");
      for (const n of [
        now.slice(0, -6), // no offset: a naive time (the reference fails on it with a TypeError)
        `${now.slice(0, -6)}z`,
        now.replace("T", "x"),
        now.replace("T", "_"),
        now.replace(/-|:/g, "").replace(/\+0000$/, "Z"), // basic format
        `${now.slice(0, 16)}Z`, // minutes only
        `${now}:00`, // an offset with seconds
        `${now.slice(0, -6)}+1`,
        `${now.slice(0, -6)}+000`,
        `${now.slice(0, -6)}+24:00`,
        now.replace(/\.\d+/, ".1234567890"),
        // today's date with a field out of range: refused, not rolled over to a nearby time
        `${now.slice(0, 5)}13${now.slice(7)}`,
        `${now.slice(0, 8)}32${now.slice(10)}`,
        "2026-02-29T05:52:02Z",
        `${now.slice(0, 11)}24:00:00Z`,
        `${now.slice(0, 14)}60${now.slice(16)}`,
        `${now.slice(0, 17)}60${now.slice(19)}`,
        "2026-W47-2T05:52:02Z",
      ]) {
        const res = await send()("/api/endpoint", sealed("{}", { nonce: n }));
        const body = (await json(res, 412)) as { code: string; message: string };
        assert.equal(body.code, "USRV_ERR_REPLAY", JSON.stringify(n));
        // refused as a spelling, not read as some other time that is then stale or ahead
        assert.match(body.message, /not an ISO-8601 timestamp|not a valid date/, JSON.stringify(n));
      }
    });
    it("401: a signature that does not verify (another key, tampered body, wrong length)", async () => {
      const other = generateKeypair();
      const forged = sealed("{}");
      (forged.headers as Record<string, string>)["sender-public-key"] = other.publicKey;
      const tampered = sealed("{}");
      tampered.body = `00${tampered.body}`;
      const short = sealed("{}");
      (short.headers as Record<string, string>)["sender-signature"] = "AAAA";
      for (const init of [forged, tampered, short]) {
        assert.equal(
          ((await json(await send()("/api/endpoint", init), 401)) as { code: string }).code,
          "USRV_ERR_BAD_SIGNATURE",
        );
      }
    });
    it("401: encryption headers without a signature", async () => {
      const init = sealed("{}");
      delete (init.headers as Record<string, string>)["sender-signature"];
      assert.equal(
        ((await json(await send()("/api/endpoint", init), 401)) as { code: string }).code,
        "USRV_ERR_BAD_SIGNATURE",
      );
    });
    it("400: malformed base64 keys and points not on the curve", async () => {
      const notOnCurve = Buffer.alloc(64, 7).toString("base64");
      for (const key of ["not base64!", "AAAA", notOnCurve]) {
        const res = await send()("/api/endpoint", { headers: { "sender-public-key": key } });
        assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_BAD_KEY", key);
      }
    });
    it("400: a body encrypted for another key, or not hex, does not decrypt", async () => {
      const other = generateKeypair();
      // The wire format has no MAC: a wrong key is caught because its output is
      // not UTF-8, which is certain only for longer bodies (short ones may then fail as JSON, still a 400).
      const res = await send()(
        "/api/endpoint",
        sealed(JSON.stringify({ a: "x".repeat(200) }), { to: other.publicKey }),
      );
      assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_DECRYPT");
      // a validly signed body that is not hex
      const n = nonce();
      const { R } = encrypt(server.publicKey, "x");
      const res2 = await send()("/api/endpoint", {
        method: "POST",
        headers: {
          nonce: n,
          "ephemeral-public-key": R,
          "sender-public-key": client.publicKey,
          "sender-signature": sign(`zz${R}${n}`, client.privateKey),
        },
        body: "zz",
      });
      assert.equal(((await json(res2, 400)) as { code: string }).code, "USRV_ERR_DECRYPT");
    });
    it("403: a route that requires encryption refuses plain requests and says why", async () => {
      const body = (await json(await send()("/secret", { method: "POST", body: "{}" }), 403)) as {
        code: string;
        message: string;
      };
      assert.equal(body.code, "USRV_ERR_ENCRYPTION_REQUIRED");
      assert.match(body.message, /encrypted/);
      assert.equal(await open(await send()("/secret", sealed('"top"'))), '"top"');
    });
    it("403: allow lists admit only listed senders", async () => {
      assert.equal(await open(await send()("/vip", sealed("{}"))), "welcome");
      const stranger = generateKeypair();
      const res = await send()("/vip", sealed("{}", { key: stranger }));
      assert.equal(((await json(res, 403)) as { code: string }).code, "USRV_ERR_FORBIDDEN_SENDER");
      const res2 = await send()("/vip-fn", sealed("{}"));
      assert.equal(((await json(res2, 403)) as { code: string }).code, "USRV_ERR_FORBIDDEN_SENDER");
      const plain = await send()("/vip", { method: "POST", body: "{}" });
      assert.equal(((await json(plain, 403)) as { code: string }).code, "USRV_ERR_ENCRYPTION_REQUIRED");
    });
  },
);

describe("I1: the server's identity", () => {
  it("identify(secret) sets the key pair generateKeypair(secret) derives; identify() a random one", async () => {
    const { app } = quietApp();
    assert.equal(app.publicKey, undefined);
    const derived = generateKeypair("server-secret");
    assert.equal(await app.identify("server-secret"), derived.publicKey);
    assert.equal(app.publicKey, derived.publicKey);
    assert.deepEqual(await app.keypair(), derived);
    const first = await app.identify();
    const second = await app.identify();
    assert.notEqual(first, derived.publicKey);
    assert.notEqual(first, second);
    assert.equal(app.publicKey, second);
  });
});

describe("docs/wire.md: the Python reference's encrypted multipart (recorded), bound byte for byte", () => {
  const rec = jsonFixture<any>("vectors/usrv-0.4.3-multipart.json");
  const r = rec.requests.find((q: { body_text?: string }) => q.body_text !== undefined);
  it(`${r.name}: the file's ${rec.file_hex.length / 2} bytes, the Latin-1 text field, the JSON part`, async () => {
    const { app } = quietApp({ maxNonceAge: Number.POSITIVE_INFINITY }); // a recorded, old nonce
    await app.identify(rec.server_secret);
    app.bind("/upload", { methods: ["POST"] }, ({ name, meta, file }, ctx) => [
      200,
      name,
      meta,
      Buffer.from((file as { data: Uint8Array }).data).toString("hex"),
      ctx.body?.length,
      ctx.senderPublicKey,
    ]);
    const res = await app.request(r.path, { method: r.method, headers: r.headers, body: r.body_text });
    const hex = await res.text();
    assert.equal(res.status, 200, hex);
    const R = res.headers.get("ephemeral-public-key")!;
    const client = generateKeypair(rec.client_secret);
    const plain = JSON.parse(decrypt(client.privateKey, R, hex));
    // the plaintext is UTF-8 of the Latin-1 reading: 535 bytes, 6 of them over 0x7F
    assert.equal(
      Buffer.byteLength(
        decrypt(
          generateKeypair(rec.server_secret).privateKey,
          r.headers["ephemeral-public-key"],
          r.body_text,
        ),
      ),
      541,
    );
    assert.deepEqual(plain, ["été", '{"a":1,"b":"\\u00e9"}', rec.file_hex, 535, client.publicKey]);
  });
});

describe("docs/wire.md: the Python reference's recorded requests, answered by our server", () => {
  for (const t of transcripts) {
    it(t.name, async () => {
      // The recorded nonce is from the past: widen the window for this replay of history.
      const { app } = quietApp({ maxNonceAge: Number.POSITIVE_INFINITY });
      await app.identify(t.server_secret);
      app.bind("/api/endpoint", { methods: ["GET", "POST"] }, ({ a, b, method, data }) =>
        method === "POST" ? [202, data] : [200, a, b],
      );
      const headers = Object.fromEntries(
        Object.entries(t.request.headers as Record<string, string>).filter(
          ([k]) => !/^(host|content-length)$/i.test(k),
        ),
      );
      const res = await app.request(t.request.path, {
        method: t.request.method,
        headers,
        body: t.request.body ?? undefined,
      });
      assert.equal(res.status, t.response.status);
      const hex = await res.text();
      const R = res.headers.get("ephemeral-public-key")!;
      assert.equal(res.headers.get("sender-public-key"), t.response.headers["Sender-Public-Key"]);
      assert.ok(
        verify(hex + R, res.headers.get("sender-signature")!, t.response.headers["Sender-Public-Key"]),
      );
      const plain = decrypt(generateKeypair(t.client_secret).privateKey, R, hex);
      // Same JSON value; Python's json.dumps writes ", " where we write ",".
      assert.deepEqual(JSON.parse(plain), JSON.parse(t.plaintext_response_body));
      if (t.request.method === "POST") assert.equal(plain, t.plaintext_response_body);
    });
  }
});

describe("I2: replay memory", () => {
  it("its flush timer never keeps the process alive, and expired entries leave", async () => {
    const store = new MemoryReplayStore({ flushEvery: 10 });
    assert.equal(await store.checkAndAdd("k", Date.now() + 20), true);
    assert.equal(await store.checkAndAdd("k", Date.now() + 20), false);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(store.size, 0);
    assert.equal(await store.checkAndAdd("k", Date.now() + 20), true);
    store.close();
  });

  it("a flood of unique signed nonces stays bounded and then fails closed (503); unsigned ones never reach it", async () => {
    const store = new MemoryReplayStore({ maxEntries: 50 });
    const app = createApp({ logLevel: "silent", replayStore: store });
    await app.identify("server-secret");
    app.bind("/", { methods: ["POST"] }, () => [200]);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 70; i++) {
      const res = await app.request("/", sealed("{}"));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      await res.body?.cancel();
    }
    assert.equal(store.size, 50);
    assert.equal(statuses.get(200), 50);
    assert.equal(statuses.get(503), 20);
    for (let i = 0; i < 100; i++) {
      const res = await app.request("/", { method: "POST", headers: { nonce: nonce() } });
      assert.equal(res.status, 200, "an unsigned nonce proves nothing: kept apart, never refused for room");
      await res.body?.cancel();
    }
    assert.equal(store.size, 50);
    store.close();
  });
});

/** One request over a real socket from the given local address (all of 127.0.0.0/8 reaches a server on 127.0.0.1). */
function postFrom(
  url: string,
  localAddress: string,
  init: { method?: string; headers: Record<string, string>; body?: unknown },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method ?? "POST", headers: init.headers, localAddress },
      (res) => {
        let text = "";
        res.setEncoding("latin1");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on("error", reject);
    req.end(typeof init.body === "string" || init.body instanceof Uint8Array ? init.body : undefined);
  });
}

describe("I2: the replay memory is keyed on the Sender-Public-Key, not on the client's address (real socket)", () => {
  const { app } = quietApp();
  void app.identify("server-secret");
  app.bind("/who", { methods: ["POST"], style: "object" }, (_values, ctx) => [200, ctx.remoteAddress]);
  let handle: ServerHandle;
  let url: string;
  before(async () => {
    handle = await app.run({ host: "127.0.0.1", port: 0 });
    url = `${handle.url}/who`;
  });
  after(() => handle.close());

  it("I2: the two test addresses really reach the server as two addresses", async () => {
    const a = await postFrom(url, "127.0.0.1", { headers: { nonce: nonce() } });
    const b = await postFrom(url, "127.0.0.2", { headers: { nonce: nonce() } });
    assert.deepEqual([a.status, JSON.parse(a.text)], [200, "127.0.0.1"]);
    assert.deepEqual([b.status, JSON.parse(b.text)], [200, "127.0.0.2"]);
  });
  it("I2: a signed request replayed from another address is refused (412)", async () => {
    const init = sealed("{}");
    assert.equal((await postFrom(url, "127.0.0.1", init)).status, 200);
    const again = await postFrom(url, "127.0.0.2", init);
    assert.equal(again.status, 412, again.text);
    assert.equal(JSON.parse(again.text).code, "USRV_ERR_REPLAY");
  });
  it("I2: two signers may use the same Nonce from one address", async () => {
    const n = nonce();
    const other = generateKeypair();
    assert.equal((await postFrom(url, "127.0.0.1", sealed("{}", { nonce: n }))).status, 200);
    const second = await postFrom(url, "127.0.0.1", sealed("{}", { nonce: n, key: other }));
    assert.equal(second.status, 200, second.text);
  });
  it("E5: a v2 request replayed from another address is refused (412)", async () => {
    const req = await v2Request("/who", { body: "{}" });
    assert.equal((await postFrom(url, "127.0.0.1", req.init)).status, 200);
    const again = await postFrom(url, "127.0.0.2", req.init);
    assert.equal(again.status, 412, again.text);
  });
  it("E5: two v2 senders may use the same Nonce from one address", async () => {
    const n = nonce();
    const mine = await v2Request("/who", { body: "{}", nonce: n });
    const theirs = await v2Request("/who", { body: "{}", nonce: n, key: generateKeypair() });
    assert.equal((await postFrom(url, "127.0.0.1", mine.init)).status, 200);
    const second = await postFrom(url, "127.0.0.1", theirs.init);
    assert.equal(second.status, 200, second.text);
  });
  it("I2: an unsigned Nonce with a Sender-Public-Key is counted per key, whatever the address", async () => {
    const n = nonce();
    const other = generateKeypair();
    const mine = { headers: { nonce: n, "sender-public-key": client.publicKey } };
    assert.equal((await postFrom(url, "127.0.0.1", mine)).status, 200);
    assert.equal((await postFrom(url, "127.0.0.2", mine)).status, 412, "same key, other address");
    const theirs = { headers: { nonce: n, "sender-public-key": other.publicKey } };
    assert.equal((await postFrom(url, "127.0.0.1", theirs)).status, 200, "other key, same address");
  });
  it("I2: an unsigned Nonce without a key is counted per address", async () => {
    const init = { headers: { nonce: nonce() } };
    assert.equal((await postFrom(url, "127.0.0.1", init)).status, 200);
    assert.equal((await postFrom(url, "127.0.0.2", init)).status, 200, "another address");
    assert.equal((await postFrom(url, "127.0.0.1", init)).status, 412, "the same address again");
  });
});

/** The status and code (and message) of a refusal. */
async function refusal(res: Response): Promise<[number, string, string]> {
  const body = (await res.json()) as { code: string; message: string };
  return [res.status, body.code, body.message];
}

describe("the secure steps' rows a mutant found unpinned (docs/mutation.md)", () => {
  const { app } = quietApp({ sealLimit: 8 });
  void app.identify("server-secret");
  app.bind("/plain", { methods: ["GET", "POST"] }, () => [200, "ok"]);
  app.bind("/secret", { methods: ["POST"], encrypted: true }, () => [200, "ok"]);
  app.bind("/empty", { methods: ["GET", "POST"] }, () => [204]);
  app.bind("/text/<which>", ({ which }) => {
    const chunks: Record<string, Uint8Array[]> = {
      // "aé" and 5 more bytes: 8 bytes, é split across the two chunks
      exact: [new Uint8Array([0x61, 0xc3]), new Uint8Array([0xa9, 0x62, 0x63, 0x64, 0x65, 0x66])],
      over: [new Uint8Array(9).fill(0x61)],
    };
    const parts = chunks[which as string]!;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    });
    return new Response(body, { headers: { "content-encoding": " Identity" } });
  });

  it("E2: a stale or future Nonce's 412 says the window in seconds", async () => {
    for (const [offset, said] of [
      [-11_000, "the Nonce is older than 10 s"],
      [11_000, "the Nonce is more than 10 s in the future"],
    ] as const) {
      const [status, , message] = await refusal(
        await app.request("/plain", sealed("{}", { nonce: nonce(offset) })),
      );
      assert.deepEqual([status, message], [412, said]);
    }
  });

  it("412: a Nonce's date is checked field by field: the last valid value of each is a date (stale), one more is not", async () => {
    const stale = "the Nonce is older than 10 s";
    const invalid = "the Nonce is not a valid date";
    for (const [n, said] of [
      ["2024-02-29T00:00:00Z", stale], // a leap year
      ["2000-02-29T00:00:00Z", stale], // divisible by 400
      ["2023-02-29T00:00:00Z", invalid],
      ["2100-02-29T00:00:00Z", invalid], // divisible by 100 only
      ["2023-02-28T00:00:00Z", stale],
      ["2023-01-31T00:00:00Z", stale],
      ["2023-01-01T00:00:00Z", stale],
      ["2023-01-00T00:00:00Z", invalid],
      ["2023-04-31T00:00:00Z", invalid],
      ["2023-01-01T23:59:59Z", stale],
      ["2023-01-01T24:00:00Z", invalid],
      ["2023-01-01T00:60:00Z", invalid],
      ["2023-01-01T00:00:60Z", invalid],
      ["2023-01-01T00:00:00+23:59", stale],
      ["2023-01-01T00:00:00+24:00", invalid],
      ["2023-01-01T00:00:00+00:60", invalid],
    ]) {
      const [status, , message] = await refusal(await app.request("/plain", sealed("{}", { nonce: n })));
      assert.deepEqual([status, message], [412, said], n);
    }
  });

  it("401: a signed request lacking any one of its three key headers, or carrying a signature alone", async () => {
    for (const name of ["sender-public-key", "ephemeral-public-key", "sender-signature"]) {
      const init = sealed("{}");
      delete init.headers[name];
      const [status, code] = await refusal(await app.request("/plain", init));
      assert.deepEqual([status, code], [401, "USRV_ERR_BAD_SIGNATURE"], name);
    }
    for (const name of ["ephemeral-public-key", "sender-signature"]) {
      const init = sealed("{}");
      const res = await app.request("/plain", { method: "POST", headers: { [name]: init.headers[name]! } });
      assert.deepEqual((await refusal(res)).slice(0, 2), [401, "USRV_ERR_BAD_SIGNATURE"], `${name} alone`);
    }
  });

  it("412: a route that demands encryption demands a Nonce; a route that does not takes a signed request without one", async () => {
    const init = sealed("{}");
    delete init.headers.nonce;
    const [status, code, message] = await refusal(await app.request("/secret", init));
    assert.deepEqual([status, code], [412, "USRV_ERR_REPLAY"]);
    assert.match(message, /accepts only requests with a Nonce/);
    // signed over an empty nonce; nothing to remember, so twice is fine
    const unsigned = sealed("{}", { nonce: "" });
    delete unsigned.headers.nonce;
    assert.equal((await app.request("/plain", unsigned)).status, 200);
    assert.equal((await app.request("/plain", unsigned)).status, 200);
  });

  it("403: the refusal of a plain request says what the route accepts", async () => {
    const [status, code, message] = await refusal(
      await app.request("/secret", { method: "POST", body: "{}" }),
    );
    assert.deepEqual([status, code], [403, "USRV_ERR_ENCRYPTION_REQUIRED"]);
    assert.match(message, /accepts only encrypted, signed requests/);
  });

  it("E5: a v2 request lacking a key, its Nonce or its record is refused before anything is opened", async () => {
    const req = await v2Request("/plain", { body: "{}" });
    const without = (name: string) => {
      const headers = { ...req.init.headers };
      delete headers[name];
      return { ...req.init, headers };
    };
    assert.deepEqual((await refusal(await app.request("/plain", without("sender-public-key")))).slice(0, 2), [
      400,
      "USRV_ERR_BAD_REQUEST",
    ]);
    assert.deepEqual(
      (await refusal(await app.request("/plain", without("ephemeral-public-key")))).slice(0, 2),
      [400, "USRV_ERR_BAD_REQUEST"],
    );
    assert.deepEqual((await refusal(await app.request("/plain", without("nonce")))).slice(0, 2), [
      412,
      "USRV_ERR_REPLAY",
    ]);
    const both = { ...req.init, headers: { ...req.init.headers, "usrv-record": "AAAA" } };
    const [s1, c1, m1] = await refusal(await app.request("/plain", both));
    assert.deepEqual([s1, c1], [400, "USRV_ERR_DECRYPT"]);
    assert.match(m1, /in the body or in Usrv-Record, not both/);
    const bodiless = await v2Request("/plain");
    const noRecord = { ...bodiless.init, headers: { ...bodiless.init.headers } };
    delete noRecord.headers["usrv-record"];
    const [s2, , m2] = await refusal(await app.request("/plain", noRecord));
    assert.deepEqual([s2, m2], [400, "a v2 request without a body carries its one record in Usrv-Record"]);
    const short = { ...bodiless.init, headers: { ...bodiless.init.headers, "usrv-record": "AAAA" } };
    const [s3, , m3] = await refusal(await app.request("/plain", short));
    assert.equal(s3, 400);
    assert.match(m3, /^Usrv-Record must be base64 of the \d+-byte empty record$/);
  });

  it("E5: Usrv-Encryption: 2 alone is a v2 request, refused for its missing keys", async () => {
    const res = await app.request("/plain", { headers: { "usrv-encryption": "2" } });
    assert.deepEqual((await refusal(res)).slice(0, 2), [400, "USRV_ERR_BAD_REQUEST"]);
  });

  it("E4: a handler's Response of exactly sealLimit bytes is sealed, a character split across chunks kept; one byte more is refused", async () => {
    const res = await app.request("/text/exact", { headers: { "sender-public-key": client.publicKey } });
    assert.equal(res.status, 200);
    const hex = await res.text();
    assert.equal(decrypt(client.privateKey, res.headers.get("ephemeral-public-key")!, hex), "aébcdef");
    const over = await app.request("/text/over", { headers: { "sender-public-key": client.publicKey } });
    assert.equal(over.status, 500);
    // sealed too: the sender asked for an encrypted answer
    const sealedError = decrypt(
      client.privateKey,
      over.headers.get("ephemeral-public-key")!,
      await over.text(),
    );
    assert.equal(JSON.parse(sealedError).code, "USRV_ERR_UNSEALABLE");
  });

  it("R7: an answer without a body is not sealed: no keys, no signature", async () => {
    const res = await app.request("/empty", { headers: { "sender-public-key": client.publicKey } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("ephemeral-public-key"), null);
    assert.equal(res.headers.get("sender-signature"), null);
  });
});

describe("I2: the replay memory's store (MemoryReplayStore)", () => {
  const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("a nonce whose entry expired may be used again, before any flush removed it", async () => {
    const store = new MemoryReplayStore({ flushEvery: 60_000 });
    assert.equal(await store.checkAndAdd("k", Date.now() + 20), true);
    await later(40);
    assert.equal(store.size, 1, "not flushed yet");
    assert.equal(await store.checkAndAdd("k", Date.now() + 20), true);
    store.close();
  });

  it("when full, an expired entry is made room for, even one inserted out of order", async () => {
    const store = new MemoryReplayStore({ maxEntries: 3, flushEvery: 60_000 });
    const now = Date.now();
    await store.checkAndAdd("a", now + 60_000);
    await store.checkAndAdd("b", now + 20); // expires first, but is not the oldest inserted
    await store.checkAndAdd("c", now + 60_000);
    await later(40);
    assert.equal(await store.checkAndAdd("d", Date.now() + 60_000), true);
    assert.equal(store.size, 3);
    store.close();
  });

  it("when full of live entries it refuses (503, Retry-After: 5), and takes a new nonce again once the earliest expires", async () => {
    const store = new MemoryReplayStore({ maxEntries: 2, flushEvery: 60_000 });
    const now = Date.now();
    // the earliest expiry first in the map: the full pass must keep the minimum, not the last one seen
    await store.checkAndAdd("early", now + 40);
    await store.checkAndAdd("late", now + 60_000);
    await assert.rejects(store.checkAndAdd("x", now + 60_000), (e: HttpErrorLike) => {
      assert.deepEqual([e.status, e.code, e.headers?.["retry-after"]], [503, "USRV_ERR_REPLAY_STORE", "5"]);
      return true;
    });
    await later(60);
    assert.equal(await store.checkAndAdd("y", Date.now() + 60_000), true);
    store.close();
  });

  it("evictOldest: when full, the oldest entry is forgotten instead of refusing", async () => {
    const store = new MemoryReplayStore({ maxEntries: 2, evictOldest: true, flushEvery: 60_000 });
    const t = Date.now() + 60_000;
    for (const k of ["a", "b", "c"]) assert.equal(await store.checkAndAdd(k, t), true, k);
    assert.equal(store.size, 2);
    assert.equal(await store.checkAndAdd("a", t), true, "a was forgotten");
    assert.equal(await store.checkAndAdd("c", t), false, "c is remembered");
    store.close();
  });
});

type HttpErrorLike = { status: number; code: string; headers?: Record<string, string> };
