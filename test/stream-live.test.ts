/**
 * E9 (issue 17, item 5): live encrypted event streams. A v2 request that asks
 * for sized records (`Usrv-Records: sized`) gets a streamed answer sealed at
 * every event, each record preceded by its length; usrv's client asks for
 * them in `client.stream` and yields each event as its record opens. A
 * request that does not ask keeps the fixed framing (64 KiB records).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { App } from "usrv";
import { ClientHttpError, createClient, type FetchLike } from "usrv/client";
import { openResponse, runAll, sealedLength } from "usrv/secp256k1";
import { ndjson, sse } from "usrv/stream";
import { matrix, quietApp, type Send } from "./_setup.js";
import { client, server } from "./fixtures/v1-requests.js";
import { v2Request } from "./fixtures/v2-requests.js";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A gate the test opens, and what the source has produced so far. */
function gated() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const state = { produced: 0, returned: 0 };
  async function* source() {
    try {
      state.produced++;
      yield "one";
      await gate; // event 2 is made only once the test has seen event 1
      state.produced++;
      yield "two";
    } finally {
      state.returned++;
    }
  }
  return { open: () => open(), state, source };
}

let live = gated();

const endless = { returned: 0 };
/** An endless source whose return() is seen (its events made as fast as they are read). */
function forever(): AsyncIterableIterator<string> {
  let n = 0;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      return { done: false, value: `event ${n++}` };
    },
    async return() {
      endless.returned++;
      return { done: true, value: undefined };
    },
  };
}

async function until(ok: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 30_000; !ok(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function routes(app: App): void {
  void app.identify("server-secret");
  app.bind("/live", { style: "object" }, (_, ctx) => sse(ctx, live.source(), { heartbeat: 0 }));
  app.bind("/endless", { style: "object" }, (_, ctx) => sse(ctx, forever(), { heartbeat: 0 }));
  app.bind("/feed", { style: "object" }, (_, ctx) => sse(ctx, ["a", { id: "2", data: { b: 2 } }]));
  app.bind("/rows", { style: "object" }, (_, ctx) => ndjson(ctx, [1, 2]));
  app.bind("/many", { style: "object" }, (_, ctx) =>
    ndjson(
      ctx,
      Array.from({ length: 70 }, () => "x".repeat(997)),
    ),
  );
  app.bind("/plain", () => [200, { ok: true }]);
  app.bind("/bad", () => [400, { why: "no" }]);
  app.bind("/none", () => [204]);
  app.bind("/own", { style: "object" }, () => {
    // a handler's own streamed Response: each enqueue is one flush
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("first"));
        c.enqueue(new TextEncoder().encode("second"));
        c.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  });
}

/** usrv's client over `send`: v2, identified as the fixtures' client. */
function clientOver(send: Send, fetch?: FetchLike) {
  const through: FetchLike = (input, init) => {
    const u = new URL(input);
    return send(u.pathname + u.search, init);
  };
  return createClient({ peer: "http://x", fetch: fetch ?? through, identity: client, encryption: "v2" });
}

async function all(answer: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of answer) out.push(text(chunk));
  return out;
}

matrix("E9: live encrypted event streams (sized records)", routes, (send) => {
  it("E9: client.stream gets event 1 of a v2 event stream before the server makes event 2", async () => {
    live = gated();
    const feed = await clientOver(send()).stream("GET", ["live"], undefined, { puk: server.publicKey });
    assert.equal(feed.status, 200);
    assert.equal(feed.encryption, "v2");
    assert.equal(feed.headers.get("usrv-records"), "sized");
    const it = feed[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(text(first.value!), "data: one\n\n");
    assert.equal(live.state.produced, 1, "event 2 is not made yet: event 1 came on its own");
    live.open();
    assert.equal(text((await it.next()).value!), "data: two\n\n");
    assert.equal((await it.next()).done, true);
  });

  it("E9: each event, each NDJSON line and each flush of a handler's own Response is one record", async () => {
    const c = clientOver(send());
    const puk = server.publicKey;
    assert.deepEqual(await all(await c.stream("GET", ["feed"], undefined, { puk })), [
      "data: a\n\n",
      'id: 2\ndata: {"b":2}\n\n',
    ]);
    assert.deepEqual(await all(await c.stream("GET", ["rows"], undefined, { puk })), ["1\n", "2\n"]);
    assert.deepEqual(await all(await c.stream("GET", ["own"], undefined, { puk })), ["first", "second"]);
  });

  it("E9: the wire: Usrv-Records: sized, and each record preceded by its 3-byte length", async () => {
    const req = await v2Request("/feed");
    req.init.headers["usrv-records"] = "sized";
    const res = await send()("/feed", req.init);
    assert.equal(res.headers.get("usrv-records"), "sized");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const lengths: number[] = [];
    for (let at = 0; at < bytes.length; at += 3 + lengths.at(-1)!) {
      lengths.push((bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!);
    }
    assert.deepEqual(lengths, [9 + 17, 21 + 17, 17]); // "data: a\n\n", the second event, the empty last record
    const opener = await openResponse(
      req.context,
      res.headers.get("response-nonce")!,
      { status: 200, contentType: res.headers.get("content-type")! },
      "sized",
    );
    assert.equal(text(await runAll(opener, bytes)), 'data: a\n\nid: 2\ndata: {"b":2}\n\n');
  });

  it("E9: Usrv-Records is a list of tokens: sized in any case among others asks; another token alone does not", async () => {
    for (const [value, answer] of [
      ["padded, Sized", "sized"],
      ["padded", null],
    ] as const) {
      const req = await v2Request("/rows");
      req.init.headers["usrv-records"] = value;
      const res = await send()("/rows", req.init);
      assert.equal(res.headers.get("usrv-records"), answer, value);
      await res.arrayBuffer();
    }
  });

  it("E9: a request that does not ask keeps today's framing: no header, the events batched in one 64 KiB record", async () => {
    const req = await v2Request("/feed");
    const res = await send()("/feed", req.init);
    assert.equal(res.headers.get("usrv-records"), null);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const plain = 'data: a\n\nid: 2\ndata: {"b":2}\n\n';
    assert.equal(bytes.length, sealedLength(plain.length)); // one record: n + 17
    const opener = await openResponse(req.context, res.headers.get("response-nonce")!, {
      status: 200,
      contentType: res.headers.get("content-type")!,
    });
    assert.equal(text(await runAll(opener, bytes)), plain);
    // 70 lines of 1,000 bytes: two records, one full (65,553 bytes) and the rest, not 70
    const many = await v2Request("/many");
    const big = await send()("/many", many.init);
    assert.equal((await big.arrayBuffer()).byteLength, sealedLength(70_000));
    assert.equal(sealedLength(70_000), 70_000 + 2 * 17);
  });

  it("E9: asked on an ordinary route (a whole body) or without a body, the answer keeps the fixed framing", async () => {
    const req = await v2Request("/plain");
    req.init.headers["usrv-records"] = "sized";
    const res = await send()("/plain", req.init);
    assert.equal(res.headers.get("usrv-records"), null);
    assert.equal((await res.arrayBuffer()).byteLength, sealedLength('{"ok":true}'.length));
    const c = clientOver(send());
    const answer = await c.stream("GET", ["plain"], undefined, { puk: server.publicKey });
    assert.deepEqual(await all(answer), ['{"ok":true}']);
    const head = await c.stream("HEAD", ["plain"], undefined, { puk: server.publicKey });
    assert.ok(head.headers.get("usrv-record"), "no body: the one record in Usrv-Record");
    assert.deepEqual(await all(head), []);
  });

  it("E9: leaving the loop closes the stream and stops its source", async () => {
    const before = endless.returned;
    const feed = await clientOver(send()).stream("GET", ["endless"], undefined, { puk: server.publicKey });
    let got = 0;
    for await (const event of feed) {
      assert.equal(text(event), `data: event ${got}\n\n`);
      if (++got === 3) break;
    }
    await until(() => endless.returned > before, "the source's return()");
  });
});

/** A fetch through `app` whose answers `edit` may rewrite (their body read whole). */
function proxy(app: App, edit: (body: Uint8Array, headers: Headers) => Uint8Array): FetchLike {
  return async (input, init) => {
    const res = await app.request(new Request(input, init));
    const headers = new Headers(res.headers);
    const body = edit(new Uint8Array(await res.arrayBuffer()), headers);
    return new Response(body.length === 0 ? null : (body as Uint8Array<ArrayBuffer>), {
      status: res.status,
      headers,
    });
  };
}

/** The records of a sized body, each with its prefix. */
function records(body: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < body.length; ) {
    const n = 3 + ((body[at]! << 16) | (body[at + 1]! << 8) | body[at + 2]!);
    out.push(body.subarray(at, at + n));
    at += n;
  }
  return out;
}
const join = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe("E9: a path that edits a sized answer is refused by the client (USRV_ERR_CLIENT_DECRYPT)", () => {
  const { app } = quietApp();
  routes(app);
  const puk = server.publicKey;
  const decrypt = { code: "USRV_ERR_CLIENT_DECRYPT" };
  const cases: [string, (b: Uint8Array, h: Headers) => Uint8Array][] = [
    ["E9: a length changed", (b) => Uint8Array.of(b[0]!, b[1]!, b[2]! + 1, ...b.subarray(3))],
    ["E9: a record's byte changed", (b) => Uint8Array.of(...b.subarray(0, 5), b[5]! ^ 1, ...b.subarray(6))],
    ["E9: a record dropped", (b) => join(records(b).filter((_, i) => i !== 0))],
    ["E9: two records swapped", (b) => join([records(b)[1]!, records(b)[0]!, records(b)[2]!])],
    ["E9: the last record cut off", (b) => join(records(b).slice(0, -1))],
    ["E9: cut inside a record", (b) => b.subarray(0, b.length - 5)],
    ["E9: bytes after the last record", (b) => Uint8Array.of(...b, 0, 0, 17)],
    ["E9: a length over 65,553", (b) => Uint8Array.of(0x01, 0x00, 0x12, ...b.subarray(3))],
    [
      "E9: the header stripped (read as fixed records)",
      (b, h) => {
        h.delete("usrv-records");
        return b;
      },
    ],
  ];
  for (const [what, edit] of cases) {
    it(what, async () => {
      const c = clientOver(app.request.bind(app), proxy(app, edit));
      await assert.rejects(all(await c.stream("GET", ["feed"], undefined, { puk })), decrypt);
    });
  }

  it("E9: an answer that claims sized records to a request that did not ask is refused", async () => {
    const add = proxy(app, (b, h) => {
      h.set("usrv-records", "sized");
      return b;
    });
    const c = clientOver(app.request.bind(app), add);
    await assert.rejects(c.call("GET", ["plain"], undefined, { puk }), decrypt);
    await assert.rejects(c.call("GET", ["feed"], undefined, { puk }), decrypt);
    const other = proxy(app, (b, h) => {
      h.set("usrv-records", "padded");
      return b;
    });
    const asked = clientOver(app.request.bind(app), other);
    await assert.rejects(asked.stream("GET", ["feed"], undefined, { puk }), decrypt);
  });

  it("E9: a request that asks is seen on the wire; a call (read whole) does not ask", async () => {
    const seen: (string | null)[] = [];
    const c = clientOver(app.request.bind(app), (input, init) => {
      seen.push(new Headers(init?.headers).get("usrv-records"));
      return app.request(new Request(input, init));
    });
    await all(await c.stream("GET", ["feed"], undefined, { puk }));
    await c.call("GET", ["feed"], undefined, { puk });
    assert.deepEqual(seen, ["sized", null]);
  });
});

describe("E9: client.stream without v2", () => {
  const { app } = quietApp();
  routes(app);
  const c = createClient({
    peer: "http://x",
    fetch: (i, o) => app.request(new Request(i, o)),
    identity: client,
  });

  it("E9: in clear, the chunks as they come", async () => {
    assert.deepEqual(
      (await all(await c.stream("GET", ["feed"]))).join(""),
      'data: a\n\nid: 2\ndata: {"b":2}\n\n',
    );
    const answer = await c.stream("GET", ["plain"]);
    assert.equal(answer.encryption, null);
    assert.deepEqual(await all(answer), ['{"ok":true}']);
  });

  it("E9: an error status throws as a call's does, 400 included, in clear, v1 and v2", async () => {
    await assert.rejects(
      c.stream("GET", ["nowhere"]),
      (e) => e instanceof ClientHttpError && e.status === 404,
    );
    for (const encryption of [undefined, "v1", "v2"] as const) {
      const options = encryption ? { puk: server.publicKey, encryption } : {};
      await assert.rejects(
        c.stream("GET", ["bad"], undefined, options),
        (e) =>
          e instanceof ClientHttpError &&
          e.status === 400 &&
          (e.body as { detail: { why: string } }).detail.why === "no",
        String(encryption),
      );
    }
  });

  it("E9: in clear too, event 1 comes before the server makes event 2", async () => {
    live = gated();
    const feed = await c.stream("GET", ["live"]);
    const it = feed[Symbol.asyncIterator]();
    assert.equal(text((await it.next()).value!), "data: one\n\n");
    assert.equal(live.state.produced, 1);
    live.open();
    assert.equal(text((await it.next()).value!), "data: two\n\n");
  });

  it("E9: an answer without a body yields nothing, in clear, v1 and v2; cancel() on it is harmless", async () => {
    for (const encryption of [undefined, "v1", "v2"] as const) {
      const options = encryption ? { puk: server.publicKey, encryption } : {};
      const answer = await c.stream("GET", ["none"], undefined, options);
      assert.equal(answer.status, 204);
      assert.equal(answer.encryption, encryption === "v2" ? "v2" : null); // v1 seals no empty answer
      assert.deepEqual(await all(answer), [], String(encryption));
      await answer.cancel();
    }
  });

  it("E9: a connection lost mid-stream is USRV_ERR_CLIENT_UNREACHABLE, in clear and in v2", async () => {
    const broken = (body: Uint8Array) =>
      new ReadableStream<Uint8Array>({
        start(ctl) {
          ctl.enqueue(body);
          ctl.error(new TypeError("terminated"));
        },
      });
    const inClear = createClient({
      peer: "http://x",
      fetch: async () => new Response(broken(new TextEncoder().encode("data: 1\n\n"))),
    });
    await assert.rejects(all(await inClear.stream("GET", ["feed"])), (e: Error & { code?: string }) => {
      assert.equal(e.code, "USRV_ERR_CLIENT_UNREACHABLE");
      assert.match(e.message, /GET http:\/\/x\/feed: the stream broke off/);
      assert.equal((e.cause as Error).message, "terminated");
      return true;
    });
    const sealed = createClient({
      peer: "http://x",
      identity: client,
      fetch: async (input, init) => {
        const res = await app.request(new Request(input, init));
        const bytes = new Uint8Array(await res.arrayBuffer());
        return new Response(broken(bytes.subarray(0, 10)), { status: res.status, headers: res.headers });
      },
    });
    const answer = await sealed.stream("GET", ["feed"], undefined, {
      puk: server.publicKey,
      encryption: "v2",
    });
    await assert.rejects(all(answer), { code: "USRV_ERR_CLIENT_UNREACHABLE" });
  });

  it("E9: under v1 a stream is refused by the server (406); an ordinary answer opens whole", async () => {
    const v1 = { puk: server.publicKey, encryption: "v1" as const };
    await assert.rejects(
      c.stream("GET", ["feed"], undefined, v1),
      (e) => e instanceof ClientHttpError && e.status === 406,
    );
    const answer = await c.stream("GET", ["plain"], undefined, v1);
    assert.equal(answer.encryption, "v1");
    assert.deepEqual(await all(answer), ['{"ok":true}']);
  });

  it("E9: an unsealed 200 to a v2 request, or a plain answer to a v1 one, is refused", async () => {
    const plain = createClient({
      peer: "http://x",
      fetch: async () => new Response("data: x\n\n", { headers: { "content-type": "text/event-stream" } }),
      identity: client,
    });
    await assert.rejects(
      plain.stream("GET", ["feed"], undefined, { puk: server.publicKey, encryption: "v2" }),
      {
        code: "USRV_ERR_CLIENT_NOT_ENCRYPTED",
      },
    );
    await assert.rejects(
      plain.stream("GET", ["feed"], undefined, { puk: server.publicKey, encryption: "v1" }),
      {
        code: "USRV_ERR_CLIENT_NOT_ENCRYPTED",
      },
    );
  });

  it("E9: cancel() ends the iteration", async () => {
    const answer = await c.stream("GET", ["feed"]);
    await answer.cancel();
    assert.deepEqual(await all(answer), []);
  });
});
