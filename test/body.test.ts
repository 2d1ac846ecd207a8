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
    // the names a body binds, apart from the three every handler gets
    app.bind("/names", { methods: ["POST"], style: "object" }, ({ method, headers, data, ...values }) => [
      200,
      values,
    ]);
    // V10: an identity schema hands back what the body step parsed, as the schema saw it
    let seen: unknown = "(none)";
    const body = {
      "~standard": {
        version: 1 as const,
        vendor: "test",
        validate: (value: unknown) => {
          seen = value;
          return { value };
        },
      },
    };
    app.bind("/parsed", { methods: ["POST"], body }, () => [200, seen === undefined ? "(undefined)" : seen]);
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
    const post = (path: string, type: string, body: string | number[]) =>
      send()(path, {
        method: "POST",
        headers: { "content-type": type },
        body: typeof body === "string" ? body : new Uint8Array(body),
      });
    it("V8: a +json media type is JSON: its fields bind, and V9 holds there too", async () => {
      for (const type of ["application/vnd.api+json", "application/problem+json; charset=utf-8"]) {
        assert.deepEqual(
          await json(await post("/names", type, '{"a":1,"b":"x"}'), 200),
          { a: 1, b: "x" },
          type,
        );
        const bad = (await json(await post("/names", type, '{"__proto__":{"x":1}}'), 400)) as {
          code: string;
        };
        assert.equal(bad.code, "USRV_ERR_BAD_JSON", type);
      }
      // not JSON: a text body, whose braces bind nothing
      assert.deepEqual(await json(await post("/names", "application/jsonx", '{"a":1}'), 200), {});
    });
    it("V8: only a JSON object binds names: a list, a string, a number or null binds none", async () => {
      for (const text of ['["x","y"]', '"ab"', "7", "null", "true"]) {
        assert.deepEqual(await json(await post("/names", "application/json", text), 200), {}, text);
      }
    });
    it("V9: a poisoned JSON body's 400 says so; invalid JSON's names the parser's reason", async () => {
      const poisoned = (await json(
        await post("/names", "application/json", '{"a":{"constructor":{"prototype":{"x":1}}}}'),
        400,
      )) as { code: string; message: string };
      assert.equal(poisoned.code, "USRV_ERR_BAD_JSON");
      assert.match(
        poisoned.message,
        /^the body has a __proto__ key or a constructor\.prototype .*prototype poisoning/,
      );
      const invalid = (await json(await post("/names", "application/json", '{"a":'), 400)) as {
        message: string;
      };
      assert.match(invalid.message, /^the body is not valid JSON: \S/);
      assert.doesNotMatch(invalid.message, /poisoning|\n\s+at /);
    });
    it("V10: a body schema is given JSON's value, a form's fields, else the text; undefined when empty", async () => {
      assert.deepEqual(await json(await post("/parsed", "application/json", "[1,2]"), 200), [1, 2]);
      assert.deepEqual(await json(await post("/parsed", "application/json", '{"a":[1]}'), 200), { a: [1] });
      const form = "application/x-www-form-urlencoded";
      assert.deepEqual(await json(await post("/parsed", form, "a=1&b=%C3%A9"), 200), { a: "1", b: "é" });
      assert.deepEqual(await json(await post("/parsed", `${form}; charset=latin1`, "a=%E9"), 200), {
        a: "é",
      });
      assert.equal(await json(await post("/parsed", "text/plain", "a=1"), 200), "a=1");
      assert.equal(await json(await post("/parsed", "text/plain", ""), 200), "(undefined)");
    });
    it("V8: windows-1252 (the latin1 labels) reads 0x80-0x9F by the WHATWG index on every runtime", async () => {
      const bytes = [0x41, 0x80, 0x81, 0x8a, 0x8d, 0x8f, 0x90, 0x93, 0x94, 0x99, 0x9d, 0x9f, 0xa0, 0xff];
      for (const type of [
        "text/plain; charset=latin1",
        "text/plain; charset=ASCII",
        "text/plain; charset=cp1252",
      ]) {
        const [data] = (await json(await text(type, bytes), 200)) as [string];
        assert.equal(
          data,
          "A\u20ac\u0081\u0160\u008d\u008f\u0090\u201c\u201d\u2122\u009d\u0178\u00a0\u00ff",
          type,
        );
      }
    });
    it("V8: a form in a declared charset: escapes in either case, + a space; a bad escape is a 400 naming it", async () => {
      const form = "application/x-www-form-urlencoded; charset=iso-8859-1";
      assert.deepEqual(
        ((await json(await text(form, "a=%e9%C9%3d+%2b&b%3D=1"), 200)) as unknown[]).slice(0, 2),
        ["a=%e9%C9%3d+%2b&b%3D=1", "éÉ= +"],
      );
      assert.deepEqual(await json(await post("/names", form, "b%3D=1&%41=2"), 200), { "b=": "1", A: "2" });
      for (const bad of ["a=%G1", "a=%4", "a=%%41", "a=%", "a=%1G"]) {
        const res = (await json(await text(form, bad), 400)) as { code: string; message: string };
        assert.equal(res.code, "USRV_ERR_BAD_ENCODING", bad);
        assert.equal(res.message, `invalid percent-encoding in the form body: "${bad.slice(2)}"`, bad);
      }
      // the component named in the message is cut at 64 characters
      const long = (await json(await text(form, `a=${"x".repeat(100)}%`), 400)) as { message: string };
      assert.equal(long.message, `invalid percent-encoding in the form body: "${"x".repeat(64)}"`);
    });
    it("V8: a form in UTF-16 binds its fields as read in it (its text first, escapes as URLSearchParams reads them)", async () => {
      const utf16 = (text: string, be: boolean) => {
        const b = Buffer.from(text, "utf16le");
        return [...(be ? b.swap16() : b)];
      };
      for (const [label, be] of [
        ["utf-16le", false],
        ["UTF-16BE", true],
        ["utf-16", false],
      ] as const) {
        const form = `application/x-www-form-urlencoded; charset=${label}`;
        const sent = "a=1&b=%C3%A9+x&c=\u00e9\u4e2d&\u0126=2";
        assert.deepEqual(
          await json(await post("/names", form, utf16(sent, be)), 200),
          {
            a: "1",
            b: "\u00e9 x",
            c: "\u00e9\u4e2d",
            "\u0126": "2",
          },
          label,
        );
        const [data] = (await json(await text(form, utf16(sent, be)), 200)) as [string];
        assert.equal(data, sent, label);
        const bad = (await json(await post("/names", form, utf16("a=%E9", be)), 400)) as { code: string };
        assert.equal(bad.code, "USRV_ERR_BAD_ENCODING", label);
      }
    });
    it("an unknown charset's label is named cut at 64 characters, the Content-Type's case kept", async () => {
      const label = `Klingon-${"x".repeat(200)}`;
      const body = (await json(await text(`text/plain; charset=${label}`, "x"), 415)) as { message: string };
      assert.equal(
        body.message,
        `the body's charset "${label.slice(0, 64)}" is not an encoding this server can decode`,
      );
      // a label TextDecoder knows, in any case, with spaces around it in quotes
      const [data] = (await json(await text('text/plain; charset=" UTF-16LE "', [0x68, 0]), 200)) as [string];
      assert.equal(data, "h");
    });
    it("invalid UTF-8 in a JSON body: 400 USRV_ERR_BAD_UTF8", async () => {
      const res = await send()("/echo", {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8" },
        body: new Uint8Array([0x22, 0xff, 0xfe, 0x22]),
      });
      const bad = (await json(res, 400)) as { code: string; message: string };
      assert.deepEqual([bad.code, bad.message], ["USRV_ERR_BAD_UTF8", "the JSON body is not valid UTF-8"]);
      const form = (await json(
        await post("/names", "application/x-www-form-urlencoded", [0x61, 0x3d, 0xff]),
        400,
      )) as {
        message: string;
      };
      assert.equal(form.message, "the form body is not valid UTF-8");
      const badEscape = (await json(
        await post("/names", "application/x-www-form-urlencoded", "a=%zz"),
        400,
      )) as {
        message: string;
      };
      assert.match(badEscape.message, /form body/);
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
