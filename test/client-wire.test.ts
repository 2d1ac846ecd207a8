/**
 * docs/wire.md from the client's side, and C5. The requests our client builds
 * follow the Python reference's transcripts (header names, hex body,
 * signature base, nonce format, plaintext Content-Type); our client opens
 * the reference server's recorded answers; and client and server talk
 * encrypted, in process and over a real socket, on both platforms of the
 * one client entry: Node's, and the browser's (`#platform` under the
 * `browser` condition, which runs in Node too: the file runs itself again
 * in a child `node --conditions=browser`).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { App, ServerHandle } from "usrv";
import * as nodeEntry from "usrv/client";
import { canonicalKey, decrypt, encrypt, generateKeypair, sign, verify } from "usrv/secp256k1";
import { withoutId } from "./_setup.js";
import { clientApp, inProcess, recorder } from "./fixtures/client-helpers.js";
import { jsonFixture } from "./fixtures/helpers.js";

interface Transcript {
  name: string;
  client_secret: string;
  server_secret: string;
  request: { method: string; path: string; headers: Record<string, string>; body: string | null };
  response: { status: number; headers: Record<string, string>; body: string };
  plaintext_request_body?: string;
  plaintext_response_body: string;
}
const transcripts = jsonFixture<Transcript[]>("vectors/usrv-0.4.3-http-transcripts.json");
const [postT, getT] = transcripts as [Transcript, Transcript];
const server = generateKeypair("server-secret");
const NONCE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
// what the transport adds on its own, whichever client: not part of docs/wire.md
const TRANSPORT = new Set(["host", "content-length", "user-agent"]);
const noContent = () => new Response(null, { status: 204 });
const names = (h: Iterable<string>) =>
  [...h]
    .map((k) => k.toLowerCase())
    .filter((k) => !TRANSPORT.has(k))
    .sort();

/** Set in the child that runs this file again under the browser condition. */
const BROWSER = process.env.USRV_TEST_CONDITION === "browser";
const entries = [[BROWSER ? "browser platform" : "node platform", nodeEntry]] as const;

describe("docs/wire.md: both platforms of usrv/client", () => {
  it("#platform is the one the condition asks for", async () => {
    const { platform } = await import("#platform");
    assert.equal(platform.name, BROWSER ? "browser" : "node");
  });

  it("every suite of this file passes under the browser condition too (portable curve, no files)", {
    skip: BROWSER,
    timeout: 120_000,
  }, () => {
    // TAP asked for: the default reporter depends on the terminal and the environment (CI printed spec)
    const args = ["--conditions=browser", "--test-reporter=tap", fileURLToPath(import.meta.url)];
    const r = spawnSync(process.execPath, args, {
      // without the runner's NODE_TEST_CONTEXT, the child reports in TAP rather than to this runner
      env: { ...process.env, NODE_TEST_CONTEXT: "", USRV_TEST_CONDITION: "browser" },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /browser platform/);
    assert.match(r.stdout, /^# fail 0$/m);
    assert.match(r.stdout, /^# pass [1-9]\d*$/m);
  });
});

describe("docs/wire.md: the nonce", () => {
  it("the reference's format, unique and increasing even within one millisecond, close to the clock", async () => {
    const { nonce } = (await import(new URL("../../build/lib/client/nonce.js", import.meta.url).href)) as {
      nonce: () => string;
    };
    const t0 = Date.now();
    const burst = Array.from({ length: 20_000 }, nonce);
    const t1 = Date.now();
    for (const n of burst) assert.match(n, NONCE);
    for (let i = 1; i < burst.length; i++)
      assert.ok(burst[i]! > burst[i - 1]!, `${burst[i - 1]} < ${burst[i]}`);
    const ms = new Set(burst.map((n) => n.slice(0, 23)));
    assert.ok(ms.size < burst.length, "several nonces share a millisecond");
    // 20,000 in a few ms run ahead of the clock by at most 20 ms
    assert.ok(Date.parse(burst[0]!) >= t0 - 1 && Date.parse(burst.at(-1)!) <= t1 + 25);
  });
});

const BINARY = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x80, 0x9f, 0xff, 0xc3, 0xa9, 0x0d, 0x0a]);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

for (const [entryName, { createClient, FormData }] of entries) {
  describe(`docs/wire.md: the requests our client builds [${entryName}]`, () => {
    it("an encrypted POST matches the reference's transcript: names, hex body, nonce, signature, plaintext", async () => {
      const r = recorder(noContent);
      const c = createClient({
        peer: "http://127.0.0.1:5056",
        fetch: r.fetch,
        identity: postT.client_secret,
      });
      const t0 = Date.now();
      await c.POST.api.endpoint(JSON.parse(postT.plaintext_request_body!), { puk: server.publicKey });
      const req = r.requests[0]!;
      const h = Object.fromEntries(req.headers);
      const body = await req.text();
      assert.equal(req.method, "POST");
      assert.equal(new URL(req.url).pathname, postT.request.path);
      assert.deepEqual(names(req.headers.keys()), names(Object.keys(postT.request.headers)));
      assert.equal(h["content-type"], "application/json", "Content-Type stays the plaintext's");
      assert.equal(
        h["sender-public-key"],
        postT.request.headers["Sender-public-key"],
        "same client secret, same key",
      );
      assert.match(h.nonce!, NONCE);
      assert.ok(Math.abs(Date.parse(h.nonce!) - t0) < 5000, "the nonce is now, in UTC");
      assert.match(body, /^(?:[0-9a-f]{2})+$/, "lowercase hex");
      assert.equal(body.length, postT.request.body!.length, "as long as the reference's");
      assert.ok(
        verify(body + h["ephemeral-public-key"]! + h.nonce!, h["sender-signature"]!, h["sender-public-key"]!),
        "signed over hex body + R + nonce",
      );
      assert.equal(
        decrypt(server.privateKey, h["ephemeral-public-key"]!, body),
        postT.plaintext_request_body,
        "byte for byte the Python client's plaintext",
      );
    });

    it("an encrypted multipart body is the Latin-1 reading of its bytes, as the reference's client encrypts it", async () => {
      const r = recorder(noContent);
      const c = createClient({ peer: "http://127.0.0.1:5056", fetch: r.fetch });
      const form = new FormData()
        .appendValue("note", "\u00e9t\u00e9")
        .appendFile("file", new Blob([BINARY]), { filename: "b.bin", type: "application/octet-stream" });
      await c.POST.upload(form, { puk: server.publicKey });
      const req = r.requests[0]!;
      const h = Object.fromEntries(req.headers);
      const plain = decrypt(server.privateKey, h["ephemeral-public-key"]!, await req.text());
      // usrv/req.py: FormData.encode(...) is dumps()[0].decode("latin-1"); the string is what is encrypted
      const bytes = Buffer.from(plain, "latin1");
      assert.ok(bytes.includes(Buffer.from(BINARY)), "the file's bytes, one character each");
      assert.ok(bytes.includes(Buffer.from("\u00e9t\u00e9")), "the text field's UTF-8 bytes");
      assert.match(h["content-type"]!, /^multipart\/form-data; boundary=/);
    });

    it("a GET with puk carries Sender-Public-Key only, as the reference's transcript", async () => {
      const r = recorder();
      const c = createClient({ peer: "http://127.0.0.1:5056", fetch: r.fetch, identity: getT.client_secret });
      await c.GET.api.endpoint({ a: 12, b: "test" }, { puk: server.publicKey }).catch(() => undefined);
      const req = r.requests[0]!;
      assert.equal(req.url.slice("http://127.0.0.1:5056".length), getT.request.path);
      assert.deepEqual(names(req.headers.keys()), names(Object.keys(getT.request.headers)));
      assert.equal(req.headers.get("sender-public-key"), getT.request.headers["Sender-public-key"]);
    });

    it("the reference server's recorded answers open with the client secret", async () => {
      for (const t of transcripts) {
        const answer = () =>
          new Response(t.response.body, { status: t.response.status, headers: t.response.headers });
        const c = createClient({
          peer: "http://127.0.0.1:5056",
          fetch: recorder(answer).fetch,
          identity: t.client_secret,
        });
        const puk = t.response.headers["Sender-Public-Key"]!;
        assert.equal(puk, generateKeypair(t.server_secret).publicKey);
        const got = await c.call<{ data: unknown; encrypted: boolean; status: number }>(
          t.request.method,
          ["api", "endpoint"],
          t.request.method === "GET" ? { a: 12, b: "test" } : {},
          { puk, full: true },
        );
        assert.equal(got.status, t.response.status, t.name);
        assert.equal(got.encrypted, true);
        assert.deepEqual(got.data, JSON.parse(t.plaintext_response_body), t.name);
      }
    });

    it("every encrypted request has a fresh nonce", async () => {
      const r = recorder(noContent);
      const c = createClient({ peer: "http://x", fetch: r.fetch });
      await Promise.all(Array.from({ length: 200 }, () => c.POST.x({ a: 1 }, { puk: server.publicKey })));
      const nonces = r.requests.map((q) => q.headers.get("nonce")!);
      for (const n of nonces) assert.match(n, NONCE);
      assert.equal(new Set(nonces).size, 200);
    });

    it("C5: no request cache: two identical calls are two requests; encrypted ones share nothing", async () => {
      const r = recorder(noContent);
      const c = createClient({ peer: "http://x", fetch: r.fetch });
      await c.GET.x({ a: 1 });
      await c.GET.x({ a: 1 });
      await c.POST.x({ a: 1 }, { puk: server.publicKey });
      await c.POST.x({ a: 1 }, { puk: server.publicKey });
      assert.equal(r.requests.length, 4);
      const [p1, p2] = [r.requests[2]!, r.requests[3]!];
      for (const k of ["nonce", "ephemeral-public-key", "sender-signature"])
        assert.notEqual(p1.headers.get(k), p2.headers.get(k), k);
      assert.notEqual(await p1.text(), await p2.text());
    });

    it("a puk that is not a server key is a typed error; nothing is sent", async () => {
      const r = recorder();
      const c = createClient({ peer: "http://x", fetch: r.fetch });
      for (const puk of ["AAAA", Buffer.alloc(64, 7).toString("base64"), 42 as unknown as string]) {
        await assert.rejects(c.POST.x({ a: 1 }, { puk }), { code: "USRV_ERR_CLIENT_BAD_KEY" });
      }
      assert.equal(r.requests.length, 0);
    });
  });

  describe(`docs/wire.md: answers that fail verification are errors, never plaintext [${entryName}]`, () => {
    const me = generateKeypair("client-secret");
    const text = JSON.stringify({ secret: "x".repeat(200) });
    const sealedFor = (to: string, by = server) => {
      const { R, ciphertext } = encrypt(to, text);
      return {
        R,
        ciphertext,
        headers: {
          "content-type": "application/json",
          "ephemeral-public-key": R,
          "sender-public-key": by.publicKey,
          "sender-signature": sign(ciphertext + R, by.privateKey),
        },
      };
    };
    const call = (answer: () => Response, puk: string | undefined = server.publicKey) =>
      createClient({ peer: "http://x", fetch: recorder(answer).fetch, identity: me }).GET.x(
        {},
        puk ? { puk } : {},
      );

    it("a well-sealed answer opens", async () => {
      const s = sealedFor(me.publicKey);
      assert.deepEqual(
        await call(() => new Response(s.ciphertext, { headers: s.headers })),
        JSON.parse(text),
      );
    });
    it("an answer signed by a key other than the expected server key", async () => {
      const s = sealedFor(me.publicKey, generateKeypair());
      await assert.rejects(
        call(() => new Response(s.ciphertext, { headers: s.headers })),
        { code: "USRV_ERR_CLIENT_BAD_SIGNATURE", message: /not by the server key/ },
      );
    });
    it("a tampered body, a forged signature, or some of the three headers only", async () => {
      const s = sealedFor(me.publicKey);
      await assert.rejects(
        call(() => new Response(`00${s.ciphertext}`, { headers: s.headers })),
        { code: "USRV_ERR_CLIENT_BAD_SIGNATURE" },
      );
      await assert.rejects(
        call(
          () =>
            new Response(s.ciphertext, {
              headers: { ...s.headers, "sender-signature": sign("x", server.privateKey) },
            }),
        ),
        { code: "USRV_ERR_CLIENT_BAD_SIGNATURE" },
      );
      const { "sender-signature": _, ...partial } = s.headers;
      await assert.rejects(
        call(() => new Response(s.ciphertext, { headers: partial })),
        { code: "USRV_ERR_CLIENT_BAD_SIGNATURE", message: /lacks Sender-Signature/ },
      );
      await assert.rejects(
        call(() => new Response(s.ciphertext, { status: 500, headers: partial })),
        { code: "USRV_ERR_CLIENT_BAD_SIGNATURE" },
      );
      await assert.rejects(
        call(() => new Response(s.ciphertext, { headers: partial }), undefined),
        { code: "USRV_ERR_CLIENT_BAD_SIGNATURE" },
      );
    });
    it("a plaintext answer to a request that asked for encryption", async () => {
      await assert.rejects(
        call(() => Response.json({ secret: "in clear" })),
        { code: "USRV_ERR_CLIENT_NOT_ENCRYPTED" },
      );
    });
    it("an answer signed by the server but encrypted for another client", async () => {
      const s = sealedFor(generateKeypair().publicKey);
      await assert.rejects(
        call(() => new Response(s.ciphertext, { headers: s.headers })),
        { code: "USRV_ERR_CLIENT_DECRYPT" },
      );
    });
  });

  for (const face of ["in process", "socket"] as const) {
    describe(`docs/wire.md: our client and our server, encrypted both ways [${entryName}, ${face}]`, () => {
      let app: App;
      let handle: ServerHandle | undefined;
      const client = async (identity?: string) => {
        app ??= await clientApp();
        if (face === "socket") handle ??= await app.run({ port: 0 });
        return face === "socket"
          ? createClient({ peer: handle!.url, identity })
          : createClient({ peer: "http://app", fetch: inProcess(app), identity });
      };

      it("GET /puk, then an encrypted POST: the handler sees plaintext and our key; the answer is decrypted", async () => {
        const c = await client();
        const puk = await c.GET.puk();
        assert.equal(puk, server.publicKey);
        const got = await c.POST.api.endpoint({ value1: 1, value2: "\u00e9" }, { puk, full: true });
        assert.equal(got.status, 202);
        assert.equal(got.encrypted, true);
        assert.deepEqual(got.data, [
          '{"value1": 1, "value2": "\\u00e9"}',
          canonicalKey((await c.keypair()).publicKey),
        ]);
      });
      it("form and multipart bodies travel encrypted too; a route that requires encryption accepts ours", async () => {
        const c = await client("client-secret");
        const puk = await c.GET.puk();
        for (const encoder of ["json", "form", "multipart"] as const) {
          assert.deepEqual(await c.POST.fields({ value1: "1" }, { puk, encoder }), { value1: "1" }, encoder);
        }
        assert.deepEqual(await c.POST.vip({ a: 1 }, { puk }), [
          '{"a": 1}',
          generateKeypair("client-secret").publicKey,
        ]);
        await assert.rejects(c.POST.vip({ a: 1 }), {
          status: 403,
          serverCode: "USRV_ERR_ENCRYPTION_REQUIRED",
        });
      });
      it("binary parts travel encrypted: the server binds their exact bytes", async () => {
        const c = await client();
        const puk = await c.GET.puk();
        const form = new FormData()
          .appendValue("note", "\u00e9t\u00e9 \u2713")
          .appendFile("file", new Blob([BINARY]), { filename: "b.bin" });
        assert.deepEqual(await c.POST.upload(form, { puk }), ["\u00e9t\u00e9 \u2713", hex(BINARY), true]);
        assert.deepEqual(await c.POST.upload({ note: "x", file: BINARY }, { puk, encoder: "multipart" }), [
          "x",
          hex(BINARY),
          true,
        ]);
      });
      it("a GET with puk gets an encrypted answer; an error status comes back encrypted and is opened", async () => {
        const c = await client();
        const puk = await c.GET.puk();
        const got = await c.GET.api.endpoint({ a: 12, b: "test" }, { puk, full: true });
        assert.deepEqual([got.encrypted, got.data], [true, ["12", "test"]]);
        await assert.rejects(c.GET.teapot({}, { puk }), (e: { status: number; body: unknown }) => {
          assert.equal(e.status, 418);
          assert.deepEqual(withoutId(e.body), {
            status: 418,
            error: "I'm a Teapot",
            code: "USRV_ERR_STATUS",
            message: "I'm a Teapot",
            detail: "short and stout",
          });
          return true;
        });
        await handle?.close();
      });
    });
  }
}

describe("docs/wire.md: a large body sealed in v1", () => {
  it("a 2 MiB multipart body travels sealed in v1 over a socket (it took the v2 upload path and failed)", async () => {
    const { quietApp } = await import("./_setup.js");
    const { app } = quietApp({ bodyLimit: 16 * 1024 * 1024 });
    await app.identify("server-secret");
    app.bind("/up", { methods: ["POST"] }, ({ f }, ctx) => [
      200,
      (f as { data: Uint8Array }).data.length,
      ctx.senderPublicKey !== null,
    ]);
    const handle = await app.run({ port: 0 });
    try {
      const c = nodeEntry.createClient({ peer: handle.url, encryption: "v1" });
      const got = await c.POST.up(
        { f: new Blob([new Uint8Array(2 * 1024 * 1024).fill(0x41)]) },
        { puk: app.publicKey!, encoder: "multipart", full: true },
      );
      assert.deepEqual([got.encryption, got.data], ["v1", [2 * 1024 * 1024, true]]);
    } finally {
      await handle.close();
    }
  });
});
