/**
 * v2 from the client's side (docs/wire-v2.md): negotiation, and an on-path
 * proxy that swaps, edits or strips answers (the README's threat table).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { App } from "usrv";
import { createClient, type FetchLike, FormData } from "usrv/client";
import { canonicalKey, generateKeypair, sealedLength } from "usrv/secp256k1";
import { clientApp, recorder } from "./fixtures/client-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "usrv-v2-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const me = generateKeypair("client-v2");

/** A fetch through `app` that lets `edit` see (and change) every answer, and records each request. */
function proxy(app: App, edit: (res: Response, req: Request) => Response | Promise<Response> = (r) => r) {
  const requests: Request[] = [];
  const fetch: FetchLike = async (input, init) => {
    const req = new Request(input, init);
    requests.push(req.clone());
    return edit(await app.request(req), req);
  };
  return { fetch, requests };
}

/** A copy of an answer with some of it changed. */
async function changed(res: Response, o: { status?: number; type?: string }): Promise<Response> {
  const headers = new Headers(res.headers);
  if (o.type) headers.set("content-type", o.type);
  return new Response(await res.arrayBuffer(), { status: o.status ?? res.status, headers });
}

describe("E7: the client's v2 (docs/wire-v2.md)", () => {
  let app: App;
  let puk: string;
  before(async () => {
    app = await clientApp();
    app.bind("/pay", { methods: ["POST"], encrypted: "v2" }, ({ amount }, ctx) => [
      200,
      amount,
      ctx.senderPublicKey,
    ]);
    app.bind("/secret", { methods: ["POST"], encrypted: "v2" }, () => [200, "the secret"]);
    puk = app.publicKey!;
  });

  it("E7: connect learns that the peer speaks v2; sealed calls then go in v2 and open", async () => {
    const { fetch, requests } = proxy(app);
    const client = createClient({ fetch, identity: me });
    assert.equal(await client.connect("http://x"), 200);
    assert.equal(requests[0]!.headers.get("usrv-encryption"), "1, 2");
    const answer = await client.POST.pay({ amount: 3 }, { puk, full: true });
    assert.deepEqual(answer.data, [3, canonicalKey(me.publicKey)]);
    assert.equal(answer.encrypted, true);
    assert.equal(answer.encryption, "v2");
    const sent = requests.at(-1)!.headers;
    assert.equal(sent.get("usrv-encryption"), "2");
    assert.equal(sent.get("sender-signature"), null);
    assert.deepEqual(await client.GET.api.endpoint({ a: 1, b: 2 }, { puk }), ["1", "2"]); // bodiless: Usrv-Record
    assert.ok(requests.at(-1)!.headers.get("usrv-record"));
  });

  it("E7: a peer that does not say it speaks v2 (the Python reference) gets v1", async () => {
    const { fetch, requests } = recorder((req) =>
      req.method === "HEAD" ? new Response(null, { status: 200 }) : Response.json(null),
    );
    const client = createClient({ fetch, identity: me });
    assert.equal(await client.connect("http://x"), 200);
    await client.POST.api.endpoint({ a: 1 }, { puk }).catch(() => {}); // its answer is not sealed
    const sent = requests.at(-1)!.headers;
    assert.ok(sent.get("sender-signature"));
    assert.equal(sent.get("usrv-encryption"), null);
  });

  it('E7: encryption: "v2" seals in v2 without asking; "v1" keeps v1 with a peer that speaks v2', async () => {
    const { fetch, requests } = proxy(app);
    const client = createClient({ peer: "http://x", fetch, identity: me, encryption: "v2" });
    assert.deepEqual(await client.POST.pay({ amount: 1 }, { puk }), [1, canonicalKey(me.publicKey)]);
    assert.equal(requests.length, 1);
    await client.connect("http://x");
    const v1 = await client.POST.api.endpoint({ v: 1 }, { puk, encryption: "v1", full: true });
    assert.deepEqual(v1.data, ['{"v": 1}', canonicalKey(me.publicKey)]);
    assert.equal(v1.encryption, "v1");
    assert.ok(requests.at(-1)!.headers.get("sender-signature"));
    assert.equal((await client.GET.api.endpoint({ a: 1, b: 2 }, { full: true })).encryption, null);
  });

  it("E5: an on-path proxy cannot swap answers: the answer to one request is refused as the answer to another", async () => {
    let kept: { body: ArrayBuffer; status: number; headers: Headers } | undefined;
    const { fetch } = proxy(app, async (res, req) => {
      const url = new URL(req.url).pathname;
      if (url === "/secret") {
        kept = { body: await res.arrayBuffer(), status: res.status, headers: res.headers };
        return new Response(kept.body, kept);
      }
      if (url === "/pay" && kept) return new Response(kept.body, kept); // the other answer instead
      return res;
    });
    const client = createClient({ peer: "http://x", fetch, identity: me, encryption: "v2" });
    assert.equal(await client.POST.secret({}, { puk }), "the secret");
    await assert.rejects(client.POST.pay({ amount: 9 }, { puk }), { code: "USRV_ERR_CLIENT_DECRYPT" });
  });

  it("E5: a status or a Content-Type changed on the way is refused", async () => {
    for (const change of [{ status: 201 }, { status: 400 }, { type: "text/plain" }]) {
      const { fetch } = proxy(app, (res) => changed(res, change));
      const client = createClient({ peer: "http://x", fetch, identity: me, encryption: "v2" });
      await assert.rejects(
        client.POST.pay({ amount: 1 }, { puk }),
        { code: "USRV_ERR_CLIENT_DECRYPT" },
        JSON.stringify(change),
      );
    }
  });

  it("E5: a plaintext answer, or one sealed in v1, to a v2 request is refused", async () => {
    // a genuine v1 answer, sealed for us and signed by the server's key
    const v1 = () => app.request("/api/endpoint?a=1", { headers: { "sender-public-key": me.publicKey } });
    for (const forge of [v1, () => Response.json("forged")]) {
      const { fetch } = proxy(app, forge);
      const client = createClient({ peer: "http://x", fetch, identity: me, encryption: "v2" });
      await assert.rejects(client.POST.pay({ amount: 1 }, { puk }), {
        code: "USRV_ERR_CLIENT_NOT_ENCRYPTED",
      });
    }
  });

  it("E6: a proxy that strips the announcement makes an auto client use v1, which a v2-only route refuses: the call fails, never in v1", async () => {
    const { fetch } = proxy(app, (res) => {
      const headers = new Headers(res.headers);
      headers.delete("usrv-encryption");
      return new Response(res.body, { status: res.status, headers });
    });
    const client = createClient({ fetch, identity: me });
    await client.connect("http://x");
    await assert.rejects(client.POST.pay({ amount: 1 }, { puk }), { status: 403 });
  });

  it("E5: a file from disk goes in v2 records sealed as it is read; the server binds its exact bytes", async () => {
    const path = join(dir, "three.bin");
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    writeFileSync(path, bytes);
    app.bind("/v2-upload", { methods: ["POST"], encrypted: "v2", bodyLimit: 8 * 1024 * 1024 }, ({ f }) => [
      200,
      createHash("sha256")
        .update((f as { data: Uint8Array }).data)
        .digest("hex"),
    ]);
    const server = await app.run({ port: 0 });
    try {
      const client = createClient({ peer: server.url, identity: me, encryption: "v2" });
      const hash = await client.POST["v2-upload"]({ f: FormData.file(path) }, { puk, encoder: "multipart" });
      assert.equal(hash, createHash("sha256").update(bytes).digest("hex"));
    } finally {
      await server.close();
    }
  });

  it("E5: a large v2 upload holds a few records in memory, not the file, and says its sealed length", async (t) => {
    const path = join(dir, "sparse.bin");
    writeFileSync(path, "");
    truncateSync(path, 128 * 1024 * 1024); // a sparse file: nothing to write, 128 MiB to read
    let received = 0;
    let declared = 0;
    const server = createServer((req, res) => {
      declared = Number(req.headers["content-length"]);
      req.on("data", (d: Buffer) => (received += d.length));
      req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("null"));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    let peak = 0;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 20);
    try {
      const peer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = createClient({ peer, identity: me, encryption: "v2" });
      const form = new FormData().appendFile("f", path);
      // this server is no usrv: its plain answer is refused, after the upload
      await assert.rejects(client.PUT.up(form, { puk }), { code: "USRV_ERR_CLIENT_NOT_ENCRYPTED" });
      assert.ok(declared > 128 * 1024 * 1024 && received === declared, `${received} of ${declared}`);
      // the Content-Length is that of whole records: plaintext + 17 bytes per 64 KiB record
      const plain = declared - 17 * Math.ceil(declared / (65_536 + 17));
      assert.ok(plain > 128 * 1024 * 1024);
      assert.equal(sealedLength(plain), declared);
      t.diagnostic(`live ArrayBuffers peaked at ${(peak / 2 ** 20).toFixed(1)} MiB`);
      // the file whole is 128 MiB; a few records ~5-25 MiB quiet, more queue on a loaded machine
      assert.ok(peak < 64 * 1024 * 1024, `live ArrayBuffers peaked at ${(peak / 2 ** 20).toFixed(1)} MiB`);
    } finally {
      clearInterval(sampler);
      server.close();
    }
  });

  it("E7: only connect's answer teaches the versions: no later answer moves the client back to v1", async () => {
    const { fetch, requests } = proxy(app, (res, req) => {
      if (new URL(req.url).pathname !== "/pay") return res;
      const headers = new Headers(res.headers);
      headers.set("usrv-encryption", "1"); // not covered by the seal: a path may change it
      return new Response(res.body, { status: res.status, headers });
    });
    const client = createClient({ fetch, identity: me });
    await client.connect("http://x");
    for (let i = 0; i < 2; i++) await client.POST.pay({ amount: i }, { puk });
    assert.deepEqual(
      requests.slice(1).map((r) => r.headers.get("usrv-encryption")),
      ["2", "2"],
    );
  });

  it("E5: an unsealed answer to a v2 request passes only with a status the server sends in clear", async () => {
    for (const [status, code] of [
      [409, "USRV_ERR_CLIENT_NOT_ENCRYPTED"],
      [500, "USRV_ERR_CLIENT_NOT_ENCRYPTED"],
      [201, "USRV_ERR_CLIENT_NOT_ENCRYPTED"],
      [412, "USRV_ERR_CLIENT_HTTP"],
    ] as const) {
      const { fetch } = proxy(app, () => Response.json({ code: "FORGED" }, { status }));
      const client = createClient({ peer: "http://x", fetch, identity: me, encryption: "v2" });
      await assert.rejects(client.POST.pay({ amount: 1 }, { puk }), { code }, String(status));
    }
  });

  it("E5: a v2 call follows no redirect: its records are bound to their target", async () => {
    app.bind("/moved", { methods: ["POST"] }, () => Response.redirect("http://x/pay", 307));
    const { fetch, requests } = proxy(app);
    const client = createClient({ peer: "http://x", fetch, identity: me, encryption: "v2" });
    const answer = await client.POST.moved({ amount: 1 }, { puk, full: true });
    assert.equal(answer.status, 307);
    assert.equal(answer.encrypted, true);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.redirect, "manual");
  });
});
