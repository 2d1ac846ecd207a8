/**
 * Headers and cookies on ordinary results (issue 13, item 3): `ctx.header`,
 * `ctx.cookies`, `ctx.setCookie` with RFC 6265bis's rules, signed cookies
 * with key rotation; on both faces, and sealed answers keep them.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { ConsoleLogger, type CookieOptions, createApp } from "usrv";
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
    app.bind("/non-ascii-path", { style: "object" }, (_, ctx) => {
      ctx.setCookie("n", "v", { path: "/\u0100" });
      return [200];
    });
    app.bind("/own-header", { style: "object" }, (_, ctx) => {
      ctx.header("x-mine", "only");
      return new Response("raw");
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
      assert.deepEqual(res.headers.getSetCookie(), [], "a header alone adds no Set-Cookie line");
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

    it("a cookie path above U+00FF is refused when set: a 500 on every face, never a dropped connection", async () => {
      const res = await send()("/non-ascii-path");
      assert.equal(res.status, 500);
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.ok(logs().some((l) => l.includes("hold only visible ASCII or spaces")));
    });

    it("a header alone on a handler's own Response adds no Set-Cookie line", async () => {
      const res = await send()("/own-header");
      assert.equal(res.headers.get("x-mine"), "only");
      assert.deepEqual(res.headers.getSetCookie(), []);
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
        ["ok", "v", { sigend: true }], // a typo would drop the signature unseen
        ["ok", "a\uD800b", {}], // a lone surrogate: no UTF-8 for it
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
      assert.equal(got.length, 15);
      for (const m of got) assert.match(m, /^\[usrv\] cookie "/, m);
      assert.match(got[11]!, /cookieKeys/);
      assert.equal(
        got[13],
        '[usrv] cookie "ok": unknown option "sigend" (did you mean "signed"?); known: maxAge, expires, path, domain, secure, httpOnly, sameSite, partitioned, signed',
      );
      assert.equal(
        got[14],
        '[usrv] cookie "ok": the value holds a lone surrogate (half of a UTF-16 pair), which UTF-8 cannot encode',
      );
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

/**
 * What `ctx.setCookie(name, value, options)` makes of each case, one request
 * per case: the Set-Cookie line, or the message it throws.
 */
async function written(
  cases: [name: unknown, value: unknown, options?: CookieOptions][],
  cookieKeys?: (string | Uint8Array)[],
): Promise<string[]> {
  const app = createApp({ logLevel: "silent", ...(cookieKeys ? { cookieKeys } : {}) });
  let i = 0;
  app.bind("/x", { style: "object" }, (_, ctx) => {
    const [name, value, options] = cases[i++]!;
    try {
      ctx.setCookie(name as string, value as string, options);
    } catch (e) {
      return [200, (e as Error).message];
    }
    return [204];
  });
  const out: string[] = [];
  for (const _ of cases) {
    const res = await app.request("/x");
    out.push(res.status === 204 ? res.headers.getSetCookie().join("\n") : String(await res.json()));
  }
  return out;
}

/** The cookies a handler reads from this `Cookie` header (none: no header). */
async function read(cookie?: string): Promise<Record<string, string>> {
  const app = createApp({ logLevel: "silent" });
  app.bind("/x", { style: "object" }, (_, ctx) => [200, { ...ctx.cookies }]);
  const res = await app.request("/x", cookie === undefined ? {} : { headers: { cookie } });
  return (await json(res, 200)) as Record<string, string>;
}

const DAYS_400 = 400 * 24 * 3600;
const fail = (name: string, why: string) => `[usrv] cookie ${JSON.stringify(name)}: ${why}`;
const BAD_PATH = 'path must start with "/" and hold only visible ASCII or spaces, no ";"';
const DEFAULTS = "Path=/; HttpOnly; SameSite=Lax";

describe("cookies: the attributes as written, and each refusal's message", () => {
  it("cookies: maxAge of 400 days exactly is written, one second more or a negative one refused", async () => {
    const why = fail("n", "maxAge must be whole seconds from 0 to 400 days (RFC 6265bis)");
    assert.deepEqual(
      await written([
        ["n", "v", { maxAge: DAYS_400 }],
        ["n", "v", { maxAge: DAYS_400 + 1 }],
        ["n", "v", { maxAge: 0 }],
        ["n", "v", { maxAge: -1 }],
        ["n", "v", { maxAge: 1.5 }],
      ]),
      [`n=v; Max-Age=34560000; ${DEFAULTS}`, why, `n=v; Max-Age=0; ${DEFAULTS}`, why, why],
    );
  });

  it("cookies: expires is written as an HTTP date; anything but a valid Date is refused", async () => {
    const why = fail("n", "expires must be a valid Date");
    assert.deepEqual(
      await written([
        ["n", "v", { expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) }],
        ["n", "v", { expires: "2030-01-02" as never }],
        ["n", "v", { expires: new Date(Number.NaN) }],
      ]),
      [`n=v; Expires=Wed, 02 Jan 2030 03:04:05 GMT; ${DEFAULTS}`, why, why],
    );
  });

  it("cookies: a path starts with / and holds visible ASCII or spaces but no ;: control characters (0x00-0x1f, 0x7f) and non-ASCII refused", async () => {
    const why = fail("n", BAD_PATH);
    const ok = (path: string) => `n=v; Path=${path}; HttpOnly; SameSite=Lax`;
    assert.deepEqual(
      await written([
        ["n", "v", { path: "/docs/" }],
        ["n", "v", { path: "/a b" }],
        ["n", "v", { path: "/a~" }],
        ["n", "v", { path: "docs/" }],
        ["n", "v", { path: "/a;b" }],
        ["n", "v", { path: "/a\u0001" }],
        ["n", "v", { path: "/a\t" }],
        ["n", "v", { path: "/a\u001f" }],
        ["n", "v", { path: "/a\u007f" }],
        ["n", "v", { path: "/caf\u00e9" }],
        ["n", "v", { path: "/\u0100" }],
      ]),
      [ok("/docs/"), ok("/a b"), ok("/a~"), why, why, why, why, why, why, why, why],
    );
  });

  it("cookies: a Domain is written as given, a leading dot kept; what is not a host name (an empty label, a label with a hyphen at an end) is refused", async () => {
    const why = fail("n", "domain must be a host name");
    const ok = (domain: string) => `n=v; Path=/; Domain=${domain}; HttpOnly; SameSite=Lax`;
    assert.deepEqual(
      await written([
        ["n", "v", { domain: "example.com" }],
        ["n", "v", { domain: ".example.com" }],
        ["n", "v", { domain: "a" }],
        ["n", "v", { domain: "x-1.example9" }],
        ["n", "v", { domain: "example.com." }],
        ["n", "v", { domain: "-a.com" }],
        ["n", "v", { domain: "a b" }],
        ["n", "v", { domain: "" }],
        ["n", "v", { domain: "a..b" }],
        ["n", "v", { domain: "a.-b.com" }],
        ["n", "v", { domain: "a-.b.com" }],
      ]),
      [ok("example.com"), ok(".example.com"), ok("a"), ok("x-1.example9"), why, why, why, why, why, why, why],
    );
  });

  it("cookies: httpOnly false drops HttpOnly; sameSite is Strict, Lax or None (None and partitioned need secure)", async () => {
    assert.deepEqual(
      await written([
        ["n", "v", { httpOnly: false }],
        ["n", "v", { sameSite: "Strict" }],
        ["n", "v", { sameSite: "Lax" }],
        ["n", "v", { sameSite: "None", secure: true }],
        ["n", "v", { sameSite: "lax" as never }],
        ["n", "v", { sameSite: "" as never }],
        ["n", "v", { sameSite: "None" }],
        ["n", "v", { partitioned: true, secure: true, sameSite: "None" }],
        ["n", "v", { partitioned: true }],
      ]),
      [
        "n=v; Path=/; SameSite=Lax",
        "n=v; Path=/; HttpOnly; SameSite=Strict",
        "n=v; Path=/; HttpOnly; SameSite=Lax",
        "n=v; Path=/; Secure; HttpOnly; SameSite=None",
        fail("n", 'sameSite must be "Strict", "Lax" or "None"'),
        fail("n", 'sameSite must be "Strict", "Lax" or "None"'),
        fail("n", 'sameSite "None" needs secure: true'),
        "n=v; Path=/; Secure; HttpOnly; SameSite=None; Partitioned",
        fail("n", "partitioned needs secure: true"),
      ],
    );
  });

  it("cookies: the __Secure- and __Host- prefixes are written when their rules hold, refused otherwise", async () => {
    const host = fail("__Host-h", 'the __Host- prefix needs secure: true, path "/" and no domain');
    assert.deepEqual(
      await written([
        ["__Secure-s", "v", { secure: true }],
        ["__Secure-s", "v", {}],
        ["__Host-h", "v", { secure: true }],
        ["__Host-h", "v", {}],
        ["__Host-h", "v", { secure: true, path: "/a" }],
        ["__Host-h", "v", { secure: true, domain: "example.com" }],
        ["h", "v", { secure: true, path: "/a", domain: "example.com" }],
      ]),
      [
        "__Secure-s=v; Path=/; Secure; HttpOnly; SameSite=Lax",
        fail("__Secure-s", "the __Secure- prefix needs secure: true"),
        "__Host-h=v; Path=/; Secure; HttpOnly; SameSite=Lax",
        host,
        host,
        host,
        "h=v; Path=/a; Domain=example.com; Secure; HttpOnly; SameSite=Lax",
      ],
    );
  });

  it("cookies: deleteCookie takes the attributes a partitioned (CHIPS) or SameSite=None cookie is matched by", async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/x", { style: "object" }, (_, ctx) => {
      ctx.deleteCookie("__Host-embed", { secure: true, partitioned: true, sameSite: "None" });
      return [204];
    });
    assert.deepEqual((await app.request("/x")).headers.getSetCookie(), [
      "__Host-embed=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=None; Partitioned",
    ]);
  });

  it("cookies: the prefixes are checked in any case, as RFC 6265bis has a browser match them: __host-, __SECURE- refused without secure", async () => {
    assert.deepEqual(
      await written([
        ["__host-h", "v", {}],
        ["__HOST-h", "v", { secure: true, path: "/a" }],
        ["__secure-s", "v", {}],
        ["__SECURE-s", "v", {}],
        ["__host-h", "v", { secure: true }],
        ["__secure-s", "v", { secure: true }],
      ]),
      [
        fail("__host-h", 'the __Host- prefix needs secure: true, path "/" and no domain'),
        fail("__HOST-h", 'the __Host- prefix needs secure: true, path "/" and no domain'),
        fail("__secure-s", "the __Secure- prefix needs secure: true"),
        fail("__SECURE-s", "the __Secure- prefix needs secure: true"),
        "__host-h=v; Path=/; Secure; HttpOnly; SameSite=Lax",
        "__secure-s=v; Path=/; Secure; HttpOnly; SameSite=Lax",
      ],
    );
  });

  it("cookies: a path or domain of 1,024 bytes is written, 1,025 refused (a browser ignores it, RFC 6265bis 5.6)", async () => {
    const path = `/${"p".repeat(1023)}`;
    const domain = "d".repeat(1024);
    assert.deepEqual(
      await written([
        ["n", "v", { path }],
        ["n", "v", { path: `${path}p` }],
        ["n", "v", { domain }],
        ["n", "v", { domain: `${domain}d` }],
      ]),
      [
        `n=v; Path=${path}; HttpOnly; SameSite=Lax`,
        fail("n", "path is over 1,024 bytes, which a browser ignores"),
        `n=v; Path=/; Domain=${domain}; HttpOnly; SameSite=Lax`,
        fail("n", "domain is over 1,024 bytes, which a browser ignores"),
      ],
    );
  });

  it("cookies: the name must be a token and the value a string; name and value of 4,096 bytes accepted, 4,097 refused", async () => {
    const at = "x".repeat(4094); // "n=" + 4094 = 4,096 bytes
    const got = await written([
      [123, "v"],
      ["a b", "v"],
      ["n", 5],
      ["n", at],
      ["n", `${at}x`],
      ["n", `${"x".repeat(4088)}\u00e9`], // 4,088 + "%C3%A9" = 4,094: the encoded value counts
      ["n", `${"x".repeat(4089)}\u00e9`],
    ]);
    assert.deepEqual(got, [
      fail(123 as never, "the name must be a token (RFC 9110)"),
      fail("a b", "the name must be a token (RFC 9110)"),
      fail("n", "the value must be a string, not number"),
      `n=${at}; ${DEFAULTS}`,
      fail("n", "name and value are over 4,096 bytes"),
      `n=${"x".repeat(4088)}%C3%A9; ${DEFAULTS}`,
      fail("n", "name and value are over 4,096 bytes"),
    ]);
  });
});

describe("cookies: the Cookie header as read (parseCookies)", () => {
  it("cookies: no Cookie header reads as no cookie, a signed one too", async () => {
    assert.deepEqual(await read(), {});
    const app = createApp({ logLevel: "silent", cookieKeys: [NEW] });
    app.bind("/x", { style: "object" }, (_, ctx) => [
      200,
      [ctx.cookie("u") ?? null, ctx.cookie("u", { signed: true }) ?? null],
    ]);
    assert.deepEqual(await json(await app.request("/x"), 200), [null, null]);
  });

  it("cookies: spaces around names and values are trimmed; a pair without = or with an empty name is skipped", async () => {
    assert.deepEqual(await read("a = 1 ;b=2;  c= x y  "), { a: "1", b: "2", c: "x y" });
    assert.deepEqual(await read("flag; a=1"), { a: "1" });
    assert.deepEqual(await read("=v; a=1;  = w"), { a: "1" });
    assert.deepEqual(await read("a=1; a=2"), { a: "1" }, "the first of a repeated name wins");
    assert.deepEqual(await read("e=; f=="), { e: "", f: "=" });
  });

  it("cookies: a quoted value is unquoted; a lone or unbalanced quote is kept", async () => {
    assert.deepEqual(await read('q="x y"; r=""; s="; t="ab; u=ab"'), {
      q: "x y",
      r: "",
      s: '"',
      t: '"ab',
      u: 'ab"',
    });
  });

  it("cookies: a value is percent-decoded when it decodes, kept as sent when it does not", async () => {
    assert.deepEqual(await read("a=x%20y; b=100%; c=%E0%A4%A; d=%22q%22"), {
      a: "x y",
      b: "100%",
      c: "%E0%A4%A",
      d: '"q"',
    });
  });
});

describe("cookies: signed cookies on the wire", () => {
  it("cookies: the signature is HMAC-SHA256 of name=value under the first key, base64url without padding", async () => {
    const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
    const lines = await written(
      values.map((v) => ["u", v, { signed: true }]),
      [NEW, OLD],
    );
    const tags = values.map((v) => createHmac("sha256", NEW).update(`u=${v}`).digest("base64url"));
    assert.deepEqual(
      lines,
      values.map((v, i) => `u=${v}.${tags[i]}; ${DEFAULTS}`),
    );
    // the table above would not pin the alphabet if no tag held these
    assert.ok(tags.some((t) => t.includes("-")) && tags.some((t) => t.includes("_")));
  });

  it("cookies: a key given as bytes signs as the same key given as text; 31 bytes are refused as 31 characters are", async () => {
    const bytes = new TextEncoder().encode(NEW);
    assert.deepEqual(
      await written([["u", "ann", { signed: true }]], [bytes]),
      await written([["u", "ann", { signed: true }]], [NEW]),
    );
    const short = "at least thirty-two? no: 31 b..";
    assert.equal(short.length, 31);
    const why = /^TypeError: \[usrv\] cookieKeys: each key must be at least 32 bytes of secret/;
    assert.throws(() => createApp({ cookieKeys: [new TextEncoder().encode(short)] }), why);
    assert.throws(() => createApp({ cookieKeys: [short] }), why);
  });

  it("cookies: a signed cookie with its signature cut short, or empty, reads as absent; a signed empty value reads back", async () => {
    const app = createApp({ logLevel: "silent", cookieKeys: [NEW] });
    app.bind("/set", { style: "object" }, (_, ctx) => {
      ctx.setCookie("u", "ann", { signed: true }).setCookie("e", "", { signed: true });
      return [200];
    });
    app.bind("/get", { style: "object" }, (_, ctx) => [
      200,
      [ctx.cookie("u", { signed: true }) ?? null, ctx.cookie("e", { signed: true }) ?? null],
    ]);
    const cookie = jar(await app.request("/set"));
    assert.match(cookie, /^u=ann\.[\w-]{43}; e=\.[\w-]{43}$/);
    const get = async (c: string) => json(await app.request("/get", { headers: { cookie: c } }), 200);
    assert.deepEqual(await get(cookie), ["ann", ""]);
    const [u] = cookie.split("; ");
    assert.deepEqual(await get(u!.slice(0, -1)), [null, null], "one character short");
    assert.deepEqual(await get("u=ann."), [null, null], "empty");
    assert.deepEqual(await get("u=ann"), [null, null], "no dot");
  });
});

describe("ctx.header: what a header value may hold, and the messages", () => {
  it("ctx.header: tab, space, visible ASCII and Latin-1 up to 0xff are sent; 0x00-0x1f but tab, 0x7f and above 0xff are refused", async () => {
    const values = ["a\tb", "a b~", "caf\u00e9\u00ff", "a\u0000", "a\u001f", "a\u007f", "a\u0100", "a\u20ac"];
    const app = createApp({ logLevel: "silent" });
    app.bind("/x", { style: "object" }, (_, ctx) => {
      const refused = values.map((v, i) => {
        try {
          ctx.header(`x-v${i}`, v);
          return false;
        } catch (e) {
          assert.equal(
            (e as Error).message,
            `[usrv] ctx.header("x-v${i}"): a control character (CR, LF, NUL...) or a character above U+00FF in the value, or not text`,
          );
          return true;
        }
      });
      return [200, refused];
    });
    const res = await app.request("/x");
    assert.deepEqual(await json(res, 200), [false, false, false, true, true, true, true, true]);
    assert.equal(res.headers.get("x-v0"), "a\tb");
    assert.equal(res.headers.get("x-v2"), "caf\u00e9\u00ff");
  });

  it("ctx.header: a name that is not a token, or not text, is refused naming it; the framing headers and Set-Cookie too", async () => {
    const app = createApp({ logLevel: "silent" });
    const names: unknown[] = [
      123,
      "bad name",
      "Content-Length",
      "Transfer-Encoding",
      "connection",
      "Set-Cookie",
    ];
    app.bind("/x", { style: "object" }, (_, ctx) => [
      200,
      names.map((n) => {
        try {
          ctx.header(n as string, "1");
          return "accepted";
        } catch (e) {
          return (e as Error).message;
        }
      }),
    ]);
    assert.deepEqual(await json(await app.request("/x"), 200), [
      "[usrv] ctx.header: 123 is not a header name (RFC 9110 token)",
      '[usrv] ctx.header: "bad name" is not a header name (RFC 9110 token)',
      "[usrv] ctx.header: content-length is set by usrv",
      "[usrv] ctx.header: transfer-encoding is set by usrv",
      "[usrv] ctx.header: connection is set by usrv",
      "[usrv] ctx.header: set-cookie is set by usrv; use ctx.setCookie",
    ]);
  });

  it("a header value that is not text, left by an onResponse hook, is a 500 USRV_ERR_HOOK_RESULT", async () => {
    const app = createApp({ logLevel: "silent" });
    app.onResponse((answer) => {
      (answer.headers as Record<string, unknown>)["x-n"] = 5;
    });
    app.bind("/x", () => [200, "ok"]);
    const res = await app.request("/x");
    assert.equal(res.status, 500);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, "USRV_ERR_HOOK_RESULT");
    assert.match(body.message, /set a header usrv cannot send: .*"x-n".*or not text$/);
  });
});

describe("the context: query and params", () => {
  it("ctx.query: the query string's full form, repeated names kept, values decoded", async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/q", { style: "object" }, (_, ctx) => [
      200,
      [ctx.query.getAll("a"), ctx.query.get("b"), ctx.rawQuery],
    ]);
    assert.deepEqual(await json(await app.request("/q?a=1&a=2&b=x%20y"), 200), [
      ["1", "2"],
      "x y",
      "a=1&a=2&b=x%20y",
    ]);
  });

  it("ctx.params is empty for a path no route matches (an onRequest hook on a 404)", async () => {
    const app = createApp({ logLevel: "silent" });
    const seen: unknown[] = [];
    app.onRequest((ctx) => {
      seen.push([ctx.route, Object.keys(ctx.params)]);
    });
    app.bind("/<int:id>", ({ id }) => [200, id]);
    assert.equal((await app.request("/nowhere/x")).status, 404);
    assert.equal((await app.request("/7")).status, 200);
    assert.deepEqual(seen, [
      [null, []],
      ["/<int:id>", ["id"]],
    ]);
  });
});

describe("the context: the body stream and the signal", () => {
  it('ctx.stream: the body as it arrives on a body: "stream" route, the same stream each read; null elsewhere, a 404\'s hook too', async () => {
    const app = createApp({ logLevel: "silent" });
    const seen: unknown[] = [];
    app.onRequest((ctx) => {
      if (ctx.route === null) seen.push(ctx.stream);
    });
    app.bind("/up", { methods: ["POST"], body: "stream", style: "object" }, async (_, ctx) => {
      const first = ctx.stream!;
      const again = ctx.stream === first;
      return [200, [await new Response(first).text(), again]];
    });
    app.bind("/plain", { methods: ["POST"], style: "object" }, (_, ctx) => [200, ctx.stream]);
    assert.deepEqual(await json(await app.request("/up", { method: "POST", body: "abc" }), 200), [
      "abc",
      true,
    ]);
    assert.equal(await json(await app.request("/plain", { method: "POST", body: "{}" }), 200), null);
    assert.equal((await app.request("/nowhere")).status, 404);
    assert.deepEqual(seen, [null]);
  });

  it("ctx.signal: fires with the client's reason when the client leaves, read before or after it left", async () => {
    const app = createApp({ logLevel: "silent" });
    let gate!: Promise<void>;
    let open!: () => void;
    let began!: () => void;
    let seen!: (what: unknown) => void;
    app.bind("/before", { style: "object" }, async (_, ctx) => {
      const signal = ctx.signal; // read while the client is still there
      began();
      await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
      seen(signal.reason);
      return [200];
    });
    app.bind("/after", { style: "object" }, async (_, ctx) => {
      began();
      await gate; // the client leaves meanwhile
      seen([ctx.signal.aborted, ctx.signal.reason]);
      return [200];
    });
    for (const path of ["/before", "/after"]) {
      gate = new Promise((r) => {
        open = r;
      });
      const started = new Promise<void>((r) => {
        began = r;
      });
      const result = new Promise((r) => {
        seen = r;
      });
      const client = new AbortController();
      const gone = new Error(`left ${path}`);
      const res = app.request(path, { signal: client.signal }).catch((e: unknown) => e);
      await started;
      client.abort(gone);
      open();
      assert.deepEqual(await result, path === "/before" ? gone : [true, gone], path);
      await res;
    }
  });

  it("ctx.signal first read after the route's timeout answered 503: already aborted, with that error", async () => {
    const app = createApp({ logLevel: "silent" });
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    let seen!: (what: unknown) => void;
    const result = new Promise((r) => {
      seen = r;
    });
    app.bind("/late", { timeout: 50, style: "object" }, async (_, ctx) => {
      await gate; // released once the 503 is in
      seen([ctx.signal.aborted, (ctx.signal.reason as { code?: string } | undefined)?.code]);
      return [200];
    });
    assert.equal((await app.request("/late")).status, 503);
    open();
    assert.deepEqual(await result, [true, "USRV_ERR_TIMEOUT"]);
  });

  it("ctx.signal: not aborted while the request goes on, the same signal each read", async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/x", { style: "object" }, (_, ctx) => {
      const first = ctx.signal;
      return [200, [first instanceof AbortSignal, first.aborted, ctx.signal === first]];
    });
    assert.deepEqual(await json(await app.request("/x"), 200), [true, false, true]);
  });
});
