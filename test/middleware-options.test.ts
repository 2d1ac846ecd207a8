/**
 * Nothing is silently ignored (README "Options"): the middleware and the
 * stream helpers refuse an unknown option, a typo, naming the nearest known
 * one, as bind, createApp and run do.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createApp } from "usrv";
import { compress } from "usrv/compress";
import { conditional } from "usrv/conditional";
import { cors } from "usrv/cors";
import { tracing } from "usrv/otel";
import { rateLimit } from "usrv/rate-limit";
import { serveStatic } from "usrv/static";
import { ndjson, sse } from "usrv/stream";

const DIR = mkdtempSync(join(tmpdir(), "usrv-options-"));
after(() => rmSync(DIR, { recursive: true, force: true }));

const typo = (what: string, wrong: string, near: string) =>
  new RegExp(`^\\[usrv\\] ${what}: unknown option "${wrong}" \\(did you mean "${near}"\\?\\); known: `);

describe("a typo in a middleware's options is an error naming the nearest option", () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "cors",
      () => cors({ origins: ["https://a.example"], credential: true } as never),
      typo("cors", "credential", "credentials"),
    ],
    ["compress", () => compress({ treshold: 10 } as never), typo("compress", "treshold", "threshold")],
    ["conditional", () => conditional({ etags: false } as never), typo("conditional", "etags", "etag")],
    [
      "rateLimit",
      () => rateLimit({ limit: 1, window: 1000, brust: 2 } as never),
      typo("rateLimit", "brust", "burst"),
    ],
    ["serveStatic", () => serveStatic(DIR, { maxage: 60 } as never), typo("serveStatic", "maxage", "maxAge")],
  ];
  for (const [name, make, message] of cases) {
    it(`${name}: throws at once`, () => assert.throws(make, { name: "TypeError", message }));
  }
  it("tracing: rejects", async () => {
    await assert.rejects(tracing({ tracr: undefined } as never), {
      name: "TypeError",
      message: typo("tracing", "tracr", "tracer"),
    });
  });
  it("the right options still pass", () => {
    cors({ origins: ["https://a.example"], credentials: true, maxAge: 5 });
    compress({ threshold: 10 });
    conditional({ etag: false });
    rateLimit({ limit: 1, window: 1000, burst: 2 });
    serveStatic(DIR, { maxAge: 60 });
  });
});

describe("a typo in sse's or ndjson's options is a 500 naming it, the source never started", () => {
  for (const [name, make] of [
    ["sse", (ctx: never, src: AsyncIterable<string>) => sse(ctx, src, { hearbeat: 10 } as never)],
    ["ndjson", (ctx: never, src: AsyncIterable<string>) => ndjson(ctx, src, { hearbeat: 10 } as never)],
  ] as const) {
    it(`${name}: the handler's error, logged; the source's first value never taken`, async () => {
      const logs: string[] = [];
      const sink = (obj: object, msg?: string) =>
        void logs.push(`${msg} ${(obj as { err?: Error }).err?.message}`);
      const app = createApp({ logger: { debug: sink, info: sink, warn: sink, error: sink } });
      let pulled = 0;
      async function* source() {
        pulled++;
        yield "x";
      }
      app.bind("/s", { style: "object" }, (_, ctx) => make(ctx as never, source()));
      const res = await app.request("/s");
      assert.equal(res.status, 500);
      assert.equal(pulled, 0);
      assert.ok(
        logs.some((l) => typo(name, "hearbeat", "heartbeat").test(l.replace(/^.*? \[usrv\]/, "[usrv]"))),
        logs.join("\n"),
      );
    });
  }
});
