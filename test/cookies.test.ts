/**
 * Headers and cookies on ordinary results (issue 13, item 3): `ctx.header`,
 * `ctx.cookies`, `ctx.setCookie` with RFC 6265bis's rules, signed cookies
 * with key rotation; on both faces, and sealed answers keep them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConsoleLogger, createApp } from "usrv";
import { json, matrix } from "./_setup.js";
import { client, open } from "./fixtures/v1-requests.js";

const OLD = "an old secret of at least thirty-two bytes";
const NEW = "a new secret of at least thirty-two bytes!";

/** The `name=value` pairs of Set-Cookie lines, as a browser sends them back. */
const jar = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((l) => l.split(";")[0])
    .join("; ");

matrix(
  "ctx.header and cookies on ordinary results",
  (app) => {
    void app.identify("server-secret");
    app.bind("/items", { methods: ["POST"] }, ({ name }, ctx) => {
      ctx.header("Location", `/items/${name}`).header("x-count", 1);
      return [201, name];
    });
    app.bind("/login", { methods: ["POST"], style: "object" }, (_, ctx) => {
      ctx.setCookie("sid", "a b;c", { signed: true, maxAge: 60, secure: true });
      ctx.setCookie("theme", "dark");
      return [200, "in"];
    });
    app.bind("/me", { style: "object" }, (_, ctx) => [
      200,
      ctx.cookie("sid", { signed: true }) ?? null,
      ctx.cookie("theme") ?? null,
    ]);
    app.bind("/logout", { methods: ["POST"], style: "object" }, (_, ctx) => {
      ctx.deleteCookie("sid");
      return [204];
    });
    app.bind("/bad", { style: "object" }, (_, ctx) => {
      ctx.header("x-evil", "a\r\nset-cookie: x=1");
      return [200];
    });
    app.bind("/own", { style: "object" }, (_, ctx) => {
      ctx.header("x-mine", "yes").setCookie("r8", "1");
      return new Response("raw", { headers: { "content-type": "text/plain" } });
    });
  },
  (send, logs) => {
    it("ctx.header sets a header of an ordinary result: a 201 with Location", async () => {
      const res = await send()("/items", {
        method: "POST",
        body: '{"name":"pen"}',
        headers: { "content-type": "application/json" },
      });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("location"), "/items/pen");
      assert.equal(res.headers.get("x-count"), "1");
      assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
      assert.equal(await res.json(), "pen");
    });

    it("ctx.setCookie: each cookie its own Set-Cookie line, with the defaults; read back by name", async () => {
      const res = await send()("/login", { method: "POST" });
      const lines = res.headers.getSetCookie();
      assert.equal(lines.length, 2);
      assert.match(
        lines[0]!,
        /^sid=a%20b%3Bc\.[\w-]{43}; Max-Age=60; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
      );
      assert.equal(lines[1], "theme=dark; Path=/; HttpOnly; SameSite=Lax");
      assert.deepEqual(await json(await send()("/me", { headers: { cookie: jar(res) } }), 200), [
        "a b;c",
        "dark",
      ]);
    });

    it("a signed cookie with a bad signature, or none, reads as absent", async () => {
      const good = jar(await send()("/login", { method: "POST" }));
      const forged = good.replace("a%20b", "a%20x");
      assert.deepEqual(await json(await send()("/me", { headers: { cookie: forged } }), 200), [null, "dark"]);
      assert.deepEqual(await json(await send()("/me", { headers: { cookie: "sid=a b;c" } }), 200), [
        null,
        null,
      ]);
    });

    it("ctx.deleteCookie expires it now", async () => {
      const res = await send()("/logout", { method: "POST" });
      assert.deepEqual(res.headers.getSetCookie(), ["sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"]);
    });

    it("a header value with CR or LF is a 500 (logged), never a split head", async () => {
      const res = await send()("/bad");
      assert.equal(res.status, 500);
      assert.equal(res.headers.get("set-cookie"), null);
      assert.ok(logs().some((l) => l.includes("a control character (CR, LF, NUL...)")));
    });

    it("headers and cookies apply to a handler's own Response too", async () => {
      const res = await send()("/own");
      assert.equal(res.headers.get("x-mine"), "yes");
      assert.deepEqual(res.headers.getSetCookie(), ["r8=1; Path=/; HttpOnly; SameSite=Lax"]);
      assert.equal(await res.text(), "raw");
    });

    it("a sealed answer keeps its headers and every Set-Cookie line", async () => {
      const res = await send()("/login", {
        method: "POST",
        headers: { "sender-public-key": client.publicKey },
      });
      assert.equal(res.headers.getSetCookie().length, 2);
      assert.equal(await open(res), "in");
    });
  },
  { cookieKeys: [NEW] },
);

describe("cookies: RFC 6265bis rules and key rotation", () => {
  it("what a browser would refuse or misread throws when set", () => {
    const app = createApp({ logLevel: "silent" });
    const errors: string[] = [];
    app.bind("/x", { style: "object" }, (_, ctx) => {
      const cases: [string, string, object][] = [
        ["bad name", "v", {}],
        ["ok", "v", { sameSite: "None" }],
        ["ok", "v", { partitioned: true }],
        ["__Secure-x", "v", {}],
        ["__Host-x", "v", { secure: true, domain: "example.com" }],
        ["__Host-x", "v", { secure: true, path: "/a" }],
        ["ok", "v", { maxAge: 401 * 24 * 3600 }],
        ["ok", "v", { maxAge: 1.5 }],
        ["ok", "v", { path: "/a;b" }],
        ["ok", "v", { domain: "a b" }],
        ["ok", "v", { expires: new Date(Number.NaN) }],
        ["ok", "v", { signed: true }], // no cookieKeys
        ["ok", "x".repeat(5000), {}],
      ];
      for (const [name, value, options] of cases) {
        try {
          ctx.setCookie(name, value, options);
          errors.push("accepted");
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      return [200, errors];
    });
    return app.request("/x").then(async (res) => {
      const got = (await res.json()) as string[];
      assert.equal(got.length, 13);
      for (const m of got) assert.match(m, /^\[usrv\] cookie "/, m);
      assert.match(got[11]!, /cookieKeys/);
    });
  });

  it("cookieKeys: short keys are refused at createApp; a rotated key still verifies old cookies", async () => {
    assert.throws(() => createApp({ cookieKeys: ["short"] }), /at least 32 bytes/);
    assert.throws(() => createApp({ cookieKeys: "one" as never }), /cookieKeys/);
    const before = createApp({ logLevel: "silent", cookieKeys: [OLD] });
    const after = createApp({ logLevel: "silent", cookieKeys: [NEW, OLD] });
    const dropped = createApp({ logLevel: "silent", cookieKeys: [NEW] });
    for (const app of [before, after, dropped]) {
      app.bind("/set", { style: "object" }, (_, ctx) => {
        ctx.setCookie("u", "ann", { signed: true });
        return [200];
      });
      app.bind("/get", { style: "object" }, (_, ctx) => [200, ctx.cookie("u", { signed: true }) ?? null]);
      app.bind("/get-v", { style: "object" }, (_, ctx) => [200, ctx.cookie("v", { signed: true }) ?? null]);
    }
    const old = jar(await before.request("/set"));
    assert.equal(await (await after.request("/get", { headers: { cookie: old } })).json(), "ann");
    assert.equal(await (await dropped.request("/get", { headers: { cookie: old } })).json(), null);
    const fresh = jar(await after.request("/set"));
    assert.notEqual(fresh, old, "the first key signs");
    assert.equal(await (await dropped.request("/get", { headers: { cookie: fresh } })).json(), "ann");
    // the signature covers the name: the value moved to another cookie does not verify
    const moved = fresh.replace(/^u=/, "v=");
    assert.equal(await (await dropped.request("/get-v", { headers: { cookie: moved } })).json(), null);
  });

  it("a signed cookie read in an app without cookieKeys is a 500 naming the fix, as setting one is", async () => {
    const lines: string[] = [];
    const app = createApp({ logger: new ConsoleLogger(40, (l) => lines.push(l)) });
    app.bind("/get", { style: "object" }, (_, ctx) => [200, ctx.cookie("u", { signed: true }) ?? null]);
    app.bind("/plain", { style: "object" }, (_, ctx) => [200, ctx.cookie("u") ?? null]);
    const res = await app.request("/get", { headers: { cookie: "u=ann.c2ln" } });
    assert.equal(res.status, 500);
    assert.match(lines.join(""), /signed cookies need keys: createApp\(\{ cookieKeys: \[secret\] \}\)/);
    assert.equal(await (await app.request("/plain", { headers: { cookie: "u=ann" } })).json(), "ann");
  });

  it("ctx.header: names and values checked once are remembered apart, and a bad one is refused after good ones", async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/x", { style: "object" }, (_, ctx) => {
      const refused = (name: string, value: string) => {
        try {
          ctx.header(name, value);
          return false;
        } catch {
          return true;
        }
      };
      // each name and value below passes alone first, so a memo keyed on either one is exercised
      return [
        200,
        [
          refused("x-memo", "fine"),
          refused("x-memo", "fine"),
          refused("x-memo", "bad\r\nx-injected: 1"),
          refused("bad name", "fine"),
          refused("x-memo", "\u0100"),
          refused("x-other", "fine"),
        ],
      ];
    });
    for (let i = 0; i < 3; i++) {
      const got = await (await app.request("/x")).json();
      assert.deepEqual(got, [false, false, true, true, true, false]);
    }
  });

  it("ctx.header refuses the headers usrv sets itself", async () => {
    const app = createApp({ logLevel: "silent" });
    const seen: string[] = [];
    app.bind("/x", { style: "object" }, (_, ctx) => {
      for (const name of ["content-length", "Set-Cookie", "bad name"]) {
        try {
          ctx.header(name, "1");
        } catch (e) {
          seen.push((e as Error).message);
        }
      }
      return [200, seen];
    });
    const got = (await (await app.request("/x")).json()) as string[];
    assert.equal(got.length, 3);
    assert.match(got[1]!, /use ctx.setCookie/);
  });
});
