/**
 * S6: HTTP/2. `run({ http2: true })` as h2c and over TLS with ALPN (h2 and
 * HTTP/1.1 on one port), and `app.listener` on node:http2's own server:
 * bodies without Content-Length, the body limit, connection-specific
 * headers, the limits of a connection. The core suites also run over h2c
 * (test/_setup.ts's `matrix`); `usrv serve --http2` is a row of
 * test/serve-options.test.ts.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type ClientHttp2Session, connect, createServer } from "node:http2";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ServerHandle, ServerOf } from "usrv";
import WebSocket from "ws";
import { quietApp } from "./_setup.js";
import { h2Client, h2Fetch } from "./fixtures/h2-fetch.js";
import { crashWatch } from "./fixtures/hardening-wire.js";
import { selfSignedCert } from "./fixtures/tls.js";

const DIR = mkdtempSync(join(tmpdir(), "usrv-h2-"));
const { cert: CERT, key: KEY } = selfSignedCert(DIR);
after(() => rmSync(DIR, { recursive: true, force: true }));

/** Node's process warnings while `fn` runs (a connection header on h2 is one). */
async function warningsDuring(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (w: Error) => seen.push(`${w.name}: ${w.message}`);
  process.on("warning", onWarning);
  try {
    await fn();
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  } finally {
    process.off("warning", onWarning);
  }
  return seen;
}

/** One raw h2 request: the answer's head, its text and the stream's close code. */
function rawRequest(
  session: ClientHttp2Session,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<{ head: Record<string, unknown>; text: string; rstCode: number | undefined }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    if (body !== undefined) stream.end(body);
    let head: Record<string, unknown> = {};
    let text = "";
    stream.on("response", (h) => (head = h));
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => (text += d));
    stream.on("error", reject);
    stream.on("close", () => resolve({ head, text, rstCode: stream.rstCode }));
  });
}

/** An app with the routes the rows need. */
function h2App() {
  const made = quietApp({ bodyLimit: 1000 });
  const { app } = made;
  app.bind("/echo", { methods: ["POST"] }, ({ data, n }: { data: string | null; n?: number }) => [
    200,
    { data, n: n ?? null },
  ]);
  app.bind("/hello", () => [200, "hello"]);
  app.bind("/te", { style: "object" }, (_, ctx) => {
    ctx.header("te", "gzip");
    return [200, "te"];
  });
  app.bind("/te-response", () => new Response("te", { headers: { te: "trailers, gzip", "x-kept": "1" } }));
  app.bind(
    "/framing",
    () =>
      new Response("framed", {
        headers: {
          connection: "keep-alive",
          "keep-alive": "timeout=5",
          "transfer-encoding": "chunked",
          upgrade: "websocket",
          "proxy-connection": "keep-alive",
          "x-kept": "1",
        },
      }),
  );
  return made;
}

const CONNECTION_HEADERS = ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"];

describe("S6: h2c (run({ http2: true }) without TLS)", () => {
  const { app } = h2App();
  let server: ServerHandle<ServerOf<{ http2: true }>>;
  let client: ReturnType<typeof h2Client>;
  before(async () => {
    server = await app.run({ port: 0, http2: true });
    client = h2Client(server.url);
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it("S6: a POST body sent without Content-Length is read and binds its fields", async () => {
    const { head, text } = await rawRequest(
      client.session,
      { ":method": "POST", ":path": "/echo", "content-type": "application/json" },
      JSON.stringify({ n: 7 }),
    );
    assert.equal(head[":status"], 200);
    assert.deepEqual(JSON.parse(text), { data: '{"n":7}', n: 7 });
  });

  it("S6: a body over the limit: 413, its stream reset with NO_ERROR, the connection goes on, no warning", async () => {
    const session = client.session;
    const warnings = await warningsDuring(async () => {
      const big = Buffer.alloc(200_000, 120); // past the limit and past the stream's flow-control window
      const refused = await rawRequest(session, { ":method": "POST", ":path": "/echo" }, big);
      assert.equal(refused.head[":status"], 413);
      assert.equal(JSON.parse(refused.text).code, "USRV_ERR_BODY_TOO_LARGE");
      assert.equal(refused.head.connection, undefined);
      assert.equal(refused.rstCode, 0); // NGHTTP2_NO_ERROR: "stop sending", not a failure
      const declared = await rawRequest(
        session,
        { ":method": "POST", ":path": "/echo", "content-length": "5000" },
        Buffer.alloc(5000, 120),
      );
      assert.equal(declared.head[":status"], 413);
    });
    assert.deepEqual(warnings, []);
    assert.equal(session.closed, false, "the same connection");
    const next = await rawRequest(session, { ":path": "/hello" });
    assert.equal(next.head[":status"], 200);
  });

  it("S6: answers carry no connection-specific headers, not even a handler's own Response's (RFC 9113 8.2.2)", async () => {
    const warnings = await warningsDuring(async () => {
      const res = await client.fetch("/framing");
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "framed");
      assert.equal(res.headers.get("x-kept"), "1");
      for (const name of CONNECTION_HEADERS) assert.equal(res.headers.get(name), null, name);
    });
    assert.deepEqual(warnings, []);
  });

  it("S6: a TE header (ctx.header's, a handler's Response's) is dropped on h2, where node:http2 throws on it and the process ended", async () => {
    const crashes = crashWatch();
    try {
      for (const path of ["/te", "/te-response"]) {
        const res = await client.fetch(path, { signal: AbortSignal.timeout(5_000) });
        assert.equal(res.status, 200, path);
        assert.equal(await res.text(), path === "/te" ? '"te"' : "te");
        assert.equal(res.headers.get("te"), null, path);
      }
      crashes.assertNone("a TE header over h2");
    } finally {
      crashes.stop();
    }
  });

  it("S6: a head over maxHeaderSize is a 431 on h2 too (node:http2 holds no client to it), the connection goes on", async () => {
    const small = await h2App().app.run({ port: 0, http2: true, maxHeaderSize: 4096 });
    const session = connect(small.url);
    try {
      const big = await rawRequest(session, { ":path": "/hello", "x-big": "y".repeat(8000) });
      assert.equal(big.head[":status"], 431);
      assert.equal(JSON.parse(big.text).code, "USRV_ERR_HEADERS_TOO_LARGE");
      assert.equal((await rawRequest(session, { ":path": "/hello" })).head[":status"], 200);
    } finally {
      session.close();
      await small.close();
    }
  });

  it("S6: a headers-only GET has no body to wait for", async () => {
    const res = await client.fetch("/hello");
    assert.equal(await res.json(), "hello");
  });
});

describe("S6: TLS with ALPN (run({ http2: true, tls }))", () => {
  const { app } = h2App();
  let server: ServerHandle<ServerOf<{ http2: true }>>;
  before(async () => {
    server = await app.run({
      port: 0,
      http2: true,
      tls: { cert: readFileSync(CERT), key: readFileSync(KEY) },
      maxHeaderSize: 4096,
    });
  });
  after(() => server.close());

  it("S6: an h2 client gets h2 and an HTTPS/1.1 client gets http/1.1, on the same port", async () => {
    const session = connect(server.url, { ca: readFileSync(CERT), servername: "localhost" });
    try {
      await new Promise<void>((resolve, reject) => {
        session.once("connect", () => resolve());
        session.once("error", reject);
      });
      assert.equal(session.alpnProtocol, "h2");
      const res = await h2Fetch(session, server.url, "/echo", { method: "POST", body: "over h2" });
      assert.deepEqual(await res.json(), { data: "over h2", n: null });
    } finally {
      session.close();
    }
    const h1 = await new Promise<{
      version: string;
      alpn: string | false | null;
      status: number;
      text: string;
    }>((resolve, reject) => {
      const req = httpsRequest(
        `${server.url}/echo`,
        {
          method: "POST",
          ca: readFileSync(CERT),
          servername: "localhost",
          agent: false,
          ...({ ALPNProtocols: ["http/1.1"] } as object),
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("end", () =>
            resolve({
              version: res.httpVersion,
              alpn: (res.socket as import("node:tls").TLSSocket).alpnProtocol,
              status: res.statusCode!,
              text,
            }),
          );
        },
      );
      req.on("error", reject);
      req.end("over http/1.1");
    });
    assert.equal(h1.version, "1.1");
    assert.equal(h1.alpn, "http/1.1");
    assert.equal(h1.status, 200);
    assert.deepEqual(JSON.parse(h1.text), { data: "over http/1.1", n: null });
  });

  it("S6: HTTP/1.1 on the TLS port keeps run()'s limits: a head over maxHeaderSize is a 431", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        `${server.url}/hello`,
        {
          ca: readFileSync(CERT),
          servername: "localhost",
          agent: false,
          headers: { "x-big": "y".repeat(8000) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 431);
  });
});

describe("S6: the limits of an HTTP/2 connection", () => {
  it("S6: a body not complete after requestTimeout: 408, its stream reset, the connection's other streams answered", async () => {
    const { app } = h2App();
    const server = await app.run({ port: 0, http2: true, requestTimeout: 300 });
    const client = h2Client(server.url);
    try {
      const stalled = await new Promise<{ status: unknown; text: string }>((resolve, reject) => {
        const stream = client.session.request({ ":method": "POST", ":path": "/echo" }, { endStream: false });
        stream.write("a start, and then nothing");
        let status: unknown;
        let text = "";
        stream.on("response", (h) => (status = h[":status"]));
        stream.setEncoding("utf8");
        stream.on("data", (d: string) => (text += d));
        stream.on("error", reject);
        stream.on("close", () => resolve({ status, text }));
      });
      assert.equal(stalled.status, 408);
      assert.equal(JSON.parse(stalled.text).code, "USRV_ERR_REQUEST_TIMEOUT");
      const res = await client.fetch("/echo", { method: "POST", body: "in time" });
      assert.deepEqual(await res.json(), { data: "in time", n: null });
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("S6: a connection idle for keepAliveTimeout gets a GOAWAY", async () => {
    const { app } = h2App();
    const server = await app.run({ port: 0, http2: true, keepAliveTimeout: 200 });
    try {
      const session = connect(server.url);
      session.on("error", () => {});
      const goaway = new Promise<number>((resolve) => session.once("goaway", (code) => resolve(code)));
      const { head } = await rawRequest(session, { ":path": "/hello" });
      assert.equal(head[":status"], 200);
      assert.equal(await goaway, 0);
      await new Promise<void>((resolve) => (session.closed ? resolve() : session.once("close", resolve)));
    } finally {
      await server.close();
    }
  });

  it("S6: close() sends GOAWAY: a request in flight is answered, then the server closes", async () => {
    const { app } = quietApp();
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const inHandler = new Promise<void>((r) => (arrived = r));
    app.bind("/slow", async () => {
      arrived();
      await new Promise<void>((r) => (release = r));
      return [200, "done"];
    });
    const server = await app.run({ port: 0, http2: true });
    const session = connect(server.url);
    session.on("error", () => {});
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    const answer = rawRequest(session, { ":path": "/slow" });
    await inHandler;
    const closed = server.close();
    await goaway;
    release();
    const { head, text } = await answer;
    assert.equal(head[":status"], 200);
    assert.equal(JSON.parse(text), "done");
    await closed;
  });
});

describe("S6: app.listener on node:http2's own server", () => {
  it("S6: a body without Content-Length is read (it was dropped: data null)", async () => {
    const { app } = h2App();
    const server = createServer(app.listener);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const { head, text } = await rawRequest(session, { ":method": "POST", ":path": "/echo" }, "no length");
      assert.equal(head[":status"], 200);
      assert.deepEqual(JSON.parse(text), { data: "no length", n: null });
    } finally {
      session.close();
      await new Promise((r) => server.close(r));
    }
  });
});

describe("S6/W7: WebSocket routes on an http2: true server", () => {
  it("S6/W7: over TLS a WebSocket client (HTTP/1.1 by ALPN) upgrades and echoes; close() sends it 1001", async () => {
    const { app } = quietApp();
    app.ws("/echo", { message: (ws, data) => void ws.send(`echo ${String(data)}`) });
    const server = await app.run({
      port: 0,
      http2: true,
      tls: { cert: readFileSync(CERT), key: readFileSync(KEY) },
    });
    let closed: Promise<[number, Buffer]> | undefined;
    try {
      const ws = new WebSocket(`${server.url.replace(/^https/, "wss")}/echo`, { ca: readFileSync(CERT) });
      closed = once(ws, "close") as Promise<[number, Buffer]>;
      await once(ws, "open");
      ws.send("over wss");
      const [data] = (await once(ws, "message")) as [Buffer];
      assert.equal(data.toString("utf8"), "echo over wss");
    } finally {
      await server.close();
    }
    const [code] = await closed!;
    assert.equal(code, 1001, "the server's shutdown closes it as going away");
  });
});
