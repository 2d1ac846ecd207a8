/**
 * S1, S2, S5: run(), the two faces mounted elsewhere, logging, and the
 * requests Node's parser refuses (431, 400) answered as JSON.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { ConsoleLogger, createApp, parseLevel } from "usrv";
import { json } from "./_setup.js";

/** Sends raw bytes and returns everything the server answers until it closes or goes quiet. */
export function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    let out = "";
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on("data", (d) => (out += d));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.on("error", reject);
  });
}

describe("S1: run()", () => {
  it("resolves once listening, logs the URL, closes", async () => {
    const lines: string[] = [];
    const app = createApp({ logger: new ConsoleLogger(20, (l) => lines.push(l)) });
    app.bind("/test", ({ a, b }) => [200, a, b]);
    const server = await app.run({ host: "127.0.0.1", port: 0, logLevel: 20 });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(lines.some((l) => l === `INFO:usrv:listening on ${server.url}\n`));
    assert.deepEqual(await json(await fetch(`${server.url}/test?a=1`), 200), ["1", null]);
    await server.close();
    await assert.rejects(fetch(`${server.url}/test`));
  });

  it("backlog: the listening socket's queue of new connections, as the kernel reports it; not a whole number >= 1 is refused", async () => {
    for (const bad of [0, -1, 1.5, "64"]) {
      await assert.rejects(
        createApp({ logLevel: "silent" }).run({ port: 0, backlog: bad as number }),
        /backlog/,
      );
    }
    const server = await createApp({ logLevel: "silent" }).run({ port: 0, backlog: 1234 });
    try {
      // ss (iproute2, installed by .ci/run) shows a listening socket's backlog as its Send-Q
      const out = execFileSync("ss", ["-ltnH", `sport = :${server.port}`], { encoding: "utf8" });
      assert.equal(out.trim().split(/\s+/)[2], "1234", out);
    } finally {
      await server.close();
    }
  });

  it("a port in use rejects with EADDRINUSE", async () => {
    const app = createApp({ logLevel: "silent" });
    const first = await app.run({ port: 0 });
    await assert.rejects(app.run({ port: first.port }), /EADDRINUSE/);
    await first.close();
  });

  it("oversized headers: 431 with a JSON body, and the server keeps serving", async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/", () => [200, "ok"]);
    const server = await app.run({ port: 0, maxHeaderSize: 4096 });
    const answer = await raw(server.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(8000)}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.equal(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).code, "USRV_ERR_HEADERS_TOO_LARGE");
    assert.equal(await json(await fetch(`${server.url}/`), 200), "ok");
    await server.close();
  });

  it("a malformed request line: 400 with a JSON body", async () => {
    const app = createApp({ logLevel: "silent" });
    const server = await app.run({ port: 0 });
    const answer = await raw(server.port, "GARBAGE\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.equal(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).code, "USRV_ERR_BAD_REQUEST");
    await server.close();
  });

  it("invalid percent-encoding in the path or query: 400 USRV_ERR_BAD_ENCODING", async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/<a>", ({ a }) => [200, a]);
    const server = await app.run({ port: 0 });
    for (const path of ["/%E0%A4%A", "/ok?x=%zz", "/ok?%ff=1"]) {
      const answer = await raw(server.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(answer, /^HTTP\/1\.1 400 /, path);
      assert.match(answer, /USRV_ERR_BAD_ENCODING/);
    }
    await server.close();
  });
});

describe("S2: the two faces", () => {
  it("app.listener mounts in a plain node:http server", async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/<int:b>/<a>", ({ a, b }) => [200, a, b]);
    const server = createServer(app.listener).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const { port } = server.address() as { port: number };
    assert.deepEqual(await json(await fetch(`http://127.0.0.1:${port}/5/test`), 200), ["test", 5]);
    server.close();
  });

  it("app.listener's first requests wait for the Node face to load, and are answered", () => {
    // A fresh process: the Node face loads when an app's listener is first read, here inside the
    // first request, so the three requests (one with a JSON body) come while it is still loading.
    const child = `
      import { createServer } from "node:http";
      const { createApp } = await import(${JSON.stringify(new URL("../../dist/index.js", import.meta.url).href)});
      const app = createApp({ logLevel: "silent" });
      app.bind("/n/<int:n>", { methods: ["GET", "POST"] }, ({ n, add }) => [200, n + (add ?? 0)]);
      const server = createServer((req, res) => app.listener(req, res)).listen(0, "127.0.0.1", async () => {
        const url = "http://127.0.0.1:" + server.address().port;
        const post = { method: "POST", headers: { "content-type": "application/json" }, body: '{"add":10}' };
        const got = await Promise.all([fetch(url + "/n/1"), fetch(url + "/n/2", post), fetch(url + "/n/3")]);
        console.log(JSON.stringify(await Promise.all(got.map((r) => r.json()))));
        server.close();
      });`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", child], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(out), [1, 12, 3]);
  });

  it("a body read before app.listener (a body parser in front) is a 500 whose log says so, not a wait", async () => {
    const lines: string[] = [];
    const app = createApp({ logger: new ConsoleLogger(40, (l) => lines.push(l)) });
    app.bind("/echo", { methods: ["POST"] }, ({ a }) => [200, a]);
    // what express.json() does before the next handler: read the request to its end
    const server = createServer((req, res) => {
      req.resume();
      req.once("end", () => app.listener(req, res));
    }).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"a":1}',
    });
    const body = (await json(res, 500)) as { code: string; message: string };
    assert.equal(body.code, "USRV_ERR_INTERNAL");
    assert.doesNotMatch(body.message, /body parser/); // the cause stays in the log
    assert.ok(
      lines.some((l) => l.includes("mount usrv before any body parser")),
      lines.join(""),
    );
    server.close();
  });

  it("app.fetch is a standard (Request) => Promise<Response>", async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/<int:b>/<a>", ({ a, b }) => [200, a, b]);
    const res = await app.fetch(new Request("https://example.test/5/test?a=2"));
    assert.ok(res instanceof Response);
    assert.deepEqual(await json(res, 200), ["2", 5]);
  });
});

describe("S5: logging", () => {
  it("levels: numbers 1-100 and names", () => {
    assert.equal(parseLevel(20), 20);
    assert.equal(parseLevel("warning"), 30);
    assert.equal(parseLevel("ERROR"), 40);
    assert.equal(parseLevel("15"), 15);
    assert.throws(() => parseLevel("loud"), /invalid log level/);
    assert.throws(() => parseLevel(0), /invalid log level/);
  });

  it("an access line per request at info (method, path, status, duration); none at warning", async () => {
    const lines: string[] = [];
    const logger = new ConsoleLogger(20, (l) => lines.push(l));
    const app = createApp({ logger });
    app.bind("/x", () => [201]);
    await app.request("/x?secret=1");
    assert.match(lines.at(-1)!, /^INFO:usrv:GET \/x 201 \d+\.\d{2}ms \[[0-9a-f-]{36}\]\n$/);
    logger.level = 30;
    await app.request("/x");
    assert.equal(lines.length, 1);
  });

  it("errors with their stack at error level", async () => {
    const lines: string[] = [];
    const app = createApp({ logger: new ConsoleLogger(40, (l) => lines.push(l)) });
    app.bind("/boom", () => {
      throw new RangeError("kaput");
    });
    await app.request("/boom");
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^ERROR:usrv:GET \/boom: 500 \[[0-9a-f-]{36}\]\nRangeError: kaput\n\s+at /);
  });

  it("R4: a thrown value that is not an Error is logged with its value", async () => {
    const lines: string[] = [];
    const app = createApp({ logger: new ConsoleLogger(40, (l) => lines.push(l)) });
    app.bind("/str", () => {
      throw "the cache is cold";
    });
    app.bind("/obj", () => {
      throw { reason: "quota", left: 0 };
    });
    app.bind("/undef", () => {
      throw undefined;
    });
    for (const path of ["/str", "/obj", "/undef"]) assert.equal((await app.request(path)).status, 500);
    assert.match(
      lines[0]!,
      /^ERROR:usrv:GET \/str: 500 \[[0-9a-f-]{36}\]\nthrown value, not an Error \(string\): "the cache is cold"\n$/,
    );
    assert.match(lines[1]!, /\nthrown value, not an Error \(object\): \{"reason":"quota","left":0\}\n$/);
    assert.match(lines[2]!, /\nError: the handler for GET \/undef threw undefined\n/);
  });

  for (const face of ["fetch", "node"] as const) {
    it(`S5: control characters in messages are escaped: no forged log line [${face}]`, async () => {
      const lines: string[] = [];
      const app = createApp({ logger: new ConsoleLogger(20, (l) => lines.push(l)) });
      app.bind("/item/<id>", ({ id }) => {
        throw new Error(`bad id: ${id}`);
      });
      const id = encodeURIComponent("1\nINFO:usrv:GET /admin 200 0.01ms\r\u001b[2K\u2028x");
      let status: number;
      if (face === "fetch") status = (await app.request(`/item/${id}`)).status;
      else {
        const server = await app.run({ port: 0 });
        status = (await fetch(`${server.url}/item/${id}`)).status;
        await server.close();
      }
      assert.equal(status, 500);
      const text = lines.join("");
      const starts = text.split("\n").filter((l) => /^[A-Z]+:usrv:/.test(l));
      // the error line and the access line, nothing forged among them
      assert.equal(starts.filter((l) => l.startsWith("ERROR:")).length, 1);
      assert.deepEqual(
        starts.filter((l) => l.startsWith("INFO:usrv:GET /admin")),
        [],
      );
      assert.match(text, /Error: bad id: 1\\nINFO:usrv:GET \/admin 200 0\.01ms\\r\\x1b\[2K\\u2028x\n\s+at /);
      for (const c of ["\u001b", "\r", "\u2028"]) assert.ok(!text.includes(c), `no raw ${JSON.stringify(c)}`);
    });
  }

  it("a pino-compatible logger receives objects and messages", async () => {
    const calls: [string, object, string | undefined][] = [];
    const mk = (level: string) => (obj: object, msg?: string) => calls.push([level, obj, msg]);
    const logger = {
      debug: mk("debug"),
      info: mk("info"),
      warn: mk("warn"),
      error: mk("error"),
      isLevelEnabled: () => true,
    };
    const app = createApp({ logger });
    app.bind("/x", () => [200]);
    await app.request("/x");
    const [level, obj] = calls[0]!;
    assert.equal(level, "info");
    assert.deepEqual(Object.keys(obj), ["method", "url", "status", "ms", "requestId"]);
  });
});
