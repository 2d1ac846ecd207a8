/**
 * Issue 17 item 5: a streamed answer (usrv/stream) to a request that asks for
 * encryption: sealed record by record under v2, refused under v1 (which seals
 * an answer whole), its source stopped either way.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { decrypt, openResponse, runAll } from "usrv/secp256k1";
import { ndjson, sse } from "usrv/stream";
import { matrix } from "./_setup.js";
import { client } from "./fixtures/v1-requests.js";
import { v2Request } from "./fixtures/v2-requests.js";

const seen = { returned: 0 };

async function until(ok: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 30_000; !ok(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An endless source whose return() is seen (a generator never started would skip its finally). */
function endless(): AsyncIterableIterator<{ id: string; data: string }> {
  let n = 0;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      return { done: false, value: { id: String(n++), data: "x".repeat(1000) } };
    },
    async return() {
      seen.returned++;
      return { done: true, value: undefined };
    },
  };
}

matrix(
  "issue 17 item 5: streamed answers to encrypted requests",
  (app) => {
    void app.identify("server-secret");
    app.bind("/feed", { style: "object" }, (_, ctx) => sse(ctx, ["a", { id: "2", data: { b: 2 } }]));
    app.bind("/rows", { style: "object" }, (_, ctx) => ndjson(ctx, [1, 2]));
    app.bind("/endless", { style: "object" }, (_, ctx) => sse(ctx, endless()));
  },
  (send) => {
    it("E8: under v1 an event stream is refused at once, sealed, USRV_ERR_STREAM_NEEDS_V2, and its source stopped", async () => {
      for (const path of ["/endless", "/rows"]) {
        const before = seen.returned;
        const res = await send()(path, { headers: { "sender-public-key": client.publicKey } });
        assert.equal(res.status, 406);
        const R = res.headers.get("ephemeral-public-key");
        assert.ok(R, "the refusal is sealed: the client asked for an encrypted answer");
        const body = JSON.parse(decrypt(client.privateKey, R, await res.text()));
        assert.equal(body.code, "USRV_ERR_STREAM_NEEDS_V2");
        assert.match(body.message, /v1 encryption seals an answer whole/);
        if (path === "/endless") await until(() => seen.returned > before, "the source's return()");
      }
    });

    it("E8: under v2 an event stream is sealed record by record; its records open to the events", async () => {
      const req = await v2Request("/feed");
      const res = await send()("/feed", req.init);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const opener = await openResponse(req.context, res.headers.get("response-nonce") ?? "", {
        status: res.status,
        contentType: res.headers.get("content-type") ?? "",
      });
      const plain = await runAll(opener, new Uint8Array(await res.arrayBuffer()));
      assert.equal(new TextDecoder().decode(plain), 'data: a\n\nid: 2\ndata: {"b":2}\n\n');
    });

    it("E8: under v2 an endless event stream flows in records, and leaving stops its source", async () => {
      const before = seen.returned;
      const req = await v2Request("/endless");
      const res = await send()("/endless", req.init);
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let got = 0;
      while (got < 200_000) got += (await reader.read()).value!.length;
      await reader.cancel();
      await until(() => seen.returned > before, "the source's return()");
    });
  },
);
