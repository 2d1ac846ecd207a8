/**
 * C8: the client bounds the answers it reads (maxBodySize), over a real
 * socket (node:http servers here): just under and just over the bound, for
 * every kind of answer; a Content-Length over it, refused before reading; an
 * endless stream, cut at the bound with its connection closed; a gzip bomb,
 * never inflated past the bound. Its own file, so that the memory measured
 * is this process's alone.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createGzip } from "node:zlib";
import { ClientError, createClient, DEFAULT_MAX_BODY_SIZE, type FormData } from "usrv/client";
import { quietApp } from "./_setup.js";
import { recorder } from "./fixtures/client-helpers.js";

const MIB = 1024 * 1024;

/** A node:http server on a free port; resolves to it and its URL. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{
  server: Server;
  peer: string;
}> {
  const server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, peer: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function stop(server: Server): void {
  server.closeAllConnections();
  server.close();
}

/** Asserts a USRV_ERR_CLIENT_TOO_LARGE naming the bound and how to raise it. */
function tooLarge(bound: number, what: RegExp = /: the answer( goes|'s Content-Length, \d+ bytes, is) over/) {
  return (err: unknown) => {
    assert.ok(err instanceof ClientError, String(err));
    assert.equal(err.code, "USRV_ERR_CLIENT_TOO_LARGE", err.message);
    assert.match(err.message, what);
    assert.ok(err.message.includes(`over maxBodySize, ${bound} bytes`), err.message);
    assert.match(
      err.message,
      /pass a larger \{ maxBodySize \} \(bytes, or Infinity\) to the call or to createClient$/,
    );
    return true;
  };
}

// One body of `n` bytes for each way the client reads an answer.
const KINDS: Record<
  string,
  { type: string; body: (n: number) => Buffer; check: (data: unknown, n: number) => void }
> = {
  json: {
    type: "application/json",
    body: (n) => Buffer.from(JSON.stringify("x".repeat(n - 2))),
    check: (data, n) => assert.equal((data as string).length, n - 2),
  },
  text: {
    type: "text/plain; charset=utf-8",
    body: (n) => Buffer.alloc(n, "t"),
    check: (data, n) => assert.equal((data as string).length, n),
  },
  bytes: {
    type: "application/octet-stream",
    body: (n) => Buffer.alloc(n, 7),
    check: (data, n) => assert.equal((data as Uint8Array).length, n),
  },
  form: {
    type: "application/x-www-form-urlencoded",
    body: (n) => Buffer.from(`a=${"f".repeat(n - 2)}`),
    check: (data, n) => assert.equal((data as { a: string }).a.length, n - 2),
  },
  multipart: {
    type: "multipart/form-data; boundary=b0",
    body: (n) => {
      const head = '--b0\r\nContent-Disposition: form-data; name="a"\r\n\r\n';
      const tail = "\r\n--b0--\r\n";
      return Buffer.from(head + "m".repeat(n - head.length - tail.length) + tail);
    },
    check: (data, n) => assert.ok((data as FormData).parts[0]!.data instanceof Uint8Array, String(n)),
  },
};

describe("C8: answers bounded by maxBodySize, over a real socket", () => {
  let bomb: Buffer;
  const closed = new Map<string, Promise<unknown>>();
  let written = 0;
  let server: Server;
  let peer: string;

  before(async () => {
    // 512 MiB of zeros, gzipped as it is made: about 0.5 MB
    const gzip = createGzip({ level: 9 });
    const parts: Buffer[] = [];
    gzip.on("data", (c: Buffer) => parts.push(c));
    const zeros = Buffer.alloc(MIB);
    for (let i = 0; i < 512; i++) if (!gzip.write(zeros)) await once(gzip, "drain");
    gzip.end();
    await once(gzip, "end");
    bomb = Buffer.concat(parts);

    ({ server, peer } = await serve((req, res) => {
      const url = new URL(req.url!, "http://x");
      closed.set(url.pathname, once(res, "close"));
      const n = Number(url.searchParams.get("n"));
      const kind = KINDS[url.searchParams.get("kind") ?? "bytes"]!;
      switch (url.pathname) {
        case "/sized": // with a Content-Length
          res.writeHead(200, { "content-type": kind.type, "content-length": n });
          return void res.end(kind.body(n));
        case "/chunked": {
          // no Content-Length: the bound is met while reading
          const body = kind.body(n);
          res.writeHead(200, { "content-type": kind.type });
          for (let i = 0; i < body.length; i += 100) res.write(body.subarray(i, i + 100));
          return void res.end();
        }
        case "/error": // an error status is read the same way
          res.writeHead(500, { "content-type": "text/plain" });
          return void res.end(Buffer.alloc(n, "e"));
        case "/promise": // a Content-Length over any sane bound, and a body that never comes
          res.writeHead(200, {
            "content-type": "application/octet-stream",
            "content-length": 100 * 1024 * MIB,
          });
          return void res.flushHeaders();
        case "/endless": {
          res.writeHead(200, { "content-type": "application/octet-stream" });
          const chunk = Buffer.alloc(64 * 1024, "z");
          const more = () => {
            let ok = true;
            while (ok && !res.destroyed) {
              written += chunk.length;
              ok = res.write(chunk);
            }
            if (!res.destroyed) res.once("drain", more);
          };
          return more();
        }
        case "/bomb":
          res.writeHead(200, {
            "content-type": "application/octet-stream",
            "content-encoding": "gzip",
            "content-length": bomb.length,
          });
          return void res.end(bomb);
        default:
          res.writeHead(200, { "content-length": 100 * 1024 * MIB }); // HEAD /
          res.end();
      }
    }));
  });
  after(() => stop(server));

  it("C8: a gzip bomb (0.5 MB inflating to 512 MiB) is refused; memory stays far below what it inflates to", async () => {
    assert.ok(bomb.length < MIB, `${bomb.length} bytes`);
    const client = createClient({ peer });
    // the client holds up to the bound (here 16 MiB), fetch and zlib a few buffers more
    const rss = process.memoryUsage().rss;
    await assert.rejects(client.GET.bomb({}, { maxBodySize: 16 * MIB }), tooLarge(16 * MIB));
    const grown = (process.memoryUsage().rss - rss) / MIB;
    assert.ok(grown < 100, `RSS grew by ${grown.toFixed(0)} MiB`);
    // the default bound, 64 MiB, stops it too
    const rss64 = process.memoryUsage().rss;
    await assert.rejects(client.GET.bomb(), tooLarge(DEFAULT_MAX_BODY_SIZE));
    const grown64 = (process.memoryUsage().rss - rss64) / MIB;
    assert.ok(grown64 < 64 + 100, `RSS grew by ${grown64.toFixed(0)} MiB`);
  });

  for (const [name, kind] of Object.entries(KINDS)) {
    it(`C8: ${name}: an answer at the bound is read, one byte over is refused (no Content-Length)`, async () => {
      const client = createClient({ peer, maxBodySize: 1000 });
      kind.check(await client.GET.chunked({ kind: name, n: 1000 }), 1000);
      kind.check(await client.GET.chunked({ kind: name, n: 999 }), 999);
      await assert.rejects(
        client.GET.chunked({ kind: name, n: 1001 }),
        tooLarge(1000, /: the answer goes over/),
      );
    });
  }

  it("C8: a Content-Length over the bound is refused before reading: the body is never waited for", async () => {
    const client = createClient({ peer, maxBodySize: 1000 });
    assert.equal((await client.GET.sized({ n: 1000 })).length, 1000);
    await assert.rejects(
      client.GET.sized({ n: 1001 }),
      tooLarge(1000, /the answer's Content-Length, 1001 bytes, is over/),
    );
    // this server never sends the body it announces (100 GiB): only the header can end the call
    await assert.rejects(
      createClient({ peer }).GET.promise(),
      tooLarge(
        DEFAULT_MAX_BODY_SIZE,
        /Content-Length, 107374182400 bytes, is over maxBodySize, 67108864 bytes \(64 MiB\)/,
      ),
    );
    await closed.get("/promise"); // and the connection is closed
  });

  it("C8: an error status is bounded too", async () => {
    const client = createClient({ peer, maxBodySize: 1000 });
    await assert.rejects(client.GET.error({ n: 1000 }), { code: "USRV_ERR_CLIENT_HTTP", status: 500 });
    await assert.rejects(client.GET.error({ n: 1001 }), tooLarge(1000));
  });

  it("C8: an endless stream stops at the default bound (64 MiB); the server sees its connection closed", async () => {
    assert.equal(DEFAULT_MAX_BODY_SIZE, 64 * MIB);
    await assert.rejects(createClient({ peer }).GET.endless(), tooLarge(64 * MIB));
    await closed.get("/endless");
    // what the server got out before the close: the bound, plus what the socket buffers held
    assert.ok(written >= 64 * MIB - 64 * 1024 && written < 512 * MIB, `${written} bytes written`);
  });

  it("C8: the call's maxBodySize wins over the client's; Infinity lifts the bound", async () => {
    const client = createClient({ peer, maxBodySize: 10 });
    await assert.rejects(client.GET.chunked({ n: 2000 }), tooLarge(10));
    assert.equal((await client.GET.chunked({ n: 2000 }, { maxBodySize: 2000 })).length, 2000);
    const free = createClient({ peer, maxBodySize: Number.POSITIVE_INFINITY });
    assert.equal((await free.GET.sized({ n: 70 * MIB })).length, 70 * MIB);
  });

  it("C8: HEAD (connect) is not refused for the Content-Length of a body it does not get", async () => {
    assert.equal(await createClient({ maxBodySize: 10 }).connect(peer), 200);
  });
});

describe("C8: encrypted answers and injected fetches are bounded too", () => {
  it("C8: an encrypted answer counts its hex text", async () => {
    const { app } = quietApp();
    await app.identify("server-secret");
    app.bind("/big", () => [200, "s".repeat(1000)]);
    const server = await app.run({ port: 0 });
    try {
      const client = createClient({ peer: server.url });
      const puk = app.publicKey!;
      assert.equal(await client.GET.big({}, { puk }), "s".repeat(1000));
      // the answer is JSON of 1,002 bytes, sealed as 2,004 hex characters
      await assert.rejects(client.GET.big({}, { puk, maxBodySize: 2003 }), tooLarge(2003));
      assert.equal(await client.GET.big({}, { puk, maxBodySize: 2004 }), "s".repeat(1000));
    } finally {
      await server.close();
    }
  });

  it("C8: an injected fetch's answer (app.request, a stub) is read the same way", async () => {
    const stub = recorder(() => new Response("x".repeat(11)));
    const client = createClient({ peer: "http://usrv.test", fetch: stub.fetch, maxBodySize: 10 });
    await assert.rejects(client.GET.x(), tooLarge(10));
  });

  it("C3: maxBodySize is checked: a whole number of bytes >= 0, or Infinity; a typo is named", async () => {
    const bad = () => ({
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
      message:
        /option "maxBodySize" must be a whole number of bytes >= 0 \(or Infinity\)|did you mean "maxBodySize"/,
    });
    for (const v of [-1, 1.5, "1", Number.NaN, null]) {
      assert.throws(() => createClient({ maxBodySize: v as number }), bad());
      await assert.rejects(
        createClient({ peer: "http://usrv.test" }).GET.x({}, { maxBodySize: v as number }),
        bad(),
      );
    }
    assert.throws(() => createClient({ maxBodysize: 1 } as object), bad());
    await assert.rejects(
      createClient({ peer: "http://usrv.test" }).GET.x({}, { maxbodysize: 1 } as object),
      bad(),
    );
    createClient({ maxBodySize: 0 });
    createClient({ maxBodySize: Number.POSITIVE_INFINITY });
  });
});
