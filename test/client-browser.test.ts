/**
 * Browser: the client, encryption included, runs in a browser with no Node
 * built-ins. (1) The module graph of `usrv/client` (dist/client/index.js,
 * its `#platform` resolved under the `browser` condition of package.json's
 * `imports`) imports no node: module, no Node-only package, and uses no
 * Buffer or process. (2) A usrv app serves a
 * page, the built modules and their @noble/* dependencies (an import map, no
 * bundler); headless Chromium (playwright-core) makes an encrypted call from
 * the page, and the decrypted result is read from the DOM; answers over
 * maxBodySize (C8) are refused there too.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { parse } from "acorn";
import { chromium } from "playwright-core";
import { createApp } from "usrv";
import { canonicalKey, generateKeypair } from "usrv/secp256k1";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENTRY = join(ROOT, "dist/client/index.js");
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
/** package.json's subpath imports under the browser condition: `#platform` -> "./dist/client/platform-browser.js". */
const SUBPATHS: Record<string, string> = Object.fromEntries(
  Object.entries<Record<string, string>>(PKG.imports).map(([k, v]) => [k, v.browser ?? v.default!]),
);
const CHROMIUM = "/usr/bin/chromium";
const NOBLE = ["@noble/curves/", "@noble/hashes/", "@noble/ciphers/"];
/** v2's HPKE core: bare specifiers, mapped to their ES module entries. */
const HPKE: Record<string, string> = {
  "@hpke/core": "node_modules/@hpke/core/esm/mod.js",
  "@hpke/common": "node_modules/@hpke/common/esm/mod.js",
};
/**
 * @hpke/common falls back to `import("crypto")` only where `globalThis.crypto`
 * is missing (never in a browser): the one Node import allowed, in its files only.
 */
const FALLBACK = (file: string, s: string) => s === "crypto" && file.includes("/node_modules/@hpke/common/");

/** Every module specifier of a module: static imports, re-exports, dynamic imports with a literal. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    const n = node as { type?: string; source?: { type: string; value: unknown } };
    if (
      (n.type === "ImportDeclaration" ||
        n.type === "ExportAllDeclaration" ||
        n.type === "ExportNamedDeclaration" ||
        n.type === "ImportExpression") &&
      n.source?.type === "Literal" &&
      typeof n.source.value === "string"
    ) {
      out.push(n.source.value);
    }
    for (const v of Object.values(node)) if (v && typeof v === "object") visit(v);
  };
  visit(parse(source, { sourceType: "module", ecmaVersion: "latest" }));
  return out;
}

/**
 * The files the browser loads from the entry, resolved as the import map below does: from dist/ (the
 * bundled entries and their chunks, what ships) or, with `lib`, from tsc's build/lib/ (the same graph
 * module by module, to name the modules it holds).
 */
function graph(entry: string, lib = false): Map<string, string[]> {
  const platform = (s: string) => (lib ? SUBPATHS[s]!.replace("./dist/", "./build/lib/") : SUBPATHS[s]!);
  const seen = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const specs = specifiers(readFileSync(file, "utf8"));
    seen.set(file, specs);
    for (const s of specs) {
      if (s.startsWith(".")) todo.push(join(dirname(file), s));
      else if (SUBPATHS[s] !== undefined) todo.push(join(ROOT, platform(s)));
      else if (NOBLE.some((p) => s.startsWith(p))) todo.push(join(ROOT, "node_modules", s));
      else if (HPKE[s] !== undefined) todo.push(join(ROOT, HPKE[s]));
    }
  }
  return seen;
}

describe("browser: usrv/client under the browser condition is free of Node", () => {
  it("its module graph imports no node: module, no Node-only package; our files use no Buffer or process", () => {
    const files = graph(ENTRY);
    const builtins = new Set(builtinModules);
    const bare = new Set<string>();
    for (const [file, specs] of files) {
      for (const s of specs) {
        if (FALLBACK(file, s)) continue;
        assert.ok(!s.startsWith("node:") && !builtins.has(s), `${relative(ROOT, file)} imports ${s}`);
        if (!s.startsWith(".") && SUBPATHS[s] === undefined) bare.add(s);
      }
      if (file.startsWith(join(ROOT, "dist"))) {
        const code = readFileSync(file, "utf8")
          .replace(/\/\*[\s\S]*?\*\//g, "")
          .replace(/^\s*\/\/.*$/gm, "");
        assert.doesNotMatch(code, /\bBuffer\b|\bprocess\./, relative(ROOT, file));
      }
    }
    for (const s of bare)
      assert.ok(NOBLE.some((p) => s.startsWith(p)) || HPKE[s] !== undefined, `unexpected package ${s}`);
    const ours = [...graph(join(ROOT, "build/lib/client/index.js"), true).keys()]
      .filter((f) => f.startsWith(join(ROOT, "build/lib")))
      .map((f) => relative(join(ROOT, "build/lib"), f));
    assert.ok(ours.includes("client/platform-browser.js") && ours.includes("secp256k1/portable.js"));
    for (const nodeOnly of [
      "client/platform-node",
      "client/dump-node",
      "client/upload-node",
      "secp256k1/index",
      "secp256k1/node",
      "secp256k1/curve-tiny",
      "secp256k1/primitives-node",
      "secp256k1/secret-store",
    ]) {
      assert.ok(!ours.includes(`${nodeOnly}.js`), `${nodeOnly}.js is not loaded`);
    }
  });

  it("package.json: one entry for usrv/client; its #platform is the browser's under the browser condition", () => {
    assert.deepEqual(PKG.exports["./client"], {
      types: "./dist/client/index.d.ts",
      default: "./dist/client/index.js",
    });
    assert.deepEqual(PKG.imports["#platform"], {
      types: "./dist/client/platform-node.d.ts",
      browser: "./dist/client/platform-browser.js",
      default: "./dist/client/platform-node.js",
    });
  });
});

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>usrv client</title>
<script type="importmap">${JSON.stringify({
  imports: {
    "usrv/client": "/dist/client/index.js",
    ...Object.fromEntries(Object.entries(SUBPATHS).map(([k, v]) => [k, v.slice(1)])),
    ...Object.fromEntries(NOBLE.map((p) => [p, `/node_modules/${p}`])),
    ...Object.fromEntries(Object.entries(HPKE).map(([p, f]) => [p, `/${f}`])),
  },
})}</script>
<pre id="out"></pre>
<script type="module">
  import { connect, createClient, GET } from "usrv/client";
  const out = document.getElementById("out");
  const result = { process: typeof process, Buffer: typeof Buffer };
  try {
    result.connected = await connect(location.origin);
    const puk = await GET.puk();
    const client = createClient({ peer: location.origin });
    const answer = await client.POST.api.endpoint({ value1: 1, value2: "\\u00e9" }, { puk, full: true });
    Object.assign(result, { puk, me: (await client.keypair()).publicKey, encrypted: answer.encrypted, data: answer.data });
    result.form = (await client.GET.form()).toObject();
    // v2 (docs/wire-v2.md) on the portable backend: WebCrypto's AES-GCM, @hpke/core
    const v2 = createClient({ peer: location.origin, encryption: "v2" });
    const sealed = await v2.POST.api.endpoint({ value1: 2 }, { puk, full: true });
    result.v2 = { encrypted: sealed.encrypted, data: sealed.data, nonce: sealed.headers.get("response-nonce") !== null, me: (await v2.keypair()).publicKey };
    result.v2get = await v2.GET.api.endpoint({ a: "x", b: "y" }, { puk });
    result.forged = await client.GET.api.endpoint({ a: 1, b: 2 }, { puk: "${generateKeypair("not the server").publicKey}" }).then(() => "accepted", (e) => e.code);
    const refused = (call) => call.then(() => "accepted", (e) => e.code);
    const bounded = createClient({ peer: location.origin, maxBodySize: 1024 * 1024 });
    result.big = [(await bounded.GET.big()).length, await refused(bounded.GET.big({}, { maxBodySize: 2047 }))];
    result.endless = await refused(bounded.GET.endless());
    result.bomb = await refused(bounded.GET.bomb());
    // C9: a browser hides where a manual redirect leads: refused, unless the caller lets the browser follow
    result.moved = [await refused(client.GET.moved()), (await client.GET.moved({}, { redirect: "follow" })) === puk];
  } catch (e) {
    result.error = String(e.code) + " " + e.message;
  }
  out.textContent = JSON.stringify(result);
  out.dataset.done = "1";
</script>`;

function files(dir: string, exts = /\.js$/): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => exts.test(f) && !f.startsWith("src/") && !f.includes("/src/"))
    .map((f) => join(dir, f));
}

describe("browser: an encrypted call from a page in headless Chromium", () => {
  const missing = !existsSync(CHROMIUM);
  // in CI a missing browser is a failure, not a skip
  const skip = missing && !process.env.CI ? `${CHROMIUM} is not installed` : false;

  it("GET /puk, then POST encrypted: the decrypted answer is in the DOM", {
    skip,
    timeout: 90_000,
  }, async () => {
    assert.ok(!missing, `${CHROMIUM} is missing (CI installs it)`);
    const app = createApp({ logLevel: "silent" });
    await app.identify("server-secret");
    const seen: Record<string, string>[] = [];
    app.bind("/", () => new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }));
    app.bind("/puk", () => [200, app.publicKey]);
    app.bind("/moved", () => new Response(null, { status: 307, headers: { location: "/puk" } }));
    app.bind("/api/endpoint", { methods: ["GET", "POST"] }, ({ a, b, method, data, headers }, ctx) => {
      seen.push(headers as Record<string, string>);
      return method === "POST" ? [202, data, ctx.senderPublicKey] : [200, a, b];
    });
    app.bind("/form", async () => {
      const body = '--b0\r\nContent-Disposition: form-data; name="note"\r\n\r\nh\u00e9\r\n--b0--\r\n';
      return new Response(body, { headers: { "content-type": "multipart/form-data; boundary=b0" } });
    });
    // C8: answers over the bound: a Content-Length, an endless stream, a gzip bomb (16 MiB of zeros)
    app.bind("/big", () => [200, "b".repeat(2046)]);
    let cancelled = false;
    app.bind("/endless", () => {
      const chunk = new Uint8Array(64 * 1024);
      const body = new ReadableStream<Uint8Array>({
        pull: (c) => c.enqueue(chunk),
        cancel: () => void (cancelled = true),
      });
      return new Response(body, { headers: { "content-type": "application/octet-stream" } });
    });
    const bomb = gzipSync(new Uint8Array(16 * 1024 * 1024));
    app.bind(
      "/bomb",
      () =>
        new Response(bomb, {
          headers: { "content-type": "application/octet-stream", "content-encoding": "gzip" },
        }),
    );
    // Our side of the module graph of the browser entry, plus the @noble packages it maps to.
    const served = [
      ...[...graph(ENTRY).keys()].filter((f) => f.startsWith(join(ROOT, "dist"))),
      ...NOBLE.flatMap((p) => files(join(ROOT, "node_modules", p))),
      // @hpke's ES modules live under esm/src: every .js file of its esm folder
      ...Object.values(HPKE).flatMap((f) =>
        readdirSync(join(ROOT, dirname(f)), { recursive: true, encoding: "utf8" })
          .filter((g) => g.endsWith(".js"))
          .map((g) => join(ROOT, dirname(f), g)),
      ),
    ];
    for (const file of served) {
      const text = readFileSync(file, "utf8");
      app.bind(
        `/${relative(ROOT, file)}`,
        () => new Response(text, { headers: { "content-type": "text/javascript; charset=utf-8" } }),
      );
    }
    const server = await app.run({ port: 0 });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const problems: string[] = [];
    try {
      const page = await browser.newPage();
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("response", (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
      await page.goto(`${server.url}/`);
      await page.waitForSelector("#out[data-done]", { timeout: 60_000 });
      const result = JSON.parse((await page.textContent("#out")) ?? "{}");
      assert.equal(result.error, undefined, `${result.error}\n${problems.join("\n")}`);
      assert.equal(result.process, "undefined");
      assert.equal(result.Buffer, "undefined");
      assert.equal(result.connected, 200);
      assert.equal(result.puk, app.publicKey);
      assert.equal(result.encrypted, true);
      assert.deepEqual(result.data, ['{"value1": 1, "value2": "\\u00e9"}', canonicalKey(result.me)]);
      assert.deepEqual(result.form, { note: "h\u00e9" });
      assert.deepEqual(result.v2, {
        encrypted: true,
        data: ['{"value1": 2}', canonicalKey(result.v2.me)],
        nonce: true,
        me: result.v2.me,
      });
      assert.deepEqual(result.v2get, ["x", "y"]);
      const v2post = seen.find((h) => h["usrv-encryption"] === "2");
      assert.ok(v2post, "a v2 request reached the server");
      assert.equal(v2post["sender-signature"], undefined, "v2 signs nothing: HPKE's Auth mode binds the key");
      assert.equal(result.forged, "USRV_ERR_CLIENT_BAD_SIGNATURE");
      assert.deepEqual(result.big, [2046, "USRV_ERR_CLIENT_TOO_LARGE"]);
      assert.equal(result.endless, "USRV_ERR_CLIENT_TOO_LARGE");
      assert.equal(result.bomb, "USRV_ERR_CLIENT_TOO_LARGE");
      assert.deepEqual(result.moved, ["USRV_ERR_CLIENT_REDIRECT", true]);
      // the endless stream's connection was closed: its source is cancelled (generous wait)
      for (let i = 0; i < 200 && !cancelled; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(cancelled, "the server's stream was cancelled");
      // the POST really travelled encrypted and signed, with a nonce
      const post = seen.find((h) => h["ephemeral-public-key"]);
      assert.ok(post, "an encrypted request reached the server");
      assert.equal(post["sender-public-key"], result.me);
      assert.match(post.nonce!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
      assert.equal(post["content-type"], "application/json");
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
