/**
 * src/pipeline.ts, the one file that chains the steps for both faces: what
 * the mutation run of the `pipeline` group (docs/mutation.md) found unpinned.
 * Bounds first (the request target, the body under hooks, the timeouts of
 * hooks, what reaches a handler), then the answers' shapes.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { createApp, HttpError } from "usrv";
import { json, matrix, quietApp, withoutId } from "./_setup.js";

/** What the hooks saw, per request (the test reads and resets it). */
let seen: string[] = [];
/** The paths onError saw. */
let errors: string[] = [];

matrix(
  "pipeline: bounds",
  (app) => {
    app.onRequest((ctx) => {
      seen.push(`onRequest ${ctx.path.length}`);
      if (ctx.headers["x-answer"] === "sync") return [202, "answered by onRequest"];
      if (ctx.headers["x-answer"] === "async") return Promise.resolve([202, "answered later"]);
      if (ctx.headers["x-answer"] === "reject") return Promise.reject(new Error("rejected with a secret"));
      if (ctx.headers["x-answer"] === "throw") throw new Error("thrown with a secret");
      if (ctx.headers["x-answer"] === "bad") return "not a result" as never;
      return undefined;
    });
    app.bind("/exactly", () => [200, "served"]);
    app.bind("/echo", { methods: ["POST"], bodyLimit: 16 }, ({ n }) => [200, n]);
    app.group("/sealed", { encrypted: true }, (g) => {
      g.onResponse((answer) => {
        answer.headers["x-seen"] = String(answer.status);
      });
      g.bind("/x", () => [200, "leaked"]);
    });
    app.group("/slow", { timeout: 40, hooks: { onRequest: () => new Promise(() => {}) } }, (g) =>
      g.bind("/user/<int:id>", () => [200, "never"]),
    );
    app.group("/slow-answer", { timeout: 40, hooks: { onResponse: () => new Promise(() => {}) } }, (g) =>
      g.bind("/x", () => [200, "never"]),
    );
  },
  (send) => {
    // maxUrlLength 64 below: the request target is "/exactly?" and padding
    const target = (n: number) => `/exactly?p=${"a".repeat(n - "/exactly?p=".length)}`;
    it("USRV_ERR_URI_TOO_LONG: a request target of exactly maxUrlLength bytes is served; one byte more is a 414", async () => {
      seen = [];
      assert.equal(await json(await send()(target(64)), 200), "served");
      const body = withoutId(await json(await send()(target(65)), 414));
      assert.equal(body.code, "USRV_ERR_URI_TOO_LONG");
      assert.equal(body.message, "the request target is over 64 bytes");
    });
    it("H1: onRequest sees a refused target's path cut to its first 64 characters", async () => {
      seen = [];
      await (await send()(`/${"b".repeat(100)}`)).body?.cancel();
      assert.deepEqual(seen, ["onRequest 64"]);
    });
    it("H1: onRequest answers a refused target, sync or async", async () => {
      for (const how of ["sync", "async"]) {
        const res = await send()(target(65), { headers: { "x-answer": how } });
        assert.equal(await json(res, 202), how === "sync" ? "answered by onRequest" : "answered later");
      }
    });
    it("H7: onRequest failing on a refused target: a rejection or a throw is usrv's 500, a non-result names the hook", async () => {
      for (const how of ["reject", "throw"]) {
        const text = await (await send()(target(65), { headers: { "x-answer": how } })).text();
        assert.equal(withoutId(JSON.parse(text)).code, "USRV_ERR_INTERNAL", how);
        assert.doesNotMatch(text, /secret/);
      }
      const bad = withoutId(await json(await send()(target(65), { headers: { "x-answer": "bad" } }), 500));
      assert.equal(bad.code, "USRV_ERR_HOOK_RESULT");
      assert.match(String(bad.message), /^an onRequest hook of GET \/exactly\?p=a+ returned string/);
    });
    it("H1: a body under hooks reaches the handler; over the route's bodyLimit it is a 413", async () => {
      const ok = await send()("/echo", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"n":1}',
      });
      assert.equal(await json(ok, 200), 1);
      const big = await send()("/echo", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `{"n":"${"x".repeat(32)}"}`,
      });
      assert.equal(withoutId(await json(big, 413)).code, "USRV_ERR_BODY_TOO_LARGE");
    });
    it("G1, H3: an encrypted group's route refuses a plain request under hooks; onResponse sees the 403", async () => {
      const res = await send()("/sealed/x");
      assert.equal(res.status, 403);
      assert.equal(res.headers.get("x-seen"), "403", "onResponse sees the refusal");
      assert.doesNotMatch(await res.text(), /leaked/);
    });
    it("H7: an async hook past the timeout is a 503 with Retry-After, naming the hook and the route", async () => {
      const res = await send()("/slow/user/7");
      assert.equal(res.headers.get("retry-after"), "1");
      const body = withoutId(await json(res, 503));
      assert.equal(body.code, "USRV_ERR_TIMEOUT");
      assert.equal(body.message, "the onRequest hook of GET /slow/user/<int:id> did not finish within 40 ms");
      const late = await send()("/slow-answer/x");
      assert.equal(late.headers.get("retry-after"), "1");
      const lateBody = withoutId(await json(late, 503));
      assert.equal(lateBody.message, "the onResponse hook of GET /slow-answer/x did not finish within 40 ms");
    });
  },
  { maxUrlLength: 64 },
);

matrix(
  "pipeline: answers' shapes",
  (app) => {
    app.onError((error, ctx) => {
      errors.push(ctx.path);
      if (ctx.path === "/err/bodiless") return [204];
      if (ctx.path === "/cookie-err/plain") return [418, "plain"];
      if (ctx.path === "/cookie-err/response") return new Response("as a Response", { status: 418 });
      if (ctx.path === "/err/throw") throw new Error("onError bug");
      if (ctx.path === "/err/response") return new Response("not here", { status: 405 });
      if (ctx.path === "/err/own-allow")
        return new Response("x", { status: 405, headers: { allow: "POST, PUT" } });
      if (ctx.path === "/err/async") return Promise.resolve([418, "later"]);
      if (ctx.path === "/err/async-throw") return Promise.reject(new Error("async onError bug"));
      if (ctx.path === "/err/bad") return "not a result" as never;
      if (ctx.path === "/err/plain") return [418, "plain"];
      void error;
      return undefined;
    });
    app.bind("/err/<name>", { methods: ["POST"] }, () => [200, "post only"]);
    app.bind("/ok", () => [200, { a: 1 }]);
    app.bind("/cookie-err/<how>", { style: "object" }, (_, ctx) => {
      ctx.setCookie("kept", "1");
      throw new Error("after a cookie");
    });
    app.bind("/up", { methods: ["POST"], body: "stream", style: "object" }, async (_, ctx) => [
      200,
      await new Response(ctx.stream).text(),
    ]);
    app.group("/throws", (g) => {
      g.onRequest((ctx) => {
        if (ctx.path === "/throws/request") throw new Error("onRequest bug");
      });
      g.beforeHandle((_, ctx) => {
        if (ctx.path === "/throws/before") throw new Error("beforeHandle bug");
        if (ctx.path === "/throws/before-async") return Promise.reject(new Error("beforeHandle bug"));
        if (ctx.path === "/throws/before-http") throw new HttpError(401, "who are you?");
      });
      g.onResponse((_, ctx) => {
        if (ctx.path === "/throws/response") throw new Error("onResponse bug");
      });
      g.bind("/<where>", () => [200, "fine"]);
      g.bind("/handler/<where>", () => {
        throw new Error("handler bug");
      });
    });
    app.bind("/pos/<a>", (a: string, b: string) => [200, [a, b]]);
    app.bind("/q", { style: "object" }, (_, ctx) => [200, Object.fromEntries(ctx.query)]);
    app.group("/nf", (g) => {
      g.notFound((ctx) =>
        ctx.path === "/nf/async"
          ? Promise.resolve([404, "async not found"])
          : ctx.path === "/nf/reject"
            ? Promise.reject(new Error("notFound rejected with a secret"))
            : ctx.path === "/nf/async-bad"
              ? Promise.resolve("not a result" as never)
              : ctx.path === "/nf/throw"
                ? (() => {
                    throw new Error("notFound bug with a secret");
                  })()
                : ("not a result" as never),
      );
    });
    app.group("/before", { hooks: { beforeHandle: () => "not a result" as never } }, (g) =>
      g.bind("/x", () => [200, "never"]),
    );
  },
  (send, logs) => {
    it("O1, H4: a handler's 2xx object is sent as it is, without a requestId, and no onError runs", async () => {
      errors = [];
      assert.deepEqual(await json(await send()("/ok"), 200), { a: 1 });
      assert.deepEqual(errors, []);
    });
    it("E6: a client that sends Usrv-Encryption learns the versions, on a reply and on a Response", async () => {
      const headers = { "usrv-encryption": "1" };
      const ok = await send()("/ok", { headers });
      assert.equal(ok.headers.get("usrv-encryption"), "1, 2");
      await ok.text();
      const res = await send()("/err/response", { headers });
      assert.equal(res.headers.get("usrv-encryption"), "1, 2");
      await res.text();
      const none = await send()("/ok");
      assert.equal(none.headers.get("usrv-encryption"), null);
      await none.text();
    });
    it("H4: onError's answer keeps the Set-Cookie lines set before the error, as a reply and as a Response", async () => {
      for (const how of ["plain", "response"]) {
        const res = await send()(`/cookie-err/${how}`);
        assert.equal(res.status, 418);
        assert.deepEqual(res.headers.getSetCookie(), ["kept=1; Path=/; HttpOnly; SameSite=Lax"], how);
        await res.text();
      }
    });
    it('V13, H1: a body: "stream" route under hooks reads its body as it arrives', async () => {
      assert.equal(await json(await send()("/up", { method: "POST", body: "abc" }), 200), "abc");
    });
    it("H7: a hook that throws is usrv's 500 naming the hook and the route, its text in the log only", async () => {
      const cases = [
        ["/err/throw", "the onError hook of GET /err/throw failed; see the server log"],
        ["/throws/request", "the onRequest hook of GET /throws/<where> failed; see the server log"],
        ["/throws/before", "the beforeHandle hook of GET /throws/<where> failed; see the server log"],
        ["/throws/before-async", "the beforeHandle hook of GET /throws/<where> failed; see the server log"],
        ["/throws/handler/x", "the handler for GET /throws/handler/<where> failed; see the server log"],
        ["/throws/response", "the onResponse hook of GET /throws/<where> failed; see the server log"],
      ] as const;
      for (const [path, message] of cases) {
        const text = await (await send()(path)).text();
        const body = withoutId(JSON.parse(text));
        assert.equal(body.code, "USRV_ERR_INTERNAL", path);
        assert.equal(body.message, message);
        assert.doesNotMatch(text, /bug/);
      }
      // what a beforeHandle hook throws is still what onError and the envelope see
      const denied = withoutId(await json(await send()("/throws/before-http"), 401));
      assert.equal(denied.message, "who are you?");
    });
    it("V1, H6: positional parameters under hooks get their values", async () => {
      assert.deepEqual(await json(await send()("/pos/x?b=y"), 200), ["x", "y"]);
    });
    it("V1: a URL without a query has no query values", async () => {
      assert.deepEqual(await json(await send()("/q"), 200), {});
      assert.deepEqual(await json(await send()("/q?a=1"), 200), { a: "1" });
    });
    it("H4: onError's answer drops the error's Content-Type and Content-Length, adds no cookie", async () => {
      const res = await send()("/err/bodiless");
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("content-type"), null);
      assert.equal(res.headers.get("content-length"), null);
      assert.equal(res.headers.get("set-cookie"), null);
      assert.equal(await res.text(), "");
      const plain = await send()("/err/plain");
      assert.equal(plain.headers.get("allow"), "POST");
      assert.equal(plain.headers.get("set-cookie"), null);
      assert.equal(await json(plain, 418), "plain");
    });
    it("H4: onError answering with a Response keeps the 405's Allow, not its Content-Length (HEAD too); the Response's own header wins", async () => {
      const res = await send()("/err/response");
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "POST");
      assert.ok(
        [null, "8"].includes(res.headers.get("content-length")),
        String(res.headers.get("content-length")),
      );
      assert.equal(await res.text(), "not here");
      const head = await send()("/err/response", { method: "HEAD" });
      assert.equal(head.status, 405);
      assert.ok([null, "8"].includes(head.headers.get("content-length")), "not the error body's length");
      await head.text();
      const own = await send()("/err/own-allow");
      assert.equal(own.headers.get("allow"), "POST, PUT");
      assert.equal(await own.text(), "x");
    });
    it("H4, H7: an async onError answers; one that rejects leaves usrv's 500, logged with the hook", async () => {
      assert.equal(await json(await send()("/err/async"), 418), "later");
      const body = withoutId(await json(await send()("/err/async-throw"), 500));
      assert.equal(body.code, "USRV_ERR_INTERNAL");
      assert.equal(body.message, "the onError hook of GET /err/async-throw failed; see the server log");
      assert.ok(logs().some((l) => l.includes("async onError bug")));
    });
    it("H7: a hook's answer that is not a result is a 500 naming the hook", async () => {
      const cases = [
        ["/err/bad", "an onError hook of GET /err/bad returned"],
        ["/nf/other", "a notFound hook of GET /nf/other returned"],
        ["/before/x", "a beforeHandle hook of GET /before/x returned"],
      ] as const;
      for (const [path, message] of cases) {
        const body = withoutId(await json(await send()(path), 500));
        assert.equal(body.code, "USRV_ERR_HOOK_RESULT", path);
        assert.ok(String(body.message).startsWith(message), `${path}: ${body.message}`);
      }
    });
    it("H5: an async notFound answers; one that throws is usrv's 500, its text in the log only", async () => {
      assert.equal(await json(await send()("/nf/async"), 404), "async not found");
      const res = await send()("/nf/throw");
      const text = await res.text();
      assert.equal(res.status, 500);
      assert.doesNotMatch(text, /secret/);
      assert.ok(logs().some((l) => l.includes("notFound bug with a secret")));
      const rejected = await send()("/nf/reject");
      assert.equal(rejected.status, 500);
      assert.doesNotMatch(await rejected.text(), /secret/);
      const bad = withoutId(await json(await send()("/nf/async-bad"), 500));
      assert.match(String(bad.message), /^a notFound hook of GET \/nf\/async-bad returned string/);
    });
    it("B6: a 405's message names the method, the path and what is allowed", async () => {
      const body = withoutId(await json(await send()("/err/x", { method: "PUT" }), 405));
      assert.equal(body.message, "PUT is not bound on /err/x (allowed: POST)");
    });
  },
);

it("S5: the access line's time is the request's own, and none is written with info off", async () => {
  const { app, logs } = quietApp();
  app.bind("/t", () => [200, "t"]);
  const t0 = performance.now();
  await (await app.request("/t")).text();
  const elapsed = performance.now() - t0;
  const line = logs.find((l) => l.startsWith("info:GET /t 200 "));
  assert.ok(line, logs.join("\n"));
  const ms = Number(/ (\d+\.\d\d)ms/.exec(line)![1]);
  assert.ok(ms >= 0 && ms <= elapsed + 0.01, `${ms} ms logged, ${elapsed} ms taken`);
  const lines: string[] = [];
  const quiet = createApp({
    logger: {
      debug: () => {},
      info: (_: object, msg?: string) => lines.push(msg ?? ""),
      warn: () => {},
      error: () => {},
      isLevelEnabled: (level: string) => level !== "info" && level !== "debug",
    },
  });
  quiet.bind("/t", () => [200, "t"]);
  quiet.bind("/boom", () => {
    throw new Error("boom");
  });
  await (await quiet.request("/t")).text();
  await (await quiet.request("/boom")).text(); // its cause is logged at error, still no access line
  assert.deepEqual(lines, []);
});

matrix(
  "pipeline: a path no route matches",
  (app) => {
    app.notFound((ctx) => {
      ctx.setCookie("seen", "1", { signed: true });
      return [404, { nothing: ctx.path }];
    });
  },
  (send) => {
    it("H5, G2: a notFound hook signs cookies with the app's cookieKeys", async () => {
      const res = await send()("/nowhere");
      assert.deepEqual(await json(res, 404), { nothing: "/nowhere" });
      const [line] = res.headers.getSetCookie();
      assert.match(String(line), /^seen=1\.[A-Za-z0-9_-]{43}; /);
    });
  },
  { cookieKeys: ["a secret of at least thirty-two bytes, for tests"] },
);

matrix(
  "pipeline: no hooks",
  (app) => {
    app.bind("/up", { methods: ["POST"], body: "stream", style: "object" }, async (_, ctx) => [
      200,
      await new Response(ctx.stream).text(),
    ]);
  },
  (send) => {
    it('V13: a body: "stream" route reads its body as it arrives', async () => {
      assert.equal(await json(await send()("/up", { method: "POST", body: "abc" }), 200), "abc");
    });
    it('V13: a signed or encrypted request to a body: "stream" route is a 400 USRV_ERR_ENCRYPTED_STREAM', async () => {
      const res = await send()("/up", { method: "POST", body: "abc", headers: { "usrv-encryption": "2" } });
      const body = withoutId(await json(res, 400));
      assert.equal(body.code, "USRV_ERR_ENCRYPTED_STREAM");
      assert.equal(body.message, "POST /up reads its body as it arrives: send it in clear");
    });
  },
);

/** A Standard Schema that takes any value as it is, or refuses every one. */
function schema(ok: boolean) {
  return {
    "~standard": {
      version: 1 as const,
      vendor: "test",
      validate: (value: unknown) => (ok ? { value } : { issues: [{ message: "refused" }] }),
    },
  };
}

matrix(
  "pipeline: routes with schemas",
  (app) => {
    app.group("/hooked", (g) => {
      g.onRequest((ctx) => {
        ctx.state.who = "set by onRequest";
      });
      g.bind("/state", { query: schema(true), style: "object" }, (_, ctx) => [200, ctx.state.who]);
    });
    app.bind("/fields", { methods: ["POST"], query: schema(true) }, ({ b }) => [200, b ?? null]);
    app.bind("/unchecked", { response: schema(false) }, () => [200, "sent unchecked"]);
  },
  (send) => {
    it("V10, H1: a route with schemas under hooks sees the context its onRequest hooks set", async () => {
      assert.equal(await json(await send()("/hooked/state"), 200), "set by onRequest");
    });
    it("V10: a route with schemas binds the body's fields by name", async () => {
      const res = await send()("/fields", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"b": 2}',
      });
      assert.equal(await json(res, 200), 2);
    });
    it("V12: a response schema is not checked unless the app asks (checkResponses)", async () => {
      assert.equal(await json(await send()("/unchecked"), 200), "sent unchecked");
    });
  },
);
