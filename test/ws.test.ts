/**
 * Issue 17 item 4: WebSocket routes (`app.ws`), rows W1-W9 of
 * docs/behaviour.md. Everything over real sockets: the `ws` package's
 * client, a raw TCP client that never reads, headless Chromium's own
 * WebSocket, and a flood of 1,000 connections against a server in a child
 * process. No timing assertion: waits poll for a condition, generously.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, connect as tcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { type App, BindError, createApp, type ServerHandle } from "usrv";
import { rateLimit } from "usrv/rate-limit";
import { nodeUpgrade, type WsSocket } from "usrv/ws";
import WebSocket from "ws";
import { quietApp } from "./_setup.js";
import { crashWatch } from "./fixtures/hardening-wire.js";
import { startServe } from "./fixtures/serve-helpers.js";

const CHROMIUM = "/usr/bin/chromium";

// B4 for WebSocket routes: the route string (a group's prefix included) types `ws.params`; tsc fails otherwise
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
export type WsCases = [
  Expect<Equal<WsSocket<"/g/<int:org>/room/<uuid:id>">["params"], { org: number; id: string }>>,
  Expect<Equal<WsSocket<"/live">["params"], {}>>,
];
createApp({ logLevel: "error" }).group("/g/<int:org>", (g) =>
  g.ws("/room/<uuid:id>", {
    open: (ws) => void ws.send(`${ws.params.org.toFixed(0)} ${ws.params.id.toUpperCase()}`),
  }),
);
const ROOT = new URL("../../", import.meta.url);

/** Polls `check` until it holds (a busy machine: generous). */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A `ws` client whose messages queue up for `next()`. */
class Client {
  readonly ws: WebSocket;
  readonly messages: { data: string | Buffer; isBinary: boolean }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;

  constructor(url: string, options?: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.ws.on("message", (data: Buffer, isBinary) =>
      this.messages.push({ data: isBinary ? data : data.toString("utf8"), isBinary }),
    );
    this.ws.on("ping", () => this.pings++);
    this.closed = new Promise((resolve) =>
      this.ws.once("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") })),
    );
    this.ws.on("error", () => {}); // a refusal or a cut shows in `closed` or `refusal`
  }

  static async open(url: string, options?: WebSocket.ClientOptions): Promise<Client> {
    const c = new Client(url, options);
    await Promise.race([
      once(c.ws, "open"),
      once(c.ws, "unexpected-response").then(() => Promise.reject(new Error(`${url} was refused`))),
    ]);
    return c;
  }

  async next(): Promise<{ data: string | Buffer; isBinary: boolean }> {
    await until(() => this.messages.length > 0, "a message");
    return this.messages.shift()!;
  }
}

/** What the server answered instead of upgrading: status, body and headers. */
async function refusal(url: string, headers?: Record<string, string>) {
  const ws = new WebSocket(url, { headers });
  ws.on("error", () => {});
  const [, res] = (await once(ws, "unexpected-response")) as [unknown, import("node:http").IncomingMessage];
  let body = "";
  for await (const chunk of res) body += chunk;
  ws.terminate();
  return { status: res.statusCode, body, headers: res.headers };
}

const wsUrl = (server: ServerHandle, path: string) => `${server.url.replace(/^http/, "ws")}${path}`;

describe("W1-W7: WebSocket routes over run()", () => {
  const { app, logs } = quietApp();
  const opened: string[] = [];
  const closes: { code: number; route: string }[] = [];
  const errors: unknown[] = [];
  let server: ServerHandle;

  app.onRequest((ctx) => {
    ctx.state.seen = "app hook";
    if (ctx.route === "/private/room") ctx.header("x-hook", "yes").setCookie("seen", "1");
  });
  app.group("/rooms/<str:house>", { hooks: { onRequest: (ctx) => void (ctx.state.group = true) } }, (g) => {
    g.ws("/chat/<int:room>", {
      open(ws, ctx) {
        opened.push(ctx.route!);
        void ws.send(JSON.stringify({ params: ws.params, state: { ...ctx.state }, id: ctx.requestId }));
      },
      message(ws, data, isBinary) {
        void ws.send(isBinary ? (data as Uint8Array) : `echo ${data as string}`);
      },
    });
  });
  app.group(
    "/private",
    {
      hooks: {
        onRequest(ctx) {
          if (ctx.headers.authorization !== "Bearer good") return [401, "sign in first"];
          ctx.state.user = "ada";
        },
      },
    },
    (g) => {
      g.ws("/room", { open: (ws) => void ws.send(`welcome ${ws.ctx.state.user}`) });
    },
  );
  app.group("/broken", { hooks: { onRequest: () => Promise.reject(new Error("hook secret detail")) } }, (g) =>
    g.ws("/x", { open: () => opened.push("/broken/x") }),
  );
  app.group("/slow", { hooks: { onRequest: () => new Promise(() => {}) } }, (g) =>
    g.ws("/x", { open: () => opened.push("/slow/x") }, { timeout: 200 }),
  );
  app.ws(
    "/small",
    {
      message: (ws, data) => void ws.send(`got ${(data as Uint8Array).byteLength}`),
      close: (_, code) => void closes.push({ code, route: "/small" }),
      error: (_, e) => void errors.push(e),
    },
    { maxPayload: 1024 },
  );
  app.ws("/fail", {
    message(_, data) {
      if (data === "sync") throw new Error("handler secret detail");
      return Promise.reject(new Error("async secret detail"));
    },
    close: (_, code) => void closes.push({ code, route: "/fail" }),
    error: (_, e) => void errors.push(e),
  });
  let running = 0;
  let most = 0;
  const order: string[] = [];
  app.ws("/serial", {
    async message(ws, data) {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 1));
      order.push(data as string);
      running--;
      if (data === "9") void ws.send(JSON.stringify({ most, order }));
    },
  });
  app.ws(
    "/beat",
    {
      close: (_, code) => void closes.push({ code, route: "/beat" }),
      // a handler that outlasts several intervals: the connection is not read meanwhile, so no verdict
      message: async (ws) => {
        await new Promise((r) => setTimeout(r, 3_500));
        await ws.send("done");
      },
    },
    { pingInterval: 1_000 },
  );
  app.ws("/two", {}, { maxConnections: 2 });
  app.bind("/plain", () => [200, "plain"]);

  before(async () => {
    server = await app.run({ port: 0 });
  });
  after(() => server.close());

  it("W1: routes by the same markups and groups; params converted; the hooks' state reaches open", async () => {
    const c = await Client.open(wsUrl(server, "/rooms/blue/chat/42"), {
      headers: { "x-request-id": "rid-1" },
    });
    const hello = JSON.parse((await c.next()).data as string);
    assert.deepEqual(hello, {
      params: { house: "blue", room: 42 },
      state: { seen: "app hook", group: true },
      id: "rid-1",
    });
    assert.deepEqual(opened, ["/rooms/<str:house>/chat/<int:room>"]);
    c.ws.send("hi");
    assert.deepEqual(await c.next(), { data: "echo hi", isBinary: false });
    c.ws.send(Buffer.from([1, 2, 3]));
    assert.deepEqual(await c.next(), { data: Buffer.from([1, 2, 3]), isBinary: true });
    c.ws.close(1000, "bye");
    assert.deepEqual(await c.closed, { code: 1000, reason: "bye" }); // ws echoes the peer's close
  });

  it("W1: an upgrade to a path with no WebSocket route is a 404 answer, never upgraded", async () => {
    for (const path of ["/nowhere", "/plain", "/rooms/blue/chat/not-a-number"]) {
      const r = await refusal(wsUrl(server, path), { "x-request-id": "ws-404" });
      assert.equal(r.status, 404, path);
      assert.equal(JSON.parse(r.body).code, "USRV_ERR_NOT_FOUND");
      assert.equal(JSON.parse(r.body).requestId, "ws-404", "usrv's error body names the request id");
      assert.equal(r.headers.connection, "close");
    }
    // and a plain GET to a WebSocket route's path is no match either
    assert.equal((await fetch(`${server.url}/small`)).status, 404);
    assert.equal(await (await fetch(`${server.url}/plain`)).json(), "plain");
  });

  it("W1: a malformed handshake is a 400 answer naming what is wrong, never upgraded", async () => {
    for (const [head, why] of [
      ["Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13", /Sec-WebSocket-Key/],
      [
        "Upgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        /Upgrade header/,
      ],
    ] as const) {
      const sock = tcp(server.port, "127.0.0.1");
      await once(sock, "connect");
      sock.write(`GET /small HTTP/1.1\r\nHost: x\r\n${head}\r\n\r\n`);
      let text = "";
      for await (const chunk of sock) text += chunk;
      const [status, body] = [text.slice(0, text.indexOf("\r\n")), text.slice(text.indexOf("\r\n\r\n") + 4)];
      assert.equal(status, "HTTP/1.1 400 Bad Request");
      assert.equal(JSON.parse(body).code, "USRV_ERR_BAD_REQUEST");
      assert.match(JSON.parse(body).message, why);
    }
  });

  it("W2: onRequest refuses before the upgrade: its status as a plain answer, open never runs", async () => {
    const r = await refusal(wsUrl(server, "/private/room"));
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).detail, "sign in first");
    const c = new Client(wsUrl(server, "/private/room"), { headers: { authorization: "Bearer good" } });
    const [res] = (await once(c.ws, "upgrade")) as [import("node:http").IncomingMessage];
    assert.equal(res.headers["x-hook"], "yes", "what the hooks add through ctx goes on the 101");
    assert.deepEqual(res.headers["set-cookie"], ["seen=1; Path=/; HttpOnly; SameSite=Lax"]);
    assert.equal((await c.next()).data, "welcome ada");
    c.ws.close();
    await c.closed;
  });

  it("W2: a hook that throws is a 500 without its message; one past the route's timeout a 503", async () => {
    const r = await refusal(wsUrl(server, "/broken/x"));
    assert.equal(r.status, 500);
    assert.equal(JSON.parse(r.body).code, "USRV_ERR_INTERNAL");
    assert.match(JSON.parse(r.body).requestId, /^[0-9a-f-]{36}$/, "a generated request id");
    assert.doesNotMatch(r.body, /secret detail|at /);
    assert.ok(
      logs.some((l) => l.includes("hook secret detail")),
      "logged with its stack",
    );
    const slow = await refusal(wsUrl(server, "/slow/x"));
    assert.equal(slow.status, 503);
    assert.equal(JSON.parse(slow.body).code, "USRV_ERR_TIMEOUT");
    assert.ok(!opened.includes("/broken/x") && !opened.includes("/slow/x"));
  });

  it("W3: a message over maxPayload closes the connection with 1009; text that is not UTF-8 with 1007", async () => {
    const c = await Client.open(wsUrl(server, "/small"));
    c.ws.send(Buffer.alloc(1024));
    assert.equal((await c.next()).data, "got 1024");
    c.ws.send(Buffer.alloc(1025));
    assert.equal((await c.closed).code, 1009);
    await until(() => closes.some((x) => x.route === "/small"), "the close handler");
    assert.deepEqual(
      closes.find((x) => x.route === "/small"),
      { code: 1009, route: "/small" },
    );
    assert.ok(errors.some((e) => (e as { code?: string }).code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"));
    // the peer's fault: one info line, no stack (any client can cause it)
    const line = logs.find((l) => l.includes("/small: Max payload size exceeded"));
    assert.ok(line?.startsWith("info:") && !line.includes("\n"), line);
    // text that is not UTF-8: 1007, told to close as such
    const bad = await Client.open(wsUrl(server, "/small"));
    bad.ws.send(Buffer.from([0xff, 0xfe]), { binary: false });
    assert.equal((await bad.closed).code, 1007);
    await until(
      () => closes.some((x) => x.route === "/small" && x.code === 1007),
      "the close handler (1007)",
    );
  });

  it("W4: a handler that throws or rejects closes with 1011, its text never sent", async () => {
    for (const kind of ["sync", "async"]) {
      const c = await Client.open(wsUrl(server, "/fail"));
      c.ws.send(kind);
      const { code, reason } = await c.closed;
      assert.equal(code, 1011, kind);
      assert.equal(reason, "internal error");
      assert.deepEqual(c.messages, []);
      assert.ok(logs.some((l) => l.includes(`${kind === "sync" ? "handler" : "async"} secret detail`)));
    }
    // the server read the peer's answer to its 1011 (not ws's 30 s close timeout)
    await until(
      () => closes.filter((x) => x.route === "/fail" && x.code === 1011).length === 2,
      "1011 twice",
      10_000,
    );
    assert.ok(errors.some((e) => (e as Error).message === "handler secret detail"));
    assert.ok(errors.some((e) => (e as Error).message === "async secret detail"));
  });

  it("W5: keep-alive pings; a peer that never answers is cut, one that does stays", async () => {
    const dead = await Client.open(wsUrl(server, "/beat"), { autoPong: false });
    const live = await Client.open(wsUrl(server, "/beat"));
    assert.equal((await dead.closed).code, 1006); // cut, no closing handshake
    await until(() => live.pings >= 2, "two pings to the live peer");
    assert.equal(live.ws.readyState, WebSocket.OPEN);
    await until(() => closes.some((x) => x.route === "/beat" && x.code === 1006), "the close handler");
    assert.ok(logs.some((l) => l.includes("no pong since the last ping")));
    live.ws.send("slow");
    assert.equal((await live.next()).data, "done");
    assert.equal(live.ws.readyState, WebSocket.OPEN);
    live.ws.close();
    await live.closed;
  });

  it("W6: an async message handler runs one message at a time, in order", async () => {
    const c = await Client.open(wsUrl(server, "/serial"));
    for (let i = 0; i < 10; i++) c.ws.send(String(i));
    const got = JSON.parse((await c.next()).data as string);
    assert.deepEqual(got, { most: 1, order: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] });
    c.ws.close();
    await c.closed;
  });

  it("W9: past maxConnections an upgrade is a 503 USRV_ERR_WS_FULL; a closed connection frees its place", async () => {
    const a = await Client.open(wsUrl(server, "/two"));
    const b = await Client.open(wsUrl(server, "/two"));
    const full = await refusal(wsUrl(server, "/two"));
    assert.equal(full.status, 503);
    assert.equal(JSON.parse(full.body).code, "USRV_ERR_WS_FULL");
    a.ws.close();
    await a.closed;
    let c: Client | undefined;
    await until(async () => {
      c = await Client.open(wsUrl(server, "/two")).catch(() => undefined);
      return c !== undefined;
    }, "a place to free");
    for (const x of [b, c!]) x.ws.close();
    await Promise.all([b.closed, c!.closed]);
  });

  it("W7: close() on the server sends 1001 to open connections and finishes", async () => {
    const { app: other } = quietApp();
    other.ws("/x", {});
    const s = await other.run({ port: 0 });
    const c = await Client.open(wsUrl(s, "/x"));
    await s.close();
    assert.deepEqual(await c.closed, { code: 1001, reason: "server shutting down" });
  });
});

describe("W6: backpressure: send's promise and maxBuffered", () => {
  it("W6: send resolves true once written, false once closed; a peer that never reads is cut past maxBuffered", async () => {
    const { app, logs } = quietApp();
    const results: { sent: number; last: boolean; buffered: number }[] = [];
    let closed: number | undefined;
    let paced: boolean[] = [];
    app.ws("/paced", {
      async open(ws) {
        paced = [await ws.send("one"), await ws.send(new Uint8Array([1]))];
        ws.close();
        paced.push(await ws.send("after close"));
      },
    });
    app.ws(
      "/flood",
      {
        open(ws) {
          const chunk = new Uint8Array(16 * 1024);
          let sent = 0;
          let last = true;
          // no await: the app ignores backpressure; maxBuffered bounds it
          while (sent < 64 * 1024 * 1024 && last) {
            const p = ws.send(chunk);
            sent += chunk.byteLength;
            last = ws.readyState === 1;
            void p;
          }
          results.push({ sent, last, buffered: ws.bufferedAmount });
        },
        close: (_, code) => {
          closed = code;
        },
      },
      { maxBuffered: 256 * 1024 },
    );
    const server = await app.run({ port: 0 });
    try {
      const c = await Client.open(wsUrl(server, "/paced"));
      await c.closed;
      await until(() => paced.length === 3, "the paced sends");
      assert.deepEqual(paced, [true, true, false]);
      assert.deepEqual(
        c.messages.map((m) => m.data),
        ["one", Buffer.from([1])],
      );
      // a raw client that completes the handshake and then never reads a byte
      const sock = tcp(server.port, "127.0.0.1");
      await once(sock, "connect");
      sock.write(
        "GET /flood HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      sock.pause();
      await until(() => closed !== undefined, "the stalled peer to be cut");
      assert.equal(closed, 1006);
      const [r] = results;
      assert.ok(r !== undefined && r.sent < 64 * 1024 * 1024, `cut after ${r?.sent} bytes, not 64 MiB`);
      assert.ok(logs.some((l) => l.includes("reads too slowly")));
      sock.destroy();
    } finally {
      await server.close();
    }
  });
});

describe("W1: bind-time checks", () => {
  it("W1: handlers and options are checked when bound; encrypted groups refuse WebSocket routes", () => {
    const app = createApp({ logLevel: "error" });
    assert.throws(() => app.ws("/a", { mesage: () => {} } as never), /"mesage" is not a handler function/);
    assert.throws(() => app.ws("/a", {}, { maxPayload: 0 }), /maxPayload/);
    assert.throws(() => app.ws("/a", {}, { pingIntrval: 1 } as never), /did you mean "pingInterval"/);
    app.ws("/a", {});
    assert.throws(() => app.ws("/a", {}), /already|defined/i);
    assert.throws(
      () => app.group("/v2", { encrypted: "v2" }, (g) => g.ws("/live", {})),
      (e: unknown) => e instanceof BindError && /cannot carry/.test((e as Error).message),
    );
    const other = createApp({ logLevel: "error" });
    other.ws("/live", {});
    assert.throws(
      () => app.group("/sealed", { encrypted: true }, (g) => g.mount("/o", other)),
      /cannot carry/,
    );
    app.mount("/o", other); // unsealed: mounted with its WebSocket route
    assert.deepEqual(
      app.wsRouter.entries().map(([, r]) => r.pattern),
      ["/a", "/o/live"],
    );
  });
});

describe("W1-W3: Chromium's own WebSocket", () => {
  let server: ServerHandle;
  let app: App;
  before(async () => {
    app = quietApp().app;
    app.bind(
      "/",
      () => new Response("<!doctype html><title>ws</title>", { headers: { "content-type": "text/html" } }),
    );
    app.ws(
      "/echo/<int:n>",
      {
        open: (ws) => void ws.send(`n=${ws.params.n}`),
        message: (ws, data, isBinary) =>
          void ws.send(
            isBinary ? new Uint8Array([...(data as Uint8Array)].reverse()) : (data as string).toUpperCase(),
          ),
      },
      { maxPayload: 4096 },
    );
    app.group("/auth", { hooks: { onRequest: () => [403, "no"] } }, (g) => g.ws("/x", {}));
    server = await app.run({ port: 0 });
  });
  after(() => server.close());

  it("W1-W3: Chromium connects, echoes text and bytes, sees 1009 and a refused upgrade", async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/`);
      const result = await page.evaluate(
        async (base) => {
          const open = (path: string) => {
            const ws = new WebSocket(`${base}${path}`);
            ws.binaryType = "arraybuffer";
            const got: unknown[] = [];
            const waiters: (() => void)[] = [];
            ws.onmessage = (e) => {
              got.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data as ArrayBuffer)]);
              waiters.shift()?.();
            };
            const closed = new Promise<[number, boolean]>((r) => {
              ws.onclose = (e) => r([e.code, e.wasClean]);
            });
            const next = () =>
              got.length > 0
                ? Promise.resolve(got.shift())
                : new Promise((r) => waiters.push(() => r(got.shift())));
            return { ws, next, closed };
          };
          const a = open("/echo/7");
          const hello = await a.next();
          a.ws.send("shout");
          const text = await a.next();
          a.ws.send(new Uint8Array([1, 2, 3]));
          const bytes = await a.next();
          a.ws.send("x".repeat(5000));
          const big = await a.closed;
          const refused = await open("/auth/x").closed;
          return { hello, text, bytes, big, refused };
        },
        server.url.replace(/^http/, "ws"),
      );
      assert.deepEqual(result, {
        hello: "n=7",
        text: "SHOUT",
        bytes: [3, 2, 1],
        big: [1009, true],
        refused: [1006, false], // the browser hides the refusal's status: an abnormal close
      });
    } finally {
      await browser.close();
    }
  });
});

describe("W9: a flood of 1,000 connections leaves memory bounded", () => {
  let child: ChildProcess;
  let base: string;

  before(async () => {
    // the server in its own process, so that its RSS is its own; on a server
    // of its own (nodeListener + nodeUpgrade from usrv/ws), as users mount it
    const code = `
      import { createServer } from "node:http";
      import { createApp } from ${JSON.stringify(new URL("dist/index.js", ROOT).href)};
      import { nodeUpgrade } from ${JSON.stringify(new URL("dist/ws/upgrade.js", ROOT).href)};
      const app = createApp({ logLevel: "error" });
      const upgrade = nodeUpgrade(app);
      app.ws("/f/<int:i>", { open: (ws) => void ws.send(String(ws.params.i)), message: (ws, d) => void ws.send(d) });
      app.bind("/stats", () => { globalThis.gc(); return [200, { clients: upgrade.size, rss: process.memoryUsage().rss }]; });
      const server = createServer(app.listener);
      server.on("upgrade", upgrade);
      server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
    `;
    child = spawn(process.execPath, ["--expose-gc", "--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    base = `127.0.0.1:${Number(line.toString().trim())}`;
  });
  after(() => child.kill());

  const stats = async () =>
    (await (await fetch(`http://${base}/stats`)).json()) as { clients: number; rss: number };

  /** `n` connections, opened in batches of 100, each answered once. */
  async function openMany(n: number, from: number): Promise<Client[]> {
    const all: Client[] = [];
    for (let i = 0; i < n; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, n - i) }, (_, j) => Client.open(`ws://${base}/f/${from + i + j}`)),
      );
      all.push(...batch);
    }
    await until(() => all.every((c) => c.messages.length > 0), "every welcome");
    return all;
  }

  it("W9: 1,000 connections: RSS growth per connection bounded; all closed, the client set empty", async (t) => {
    const warm = await openMany(50, 0); // modules loaded, pools warm
    for (const c of warm) c.ws.close();
    await until(async () => (await stats()).clients === 0, "the warm-up connections to close");
    const before = await stats();
    const many = await openMany(1000, 1000);
    const during = await stats();
    assert.equal(during.clients, 1000);
    const perConnection = (during.rss - before.rss) / 1000;
    t.diagnostic(
      `RSS ${(before.rss / 2 ** 20).toFixed(1)} MiB -> ${(during.rss / 2 ** 20).toFixed(1)} MiB with 1,000 open: ${(perConnection / 1024).toFixed(1)} KiB per connection`,
    );
    // generous: a connection's socket, parser and buffers are a few tens of KiB
    assert.ok(perConnection < 256 * 1024, `${perConnection} bytes per connection`);
    for (const c of many) c.ws.close(1000);
    await Promise.all(many.map((c) => c.closed));
    await until(async () => (await stats()).clients === 0, "the server's client set to empty");
    const afterAll = await stats();
    t.diagnostic(`RSS after closing all: ${(afterAll.rss / 2 ** 20).toFixed(1)} MiB`);
  });
});

describe("W1: nodeUpgrade on a server of one's own", () => {
  it("W1: nodeUpgrade(app) serves the app's WebSocket routes beside app.listener", async () => {
    const { app } = quietApp();
    app.ws("/x/<a>", { open: (ws: WsSocket<"/x/<a>">) => void ws.send(ws.params.a) });
    const server = createServer(app.listener);
    const upgrade = nodeUpgrade(app);
    server.on("upgrade", upgrade);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const c = await Client.open(`ws://127.0.0.1:${port}/x/caf%C3%A9`);
    assert.equal((await c.next()).data, "café");
    assert.equal(upgrade.size, 1);
    await upgrade.close();
    assert.equal((await c.closed).code, 1001);
    assert.equal(upgrade.size, 0);
    await new Promise((r) => server.close(r));
  });
});

describe("W7: usrv serve serves WebSocket routes", () => {
  for (const threads of ["1", "2"]) {
    it(`W7: usrv serve -t ${threads}: a binding module's WebSocket route answers; SIGTERM closes it with 1001`, async () => {
      const s = await startServe(["-p", "0", "-l", "40", "-t", threads, "bind-ws.mjs"], {});
      await s.waitFor(/^ {2}WS {6}\/echo\/<int:n>$/m, "the WebSocket route in the banner's list");
      const c = await Client.open(`${s.url.replace(/^http/, "ws")}/echo/3`);
      assert.equal(JSON.parse((await c.next()).data as string).n, 3);
      c.ws.send("ping?");
      assert.equal((await c.next()).data, "ping?");
      s.child.kill("SIGTERM");
      assert.equal((await c.closed).code, 1001);
      assert.equal(await s.exit, 0);
    });
  }
});

describe("W8: an h2c server reaches no WebSocket route", () => {
  it("W8: run({ http2: true }) without tls warns, naming the WebSocket routes no client can reach", async () => {
    const { app, logs } = quietApp();
    app.ws("/live/<int:room>", {});
    const server = await app.run({ port: 0, http2: true });
    try {
      assert.ok(
        logs.some((l) =>
          /WebSocket routes \(\/live\/<int:room>\) cannot be reached on an h2c server/.test(l),
        ),
        logs.join("\n"),
      );
    } finally {
      await server.close();
    }
  });
});

describe("W1: ws is an optional peer", () => {
  it("W1: without the ws package, run() of an app with WebSocket routes fails with one line naming it", async () => {
    // usrv installed alone (its dist and package.json), as an app without ws has it
    const dir = mkdtempSync(join(tmpdir(), "usrv-no-ws-"));
    try {
      const pkg = join(dir, "node_modules", "usrv");
      cpSync(new URL("dist", ROOT), join(pkg, "dist"), { recursive: true });
      cpSync(new URL("package.json", ROOT), join(pkg, "package.json"));
      writeFileSync(
        join(dir, "main.mjs"),
        `import { createApp } from "usrv";
        const app = createApp({ logLevel: "error" });
        app.bind("/", () => [200, "plain routes need nothing"]);
        const plain = await app.run({ port: 0 });
        console.log(await (await fetch(plain.url)).json());
        await plain.close();
        app.ws("/live", {});
        await app.run({ port: 0 }).then(() => console.log("served"), (e) => console.log(e.message));`,
      );
      const child = spawn(process.execPath, ["main.mjs"], { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      await once(child, "exit");
      assert.equal(
        out,
        "plain routes need nothing\n[usrv] app.ws (WebSocket routes) needs the package ws: npm install ws\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("W2: middleware before the upgrade", () => {
  it("W2: usrv/rate-limit by address (an onRequest hook) limits upgrades: 429 past it, never upgraded", async () => {
    const { app } = quietApp();
    app.group("/limited", { hooks: rateLimit({ limit: 2, window: 60_000 }) }, (g) => g.ws("/x", {}));
    const server = await app.run({ port: 0 });
    try {
      const open = [
        await Client.open(wsUrl(server, "/limited/x")),
        await Client.open(wsUrl(server, "/limited/x")),
      ];
      const r = await refusal(wsUrl(server, "/limited/x"));
      assert.equal(r.status, 429);
      assert.equal(JSON.parse(r.body).code, "USRV_ERR_RATE_LIMITED");
      assert.ok(Number(r.headers["retry-after"]) > 0);
      for (const c of open) c.ws.close();
      await Promise.all(open.map((c) => c.closed));
    } finally {
      await server.close();
    }
  });
});

describe("W10: onResponse sees what an upgrade answers", () => {
  it("W10: onResponse sees the 101 and adds headers to it, or replaces it by a refusal; it sees refusals too", async () => {
    const { app } = quietApp();
    const seen: string[] = [];
    app.group(
      "/seen",
      {
        hooks: {
          onRequest: (ctx) => (ctx.headers.authorization === "no" ? [401, "sign in first"] : undefined),
          onResponse(answer, ctx) {
            seen.push(`${ctx.route} ${answer.status}`);
            answer.headers["x-after"] = String(answer.status);
            if (ctx.headers["x-close"] === "yes") return [403, "closed for the night"];
          },
        },
      },
      (g) => g.ws("/x", { open: (ws) => void ws.send("in") }),
    );
    app.group(
      "/odd",
      { hooks: { onResponse: (answer) => void ((answer as { status: number }).status = 102) } },
      (g) => g.ws("/x", {}),
    );
    app.group("/late", { hooks: { onResponse: () => new Promise(() => {}) } }, (g) =>
      g.ws("/x", {}, { timeout: 200 }),
    );
    const server = await app.run({ port: 0 });
    try {
      const c = new Client(wsUrl(server, "/seen/x"));
      const [res] = (await once(c.ws, "upgrade")) as [import("node:http").IncomingMessage];
      assert.equal(res.headers["x-after"], "101", "a header onResponse adds goes on the 101");
      assert.equal((await c.next()).data, "in");
      c.ws.close();
      await c.closed;

      const closed = await refusal(wsUrl(server, "/seen/x"), { "x-close": "yes" });
      assert.equal(closed.status, 403, "a result of onResponse replaces the 101: never upgraded");
      assert.equal(JSON.parse(closed.body).detail, "closed for the night");

      const refused = await refusal(wsUrl(server, "/seen/x"), { authorization: "no" });
      assert.equal(refused.status, 401);
      assert.equal(refused.headers["x-after"], "401", "onResponse sees an onRequest refusal");
      assert.deepEqual(seen, ["/seen/x 101", "/seen/x 101", "/seen/x 401"]);

      const odd = await refusal(wsUrl(server, "/odd/x"));
      assert.equal(odd.status, 500);
      assert.equal(JSON.parse(odd.body).code, "USRV_ERR_HOOK_RESULT");
      assert.match(
        JSON.parse(odd.body).message,
        /set the status to 102; use 101 \(the upgrade\) or an integer/,
      );

      const late = await refusal(wsUrl(server, "/late/x"));
      assert.equal(late.status, 503);
      assert.equal(JSON.parse(late.body).code, "USRV_ERR_TIMEOUT");
    } finally {
      await server.close();
    }
  });
});

it("W4: a handler that throws a Proxy whose reads throw, to a logger that reads err.stack: 1011, logged as such, the process lives", async () => {
  const crashes = crashWatch();
  const { app, logs } = quietApp();
  app.ws("/hostile", {
    message: () => {
      throw new Proxy(new Error("hidden"), {
        get() {
          throw new Error("the proxy's get trap threw");
        },
      });
    },
  });
  const server = await app.run({ port: 0 });
  try {
    const c = await Client.open(wsUrl(server, "/hostile"));
    c.ws.send("x");
    assert.equal((await c.closed).code, 1011);
    await until(() => logs.some((l) => l.includes("a handler failed")), "the log line");
    assert.match(
      logs.find((l) => l.includes("a handler failed"))!,
      /WS \/hostile: a handler failed \[[^\]]+\]\nError: a thrown value whose name, message or stack cannot be read/,
    );
    crashes.assertNone("a WebSocket handler throwing a Proxy");
  } finally {
    crashes.stop();
    await server.close();
  }
});
