/**
 * v2 on the server (docs/wire-v2.md): HPKE in Auth mode, records bound to
 * the request, answers bound to their request, against the attacks of the
 * README's threat table, on both faces.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { MemoryReplayStore } from "usrv";
import { canonicalKey, generateKeypair } from "usrv/secp256k1";
import { matrix } from "./_setup.js";
import { client, negated, sealed } from "./fixtures/v1-requests.js";
import { v2Open, v2Request } from "./fixtures/v2-requests.js";

const store = new MemoryReplayStore();
const calls = { pay: 0 };
const attacker = generateKeypair("attacker");
const stream = { cancelled: false, cancel: () => {} };

/** The status and code of a refusal. */
async function refusal(res: Response): Promise<[number, string]> {
  const body = (await res.json()) as { code: string };
  return [res.status, body.code];
}

matrix(
  "docs/wire-v2.md on the server",
  (app) => {
    void app.identify("server-secret");
    app.replayStore = store;
    app.bind("/pay", { methods: ["POST"], encrypted: "v2" }, ({ data }, ctx) => {
      calls.pay++;
      return [200, data, ctx.senderPublicKey];
    });
    app.bind("/any", { methods: ["POST", "PUT"], encrypted: true }, ({ data, method }) => [
      200,
      method,
      data,
    ]);
    app.bind("/get", { encrypted: true }, ({ a }) => [200, a]);
    app.bind("/str", { methods: ["GET", "POST"] }, ({ s }) => [200, s ?? null]);
    app.bind("/cookies", () => {
      const headers = new Headers({ "content-type": "application/json" });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      return new Response('"crumbs"', { headers });
    });
    app.bind(
      "/gz",
      () => new Response(new Uint8Array([31, 139]), { headers: { "content-encoding": "gzip" } }),
    );
    app.bind("/nothing", { methods: ["POST"] }, () => [204]);
    app.bind("/mine", { methods: ["POST"], encrypted: "v2", allow: [client.publicKey] }, () => [200, "ok"]);
    app.bind("/stream", () => {
      stream.cancelled = false;
      const chunk = new Uint8Array(100_000).fill(120);
      const body = new ReadableStream<Uint8Array>({
        pull: (c) => c.enqueue(chunk),
        cancel: () => {
          stream.cancelled = true;
          stream.cancel();
        },
      });
      return new Response(body, { headers: { "content-type": "text/plain" } });
    });
  },
  (send) => {
    it("E5: a v2 request opens and is answered; the answer opens only with its own request's context", async () => {
      const req = await v2Request("/pay", { body: '{"amount": 5}' });
      const res = await send()("/pay", req.init);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("sender-signature"), null, "v2 signs nothing");
      const other = await v2Request("/pay", { body: '{"amount": 5}' });
      const text = await res.clone().arrayBuffer();
      await assert.rejects(v2Open(new Response(text, res), other.context), { code: "USRV_ERR_DECRYPT" });
      assert.deepEqual(await v2Open(res, req.context), ['{"amount": 5}', canonicalKey(client.publicKey)]);
    });

    it("E5: identity misbinding: a victim's body re-sent under the attacker's key does not open; the handler never runs", async () => {
      const victim = await v2Request("/pay", { body: '{"balance": 1234}' });
      const before = calls.pay;
      const stolen = {
        ...victim.init,
        headers: { ...victim.init.headers, "sender-public-key": attacker.publicKey },
      };
      assert.deepEqual(await refusal(await send()("/pay", stolen)), [400, "USRV_ERR_DECRYPT"]);
      const later = await v2Request("/pay", { body: "{}", key: attacker }); // a fresh nonce
      const resigned = {
        ...victim.init,
        headers: {
          ...victim.init.headers,
          "sender-public-key": attacker.publicKey,
          nonce: later.init.headers.nonce!,
        },
      };
      assert.deepEqual(await refusal(await send()("/pay", resigned)), [400, "USRV_ERR_DECRYPT"]);
      assert.equal(calls.pay, before);
    });

    it("E5: a request sent to another route, with another method, Content-Type or Nonce does not open", async () => {
      const req = await v2Request("/any", { body: '{"x": 1}' });
      assert.deepEqual(await refusal(await send()("/any?x=2", req.init)), [400, "USRV_ERR_DECRYPT"]);
      assert.deepEqual(await refusal(await send()("/any", { ...req.init, method: "PUT" })), [
        400,
        "USRV_ERR_DECRYPT",
      ]);
      const typed = { ...req.init, headers: { ...req.init.headers, "content-type": "text/plain" } };
      assert.deepEqual(await refusal(await send()("/any", typed)), [400, "USRV_ERR_DECRYPT"]);
      const later = (await v2Request("/any", { body: "{}" })).init.headers.nonce!;
      const renonced = { ...req.init, headers: { ...req.init.headers, nonce: later } };
      assert.deepEqual(await refusal(await send()("/any", renonced)), [400, "USRV_ERR_DECRYPT"]);
      assert.deepEqual(await v2Open(await send()("/any", req.init), req.context), ["POST", '{"x": 1}']);
    });

    it("E5: a replayed v2 request is a 412; in the other spelling of the sender key it does not open", async () => {
      const req = await v2Request("/pay", { body: '{"n": 1}' });
      const before = calls.pay;
      assert.equal((await send()("/pay", req.init)).status, 200);
      assert.deepEqual(await refusal(await send()("/pay", req.init)), [412, "USRV_ERR_REPLAY"]);
      // (X, p - Y): HPKE's Auth mode has the sender's key in its key schedule
      const other = {
        ...req.init,
        headers: { ...req.init.headers, "sender-public-key": negated(client.publicKey) },
      };
      assert.deepEqual(await refusal(await send()("/pay", other)), [400, "USRV_ERR_DECRYPT"]);
      assert.equal(calls.pay, before + 1);
    });

    it("E5: errors after the body opened are sealed: a parse error's message never travels in clear", async () => {
      const req = await v2Request("/any", { body: "card=4111111111111111" }); // declared JSON, is not
      const res = await send()("/any", req.init);
      assert.equal(res.status, 400);
      const raw = new Uint8Array(await res.clone().arrayBuffer());
      assert.ok(!Buffer.from(raw).toString("latin1").includes("card"), "no plaintext in the clear body");
      assert.equal(((await v2Open(res, req.context)) as { code: string }).code, "USRV_ERR_BAD_JSON");
      const v1 = await send()("/str", { ...sealed("card=4111111111111111"), method: "POST" });
      assert.ok(v1.headers.get("sender-signature"), "v1: sealed for the sender too");
      assert.ok(!(await v1.text()).includes("card"));
    });

    it("E5: a sealed answer keeps each Set-Cookie line; a compressed Response is refused (500, sealed)", async () => {
      const req = await v2Request("/cookies");
      const res = await send()("/cookies", req.init);
      assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.equal(await v2Open(res, req.context), "crumbs");
      const gz = await v2Request("/gz");
      const refused = await send()("/gz", gz.init);
      assert.equal(refused.status, 500);
      assert.equal(refused.headers.get("content-encoding"), null);
      assert.equal(((await v2Open(refused, gz.context)) as { code: string }).code, "USRV_ERR_UNSEALABLE");
    });

    it("E5: a v2 answer is bound to its status and Content-Type: changed on the way, it does not open", async () => {
      const req = await v2Request("/pay", { body: '{"n": 2}' });
      const res = await send()("/pay", req.init);
      const body = await res.arrayBuffer();
      const headers = new Headers(res.headers);
      await assert.rejects(v2Open(new Response(body, { status: 201, headers }), req.context), {
        code: "USRV_ERR_DECRYPT",
      });
      headers.set("content-type", "text/plain");
      await assert.rejects(v2Open(new Response(body, { status: 200, headers }), req.context), {
        code: "USRV_ERR_DECRYPT",
      });
      const kept = new Headers(res.headers);
      assert.deepEqual(await v2Open(new Response(body, { status: 200, headers: kept }), req.context), [
        '{"n": 2}',
        canonicalKey(client.publicKey),
      ]);
    });

    it("E6: a v2-only route refuses v1 and plain requests before reading their body (403)", async () => {
      assert.deepEqual(await refusal(await send()("/pay", sealed("{}"))), [
        403,
        "USRV_ERR_ENCRYPTION_REQUIRED",
      ]);
      assert.deepEqual(await refusal(await send()("/pay", { method: "POST", body: "{}" })), [
        403,
        "USRV_ERR_ENCRYPTION_REQUIRED",
      ]);
    });

    it("E6: allow lists hold in v2: another sender is refused before its body is opened", async () => {
      const mine = await v2Request("/mine", { body: "{}" });
      assert.equal(await v2Open(await send()("/mine", mine.init), mine.context), "ok");
      const theirs = await v2Request("/mine", { body: "{}", key: attacker });
      assert.deepEqual(await refusal(await send()("/mine", theirs.init)), [403, "USRV_ERR_FORBIDDEN_SENDER"]);
    });

    it("E5: a bodiless v2 request carries its one record in Usrv-Record: the target is bound too", async () => {
      const req = await v2Request("/get?a=1");
      assert.deepEqual(await refusal(await send()("/get?a=2", req.init)), [400, "USRV_ERR_DECRYPT"]);
      const bare = { ...req.init, headers: { ...req.init.headers } };
      delete bare.headers["usrv-record"];
      assert.deepEqual(await refusal(await send()("/get?a=1", bare)), [400, "USRV_ERR_DECRYPT"]);
      assert.equal(await v2Open(await send()("/get?a=1", req.init), req.context), "1");
    });

    it("E5: an answer without a body (204) is sealed too: its record travels in Usrv-Record", async () => {
      const req = await v2Request("/nothing", { body: "{}" });
      const res = await send()("/nothing", req.init);
      assert.equal(res.status, 204);
      assert.ok(res.headers.get("usrv-record"));
      assert.equal(await v2Open(res, req.context), undefined);
    });

    it("E5: a HEAD answer is bodiless in v2 too, a handler's stream included: its record travels in Usrv-Record", async () => {
      const req = await v2Request("/stream", { method: "HEAD" });
      const res = await send()("/stream", req.init);
      assert.equal(res.status, 200);
      assert.ok(res.headers.get("usrv-record"));
      assert.equal(res.headers.get("usrv-records"), null);
      assert.equal(await v2Open(res, req.context), undefined);
    });

    it("E5: junk v2 requests store nothing: fake keys and bodies that do not open", async () => {
      const size = store.size;
      for (let i = 0; i < 50; i++) {
        const req = await v2Request("/pay", { body: "{}" });
        const body = req.init.body!.slice();
        body[i % body.length]! ^= 1;
        assert.deepEqual(await refusal(await send()("/pay", { ...req.init, body })), [
          400,
          "USRV_ERR_DECRYPT",
        ]);
        const fake = { ...req.init, headers: { ...req.init.headers, "sender-public-key": "A".repeat(88) } };
        assert.deepEqual(await refusal(await send()("/pay", fake)), [400, "USRV_ERR_BAD_KEY"]);
      }
      assert.equal(store.size, size);
    });

    it("E4: a streamed answer to a v2 request flows record by record, and leaving cancels it", async () => {
      const req = await v2Request("/stream");
      const gone = new Promise<void>((resolve) => {
        stream.cancel = resolve;
      });
      const res = await send()("/stream", req.init);
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let got = 0;
      while (got < 200_000) got += (await reader.read()).value!.length; // an endless source: records flow
      await reader.cancel();
      await gone; // a hang here is the failure
      assert.ok(stream.cancelled);
    });

    it("E6: the server names the versions it speaks to a client that names its own", async () => {
      const asked = await send()("/str?s=1", { headers: { "usrv-encryption": "1, 2" } });
      assert.equal(asked.headers.get("usrv-encryption"), "1, 2");
      assert.equal(await asked.json(), "1");
      const plain = await send()("/str?s=1");
      assert.equal(plain.headers.get("usrv-encryption"), null);
      const refused = await send()("/get", { headers: { "usrv-encryption": "1, 2" } });
      assert.equal(refused.status, 403);
      assert.equal(refused.headers.get("usrv-encryption"), "1, 2", "refusals say it too");
      for (const [path, status] of [
        ["/nowhere", 404],
        ["/pay", 405],
      ] as const) {
        const res = await send()(path, { headers: { "usrv-encryption": "1, 2" } });
        assert.equal(res.status, status);
        assert.equal(res.headers.get("usrv-encryption"), "1, 2", `${status} says it too`);
      }
    });
  },
);
