/**
 * Rate limiting (issue 16, item 6) with `usrv/rate-limit`: token buckets by
 * address over a real socket, by a function on both faces, by the verified
 * sender key, refill on an injected clock (no test waits on time), the
 * memory bound, and a store that fails (allow, or refuse with a 503).
 * The Redis store runs against a real redis-server in serve-hosts.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createApp } from "usrv";
import { MemoryRateLimitStore, RedisRateLimitStore, rateLimit } from "usrv/rate-limit";
import { generateKeypair } from "usrv/secp256k1";
import { json, matrix, quietApp, withoutId } from "./_setup.js";
import { sealed, server } from "./fixtures/v1-requests.js";

describe("issue 16 item 6: rate limits by address, over a real socket", () => {
  it("a burst of 3 passes, the 4th is a 429 with Retry-After and the RateLimit fields", async () => {
    const { app } = quietApp();
    app.use(rateLimit({ limit: 3, window: 60_000 }));
    app.bind("/x", () => [200, "ok"]);
    const s = await app.run({ port: 0 });
    try {
      const seen: [number, string | null][] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${s.url}/x`);
        seen.push([res.status, res.headers.get("ratelimit")]);
        assert.equal(res.headers.get("ratelimit-policy"), '"default";q=3;w=60');
        if (res.status === 429) {
          assert.equal(res.headers.get("retry-after"), "20");
          assert.equal(withoutId(await res.json()).code, "USRV_ERR_RATE_LIMITED");
        } else await res.body?.cancel();
      }
      assert.deepEqual(seen, [
        [200, '"default";r=2;t=20'],
        [200, '"default";r=1;t=40'],
        [200, '"default";r=0;t=60'],
        [429, '"default";r=0;t=60'],
      ]);
    } finally {
      await s.close();
    }
  });
});

let clock = 0;
const store = new MemoryRateLimitStore({ now: () => clock });

matrix(
  "issue 16 item 6: rate limits by a key of yours",
  (app) => {
    app.use(
      rateLimit({
        limit: 2,
        window: 1_000,
        burst: 4,
        key: (ctx) => ctx.headers["x-api-key"] as string,
        store,
      }),
    );
    app.bind("/x", () => [200, "ok"]);
  },
  (send) => {
    const call = (key?: string) => send()("/x", key ? { headers: { "x-api-key": key } } : {});
    it("each key its own bucket of `burst`, refilling at limit / window (an injected clock)", async () => {
      clock = 1_000_000;
      const k = `k-${Math.random()}`;
      const statuses = async (n: number, key = k) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          const res = await call(key);
          out.push(res.status);
          await res.body?.cancel();
        }
        return out;
      };
      assert.deepEqual(await statuses(5), [200, 200, 200, 200, 429]);
      assert.deepEqual(await statuses(1, `${k}-other`), [200], "another key");
      clock += 499; // 0.998 of a token back: still none
      assert.deepEqual(await statuses(1), [429]);
      clock += 1; // one token (2 a second)
      assert.deepEqual(await statuses(2), [200, 429]);
      clock += 10_000; // full again, never more than the burst
      assert.deepEqual(await statuses(5), [200, 200, 200, 200, 429]);
    });
    it("a request the function gives no key for is not limited", async () => {
      for (let i = 0; i < 6; i++) assert.equal(await json(await call(), 200), "ok");
    });
  },
);

describe("issue 16 item 6: by the verified sender key", () => {
  it("signed requests count by their key, after it verified; a forged one is refused before it counts", async () => {
    const { app } = quietApp();
    await app.identify("server-secret");
    assert.equal(app.publicKey, server.publicKey);
    app.use(rateLimit({ limit: 1, window: 60_000, key: "sender" }));
    app.bind("/pay", { methods: ["POST"] }, () => [200, "paid"]);
    const s = await app.run({ port: 0 });
    try {
      const other = generateKeypair("another client");
      const post = (init: RequestInit) => fetch(`${s.url}/pay`, init).then((r) => r.status);
      const forged = sealed("{}");
      forged.headers["sender-signature"] = sealed("{}", { key: other }).headers["sender-signature"]!;
      assert.equal(await post(forged), 401, "a bad signature: refused before the limiter");
      assert.equal(await post(sealed("{}")), 200);
      assert.equal(await post(sealed("{}", { key: other })), 200, "another key from the same address");
      assert.equal(await post(sealed("{}")), 429);
    } finally {
      await s.close();
    }
  });
});

describe("issue 16 item 6: the stores", () => {
  it("the memory store keeps at most maxKeys buckets, forgetting the least recently used", () => {
    const bounded = new MemoryRateLimitStore({ maxKeys: 3, now: () => 0 });
    const bucket = { capacity: 1, perSecond: 1 };
    for (const k of ["a", "b", "c"]) assert.equal(bounded.take(k, bucket).allowed, true);
    assert.equal(bounded.take("a", bucket).allowed, false); // "a" is now the most recent
    for (let i = 0; i < 10; i++) bounded.take(`flood-${i}`, bucket);
    assert.equal(bounded.size, 3);
    assert.equal(bounded.take("a", bucket).allowed, true, "forgotten: starts full");
  });

  it("a store that fails: the request is admitted and logged, or refused with a 503 when asked", async () => {
    const dead = new RedisRateLimitStore("redis://127.0.0.1:1", { timeout: 200 });
    for (const onStoreError of ["allow", "refuse"] as const) {
      const { app, logs } = quietApp({ logLevel: 30 });
      app.use(rateLimit({ limit: 1, window: 1_000, key: () => "k", store: dead, onStoreError }));
      app.bind("/x", () => [200, "ok"]);
      const res = await app.request("/x");
      if (onStoreError === "allow") {
        assert.equal(await json(res, 200), "ok");
        assert.ok(
          logs.some((l) => l.includes("rate limit store failed")),
          logs.join("\n"),
        );
      } else {
        assert.equal(withoutId(await json(res, 503)).code, "USRV_ERR_RATE_LIMIT_STORE");
        assert.equal(res.headers.get("retry-after"), "1");
      }
    }
    await dead.close();
  });

  it("options it cannot honour throw", () => {
    assert.throws(() => rateLimit({ limit: 0, window: 1_000 }), /limit must be/);
    assert.throws(() => rateLimit({ limit: 1, window: 0.5 }), /window must be/);
    assert.throws(() => rateLimit({ limit: 1, window: 1_000, key: "cookie" as "address" }), /key is/);
    assert.throws(() => rateLimit({ limit: 1, window: 1_000, name: 'x";q=1' }), /name must be/);
    assert.throws(() => new RedisRateLimitStore("http://x"), /redis:\/\//);
    assert.throws(() => createApp().use(rateLimit({ limit: 1, window: 1, burst: -1 })), /burst/);
  });
});
