/**
 * The secure steps (v1, docs/wire.md) against an attacker on the path: each
 * test replays an attack of the security model's threat table (README,
 * "Security model") and checks that it fails, on both faces.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { MemoryReplayStore } from "usrv";
import { canonicalKey, encode, generateKeypair, type Keypair, sign } from "usrv/secp256k1";
import { json, matrix } from "./_setup.js";
import { client, negated, nonce, open, sealed } from "./fixtures/v1-requests.js";

/** A key pair whose public key has an odd Y (not its canonical spelling). */
function oddKeypair(): Keypair {
  for (let i = 0; ; i++) {
    const k = generateKeypair(`odd-${i}`);
    if (encode(k.publicKey).startsWith("03")) return k;
  }
}

const odd = oddKeypair();
assert.equal(encode(client.publicKey).slice(0, 2), "02", "the fixture client has an even Y");

/** A promise and its resolve function (Promise.withResolvers is Node 22+). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A stream that records what was asked of it. */
function watched(produce: (c: ReadableStreamDefaultController<Uint8Array>) => void | Promise<void>) {
  const state = { bytes: 0, cancelled: false, pulled: deferred(), cancel: deferred() };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        state.pulled.resolve();
        return produce(c);
      },
      cancel() {
        state.cancelled = true;
        state.cancel.resolve();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

const store = new MemoryReplayStore();
const calls = { enc: 0 };
let current: ReturnType<typeof watched> | undefined;
const CHUNK = 64 * 1024;

matrix(
  "docs/wire.md security model: v1 against an attacker on the path",
  (app) => {
    void app.identify("server-secret");
    app.replayStore = store;
    app.sealLimit = 256 * 1024;
    app.bind("/enc", { methods: ["POST"], encrypted: true }, ({ data }, ctx) => {
      calls.enc++;
      return [200, data, ctx.senderPublicKey];
    });
    app.bind("/vip", { methods: ["POST"], allow: [odd.publicKey], style: "object" }, (_, ctx) => [
      200,
      ctx.senderPublicKey,
    ]);
    app.bind("/vip-other-spelling", { methods: ["POST"], allow: [negated(client.publicKey)] }, () => [
      200,
      "welcome",
    ]);
    app.bind("/vip-fn", { methods: ["POST"], allow: (k) => k === canonicalKey(odd.publicKey) }, () => [
      200,
      "welcome",
    ]);
    app.bind("/plain", { methods: ["GET", "POST"] }, ({ data }) => [200, data ?? null]);
    app.bind("/stream", () => new Response(current!.stream));
    app.bind("/stall", { timeout: 300 }, () => new Response(current!.stream));
    app.bind("/empty", () => new Response(""));
  },
  (send) => {
    it("E1: a replay with the sender key's negated-Y spelling is a 412; the handler ran once", async () => {
      for (const [key, spell] of [
        [odd, canonicalKey(odd.publicKey)],
        [client, negated(client.publicKey)],
      ] as const) {
        const before = calls.enc;
        const init = sealed('{"balance": 1234}', { key });
        const first = await send()("/enc", init);
        assert.deepEqual(await open(first, key), ['{"balance": 1234}', canonicalKey(key.publicKey)]);
        const replay = { ...init, headers: { ...init.headers, "sender-public-key": spell } };
        const second = await send()("/enc", replay);
        assert.equal(((await json(second, 412)) as { code: string }).code, "USRV_ERR_REPLAY");
        assert.equal(calls.enc, before + 1, "the handler ran once");
      }
    });

    it("E1: allow lists match a sender in either spelling; the handler sees the canonical key", async () => {
      assert.deepEqual(
        await open(await send()("/vip", sealed("{}", { key: odd })), odd),
        canonicalKey(odd.publicKey),
      );
      const res = await send()("/vip", sealed("{}", { key: { ...odd, publicKey: negated(odd.publicKey) } }));
      assert.equal(await open(res, odd), canonicalKey(odd.publicKey));
      assert.equal(await open(await send()("/vip-other-spelling", sealed("{}"))), "welcome");
      assert.equal(await open(await send()("/vip-fn", sealed("{}", { key: odd })), odd), "welcome");
      const stranger = await send()("/vip-fn", sealed("{}"));
      assert.equal(((await json(stranger, 403)) as { code: string }).code, "USRV_ERR_FORBIDDEN_SENDER");
    });

    it("E2: junk keys cost no memory: requests with a Nonce and a fake key are refused and nothing is stored", async () => {
      const size = store.size;
      const fakes = [
        "A".repeat(15_000), // far over a key's length
        Buffer.alloc(64, 7).toString("base64"), // 64 bytes, not a point
        Buffer.alloc(66, 7).toString("base64"), // 88 characters, 66 bytes
      ];
      for (let i = 0; i < 600; i++) {
        const res = await send()("/plain", {
          headers: { nonce: nonce(), "sender-public-key": fakes[i % fakes.length]! },
        });
        assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_BAD_KEY");
      }
      // real keys with junk signatures: 401, nothing stored either
      for (let i = 0; i < 200; i++) {
        const init = sealed("{}", { key: generateKeypair() });
        init.headers["sender-signature"] = sign("junk", odd.privateKey);
        assert.equal(
          ((await json(await send()("/enc", init), 401)) as { code: string }).code,
          "USRV_ERR_BAD_SIGNATURE",
        );
      }
      assert.equal(store.size, size);
    });

    it("E2: a junk signature does not spend the victim's nonce", async () => {
      const genuine = sealed('{"pay": 1}', { key: odd });
      const forged = {
        ...genuine,
        headers: { ...genuine.headers, "sender-signature": sign("x", client.privateKey) },
      };
      assert.equal(
        ((await json(await send()("/enc", forged), 401)) as { code: string }).code,
        "USRV_ERR_BAD_SIGNATURE",
      );
      assert.deepEqual(await open(await send()("/enc", genuine), odd), [
        '{"pay": 1}',
        canonicalKey(odd.publicKey),
      ]);
    });

    it("E2: an unsigned request naming the victim's key does not spend the victim's nonce", async () => {
      const genuine = sealed('{"pay": 2}');
      const claim = { nonce: genuine.headers.nonce!, "sender-public-key": client.publicKey };
      const unsigned = await send()("/plain", { headers: claim });
      assert.equal(unsigned.status, 200);
      assert.equal(await open(unsigned), null, "answered, sealed for the key it names");
      assert.deepEqual(await open(await send()("/enc", genuine)), ['{"pay": 2}', client.publicKey]);
    });

    it("E3: a route that demands encryption refuses a plain request before reading its body", async () => {
      // a body that never ends: an answer proves the server did not wait for it
      const abort = new AbortController();
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(1024));
        },
      });
      const res = await send()("/enc", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: abort.signal,
        duplex: "half",
      } as RequestInit);
      assert.equal(((await json(res, 403)) as { code: string }).code, "USRV_ERR_ENCRYPTION_REQUIRED");
      abort.abort();
    });

    it("E4: a streamed answer to be sealed is read up to sealLimit, then cancelled: 500 USRV_ERR_UNSEALABLE", async () => {
      current = watched((c) => {
        current!.state.bytes += CHUNK;
        c.enqueue(new Uint8Array(CHUNK).fill(97));
      });
      const res = await send()("/stream", { headers: { "sender-public-key": client.publicKey } });
      assert.equal(res.status, 500);
      // the refusal is sealed too: the client asked for an encrypted answer
      const body = (await open(res)) as { code: string; detail: { limit: number } };
      assert.equal(body.code, "USRV_ERR_UNSEALABLE");
      assert.equal(body.detail.limit, 256 * 1024);
      assert.ok(current.state.cancelled, "the handler's stream was cancelled");
      assert.ok(current.state.bytes <= 256 * 1024 + 2 * CHUNK, `read ${current.state.bytes} bytes`);
    });

    it("E4: a streamed answer that does not end within the route's timeout is cancelled: 503", async () => {
      current = watched(() => new Promise<void>(() => {})); // never produces
      const res = await send()("/stall", { headers: { "sender-public-key": client.publicKey } });
      assert.equal(res.status, 503);
      assert.equal(((await open(res)) as { code: string }).code, "USRV_ERR_TIMEOUT");
      assert.ok(current.state.cancelled);
    });

    it("E4: when the client leaves, the stream being sealed is cancelled", async () => {
      current = watched(() => new Promise<void>(() => {}));
      const abort = new AbortController();
      const res = send()("/stream", {
        headers: { "sender-public-key": client.publicKey },
        signal: abort.signal,
      }).catch((e: Error) => e);
      await current.state.pulled.promise; // the server is sealing
      abort.abort();
      await current.state.cancel.promise; // a hang here is the failure
      await res;
    });

    it("R8: an empty Response asked for sealed is answered without a body", async () => {
      const res = await send()("/empty", { headers: { "sender-public-key": client.publicKey } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "");
    });
  },
);

const small = new MemoryReplayStore({ maxEntries: 50 });
const WINDOW = 3000;
let probe: ReadableStream<Uint8Array> | undefined;

matrix(
  "docs/wire.md security model: the replay memory against slow bodies and floods",
  (app) => {
    void app.identify("server-secret");
    app.replayStore = small;
    (app.replayWindow as { maxAge: number }).maxAge = WINDOW;
    app.bind("/enc", { methods: ["POST"], encrypted: true }, ({ data }) => [200, data]);
    app.bind("/plain", () => [200, "ok"]);
    app.bind("/head", () => new Response(probe!));
    app.bind("/error", () => Response.error());
    app.bind("/used", async () => {
      const r = new Response("once");
      await r.text();
      return r;
    });
  },
  (send, logs) => {
    it("E2: a replay whose body arrives after its nonce went stale is refused, on both faces", async () => {
      const sent = Date.now(); // the nonce's time, within a millisecond
      const init = sealed('{"pay": 3}');
      assert.equal(await open(await send()("/enc", init)), '{"pay": 3}');
      const body = init.body as string;
      const slow = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(new TextEncoder().encode(body.slice(0, 2)));
          // the rest once the nonce is older than the window: its memory entry may be gone
          await new Promise((r) => setTimeout(r, Math.max(0, sent + WINDOW + 100 - Date.now())));
          c.enqueue(new TextEncoder().encode(body.slice(2)));
          c.close();
        },
      });
      const res = await send()("/enc", { ...init, body: slow, duplex: "half" } as RequestInit);
      const refused = (await json(res, 412)) as { code: string; message: string };
      assert.equal(refused.code, "USRV_ERR_REPLAY");
      assert.match(refused.message, /while the body arrived/);
    });

    it("E2: a flood of unsigned Nonces never fills the signed requests' memory", async () => {
      // counted at the store's door: its size alone also moves as older entries expire (a 3 s window)
      let added = 0;
      const add = small.checkAndAdd;
      small.checkAndAdd = (key, expiresAt) => {
        added++;
        return add.call(small, key, expiresAt);
      };
      try {
        for (let i = 0; i < 120; i++) {
          const res = await send()("/plain", { headers: { nonce: nonce() } });
          assert.equal(res.status, 200);
          await res.arrayBuffer();
        }
      } finally {
        small.checkAndAdd = add;
      }
      assert.equal(added, 0, "nothing in the signed memory");
      assert.equal(await open(await send()("/enc", sealed('{"pay": 4}'))), '{"pay": 4}');
    });

    it("R8: HEAD stops the handler's stream, with or without a key to seal for", async () => {
      for (const headers of [{}, { "sender-public-key": client.publicKey }] as Record<string, string>[]) {
        let stop!: () => void;
        const cancelled = new Promise<void>((r) => {
          stop = r;
        });
        probe = new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(1024)), cancel: () => stop() });
        const res = await send()("/head", { method: "HEAD", headers });
        assert.equal(res.status, 200);
        await cancelled; // a hang here is the failure
      }
    });

    it("R8: a Response that cannot be sent (Response.error(), a body already read) is a logged 500", async () => {
      for (const path of ["/error", "/used"]) {
        for (const headers of [{}, { "sender-public-key": client.publicKey }] as Record<string, string>[]) {
          const res = await send()(path, { headers });
          assert.equal(res.status, 500, path);
          await res.arrayBuffer();
        }
      }
      assert.ok(logs().some((l) => l.includes("Response.error()")));
      assert.ok(logs().some((l) => l.includes("already read")));
    });
  },
);
