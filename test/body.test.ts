/**
 * V8 and the body limit: data, parse errors, 413 as soon as the limit is crossed.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import type { ServerHandle } from "usrv";
import { json, matrix, quietApp } from "./_setup.js";

matrix(
  "body: data and parse errors",
  (app) => {
    app.bind("/echo", { methods: ["POST", "PUT"] }, ({ data, a }) => [200, data, a ?? null]);
    app.bind("/small", { methods: ["POST"], bodyLimit: 10 }, ({ data }) => [200, data]);
    app.bind("/text", { methods: ["POST"] }, ({ data, a }, ctx) => [
      200,
      data,
      a ?? null,
      Array.from(ctx.body ?? []),
    ]);
  },
  (send) => {
    it("V8: data is the raw body text, null when empty", async () => {
      assert.deepEqual(await json(await send()("/echo", { method: "POST", body: "héllo" }), 200), [
        "héllo",
        null,
      ]);
      assert.deepEqual(await json(await send()("/echo", { method: "POST" }), 200), [null, null]);
    });
    const text = (type: string, bytes: number[] | string) =>
      send()("/text", {
        method: "POST",
        headers: { "content-type": type },
        body: typeof bytes === "string" ? bytes : new Uint8Array(bytes),
      });
    it("V8: data is read in the declared charset (TextDecoder labels)", async () => {
      for (const [type, bytes, want] of [
        ["text/plain; charset=iso-8859-1", [0x63, 0x61, 0x66, 0xe9], "café"],
        ['text/plain;charset="Windows-1252"', [0x80, 0x31], "€1"],
        ["text/plain; charset=utf-16le", [0x68, 0x00, 0xe9, 0x00], "hé"],
        ["text/plain; format=flowed; charset=shift_jis", [0x93, 0xfa, 0x96, 0x7b], "日本"],
        ["application/octet-stream; charset=latin1", [0xe9], "é"],
        ["text/plain; charset=utf-8", [0xc3, 0xa9], "é"],
      ] as const) {
        const [data, , body] = (await json(await text(type, [...bytes]), 200)) as [string, null, number[]];
        assert.equal(data, want, type);
        assert.deepEqual(body, bytes, "ctx.body keeps the exact bytes");
      }
    });
    it("V8: JSON and url-encoded bodies in a declared charset bind their fields in it", async () => {
      const latin = [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x63, 0x61, 0x66, 0xe9, 0x22, 0x7d]; // {"a":"caf\xe9"}
      assert.deepEqual(await json(await text("application/json; charset=iso-8859-1", latin), 200), [
        '{"a":"café"}',
        "café",
        latin,
      ]);
      const form = "application/x-www-form-urlencoded; charset=iso-8859-1";
      assert.deepEqual(((await json(await text(form, "a=caf%E9+%2B"), 200)) as unknown[]).slice(0, 2), [
        "a=caf%E9+%2B",
        "café +",
      ]);
      assert.deepEqual(((await json(await text(form, [0x61, 0x3d, 0xe9]), 200)) as unknown[]).slice(0, 2), [
        "a=é",
        "é",
      ]);
      const bad = (await json(await text(form, "a=%E"), 400)) as { code: string };
      assert.equal(bad.code, "USRV_ERR_BAD_ENCODING");
    });
    it("an unknown charset: 415 USRV_ERR_BAD_CHARSET naming it, whatever the media type", async () => {
      for (const type of [
        "text/plain; charset=klingon",
        "application/json; charset=klingon",
        "application/x-www-form-urlencoded; charset=klingon",
        "text/plain; charset=replacement", // a WHATWG label TextDecoder refuses
        "text/plain; charset=",
      ]) {
        const body = (await json(await text(type, "a=1"), 415)) as { code: string; message: string };
        assert.equal(body.code, "USRV_ERR_BAD_CHARSET", type);
        assert.match(body.message, /charset/);
      }
      const named = (await json(await text("text/plain; charset=klingon", "x"), 415)) as { message: string };
      assert.match(named.message, /"klingon"/);
    });
    it("V8: without a charset, data is UTF-8 when it is valid, else Latin-1: no byte is lost", async () => {
      const bytes = [0x63, 0x61, 0x66, 0xe9, 0x80, 0xff, 0x00];
      for (const type of ["text/plain", "application/octet-stream", ""]) {
        const [data, , body] = (await json(await text(type, bytes), 200)) as [string, null, number[]];
        assert.equal(data, "caf\u00e9\u0080\u00ff\u0000", type);
        assert.deepEqual(
          Array.from(data, (c) => c.charCodeAt(0)),
          bytes,
          "one character per byte, its code the byte",
        );
        assert.deepEqual(body, bytes);
      }
      assert.equal(
        ((await json(await text("text/plain", "h\u00e9llo \u{1f600}"), 200)) as string[])[0],
        "héllo 😀",
      );
    });
    it("invalid JSON under a JSON content type: 400 USRV_ERR_BAD_JSON", async () => {
      const res = await send()("/echo", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"a":',
      });
      assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_BAD_JSON");
    });
    it("invalid UTF-8 in a JSON body: 400 USRV_ERR_BAD_UTF8", async () => {
      const res = await send()("/echo", {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8" },
        body: new Uint8Array([0x22, 0xff, 0xfe, 0x22]),
      });
      assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_BAD_UTF8");
    });
    it("a truncated multipart body: 400 USRV_ERR_BAD_MULTIPART", async () => {
      const body = '--XX\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue';
      const res = await send()("/echo", {
        method: "POST",
        headers: { "content-type": "multipart/form-data; boundary=XX" },
        body,
      });
      assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_BAD_MULTIPART");
    });
    it("a multipart body without a boundary: 400 USRV_ERR_BAD_MULTIPART", async () => {
      const res = await send()("/echo", {
        method: "POST",
        headers: { "content-type": "multipart/form-data" },
        body: "x",
      });
      assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_BAD_MULTIPART");
    });
    it("a per-route body limit: 413 USRV_ERR_BODY_TOO_LARGE", async () => {
      assert.equal(
        await json(await send()("/small", { method: "POST", body: "0123456789" }), 200),
        "0123456789",
      );
      const res = await send()("/small", { method: "POST", body: "0123456789X" });
      const body = (await json(res, 413)) as { code: string; detail: { limit: number } };
      assert.equal(body.code, "USRV_ERR_BODY_TOO_LARGE");
      assert.equal(body.detail.limit, 10);
    });
  },
);

describe("body limit over a socket: 413 without buffering the rest", () => {
  const { app } = quietApp({ bodyLimit: 64 * 1024 });
  let received = 0;
  app.bind("/upload", { methods: ["POST"] }, ({ data }) => [200, data?.length ?? 0]);
  let server: ServerHandle;
  before(async () => {
    server = await app.run({ port: 0 });
    server.server.on("connection", (s) => s.on("data", (d: Buffer) => (received += d.length)));
  });
  after(() => server.close());

  /** Streams `total` bytes in chunks (chunked encoding unless `length` is declared) and returns the status. */
  function upload(total: number, declare: boolean): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${server.url}/upload`,
        { method: "POST", headers: declare ? { "content-length": String(total) } : {} },
        (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on("error", reject);
      const chunk = Buffer.alloc(16 * 1024, 97);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
  }

  it("a declared Content-Length over the limit is refused before reading", async () => {
    received = 0;
    const r = await upload(8 * 1024 * 1024, true);
    assert.equal(r.status, 413);
    assert.ok(received < 2 * 1024 * 1024, `server read ${received} bytes of 8 MiB`);
  });

  it("a chunked body is cut as soon as it crosses the limit", async () => {
    received = 0;
    const r = await upload(8 * 1024 * 1024, false);
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.body).code, "USRV_ERR_BODY_TOO_LARGE");
    assert.ok(received < 2 * 1024 * 1024, `server read ${received} bytes of 8 MiB`);
  });

  it("the server still answers afterwards", async () => {
    const res = await fetch(`${server.url}/upload`, { method: "POST", body: "abc" });
    assert.equal(await json(res, 200), 3);
  });
});
