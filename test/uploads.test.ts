/**
 * V13-V16: request bodies as they arrive: `body: "stream"` (ctx.stream) and
 * `uploads` (multipart files spooled to a temporary folder, removed after
 * the answer, on errors, timeouts and aborts). Both faces; the memory of a
 * 200 MiB upload is test/uploads-memory.test.ts's.
 */
import assert from "node:assert/strict";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { BindError, type Context, createApp, type ServerHandle, type SpooledFile } from "usrv";
import { json, matrix, quietApp } from "./_setup.js";

const root = mkdtempSync(join(tmpdir(), "usrv-uploads-test-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Polls until `dir` holds nothing (the spooled folders removed), or fails after a generous while. */
async function emptied(dir: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (readdirSync(dir).length === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(readdirSync(dir), [], `${dir} still holds spooled folders`);
}

/** Reads a stream whole, as text. */
async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A multipart body as FormData would write it, but as a Blob: undici's own
 * FormData body stream throws (ERR_INVALID_STATE, uncaught) when the server
 * cancels it mid-way, as a 413 does, seen on Node 24 under load.
 */
const form = (...parts: [string, string | Blob, string?][]) => {
  const boundary = `usrv-test-${Math.random().toString(16).slice(2)}`;
  const chunks: (string | Blob)[] = [];
  for (const [name, value, filename] of parts) {
    chunks.push(`--${boundary}\r\n`);
    if (typeof value === "string") {
      chunks.push(`Content-Disposition: form-data; name="${name}"\r\n\r\n`, value, "\r\n");
    } else {
      const type = value.type || "application/octet-stream";
      chunks.push(
        `Content-Disposition: form-data; name="${name}"; filename="${filename ?? "blob"}"\r\nContent-Type: ${type}\r\n\r\n`,
        value,
        "\r\n",
      );
    }
  }
  chunks.push(`--${boundary}--\r\n`);
  return new Blob(chunks, { type: `multipart/form-data; boundary=${boundary}` });
};

/** A multipart body written by hand, for what FormData cannot send. */
const raw = (boundary: string, ...parts: string[]) =>
  `${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join("")}--${boundary}--\r\n`;

let seen: SpooledFile | undefined;
let folderMode = 0;

{
  const dir = join(root, "spool");
  mkdirSync(dir);
  matrix(
    "V13-V16: bodies as they arrive",
    (app) => {
      app.bind(
        "/stream",
        { methods: ["POST"], body: "stream", bodyLimit: 64, style: "object" },
        async (_, ctx) => [200, ctx.stream === null ? null : await text(ctx.stream), ctx.body],
      );
      app.bind("/plain", { methods: ["POST"], style: "object" }, (_, ctx) => [
        200,
        ctx.stream,
        ctx.body?.length,
      ]);
      const uploads = { dir, maxFileSize: 16, maxFiles: 2, maxTotal: 24 };
      app.bind("/up", { methods: ["POST"], uploads, bodyLimit: 32 }, ({ note, file }) => {
        const f = file as SpooledFile;
        seen = f;
        folderMode = statSync(dirname(f.path)).mode & 0o777;
        return [
          200,
          note ?? null,
          f.filename,
          f.type,
          f.size,
          readFileSync(f.path, "utf8"),
          statSync(f.path).mode & 0o777,
        ];
      });
      app.bind("/up-any", { methods: ["POST"], uploads }, ({ method, headers, data, ...fields }) => [
        200,
        fields,
        data,
      ]);
      app.bind("/up-throws", { methods: ["POST"], uploads }, () => {
        throw new Error("boom");
      });
      app.bind(
        "/up-slow",
        { methods: ["POST"], uploads, timeout: 200, style: "object" },
        async (_, ctx: Context) => {
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
          return [200];
        },
      );
      app.bind(
        "/up-echo",
        { methods: ["POST"], uploads },
        ({ file }) =>
          new Response(Readable.toWeb(createReadStream((file as SpooledFile).path)) as ReadableStream),
      );
    },
    (send) => {
      it("V13: the handler reads the body from ctx.stream; ctx.body is null", async () => {
        assert.deepEqual(await json(await send()("/stream", { method: "POST", body: "héllo" }), 200), [
          "héllo",
          null,
        ]);
      });
      it("V13: ctx.stream is empty without a body, null on a route that reads it whole", async () => {
        assert.deepEqual(await json(await send()("/stream", { method: "POST" }), 200), ["", null]);
        assert.deepEqual(await json(await send()("/plain", { method: "POST", body: "abc" }), 200), [null, 3]);
      });
      it("V13: a streamed body over bodyLimit errors the stream with 413 USRV_ERR_BODY_TOO_LARGE", async () => {
        const res = await send()("/stream", { method: "POST", body: "x".repeat(65) });
        const body = (await json(res, 413)) as { code: string; detail: unknown };
        assert.equal(body.code, "USRV_ERR_BODY_TOO_LARGE");
        assert.deepEqual(body.detail, { limit: 64 });
      });
      it("V14: a file part spooled: base name, type, size, bytes, in a 0700 folder as 0600, gone after the answer", async () => {
        const body = form(
          ["note", "hi"],
          ["file", new Blob(["abc"], { type: "text/plain" }), "../../etc/a.txt"],
        );
        const res = await send()("/up", { method: "POST", body });
        assert.deepEqual(await json(res, 200), ["hi", "a.txt", "text/plain", 3, "abc", 0o600]);
        assert.equal(folderMode, 0o700);
        assert.equal(dirname(dirname(seen!.path)), dir, "a fresh folder under uploads.dir");
        assert.ok(!seen!.path.includes("a.txt"), "the client's name is never the file's");
        assert.ok(!existsSync(dirname(seen!.path)), "removed once answered");
        await emptied(dir);
      });
      it("V14: text parts bind as strings, each file by its name; other bodies are read whole", async () => {
        const body = form(["a", "1"], ["b", new Blob(["xy"]), "b.bin"]);
        const [fields] = (await json(await send()("/up-any", { method: "POST", body }), 200)) as [
          Record<string, SpooledFile | string>,
        ];
        assert.equal(fields.a, "1");
        assert.equal((fields.b as SpooledFile).size, 2);
        assert.equal((fields.b as SpooledFile).type, "application/octet-stream");
        const res = await send()("/up-any", {
          method: "POST",
          body: "a=2",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        });
        assert.deepEqual(await json(res, 200), [{ a: "2" }, "a=2"]);
        await emptied(dir);
      });
      it("V14: the folder is removed when the handler throws (500)", async () => {
        const res = await send()("/up-throws", { method: "POST", body: form(["f", new Blob(["a"]), "a"]) });
        assert.equal(((await json(res, 500)) as { code: string }).code, "USRV_ERR_INTERNAL");
        await emptied(dir);
      });
      it("V14: the folder is removed when the handler times out (503)", async () => {
        const res = await send()("/up-slow", { method: "POST", body: form(["f", new Blob(["a"]), "a"]) });
        assert.equal(((await json(res, 503)) as { code: string }).code, "USRV_ERR_TIMEOUT");
        await emptied(dir);
      });
      it("V14: a handler's Response may stream a spooled file back; the folder goes once it is sent", async () => {
        const res = await send()("/up-echo", {
          method: "POST",
          body: form(["file", new Blob(["spooled"]), "s"]),
        });
        assert.equal(await res.text(), "spooled");
        await emptied(dir);
      });
      it("V15: a file over maxFileSize: 413 USRV_ERR_FILE_TOO_LARGE, the folder gone", async () => {
        const exact = await send()("/up", {
          method: "POST",
          body: form(["file", new Blob(["x".repeat(16)]), "ok"]),
        });
        assert.equal(((await json(exact, 200)) as unknown[])[3], 16, "a file of maxFileSize bytes passes");
        const res = await send()("/up", {
          method: "POST",
          body: form(["file", new Blob(["x".repeat(17)]), "big"]),
        });
        const body = (await json(res, 413)) as { code: string; detail: unknown };
        assert.equal(body.code, "USRV_ERR_FILE_TOO_LARGE");
        assert.deepEqual(body.detail, { limit: 16 });
        await emptied(dir);
      });
      it("V15: more files than maxFiles: 413 USRV_ERR_TOO_MANY_FILES, the folder gone", async () => {
        const files = ["a", "b", "c"].map((n): [string, Blob, string] => [n, new Blob(["1"]), n]);
        const res = await send()("/up", { method: "POST", body: form(...files) });
        assert.equal(((await json(res, 413)) as { code: string }).code, "USRV_ERR_TOO_MANY_FILES");
        await emptied(dir);
      });
      it("V15: files over maxTotal together: 413 USRV_ERR_UPLOAD_TOO_LARGE, the folder gone", async () => {
        const res = await send()("/up", {
          method: "POST",
          body: form(["a", new Blob(["x".repeat(16)]), "a"], ["b", new Blob(["y".repeat(16)]), "b"]),
        });
        assert.equal(((await json(res, 413)) as { code: string }).code, "USRV_ERR_UPLOAD_TOO_LARGE");
        await emptied(dir);
      });
      it("V15: text parts over bodyLimit: 413 USRV_ERR_BODY_TOO_LARGE", async () => {
        const res = await send()("/up", { method: "POST", body: form(["note", "n".repeat(40)]) });
        assert.equal(((await json(res, 413)) as { code: string }).code, "USRV_ERR_BODY_TOO_LARGE");
        await emptied(dir);
      });
      it("V15: a part that cannot be read is a 400 USRV_ERR_BAD_MULTIPART naming it, never dropped; the Python peer's binds", async () => {
        const b = "bnd";
        const post = (...parts: string[]) =>
          send()("/up-any", {
            method: "POST",
            body: raw(b, 'Content-Disposition: form-data; name="ok"\r\n\r\nfine', ...parts),
            headers: { "content-type": `multipart/form-data; boundary=${b}` },
          });
        // the trailing "; " of the Python peer's FormData, which busboy alone would skip
        const python = await post('Content-Disposition: form-data; name="x"; \r\n\r\nPython peer');
        assert.deepEqual(await json(python, 200), [{ ok: "fine", x: "Python peer" }, null]);
        const got = (await json(
          await post('Content-Disposition: attachment; name="x"\r\n\r\nnot form-data'),
          400,
        )) as { code: string; message: string };
        assert.equal(got.code, "USRV_ERR_BAD_MULTIPART");
        assert.match(got.message, /part 2 is "attachment", not form-data/);
        const cut = raw(b, 'Content-Disposition: form-data; name="f"; filename="a"\r\n\r\nabc').slice(0, -10);
        const res = await send()("/up-any", {
          method: "POST",
          body: cut,
          headers: { "content-type": `multipart/form-data; boundary=${b}` },
        });
        assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_BAD_MULTIPART");
        await emptied(dir);
      });
      it("V16: a signed or encrypted request (here a Nonce) to such a route: 400 USRV_ERR_ENCRYPTED_STREAM", async () => {
        for (const path of ["/stream", "/up"]) {
          const res = await send()(path, {
            method: "POST",
            body: "x",
            headers: { nonce: new Date().toISOString() },
          });
          assert.equal(((await json(res, 400)) as { code: string }).code, "USRV_ERR_ENCRYPTED_STREAM", path);
        }
      });
    },
  );
}

describe("V13, V14 over a socket: cut at the limit, cleaned up on abort", () => {
  const { app } = quietApp();
  const dir = join(root, "socket");
  mkdirSync(dir);
  let received = 0;
  let started = false;
  app.bind(
    "/stream",
    { methods: ["POST"], body: "stream", bodyLimit: 64 * 1024, style: "object" },
    async (_, ctx) => [200, (await text(ctx.stream!)).length],
  );
  app.bind("/up", { methods: ["POST"], uploads: { dir, maxFileSize: 64 * 1024 * 1024 } }, () => {
    started = true;
    return [200];
  });
  let handling = false;
  // a handler that ignores ctx.signal and outlives the test: only the abort can remove its files
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  app.bind("/up-wait", { methods: ["POST"], uploads: { dir }, timeout: 600_000 }, async () => {
    handling = true;
    await released;
    return [200];
  });
  let server: ServerHandle;
  before(async () => {
    server = await app.run({ port: 0 });
    server.server.on("connection", (s) => s.on("data", (d: Buffer) => (received += d.length)));
  });
  after(() => {
    release();
    return server.close();
  });

  it("V13: a chunked body is cut as soon as it crosses bodyLimit (413, the rest never read)", async () => {
    received = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/stream`, { method: "POST" }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(16 * 1024, 97);
      let sent = 0;
      const pump = () => {
        while (sent < 8 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(status, 413);
    assert.ok(received < 2 * 1024 * 1024, `server read ${received} bytes of 8 MiB`);
    const res = await fetch(`${server.url}/stream`, { method: "POST", body: "abc" });
    assert.equal(await json(res, 200), 3, "the server still answers");
  });

  it("V14: a client that leaves mid-upload: the folder is removed, the handler never runs", async () => {
    const boundary = "cut";
    const req = request(`${server.url}/up`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    });
    req.on("error", () => {}); // destroyed on purpose
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\n`);
    req.write(Buffer.alloc(256 * 1024, 98));
    // wait until the server has made the folder and begun the file, then leave
    for (let i = 0; i < 1000 && !readdirSync(dir).some((d) => readdirSync(join(dir, d)).length > 0); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.notDeepEqual(readdirSync(dir), [], "the upload began");
    req.destroy();
    await emptied(dir);
    assert.equal(started, false);
  });

  it("V14: a client that leaves while the handler runs: the folder is removed then", async () => {
    const req = request(`${server.url}/up-wait`, { method: "POST", headers: {} });
    req.on("error", () => {}); // destroyed on purpose
    const body = new FormData();
    body.append("f", new Blob(["spooled"]), "f");
    const encoded = new Response(body);
    req.setHeader("content-type", encoded.headers.get("content-type")!);
    req.end(Buffer.from(await encoded.arrayBuffer()));
    for (let i = 0; i < 1000 && !handling; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(handling, "the handler runs");
    assert.notDeepEqual(readdirSync(dir), [], "its files are there while it runs");
    req.destroy();
    await emptied(dir);
  });
});

describe("V16: bind checks", () => {
  it('body: "stream" or uploads with encrypted or allow, on the route, a group or a mounting group: BindError', () => {
    const app = createApp();
    const key = "A".repeat(44);
    assert.throws(
      () => app.bind("/a", { methods: ["POST"], body: "stream", encrypted: true }, () => [200]),
      BindError,
    );
    assert.throws(
      () => app.bind("/b", { methods: ["POST"], uploads: {}, allow: [key] }, () => [200]),
      BindError,
    );
    assert.throws(
      () => app.group("/g", { encrypted: "v2" }, (g) => g.bind("/c", { body: "stream" }, () => [200])),
      BindError,
    );
    const other = createApp();
    other.bind("/d", { methods: ["POST"], uploads: {} }, () => [200]);
    assert.throws(() => app.group("/m", { encrypted: true }).mount("/x", other), /encrypted/);
  });
  it("both at once, an unknown uploads key, a bad limit: BindError naming the fix", () => {
    const app = createApp();
    assert.throws(() => app.bind("/a", { body: "stream", uploads: {} }, () => [200]), /not both/);
    assert.throws(
      () => app.bind("/b", { uploads: { maxFileSzie: 1 } as never }, () => [200]),
      /did you mean "maxFileSize"/,
    );
    assert.throws(() => app.bind("/c", { uploads: { maxFiles: 0 } }, () => [200]), BindError);
    assert.throws(() => app.bind("/d", { body: "streams" as never }, () => [200]), BindError);
  });
});

matrix(
  "V13, V14 with hooks",
  (app) => {
    const dir = join(root, "hooked");
    mkdirSync(dir, { recursive: true });
    app.onRequest((ctx) => {
      ctx.state.seen = true;
    });
    app.onResponse((answer) => {
      answer.headers["x-hooked"] = "1";
    });
    app.bind("/h/stream", { methods: ["POST"], body: "stream", style: "object" }, async (_, ctx) => [
      200,
      await text(ctx.stream!),
      ctx.state.seen,
    ]);
    app.bind("/h/up", { methods: ["POST"], uploads: { dir } }, ({ f }) => [200, (f as SpooledFile).size]);
  },
  (send) => {
    it("V13: a streamed body reaches a handler under hooks", async () => {
      const res = await send()("/h/stream", { method: "POST", body: "abc" });
      assert.equal(res.headers.get("x-hooked"), "1");
      assert.deepEqual(await json(res, 200), ["abc", true]);
    });
    it("V14: spooled uploads under hooks, the folder gone after", async () => {
      const res = await send()("/h/up", { method: "POST", body: form(["f", new Blob(["abcd"]), "f"]) });
      assert.equal(res.headers.get("x-hooked"), "1");
      assert.equal(await json(res, 200), 4);
      await emptied(join(root, "hooked"));
    });
  },
);
