/**
 * C6: FormData per RFC 7578: build, send (files streamed from disk), read
 * back, and dump into a folder, never outside it.
 */
import assert from "node:assert/strict";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createClient, FormData } from "usrv/client";
import { quietApp } from "./_setup.js";
import { inProcess, recorder } from "./fixtures/client-helpers.js";

const made: string[] = [];
const tmp = () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "usrv-form-")));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const text = (bytes: unknown) => new TextDecoder().decode(bytes as Uint8Array);

describe("C6: FormData encodes per RFC 7578", () => {
  it("parts, names escaped as browsers do, a hex boundary, CRLF framing", async () => {
    const form = new FormData()
      .appendValue("note", "hi")
      .appendValue('we"ird\r\nname', "v")
      .appendJson("meta", { a: 1 })
      .appendValue("raw", new Uint8Array([0, 255]), { "X-Extra": "1" })
      .appendFile("doc", new Blob(["hello"]), { filename: "caf\u00e9.txt" });
    const { body, contentType, boundary } = await form.encode();
    assert.equal(contentType, `multipart/form-data; boundary=${boundary}`);
    assert.match(boundary, /^[0-9a-f]{32}$/);
    const raw = Buffer.from(await body.arrayBuffer()).toString("latin1");
    const b = `--${boundary}`;
    assert.equal(
      raw,
      [
        `${b}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n`,
        `${b}\r\nContent-Disposition: form-data; name="we%22ird%0D%0Aname"\r\n\r\nv\r\n`,
        `${b}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n{"a":1}\r\n`,
        `${b}\r\nContent-Disposition: form-data; name="raw"\r\nContent-Type: application/octet-stream\r\nx-extra: 1\r\n\r\n\u0000\u00ff\r\n`,
        `${b}\r\nContent-Disposition: form-data; name="doc"; filename="caf\u00c3\u00a9.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n`,
        `${b}--`,
      ].join(""),
    );
    assert.throws(() => new FormData().appendValue("a", "b", { "x-bad": "a\r\nInjected: 1" }), {
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
    });
  });

  it("the reference's FormData.decode reads our parts whole: the body ends at the close delimiter, as its dumps() does", async () => {
    const form = new FormData()
      .appendValue("note", "hello")
      .appendJson("meta", { a: 1 })
      .appendFile("f", new Blob([new Uint8Array([0x89, 0x50, 0x00, 0x80, 0xff, 0x41])]), {
        filename: "a.bin",
      });
    const { body } = await form.encode();
    // usrv/req.py FormData.decode, on the body read as Latin-1 (as its server hands it over)
    const data = Buffer.from(await body.arrayBuffer()).toString("latin1");
    const boundary = /^.*(--[0-9a-f]+).*/.exec(data)![1]!;
    const frames: string[] = [];
    for (const line of data.split("\r\n").slice(0, -1)) {
      if (line === boundary) frames.push("");
      else frames[frames.length - 1] += `${line}\r\n`;
    }
    const parts = frames.map((frame) => {
      const lines = frame.split("\r\n");
      const sep = lines.indexOf("");
      const name = /name="(\S*?)"/.exec(lines.slice(0, sep).join("\r\n"))![1];
      return [
        name,
        Buffer.from(
          lines
            .slice(sep + 1)
            .join("\r\n")
            .trim(),
          "latin1",
        ).toString("hex"),
      ];
    });
    assert.deepEqual(parts, [
      ["note", Buffer.from("hello").toString("hex")],
      ["meta", Buffer.from('{"a":1}').toString("hex")],
      ["f", "89500080ff41"],
    ]);
  });

  it("decodes what it encodes (busboy), and reads the boundary from the body like the reference", async () => {
    const form = new FormData()
      .appendValue("note", "h\u00e9")
      .appendJson("meta", [1])
      .appendFile("f", new Blob([new Uint8Array([1, 2, 3])]), { filename: "a.bin" });
    const { body, contentType } = await form.encode();
    const bytes = new Uint8Array(await body.arrayBuffer());
    for (const back of [await FormData.decode(bytes, contentType), await FormData.decode(bytes)]) {
      assert.deepEqual(
        back.parts.map((p) => [p.name, p.filename, p.type, Array.from(p.data as Uint8Array)]),
        [
          ["note", undefined, "", Array.from(new TextEncoder().encode("h\u00e9"))],
          ["meta", undefined, "application/json", Array.from(new TextEncoder().encode("[1]"))],
          ["f", "a.bin", "application/octet-stream", [1, 2, 3]],
        ],
      );
      assert.equal(back.size, 3);
      assert.deepEqual(back.getAll("note").length, 1);
    }
    await assert.rejects(FormData.decode("no boundary here"), { code: "USRV_ERR_CLIENT_BAD_BODY" });
  });

  it("a file from disk is streamed: a disk-backed Blob with a Content-Length, read only when sent", async () => {
    const dir = tmp();
    const path = join(dir, "big.bin");
    writeFileSync(path, Buffer.alloc(8 * 1024 * 1024, 7));
    const { app } = quietApp({ bodyLimit: 16 * 1024 * 1024 });
    app.bind("/upload", { methods: ["POST"] }, ({ note, file }, ctx) => [
      200,
      note,
      (file as { filename: string }).filename,
      (file as { type: string }).type,
      (file as { data: Uint8Array }).data.length,
      ctx.headers["content-length"],
    ]);
    const server = await app.run({ port: 0 });
    const c = createClient({ peer: server.url });
    const [note, name, type, size, length] = await c.POST.upload(
      { file: FormData.file(path), note: "hi" },
      { encoder: "multipart" },
    );
    assert.deepEqual(
      [note, name, type, size],
      ["hi", "big.bin", "application/octet-stream", 8 * 1024 * 1024],
    );
    assert.ok(Number(length) > 8 * 1024 * 1024, "sent with a Content-Length, not chunked");
    const form = new FormData().appendFile("file", path, { type: "image/png", filename: "renamed.png" });
    assert.deepEqual((await c.POST.upload(form)).slice(1, 4), ["renamed.png", "image/png", 8 * 1024 * 1024]);
    await server.close();
  });

  it("a large upload holds a few chunks in memory, not the file (node:http, as Node's fetch keeps them all)", async (t) => {
    const dir = tmp();
    const path = join(dir, "sparse.bin");
    writeFileSync(path, "");
    truncateSync(path, 128 * 1024 * 1024); // a sparse file: nothing to write, 128 MiB to read
    let received = 0;
    const server = createServer((req, res) => {
      req.on("data", (d: Buffer) => (received += d.length));
      req.on("end", () =>
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify(req.headers["content-length"])),
      );
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
      const c = createClient({ peer: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const length = await c.PUT.up(new FormData().appendFile("f", path));
      assert.ok(Number(length) > 128 * 1024 * 1024);
      assert.equal(received, Number(length));
      // Node's fetch holds the whole file (128 MiB and more); streaming holds a few chunks:
      // ~5 MiB on a quiet machine, 34 MiB seen on a loaded one (chunks queue while it waits).
      t.diagnostic(`live ArrayBuffers peaked at ${(peak / 2 ** 20).toFixed(1)} MiB`);
      assert.ok(peak < 64 * 1024 * 1024, `live ArrayBuffers peaked at ${(peak / 2 ** 20).toFixed(1)} MiB`);
    } finally {
      clearInterval(sampler);
      server.close();
    }
  });

  it("a missing file is a typed error at send time; nothing is sent", async () => {
    const r = recorder();
    const c = createClient({ peer: "http://x", fetch: r.fetch });
    await assert.rejects(c.POST.up({ f: FormData.file("/no/such/file.png") }), {
      code: "USRV_ERR_CLIENT_FILE",
      message: /no\/such\/file\.png/,
    });
    await assert.rejects(c.POST.up({ f: FormData.file(tmpdir()) }), {
      code: "USRV_ERR_CLIENT_FILE",
      message: /not a regular file/,
    });
    assert.equal(r.requests.length, 0);
  });

  it("the server's multipart binding sees our parts (app without a socket)", async () => {
    const { app } = quietApp();
    app.bind("/up", { methods: ["POST"] }, ({ note, meta, f }) => [
      200,
      note,
      meta,
      (f as { filename: string }).filename,
    ]);
    const c = createClient({ peer: "http://app", fetch: inProcess(app) });
    assert.deepEqual(await c.POST.up({ note: "hi", meta: { a: 1 }, f: new Blob(["x"]) }), [
      "hi",
      '{"a":1}',
      "blob",
    ]);
  });
});

describe("C6: dump(folder) never writes outside the folder", () => {
  const hostile = [
    ["../../escape.txt", "escape.txt"],
    ["/etc/passwd", "passwd"],
    ["..\\..\\win.ini", "win.ini"],
    ["..", "part.bin"],
    [".bashrc", "_bashrc"],
    ["a\u0000b\nc.txt", "abc.txt"],
    // what shows nothing or reorders what is shown is removed: the name seen is the name on disk
    ["file\u202Egnp.exe", "filegnp.exe"],
    ["\u2066x\u2069\u202a\u202b\u202c\u202d\u200e\u200f\u061c.txt", "x.txt"],
    ["a\u0085b\u009bc\u007fd.txt", "abcd.txt"],
    ["in\u200bvi\u200c\u200dsi\u2060ble\ufeff\u00ad.txt", "invisible.txt"],
    ["tag\u{e0041}\u3164\u034f\ufe0f.txt", "tag.txt"],
    ["a\u2028b\u2029.txt", "ab.txt"],
    ["no\u00a0break\u3000space.txt", "no break space.txt"],
    ["\u202e\u200b", "part-1.bin"], // nothing left: the fallback name, numbered after ".." took it
    [".\u200b.", "part-2.bin"],
    ["CON.txt", "_CON.txt"],
    ["trailing. . ", "trailing"],
    [`${"\u00e9".repeat(300)}.png`, `${"\u00e9".repeat(98)}.png`],
  ] as const;

  it("names are reduced to safe base names; collisions get -1, -2", async () => {
    const dir = tmp();
    const form = new FormData();
    for (const [evil] of hostile) form.appendFile("f", new Blob(["x"]), { filename: evil });
    form
      .appendFile("f", new Blob(["1"]), { filename: "same.txt" })
      .appendFile("f", new Blob(["2"]), { filename: "../same.txt" });
    form.appendValue("note", "hi").appendJson("meta", { a: 1 });
    const written = await form.dump(join(dir, "out"));
    const names = written.map((w) => w.path.slice(join(dir, "out").length + 1));
    assert.deepEqual(names, [
      ...hostile.map(([, safe]) => safe),
      "same.txt",
      "same-1.txt",
      "note.txt",
      "meta.json",
    ]);
    for (const w of written) assert.ok(w.path.startsWith(join(dir, "out/")), w.path);
    assert.deepEqual(readdirSync(dir), ["out"]);
    assert.equal(readFileSync(join(dir, "out", "same-1.txt"), "utf8"), "2");
    assert.equal(readFileSync(join(dir, "out", "meta.json"), "utf8"), '{"a":1}');
  });

  it("an existing file is never overwritten, a planted symlink never followed", async () => {
    const dir = tmp();
    const out = join(dir, "out");
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "precious");
    await new FormData().appendValue("x", "first").dump(out); // creates out/x.txt
    symlinkSync(victim, join(out, "evil.txt"));
    symlinkSync(join(dir, "nowhere"), join(out, "dangling.txt"));
    const written = await new FormData()
      .appendFile("a", new Blob(["attack"]), { filename: "evil.txt" })
      .appendFile("b", new Blob(["attack"]), { filename: "dangling.txt" })
      .appendValue("x", "second")
      .dump(out);
    assert.deepEqual(
      written.map((w) => w.path.slice(out.length + 1)),
      ["evil-1.txt", "dangling-1.txt", "x-1.txt"],
    );
    assert.equal(readFileSync(victim, "utf8"), "precious");
    assert.deepEqual(readdirSync(dir).sort(), ["out", "victim.txt"]);
    assert.equal(readFileSync(join(out, "x.txt"), "utf8"), "first");
  });

  it("a decoded answer dumps its files", async () => {
    const { body, contentType } = await new FormData()
      .appendFile("f", new Blob(["data"]), { filename: "../../a.txt" })
      .encode();
    const form = await FormData.decode(new Uint8Array(await body.arrayBuffer()), contentType);
    const dir = tmp();
    const [w] = await form.dump(dir);
    assert.equal(w!.path, join(dir, "a.txt"));
    assert.equal(text(readFileSync(w!.path)), "data");
  });
});

describe("C6: dump is bounded, and writes all or nothing", () => {
  /** A Blob whose reading fails, as a disk that fills up or a stream that breaks would. */
  class BrokenBlob extends Blob {
    override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
      return new ReadableStream({ pull: (c) => c.error(new Error("the disk is on fire")) });
    }
  }
  const many = (n: number, name = (i: number) => `f${i}.txt`) => {
    const form = new FormData();
    for (let i = 0; i < n; i++) form.appendFile("f", new Blob(["x"]), { filename: name(i) });
    return form;
  };

  it("C6: a 20,000-part form is refused before the first write (USRV_ERR_CLIENT_DUMP_LIMIT), its folder not even made", async (t) => {
    const dir = tmp();
    const form = many(20_000);
    const start = performance.now();
    await assert.rejects(form.dump(join(dir, "out")), {
      name: "ClientError",
      code: "USRV_ERR_CLIENT_DUMP_LIMIT",
      message: /20000 parts, over maxParts: nothing was written; pass a larger \{ maxParts, maxBytes \}/,
    });
    t.diagnostic(`refused in ${(performance.now() - start).toFixed(2)} ms`);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("C6: a 20,000-part answer is refused by the reader, before any dump (USRV_ERR_CLIENT_BAD_BODY)", async (t) => {
    const body = `${'--b\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\n\r\nx\r\n'.repeat(20_000)}--b--`;
    const c = createClient({
      peer: "http://x",
      fetch: async () =>
        new Response(body, { headers: { "content-type": "multipart/form-data; boundary=b" } }),
    });
    const start = performance.now();
    await assert.rejects(c.GET.parts(), {
      code: "USRV_ERR_CLIENT_BAD_BODY",
      message: /more than 1000 parts/,
    });
    t.diagnostic(`refused in ${(performance.now() - start).toFixed(2)} ms`);
  });

  it("C6: maxBytes counts every part (bytes, Blobs, files on disk) before the first write", async () => {
    const dir = tmp();
    const path = join(dir, "ten.bin");
    writeFileSync(path, Buffer.alloc(10));
    const form = new FormData()
      .appendValue("a", new Uint8Array(5))
      .appendFile("b", new Blob(["12345"]))
      .appendFile("c", path);
    await assert.rejects(form.dump(join(dir, "out"), { maxBytes: 19 }), {
      code: "USRV_ERR_CLIENT_DUMP_LIMIT",
      message: /20 bytes, over maxBytes/,
    });
    assert.deepEqual(readdirSync(dir), ["ten.bin"]);
    const written = await form.dump(join(dir, "out"), { maxBytes: 20 });
    assert.deepEqual(
      written.map((w) => readFileSync(w.path).length),
      [5, 5, 10],
    );
    await assert.rejects(form.dump(dir, { maxParts: 2 }), { code: "USRV_ERR_CLIENT_DUMP_LIMIT" });
    await assert.rejects(form.dump(dir, { maxParts: -1 }), { code: "USRV_ERR_CLIENT_BAD_ARGUMENT" });
    await assert.rejects(form.dump(dir, { maxBytez: 1 } as never), {
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
      message: /did you mean "maxBytes"/,
    });
    assert.equal(
      (await many(3).dump(join(dir, "inf"), { maxParts: Infinity, maxBytes: Infinity })).length,
      3,
    );
  });

  it("C6: the 1,001st write fails: the 1,000 files before it are removed, and the folder dump made", async () => {
    const dir = tmp();
    const form = many(1000);
    form.appendFile("f", new BrokenBlob(["never"]), { filename: "last.txt" });
    await assert.rejects(form.dump(join(dir, "a", "b"), { maxParts: 1001 }), {
      code: "USRV_ERR_CLIENT_FILE",
      message: /cannot write last\.txt: the disk is on fire/,
    });
    assert.deepEqual(readdirSync(dir), []);
  });

  it("C6: a failed dump into a folder that exists removes its own files only", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "f0.txt"), "precious");
    writeFileSync(join(dir, "other.txt"), "theirs");
    const form = many(3).appendFile("f", new BrokenBlob(["never"]), { filename: "f1.txt" });
    await assert.rejects(form.dump(dir), { code: "USRV_ERR_CLIENT_FILE" });
    assert.deepEqual(readdirSync(dir).sort(), ["f0.txt", "other.txt"]);
    assert.equal(readFileSync(join(dir, "f0.txt"), "utf8"), "precious");
  });

  it("C6: 1,500 parts of one name are all written, numbered (no give-up after 1,000 names)", async () => {
    const dir = tmp();
    const written = await many(1500, () => "same.txt").dump(dir, { maxParts: 1500 });
    assert.equal(written.length, 1500);
    assert.equal(readdirSync(dir).length, 1500);
    assert.equal(written.at(-1)!.path, join(dir, "same-1499.txt"));
  });
});
