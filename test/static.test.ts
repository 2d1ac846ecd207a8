/**
 * Static files (issue 16, item 4) with `usrv/static`, over a real socket
 * (raw requests: a fetch client would normalise the hostile paths away) and
 * in process: types, HEAD, ranges, validators, precompressed siblings,
 * streaming, and every way out of the folder an attacker tries.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { createApp, type ServerHandle } from "usrv";
import { serveStatic } from "usrv/static";

const dir = mkdtempSync(join(tmpdir(), "usrv-static-"));
const root = join(dir, "public");
const BIG = Buffer.alloc(3 * 1024 * 1024, "usrv static ");
const CSS = "body { color: red; }\n".repeat(100);

function tree() {
  mkdirSync(join(root, "sub"), { recursive: true });
  mkdirSync(join(root, "empty"));
  writeFileSync(join(root, "index.html"), "<h1>home</h1>");
  writeFileSync(join(root, "sub", "index.html"), "<h1>sub</h1>");
  writeFileSync(join(root, "hello.txt"), "hello, world\n");
  writeFileSync(join(root, "data.json"), '{"a":1}');
  writeFileSync(join(root, "big.bin"), BIG);
  writeFileSync(join(root, "style.css"), CSS);
  writeFileSync(join(root, "style.css.br"), brotliCompressSync(CSS));
  writeFileSync(join(root, "style.css.gz"), gzipSync(CSS));
  writeFileSync(join(root, ".env"), "SECRET=1");
  writeFileSync(join(dir, "secret.txt"), "outside the folder");
  symlinkSync(join(dir, "secret.txt"), join(root, "link-out.txt"));
  symlinkSync(join(root, "hello.txt"), join(root, "link-in.txt"));
  symlinkSync(dir, join(root, "dir-out"));
}

type Raw = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };

describe("issue 16 item 4: static files", () => {
  let server: ServerHandle;
  const app = createApp({ logLevel: 50 });
  before(async () => {
    tree();
    app.mount("/assets", serveStatic(root, { maxAge: 60, immutable: true }));
    app.mount("/plain", serveStatic(root, { index: false, dotfiles: "ignore", precompressed: false }));
    app.bind("/", () => [200, "app root"]);
    server = await app.run({ port: 0 });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A request with the path exactly as given (no URL normalisation). */
  const raw = (path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Raw> =>
    new Promise((resolve, reject) => {
      const { port } = new URL(server.url);
      const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }),
        );
      });
      req.on("error", reject);
      req.end();
    });

  it("a file: its type, length, validators, Cache-Control, Accept-Ranges", async () => {
    const r = await raw("/assets/hello.txt");
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), "hello, world\n");
    assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(r.headers["content-length"], "13");
    assert.match(String(r.headers.etag), /^W\/"d-[0-9a-f]+"$/);
    assert.ok(r.headers["last-modified"]);
    assert.equal(r.headers["cache-control"], "public, max-age=60, immutable");
    assert.equal(r.headers["accept-ranges"], "bytes");
    assert.equal((await raw("/assets/data.json")).headers["content-type"], "application/json; charset=utf-8");
    assert.equal((await raw("/assets/big.bin")).headers["content-type"], "application/octet-stream");
  });

  it("a folder serves its index; without index, a 404", async () => {
    assert.equal((await raw("/assets/")).body.toString(), "<h1>home</h1>");
    assert.equal((await raw("/assets")).body.toString(), "<h1>home</h1>");
    assert.equal((await raw("/assets/sub/")).body.toString(), "<h1>sub</h1>");
    assert.equal((await raw("/assets/empty/")).status, 404);
    assert.equal((await raw("/plain/sub/")).status, 404);
    assert.equal((await raw("/assets/nope.txt")).status, 404);
  });

  it("HEAD: the headers of GET, no body", async () => {
    const r = await raw("/assets/big.bin", {}, "HEAD");
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-length"], String(BIG.length));
    assert.equal(r.body.length, 0);
  });

  it("a 3 MiB file is streamed whole", async () => {
    const r = await raw("/assets/big.bin");
    assert.equal(r.body.length, BIG.length);
    assert.ok(r.body.equals(BIG));
  });

  it("ranges: 206 for one range (start-end, start-, -suffix), 416 when unsatisfiable, 200 for several", async () => {
    const cases: [string, number, string | undefined, string][] = [
      ["bytes=0-4", 206, "bytes 0-4/13", "hello"],
      ["bytes=7-", 206, "bytes 7-12/13", "world\n"],
      ["bytes=-6", 206, "bytes 7-12/13", "world\n"],
      ["bytes=7-1000", 206, "bytes 7-12/13", "world\n"],
      ["bytes=0-1, 3-4", 200, undefined, "hello, world\n"],
      ["lines=1-2", 200, undefined, "hello, world\n"],
    ];
    for (const [range, status, contentRange, body] of cases) {
      const r = await raw("/assets/hello.txt", { range });
      assert.equal(r.status, status, range);
      assert.equal(r.headers["content-range"], contentRange, range);
      assert.equal(r.body.toString(), body, range);
    }
    for (const range of ["bytes=13-", "bytes=100-200", "bytes=-0"]) {
      const r = await raw("/assets/hello.txt", { range });
      assert.equal(r.status, 416, range);
      assert.equal(r.headers["content-range"], "bytes */13");
    }
    const big = await raw("/assets/big.bin", { range: `bytes=${BIG.length - 10}-` });
    assert.ok(big.body.equals(BIG.subarray(BIG.length - 10)));
  });

  it("If-Range: the exact Last-Modified keeps the range; another date or an ETag gets the whole file", async () => {
    const { headers } = await raw("/assets/hello.txt");
    const lm = String(headers["last-modified"]);
    assert.equal((await raw("/assets/hello.txt", { range: "bytes=0-4", "if-range": lm })).status, 206);
    assert.equal(
      (await raw("/assets/hello.txt", { range: "bytes=0-4", "if-range": "Mon, 01 Jan 2001 00:00:00 GMT" }))
        .status,
      200,
    );
    assert.equal(
      (await raw("/assets/hello.txt", { range: "bytes=0-4", "if-range": String(headers.etag) })).status,
      200,
    );
  });

  it("304 for If-None-Match (weakly) and If-Modified-Since", async () => {
    const { headers } = await raw("/assets/hello.txt");
    const inm = await raw("/assets/hello.txt", { "if-none-match": String(headers.etag) });
    assert.equal(inm.status, 304);
    assert.equal(inm.body.length, 0);
    assert.equal(
      (await raw("/assets/hello.txt", { "if-modified-since": String(headers["last-modified"]) })).status,
      304,
    );
    assert.equal((await raw("/assets/hello.txt", { "if-none-match": '"other"' })).status, 200);
  });

  it("precompressed siblings by Accept-Encoding: br first, gzip, else the file itself", async () => {
    const br = await raw("/assets/style.css", { "accept-encoding": "gzip, br" });
    assert.equal(br.headers["content-encoding"], "br");
    assert.equal(br.headers["content-type"], "text/css; charset=utf-8");
    assert.equal(br.headers.vary, "Accept-Encoding");
    assert.ok(br.body.equals(brotliCompressSync(CSS)));
    assert.equal(
      (await raw("/assets/style.css", { "accept-encoding": "gzip" })).headers["content-encoding"],
      "gzip",
    );
    assert.equal(
      (await raw("/assets/style.css", { "accept-encoding": "br;q=0, gzip" })).headers["content-encoding"],
      "gzip",
    );
    const none = await raw("/assets/style.css");
    assert.equal(none.headers["content-encoding"], undefined);
    assert.equal(none.body.toString(), CSS);
    assert.equal(
      (await raw("/plain/style.css", { "accept-encoding": "br" })).headers["content-encoding"],
      undefined,
    );
  });

  it("never outside the folder: dots, encoded dots and slashes, backslashes, NUL, absolute paths, symlinks out", async () => {
    const attempts = [
      "/assets/../secret.txt",
      "/assets/%2e%2e/secret.txt",
      "/assets/%2E%2E/secret.txt",
      "/assets/..%2fsecret.txt",
      "/assets/sub/..%2f..%2fsecret.txt",
      "/assets/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/assets/..%5csecret.txt",
      "/assets/..\\secret.txt",
      "/assets/%2fetc%2fpasswd",
      "/assets//etc/passwd",
      "/assets/hello.txt%00.png",
      "/assets/link-out.txt",
      "/assets/dir-out/secret.txt",
      "/assets/./hello.txt/..",
    ];
    for (const path of attempts) {
      const r = await raw(path);
      assert.ok(r.status >= 400 || r.body.toString() === "app root", `${path}: ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /outside the folder|root:/, path);
    }
    // a symlink that stays inside is served
    assert.equal((await raw("/assets/link-in.txt")).body.toString(), "hello, world\n");
  });

  it('dotfiles: "deny" is a 403, "ignore" a 404', async () => {
    assert.equal((await raw("/assets/.env")).status, 403);
    assert.equal((await raw("/plain/.env")).status, 404);
    assert.equal((await raw("/assets/%2eenv")).status, 403);
  });

  it("in process too (the fetch face)", async () => {
    const res = await app.request("/assets/hello.txt", { headers: { range: "bytes=0-4" } });
    assert.equal(res.status, 206);
    assert.equal(await res.text(), "hello");
  });
});

it("serveStatic refuses a root that is not there, and bad options", () => {
  assert.throws(() => serveStatic(join(tmpdir(), "usrv-no-such-folder")), /ENOENT/);
  assert.throws(() => serveStatic(tmpdir(), { maxAge: -1 }), /maxAge/);
  assert.throws(() => serveStatic(tmpdir(), { dotfiles: "maybe" as "deny" }), /dotfiles/);
});
