/**
 * Issue 17 item 1: usrv/stream's server-sent events and NDJSON, on both
 * faces; backpressure against a raw socket that stops reading; EventSource
 * in Chromium, reconnecting with Last-Event-ID.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import type { ServerHandle } from "usrv";
import { compress } from "usrv/compress";
import { encodeEvent, lastEventId, MAX_LAST_EVENT_ID, ndjson, openStreams, sse } from "usrv/stream";
import { matrix, quietApp } from "./_setup.js";

const CHROMIUM = "/usr/bin/chromium";

/** Polls `ok` until it holds; a hang past `ms` (generous: the machine is shared) fails. */
async function until(ok: () => boolean, what: string, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads a stream's text until `done(text)` holds, then cancels it. */
async function readUntil(res: Response, done: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

/** What the endless sources of the suite saw. */
const seen = { pulls: 0, finally: 0, aborted: 0 };

matrix(
  "issue 17 item 1: usrv/stream",
  (app) => {
    app.bind("/events", { style: "object" }, (_, ctx) =>
      sse(
        ctx,
        (async function* () {
          yield "one line";
          yield "two\nlines\r\nthree";
          yield { id: "7", event: "price", data: { eur: 12 }, comment: "a note" };
          yield { data: "" };
          yield { retry: 500 };
        })(),
        { retry: 1000 },
      ),
    );
    app.bind("/inject/<field>", ({ field }, ctx) =>
      sse(ctx, [{ data: "before" }, { [field]: "x\nevent: forged" }], { heartbeat: 0 }),
    );
    app.bind("/rows", { style: "object" }, (_, ctx) =>
      ndjson(ctx, [1, "two\nlines", { three: [3] }, null, undefined]),
    );
    app.bind("/bigint", { style: "object" }, (_, ctx) => ndjson(ctx, [1, 2n]));
    app.bind("/endless", { style: "object" }, (_, ctx) => {
      ctx.signal.addEventListener("abort", () => seen.aborted++);
      return ndjson(
        ctx,
        (async function* () {
          try {
            for (let n = 0; ; n++) {
              seen.pulls++;
              yield n;
            }
          } finally {
            seen.finally++;
          }
        })(),
      );
    });
    app.bind("/quiet", { style: "object" }, (_, ctx) =>
      sse(
        ctx,
        (async function* () {
          yield "hello";
          // quiet until the client leaves
          await new Promise((r) => ctx.signal.addEventListener("abort", r, { once: true }));
        })(),
        { heartbeat: 20 },
      ),
    );
    app.bind("/gen", () => [
      200,
      (async function* () {
        yield 1;
      })(),
    ]);
    app.bind("/resume", { style: "object" }, (_, ctx) => [200, lastEventId(ctx)]);
  },
  (send) => {
    it("R9: sse() frames events: a string's lines as data fields, id, event, retry, comment, JSON data", async () => {
      const res = await send()("/events");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
      assert.equal(res.headers.get("cache-control"), "no-cache");
      assert.equal(
        await res.text(),
        "retry: 1000\n\n" +
          "data: one line\n\n" +
          "data: two\ndata: lines\ndata: three\n\n" +
          ': a note\nevent: price\nid: 7\ndata: {"eur":12}\n\n' +
          "data: \n\n" +
          "retry: 500\n\n",
      );
    });

    it("R9: an id or event with CR or LF cannot inject a field: the stream fails, nothing forged leaves", async () => {
      for (const field of ["id", "event"]) {
        let text = "";
        await assert.rejects(async () => {
          // over a socket the failure cuts the connection: fetch itself may fail, or the body
          const res = await send()(`/inject/${field}`);
          assert.equal(res.status, 200);
          const reader = res.body!.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            text += new TextDecoder().decode(value);
          }
        });
        assert.ok(!text.includes("forged"), text);
        assert.ok(text === "" || text === "data: before\n\n", text);
      }
    });

    it("R10: ndjson() sends one JSON text per line, newlines inside values escaped", async () => {
      const res = await send()("/rows");
      assert.equal(res.headers.get("content-type"), "application/x-ndjson");
      assert.equal(await res.text(), '1\n"two\\nlines"\n{"three":[3]}\nnull\nnull\n');
    });

    it("R10: [200, asyncGenerator] is not a silent {}: 500 USRV_ERR_UNSERIALIZABLE naming usrv/stream", async () => {
      const res = await send()("/gen");
      assert.equal(res.status, 500);
      const body = (await res.json()) as { code: string; message: string };
      assert.equal(body.code, "USRV_ERR_UNSERIALIZABLE");
      assert.match(
        body.message,
        /returned an async iterable as its value; stream it with sse\(ctx, it\) or ndjson\(ctx, it\) from usrv\/stream/,
      );
    });

    it("R10: a value that is not JSON (BigInt) ends the stream as a failure", async () => {
      await assert.rejects(async () => {
        const res = await send()("/bigint");
        await res.text();
      });
    });

    it("R11, R12: the source is pulled at the reader's pace, and when the client leaves its finally runs and ctx.signal fires", async () => {
      const before = { ...seen };
      const leave = new AbortController();
      const res = await send()("/endless", { signal: leave.signal });
      const reader = res.body!.getReader();
      for (let i = 0; i < 3; i++) await reader.read();
      leave.abort();
      await reader.cancel().catch(() => {});
      await until(() => seen.finally > before.finally, "the generator's finally block");
      await until(() => seen.aborted > before.aborted, "ctx.signal");
      // an endless source pulled a bounded number of times: over a socket, as many as its buffers hold
      assert.ok(seen.pulls - before.pulls < 100_000, `${seen.pulls - before.pulls} pulls`);
    });

    it("R13: a quiet stream sends heartbeat comments; Last-Event-ID reaches the handler, bounded", async () => {
      const res = await send()("/quiet");
      const text = await readUntil(res, (t) => t.includes(":\n\n"));
      assert.ok(text.startsWith("data: hello\n\n:\n\n"), JSON.stringify(text));
      const resume = (id: string) =>
        send()("/resume", { headers: { "last-event-id": id } }).then((r) => r.json());
      assert.equal(await resume("41"), "41");
      assert.equal(await resume("x".repeat(MAX_LAST_EVENT_ID)), "x".repeat(MAX_LAST_EVENT_ID));
      assert.equal(await resume("x".repeat(MAX_LAST_EVENT_ID + 1)), null, "over the bound: ignored");
      assert.equal(await send()("/resume").then((r) => r.json()), null);
    });
  },
);

/** What the sources behind hooks saw. */
const hooked = { finally: 0, returned: 0 };

matrix(
  "issue 17 item 1: usrv/stream behind hooks",
  (app) => {
    app.use(compress({ threshold: 0 }));
    app.onResponse((answer, ctx) => {
      answer.headers["x-seen"] = "1";
      if (ctx.path === "/replaced") return [200, "replaced"];
      return undefined;
    });
    app.bind("/flows", { style: "object" }, (_, ctx) =>
      sse(
        ctx,
        (async function* () {
          try {
            for (let n = 1; ; n++) yield { id: String(n), data: "x".repeat(100) };
          } finally {
            hooked.finally++;
          }
        })(),
      ),
    );
    app.bind("/replaced", { style: "object" }, (_, ctx) =>
      ndjson(ctx, {
        [Symbol.asyncIterator]() {
          return {
            next: async () => ({ done: false, value: 1 }),
            return: async () => {
              hooked.returned++;
              return { done: true, value: undefined };
            },
          };
        },
      }),
    );
  },
  (send) => {
    it("H3, R11: through usrv/compress and an onResponse hook, an event stream flows event by event, uncompressed", async () => {
      const before = hooked.finally;
      const res = await send()("/flows", { headers: { "accept-encoding": "gzip" } });
      assert.equal(res.headers.get("content-encoding"), null);
      assert.equal(res.headers.get("x-seen"), "1");
      const text = await readUntil(res, (t) => t.includes("id: 3\n"));
      assert.ok(text.startsWith(`id: 1\ndata: ${"x".repeat(100)}\n\n`), text.slice(0, 80));
      await until(() => hooked.finally > before, "the generator's finally block");
    });

    it("H7: an onResponse hook that replaces a stream's answer stops its source", async () => {
      const before = hooked.returned;
      const res = await send()("/replaced");
      assert.equal(await res.json(), "replaced");
      await until(() => hooked.returned > before, "the source's return()");
    });
  },
);

describe("R11: backpressure over a real socket", () => {
  const { app } = quietApp();
  const state = { pulls: 0, finally: 0, aborted: 0 };
  const event = "x".repeat(16 * 1024);
  app.bind("/firehose", { style: "object" }, (_, ctx) => {
    ctx.signal.addEventListener("abort", () => state.aborted++);
    return sse(
      ctx,
      (async function* () {
        try {
          for (;;) {
            state.pulls++;
            yield event;
          }
        } finally {
          state.finally++;
        }
      })(),
    );
  });
  let server: ServerHandle;
  before(async () => {
    server = await app.run({ port: 0 });
  });
  after(() => server.close());

  it("R11: in process, each value is taken from the source only as the reader reads", async () => {
    const before = state.pulls;
    const res = await app.request("/firehose", { headers: {} });
    const reader = res.body!.getReader();
    for (let i = 0; i < 5; i++) await reader.read();
    await new Promise((r) => setTimeout(r, 50)); // whatever would run ahead has had its turn
    assert.ok(state.pulls - before <= 5, `${state.pulls - before} pulls for 5 reads`);
    await reader.cancel();
    await until(() => state.finally === 1, "the generator's finally block");
    state.finally = 0;
    state.aborted = 0;
  });

  it("R11: a client that stops reading stops the source: an endless generator is pulled a bounded number of times", async () => {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    let received = 0;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > 256 * 1024) socket.pause(); // and never reads again
    });
    socket.write("GET /firehose HTTP/1.1\r\nhost: x\r\n\r\n");
    await until(() => socket.isPaused(), "the first 256 KiB");
    // 4,096 events are 64 MiB: far beyond what socket buffers hold; without backpressure the count runs away
    const BOUND = 4096;
    let last = -1;
    let still = 0;
    while (still < 5) {
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(state.pulls <= BOUND, `${state.pulls} pulls: the source ran ahead of a reader that stopped`);
      still = state.pulls === last ? still + 1 : 0;
      last = state.pulls;
    }
    assert.equal(state.finally, 0, "still open");
    socket.destroy();
    await until(() => state.finally === 1, "the generator's finally block");
    await until(() => state.aborted === 1, "ctx.signal");
    assert.equal(state.pulls, last, "nothing pulled after the client left");
  });
});

describe("R9, R13: EventSource in Chromium", () => {
  it("R13: EventSource receives the events, reconnects after the stream ends with Last-Event-ID, and resumes", async () => {
    const { app } = quietApp();
    const ids: (string | null)[] = [];
    app.bind(
      "/",
      () =>
        new Response(
          `<!doctype html><pre id="out"></pre><script>
const got = [];
const source = new EventSource("/ticks");
source.addEventListener("tick", (e) => {
  got.push([e.lastEventId, JSON.parse(e.data).n]);
  if (got.length === 6) {
    source.close();
    document.getElementById("out").textContent = JSON.stringify(got);
    document.getElementById("out").dataset.done = "1";
  }
});
</script>`,
          { headers: { "content-type": "text/html; charset=utf-8" } },
        ),
    );
    app.bind("/ticks", { style: "object" }, (_, ctx) => {
      const from = lastEventId(ctx);
      ids.push(from);
      return sse(
        ctx,
        (async function* () {
          const start = Number(from ?? 0);
          for (let n = start + 1; n <= start + 3; n++) yield { id: String(n), event: "tick", data: { n } };
        })(),
        { retry: 50 },
      );
    });
    const server = await app.run({ port: 0 });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/`);
      await page.waitForSelector("#out[data-done]", { timeout: 60_000 });
      const got = JSON.parse((await page.textContent("#out")) ?? "[]");
      assert.deepEqual(got, [
        ["1", 1],
        ["2", 2],
        ["3", 3],
        ["4", 4],
        ["5", 5],
        ["6", 6],
      ]);
      assert.deepEqual(ids.slice(0, 2), [null, "3"]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

describe("R14: open streams are bounded in count", () => {
  it("R14: every stream above has ended; past maxStreams a stream is refused 503 USRV_ERR_TOO_MANY_STREAMS, and taken again once one ends", async () => {
    await until(() => openStreams() === 0, "every stream of the suites above to end (none leaked)");
    const { app } = quietApp();
    app.bind("/capped", { style: "object" }, (_, ctx) =>
      ndjson(
        ctx,
        (async function* () {
          for (;;) yield 1;
        })(),
        { maxStreams: 2 },
      ),
    );
    const first = await app.request("/capped");
    const second = await app.request("/capped");
    assert.deepEqual([first.status, second.status, openStreams()], [200, 200, 2]);
    const third = await app.request("/capped");
    assert.equal(third.status, 503);
    assert.equal(third.headers.get("retry-after"), "5");
    const body = (await third.json()) as { code: string; message: string };
    assert.equal(body.code, "USRV_ERR_TOO_MANY_STREAMS");
    assert.equal(body.message, "ndjson: this process holds 2 open streams, its limit (maxStreams 2)");
    await first.body!.cancel();
    assert.equal(openStreams(), 1);
    const again = await app.request("/capped");
    assert.equal(again.status, 200);
    await again.body!.cancel();
    await second.body!.cancel();
    assert.equal(openStreams(), 0);
  });
});

describe("R9: encodeEvent", () => {
  it("R9: an event is typed: a bare value does not compile where an event is expected", async () => {
    const ctx = { signal: new AbortController().signal };
    const wrong = [{ price: 3 }];
    // @ts-expect-error: a value travels as { data: value }
    const res = sse(ctx, wrong);
    await assert.rejects(res.body!.getReader().read(), TypeError);
    const right = sse(ctx, [{ data: { price: 3 } }, "text"]);
    assert.ok(right instanceof Response);
    await right.body!.cancel();
  });

  it("R9: refuses what is not an event, and a field that would start another", () => {
    assert.throws(() => encodeEvent({ price: 3 } as never), /not "price"; send a value as \{ data: value \}/);
    assert.throws(() => encodeEvent({ id: "a\0b" }), /holds CR, LF or NUL/);
    assert.throws(() => encodeEvent({ event: "a\rb" }), /holds CR, LF/);
    assert.throws(() => encodeEvent({ retry: -1 }), /retry must be a whole number/);
    assert.equal(encodeEvent({ comment: "a\nb" }), ": a\n: b\n\n");
    assert.equal(encodeEvent({}), "");
  });
});

it("R13: a heartbeat over 2,147,483,647 ms is refused, sse's and ndjson's: a timer set longer fires at once", async () => {
  const { app } = quietApp();
  const refusal = (make: () => unknown): string => {
    try {
      make();
      return "accepted";
    } catch (e) {
      return (e as Error).message;
    }
  };
  app.bind("/beats", { style: "object" }, (_, ctx) => [
    200,
    refusal(() => sse(ctx, [], { heartbeat: 2_147_483_648 })),
    refusal(() => ndjson(ctx, [], { heartbeat: 2_147_483_648 })),
    refusal(() => sse(ctx, [], { heartbeat: -1 })),
  ]);
  const why = (name: string, got: string) =>
    `[usrv] ${name}: heartbeat must be a number of milliseconds from 0 to 2147483647 (about 24.8 days: a timer set longer fires at once), got ${got}`;
  const res = await app.request("/beats");
  assert.deepEqual(await res.json(), [
    why("sse", "2147483648"),
    why("ndjson", "2147483648"),
    why("sse", "-1"),
  ]);
});
