/**
 * Compression (issue 16, item 2) with `usrv/compress`, on both faces (in
 * process, and raw bytes off a real socket, no client decoding them):
 * negotiation by q-values, the threshold and the type filter, streamed
 * bodies, weakened ETags, and the answers it must leave alone.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import * as zlib from "node:zlib";
import { type App, createApp, type ServerHandle } from "usrv";
import { compress, compressible, negotiate } from "usrv/compress";
import { generateKeypair, sign } from "usrv/secp256k1";

const BIG = {
  items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ["a", "b"] })),
};
const BIG_TEXT = JSON.stringify(BIG);
const HAS_ZSTD = typeof (zlib as { zstdDecompressSync?: unknown }).zstdDecompressSync === "function";

function app(): App {
  const a = createApp({ logLevel: 50 });
  a.use(compress());
  a.bind("/big", () => [200, BIG]);
  a.bind("/small", () => [200, { ok: true }]);
  a.bind("/png", () => new Response(new Uint8Array(4096), { headers: { "content-type": "image/png" } }));
  a.bind("/tagged", { style: "object" }, (_, ctx) => {
    ctx.header("etag", '"v1"');
    return [200, BIG];
  });
  a.bind("/stream", () => {
    const chunks = Array.from({ length: 5 }, (_, i) => `line ${i} ${"x".repeat(400)}\n`);
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = chunks.shift();
        if (next === undefined) c.close();
        else c.enqueue(new TextEncoder().encode(next));
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
  });
  return a;
}

type Raw = { status: number; headers: Record<string, string | undefined>; body: Buffer };

function decode(raw: Raw): string {
  const e = raw.headers["content-encoding"];
  const z = zlib as unknown as Record<string, (b: Buffer) => Buffer>;
  const out =
    e === "br"
      ? zlib.brotliDecompressSync(raw.body)
      : e === "gzip"
        ? zlib.gunzipSync(raw.body)
        : e === "deflate"
          ? zlib.inflateSync(raw.body)
          : e === "zstd"
            ? z.zstdDecompressSync!(raw.body)
            : raw.body;
  return out.toString("utf8");
}

for (const face of ["fetch", "node"] as const) {
  describe(`issue 16 item 2: compression [${face}]`, () => {
    const a = app();
    let server: ServerHandle | undefined;
    before(async () => {
      if (face === "node") server = await a.run({ port: 0 });
    });
    after(() => server?.close());
    const get = async (path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Raw> => {
      if (face === "fetch") {
        const res = await a.request(path, { method, headers });
        return {
          status: res.status,
          headers: Object.fromEntries(res.headers),
          body: Buffer.from(await res.arrayBuffer()),
        };
      }
      return new Promise((resolve, reject) => {
        const req = request(`${server!.url}${path}`, { method, headers }, (res) => {
          const parts: Buffer[] = [];
          res.on("data", (d: Buffer) => parts.push(d));
          res.on("end", () =>
            resolve({
              status: res.statusCode!,
              headers: res.headers as Record<string, string>,
              body: Buffer.concat(parts),
            }),
          );
        });
        req.on("error", reject);
        req.end();
      });
    };

    it("the client's best coding by q-value, ties to the server's order (br, zstd, gzip, deflate)", async () => {
      const cases: [string, string | undefined][] = [
        ["gzip", "gzip"],
        ["gzip, deflate, br", "br"],
        ["gzip;q=1, br;q=0.5", "gzip"],
        ["gzip;q=0, deflate", "deflate"],
        ["*", "br"],
        ["br;q=0, *;q=0.1", HAS_ZSTD ? "zstd" : "gzip"],
        ["zstd", HAS_ZSTD ? "zstd" : undefined],
        ["identity", undefined],
      ];
      for (const [accept, want] of cases) {
        const raw = await get("/big", { "accept-encoding": accept });
        assert.equal(raw.status, 200);
        assert.equal(raw.headers["content-encoding"], want, accept);
        assert.equal(raw.headers.vary, "Accept-Encoding");
        assert.equal(decode(raw), BIG_TEXT, accept);
        if (want !== undefined)
          assert.ok(raw.body.length < BIG_TEXT.length / 3, `${want}: ${raw.body.length} bytes`);
      }
    });

    it("no Accept-Encoding, a small body, an incompressible type, HEAD: sent as they are", async () => {
      const none = await get("/big");
      assert.equal(none.headers["content-encoding"], undefined);
      assert.equal(none.headers.vary, "Accept-Encoding");
      const small = await get("/small", { "accept-encoding": "gzip" });
      assert.equal(small.headers["content-encoding"], undefined);
      assert.equal(small.body.toString(), '{"ok":true}');
      const png = await get("/png", { "accept-encoding": "gzip" });
      assert.equal(png.headers["content-encoding"], undefined);
      assert.equal(png.headers.vary, undefined);
      assert.equal(png.body.length, 4096);
      const head = await get("/big", { "accept-encoding": "gzip" }, "HEAD");
      assert.equal(head.headers["content-encoding"], undefined);
      assert.equal(head.body.length, 0);
    });

    it("a streamed body is compressed as it flows", async () => {
      const raw = await get("/stream", { "accept-encoding": "gzip" });
      assert.equal(raw.headers["content-encoding"], "gzip");
      assert.equal(raw.headers["content-length"], undefined);
      assert.equal(decode(raw).split("\n").length, 6);
    });

    it("a strong ETag becomes weak: the compressed bytes are another representation", async () => {
      const raw = await get("/tagged", { "accept-encoding": "br" });
      assert.equal(raw.headers.etag, 'W/"v1"');
      assert.equal((await get("/tagged")).headers.etag, '"v1"');
    });

    it("an answer to a request that carries keys is never compressed (it is sealed; BREACH)", async () => {
      const client = generateKeypair("compress client");
      const raw = await get("/big", {
        "accept-encoding": "gzip",
        "sender-public-key": client.publicKey,
        "sender-signature": sign("x", client.privateKey),
      });
      assert.equal(raw.headers["content-encoding"], undefined);
    });
  });
}

describe("compress: helpers and options", () => {
  it("negotiate reads q-values, refuses q=0, bounds what it reads", () => {
    assert.equal(negotiate("gzip;q=0.8, br", ["br", "gzip"]), "br");
    assert.equal(negotiate("br;q=0.1, gzip;q=0.9", ["br", "gzip"]), "gzip");
    assert.equal(negotiate("br;q=0", ["br"]), null);
    assert.equal(negotiate("BR", ["br"]), "br");
    assert.equal(negotiate("gzip;q=abc", ["gzip"]), null);
    assert.equal(negotiate(undefined, ["gzip"]), null);
    assert.equal(negotiate(`${"x, ".repeat(100)}gzip`, ["gzip"]), null, "past the first 32 codings");
  });
  it("compressible types", () => {
    for (const t of [
      "application/json; charset=utf-8",
      "text/html",
      "application/problem+json",
      "image/svg+xml",
    ])
      assert.ok(compressible(t), t);
    for (const t of ["image/png", "text/event-stream", "application/zip", "video/mp4", ""])
      assert.ok(!compressible(t), t);
  });
  it("options it cannot honour throw", () => {
    assert.throws(() => compress({ threshold: -1 }), /threshold/);
    assert.throws(() => compress({ brotliQuality: 12 }), /brotliQuality/);
    assert.throws(() => compress({ level: 0 }), /level/);
    assert.throws(() => compress({ encodings: ["lzma" as "br"] }), /unknown encoding "lzma"/);
  });
});
