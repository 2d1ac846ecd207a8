/**
 * B1-B6: binding and matching. The router conformance table runs against the
 * Router class directly; the HTTP rows run through both faces.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BindError, createApp, EndpointAlreadyDefined, Router, registerConverter } from "usrv";
import { json, matrix } from "./_setup.js";

describe("router conformance", () => {
  const r = new Router<string>();
  const routes: [string, string][] = [
    ["GET", "/"],
    ["GET", "/api/endpoint"],
    ["GET", "/<int:b>/<a>"],
    ["GET", "/<a>/<b>"],
    ["GET", "/user/me"],
    ["GET", "/user/<int:id>"],
    ["GET", "/user/<uuid:id>"],
    ["GET", "/user/<name>"],
    ["GET", "/price/<float:p>"],
    ["GET", "/flag/<bool:on>"],
    ["GET", "/files/<name>/raw"],
    ["POST", "/user/<int:id>"],
  ];
  for (const [m, p] of routes) r.add(m, p, `${m} ${p}`);

  const table: [string, string, string | number, unknown[]?][] = [
    ["GET", "/", "GET /", []],
    ["GET", "/api/endpoint", "GET /api/endpoint", []], // B5: static beats /<a>/<b>
    ["GET", "/5/test", "GET /<int:b>/<a>", [5, "test"]], // typed beats untyped
    ["GET", "/x/test", "GET /<a>/<b>", ["x", "test"]], // B5: converter refusal falls through
    ["GET", "/user/me", "GET /user/me", []],
    ["GET", "/user/42", "GET /user/<int:id>", [42]],
    ["GET", "/user/-7", "GET /user/<int:id>", [-7]],
    [
      "GET",
      "/user/6f1c7e34-90a4-4b7e-8a55-0c4b7f1e2a3d",
      "GET /user/<uuid:id>",
      ["6f1c7e34-90a4-4b7e-8a55-0c4b7f1e2a3d"],
    ],
    ["GET", "/user/bob", "GET /user/<name>", ["bob"]],
    ["GET", "/user/4.5", "GET /user/<name>", ["4.5"]],
    ["GET", "/price/4.5", "GET /price/<float:p>", [4.5]],
    ["GET", "/price/1e3", "GET /price/<float:p>", [1000]],
    ["GET", "/price/abc", "GET /<a>/<b>", ["price", "abc"]], // float refuses, the untyped pair takes it
    ["GET", "/flag/true", "GET /flag/<bool:on>", [true]],
    ["GET", "/flag/0", "GET /flag/<bool:on>", [false]],
    ["GET", "/flag/yes", "GET /<a>/<b>", ["flag", "yes"]],
    ["GET", "/files/x/raw/more", 404],
    ["GET", "/files/a%2Fb/raw", "GET /files/<name>/raw", ["a/b"]], // %2F stays in its segment
    ["GET", "/files/caf%C3%A9/raw", "GET /files/<name>/raw", ["café"]],
    ["GET", "/api/endpoint/", "GET /api/endpoint", []], // B2 on the request side
    ["GET", "/api/endpoint//", "GET /api/endpoint", []],
    ["GET", "//api/endpoint", "GET /api/endpoint", []], // a leading run of slashes is one
    ["GET", "///user/42", "GET /user/<int:id>", [42]],
    ["GET", "//", "GET /", []],
    ["GET", "/api//endpoint", 404], // an empty segment inside the path stays one
    ["GET", "//api//endpoint//", 404],
    ["GET", "/files//raw", 404], // B5: an untyped markup never takes an empty segment
    ["DELETE", "/files//raw", 404], // B6: nor does it lend its methods to a 405
    ["DELETE", "//user/42/", 405],
    ["HEAD", "/user/42", "GET /user/<int:id>", [42]], // B6: HEAD from GET
    ["POST", "/user/42", "POST /user/<int:id>", [42]],
    ["DELETE", "/user/42", 405],
    ["GET", "/a/b/c", 404],
    ["GET", "/user/99999999999999999999", "GET /user/<name>", ["99999999999999999999"]], // not a safe int
    // B4: int is [+-]?digits and nothing else
    ["GET", "/user/+5", "GET /user/<int:id>", [5]],
    ["GET", "/user/0", "GET /user/<int:id>", [0]],
    ["GET", "/user/109", "GET /user/<int:id>", [109]],
    ["GET", "/user/+", "GET /user/<name>", ["+"]],
    ["GET", "/user/1e3", "GET /user/<name>", ["1e3"]],
    ["GET", "/user/1.0", "GET /user/<name>", ["1.0"]],
    ["GET", "/user/12a", "GET /user/<name>", ["12a"]],
    ["GET", "/user/1:2", "GET /user/<name>", ["1:2"]], // ":" and "/" sit just past the digits
    ["GET", "/user/1%2F2", "GET /user/<name>", ["1/2"]],
    // B4: float is a decimal number, whole
    ["GET", "/price/12.5", "GET /price/<float:p>", [12.5]],
    ["GET", "/price/.55", "GET /price/<float:p>", [0.55]],
    ["GET", "/price/+1.5", "GET /price/<float:p>", [1.5]],
    ["GET", "/price/1e-3", "GET /price/<float:p>", [0.001]],
    ["GET", "/price/1E+10", "GET /price/<float:p>", [1e10]],
    ["GET", "/price/x1.5", "GET /<a>/<b>", ["price", "x1.5"]],
    ["GET", "/price/1.5x", "GET /<a>/<b>", ["price", "1.5x"]],
    // B4: bool is true/false/1/0
    ["GET", "/flag/1", "GET /flag/<bool:on>", [true]],
    ["GET", "/flag/false", "GET /flag/<bool:on>", [false]],
    // B4: uuid is the whole segment
    [
      "GET",
      "/user/x6f1c7e34-90a4-4b7e-8a55-0c4b7f1e2a3d",
      "GET /user/<name>",
      ["x6f1c7e34-90a4-4b7e-8a55-0c4b7f1e2a3d"],
    ],
    [
      "GET",
      "/user/6F1C7E34-90A4-4B7E-8A55-0C4B7F1E2A3Dx",
      "GET /user/<name>",
      ["6F1C7E34-90A4-4B7E-8A55-0C4B7F1E2A3Dx"],
    ],
    ["GET", "/files/x/raw", "GET /files/<name>/raw", ["x"]],
    ["DELETE", "/files/x/raw", 405], // B6: the methods of an untyped markup's route
  ];
  /** B6: what a miss's Allow header lists, by path. */
  const allows: Record<string, string[]> = {
    "DELETE //user/42/": ["GET", "HEAD", "POST"],
    "DELETE /user/42": ["GET", "HEAD", "POST"],
    "DELETE /files/x/raw": ["GET", "HEAD"],
  };
  for (const [method, path, want, values] of table) {
    it(`B5: ${method} ${path} -> ${want}`, () => {
      const hit = r.find(method, path);
      if (typeof want === "number") {
        assert.ok("status" in hit);
        assert.equal(hit.status, want);
        assert.deepEqual(hit.allow, want === 404 ? [] : allows[`${method} ${path}`]);
      } else {
        assert.ok(!("status" in hit), `no match for ${path}`);
        assert.equal(hit.value, want);
        assert.deepEqual(hit.values, values);
      }
    });
  }

  it("B6: a 405 lists the path's methods, HEAD included with GET", () => {
    const hit = r.find("DELETE", "/user/42");
    assert.ok("status" in hit);
    assert.deepEqual(hit.allow, ["GET", "HEAD", "POST"]);
  });

  it("B5: lookup does not scan the routes: the same converter calls and regex runs with 2,000 routes as with 2", () => {
    // The answer alone cannot tell a tree from a scan; the work can. Every route
    // starts with the same typed markup, so a scan converts the first segment once
    // per route it tries (or runs one regex per route); the tree converts it once.
    let calls = 0;
    registerConverter("counted", (s) => {
      calls++;
      return s !== "" && Number.isInteger(Number(s)) ? Number(s) : undefined;
    });
    const work = (routes: number, method: string, path: string) => {
      const r = new Router<number>();
      for (let i = 0; i < routes; i++) r.add("GET", `/<counted:n>/r${i}/<a>`, i);
      const exec = RegExp.prototype.exec;
      let regexes = 0;
      calls = 0;
      RegExp.prototype.exec = function (this: RegExp, s: string) {
        regexes++;
        return exec.call(this, s);
      };
      try {
        const hit = r.find(method, path);
        return { hit, calls, regexes };
      } finally {
        RegExp.prototype.exec = exec;
      }
    };
    const small = work(2, "GET", "/7/r1/abc");
    const big = work(2000, "GET", "/7/r1999/abc");
    assert.deepEqual(big.hit, { value: 1999, names: ["n", "a"], values: [7, "abc"] });
    assert.deepEqual([big.calls, big.regexes], [small.calls, small.regexes]);
    assert.equal(big.calls, 1);
    // a miss (404 after the walk and the 405 check) costs no more either
    const smallMiss = work(2, "GET", "/7/nope/abc");
    const bigMiss = work(2000, "GET", "/7/nope/abc");
    assert.deepEqual(bigMiss.hit, { status: 404, allow: [] });
    assert.deepEqual([bigMiss.calls, bigMiss.regexes], [smallMiss.calls, smallMiss.regexes]);
  });

  it("B5: a throwing user converter is a refusal, not an error", () => {
    registerConverter("strict_even", (s) => {
      if (Number(s) % 2 !== 0) throw new Error("odd");
      return Number(s);
    });
    const rr = new Router<string>();
    rr.add("GET", "/n/<strict_even:a>", "even");
    rr.add("GET", "/n/<a>", "any");
    assert.equal((rr.find("GET", "/n/4") as { value: string }).value, "even");
    assert.equal((rr.find("GET", "/n/3") as { value: string }).value, "any");
    assert.equal((rr.find("GET", "/n/4/x") as { status: number }).status, 404);
  });
});

describe("router: the rows a mutant found unpinned (docs/mutation.md)", () => {
  it("B4: an empty segment is no int: /i//x is a 404, not the value 0", () => {
    const r = new Router<string>();
    r.add("GET", "/i/<int:n>/x", "int");
    assert.deepEqual(r.find("GET", "/i//x"), { status: 404, allow: [] });
  });

  it("B5: built-in converters are tried before user ones, whatever the binding order", () => {
    registerConverter("anything_numeric", (s) => (Number.isNaN(Number(s)) ? undefined : `user:${s}`));
    const r = new Router<string>();
    r.add("GET", "/r/<anything_numeric:a>", "user");
    r.add("GET", "/r/<float:a>", "float");
    r.add("GET", "/r/<int:a>", "int");
    const value = (path: string) => (r.find("GET", path) as { value: string }).value;
    assert.deepEqual([value("/r/5"), value("/r/5.5"), value("/r/0x10")], ["int", "float", "user"]);
  });

  it("B5: a parameter branch that ends without a route backtracks to <path:…>", () => {
    const r = new Router<string>();
    r.add("GET", "/a/<x>/b", "param");
    r.add("GET", "/a/<path:p>", "rest");
    assert.deepEqual(r.find("GET", "/a/z/c"), { value: "rest", names: ["p"], values: ["z/c"] });
    assert.deepEqual(r.find("GET", "/a/z/b"), { value: "param", names: ["x"], values: ["z"] });
  });

  it("B5: a <path:…> bound for another method leaves no value behind for the next branch", () => {
    const r = new Router<string>();
    r.add("POST", "/a/<int:n>/<path:p>", "rest");
    r.add("GET", "/a/<x>/<y>", "pair");
    assert.deepEqual(r.find("GET", "/a/5/z"), { value: "pair", names: ["x", "y"], values: ["5", "z"] });
  });

  it("B5: a route's static text is compared with the decoded path, on the fast path too", () => {
    const r = new Router<string>();
    r.add("GET", "/a b", "decoded");
    r.add("GET", "/a%20c", "spelled");
    assert.equal((r.find("GET", "/a%20b") as { value: string }).value, "decoded");
    assert.equal((r.find("GET", "/a%20c") as { status: number }).status, 404);
  });

  it("B5: a path that spells a markup reaches the markup, not a static route", () => {
    const r = new Router<string>();
    r.add("GET", "/user/<name>", "user");
    assert.deepEqual(r.find("GET", "/user/<name>"), { value: "user", names: ["name"], values: ["<name>"] });
  });

  it("B6: a converter that throws while the 405 is worked out is a refusal: 404", () => {
    registerConverter("throws_on_odd", (s) => {
      if (Number(s) % 2 !== 0) throw new Error("odd");
      return Number(s);
    });
    const r = new Router<string>();
    r.add("POST", "/m/<throws_on_odd:a>", "even");
    assert.deepEqual(r.find("GET", "/m/3"), { status: 404, allow: [] });
    assert.deepEqual(r.find("GET", "/m/4"), { status: 405, allow: ["POST"] });
  });

  it("B6: a 405 for a path bound to POST only does not offer HEAD", () => {
    const r = new Router<string>();
    r.add("POST", "/p", "p");
    r.add("POST", "/p/<int:n>", "n");
    assert.deepEqual(r.find("GET", "/p"), { status: 405, allow: ["POST"] });
    assert.deepEqual(r.find("GET", "/p/1"), { status: 405, allow: ["POST"] });
  });

  it("B3: routes() and entries() list every bound route: static, typed, untyped and rest", () => {
    const r = new Router<number>();
    const bound: [string, string][] = [
      ["GET", "/"],
      ["GET", "/s/t"],
      ["POST", "/s/t"],
      ["GET", "/s/<int:n>"],
      ["GET", "/s/<name>"],
      ["GET", "/s/<path:rest>"],
      ["GET", "/s/<int:n>/<path:more>"],
    ];
    for (const [i, [m, p]] of bound.entries()) r.add(m, p, i);
    const sort = (rows: [string, unknown][]) => rows.map((x) => x.join(" ")).sort();
    assert.deepEqual(sort(r.routes()), sort(bound));
    assert.deepEqual(sort(r.entries()), sort(bound.map(([m], i) => [m, i])));
  });

  it("B4: a markup is a whole segment: /<a>x, /a> and /<a are BindErrors", () => {
    for (const pattern of ["/<a>x", "/x<a>", "/a>", "/<a"]) {
      assert.throws(() => new Router().add("GET", pattern, 1), BindError, pattern);
    }
  });

  it("B6: the root answers 405 to another method, like any path", () => {
    const r = new Router<string>();
    r.add("GET", "/", "root");
    assert.deepEqual(r.find("POST", "/"), { status: 405, allow: ["GET", "HEAD"] });
  });

  it("B4: converter names are identifiers other than str and path, registered once", () => {
    for (const name of ["1x", "-x", "x-", "str", "path"]) {
      assert.throws(() => registerConverter(name, () => 1), /invalid converter name/, name);
    }
    assert.throws(() => registerConverter("int", () => 1), /converter "int" is already registered/);
  });

  it("B4: method, headers and data are reserved: no markup takes their names", () => {
    for (const name of ["method", "headers", "data"]) {
      assert.throws(() => new Router().add("GET", `/<${name}>`, 1), /is reserved/, name);
    }
  });
});

describe("B1: options are checked where they are given", () => {
  const fn = () => [200] as [number];
  const refused: [string, unknown, RegExp][] = [
    [
      "a string for methods",
      { methods: "POST" },
      /option "methods" must be a non-empty list of strings, e\.g\. \{ methods: \["GET", "POST"\] \}, not "POST"/,
    ],
    [
      "an unknown key, with the near one",
      { method: ["POST"] },
      /unknown option "method" \(did you mean "methods"\?\); known: methods, params, style/,
    ],
    ["an empty methods list", { methods: [] }, /"methods" must be a non-empty list/],
    ["a method that is not a string", { methods: [1] }, /"methods" must be/],
    [
      "a style that does not exist",
      { style: "kwargs" },
      /"style" must be "object" or "positional", not "kwargs"/,
    ],
    ["a negative body limit", { bodyLimit: -1 }, /"bodyLimit" must be a whole number of bytes >= 0, not -1/],
    [
      "a timeout as text",
      { timeout: "5s" },
      /"timeout" must be a whole number of milliseconds from 1 to 2147483647 .*, not "5s"/,
    ],
    ["encrypted as a string", { encrypted: "yes" }, /"encrypted" must be a boolean/],
    ["allow as one key", { allow: "key" }, /"allow" must be a list of strings.*, or a function/],
    [
      "the seed's methods list in place of the options",
      ["POST"],
      /the options must be an object such as \{ methods: \.\.\. \}, not an array/,
    ],
  ];
  for (const [name, options, why] of refused) {
    it(`bind: ${name} is a BindError naming the fix`, () => {
      const app = createApp({ logLevel: "silent" });
      assert.throws(
        () => app.bind("/x", options as never, fn),
        (e: Error) =>
          e instanceof BindError && e.message.startsWith('[usrv] bind("/x"): ') && why.test(e.message),
      );
      assert.equal(app.router.routes().length, 0, "nothing bound");
    });
  }

  it("createApp and run: an unknown option or a wrong type names the fix", async () => {
    assert.throws(
      () => createApp({ bodyLimt: 10 } as never),
      /\[usrv\] createApp: unknown option "bodyLimt" \(did you mean "bodyLimit"\?\)/,
    );
    assert.throws(
      () => createApp({ timeout: 0 }),
      /createApp: option "timeout" must be a whole number of milliseconds from 1 to 2147483647 .*, not 0/,
    );
    assert.throws(
      () => createApp({ logger: console.log } as never),
      /option "logger" must be a logger with debug\(\), info\(\), warn\(\), error\(\)/,
    );
    assert.throws(() => createApp({ logLevel: "loud" }), /option "logLevel" must be 1-100 or one of/);
    const app = createApp({ logLevel: "silent" });
    await assert.rejects(
      async () => app.run({ prot: 0 } as never),
      /\[usrv\] run: unknown option "prot" \(did you mean "port"\?\)/,
    );
    await assert.rejects(
      async () => app.run({ port: "5000" } as never),
      /run: option "port" must be a port, 0-65535, not "5000"/,
    );
  });

  it("an option that holds a secret, given wrong, is named by its kind: no part of the secret in the message", async () => {
    const secret = "s3cr3t-cookie-key-of-32-chars!!";
    const url = "redis://:hunter2@cache:6379";
    const messageOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return assert.fail("no error");
    };
    const keys = messageOf(() => createApp({ cookieKeys: secret as never }));
    assert.match(keys, /option "cookieKeys" must be a list of secrets .*, not a string$/);
    assert.doesNotMatch(keys, /s3cr3t/);
    const store = messageOf(() => createApp({ replayStore: url as never }));
    assert.match(store, /option "replayStore" must be a replay store.*, not a string$/);
    assert.doesNotMatch(store, /hunter2/);
    const app = createApp({ logLevel: "silent" });
    const tls = await app.run({ port: 0, tls: "-----BEGIN PRIVATE KEY-----" as never }).then(
      () => assert.fail("run() started"),
      (e: Error) => e.message,
    );
    assert.match(tls, /option "tls" must be .*, not a string$/);
    assert.doesNotMatch(tls, /PRIVATE KEY/);
  });
});

describe("B1-B4 at bind time", () => {
  it("B1: default method GET; any method name; methods are upper-cased", () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/x", () => [200]);
    app.bind("/x", { methods: ["purge", "OPTIONS"] }, () => [200, "custom"]);
    const r = app.router;
    assert.ok(!("status" in r.find("GET", "/x")));
    assert.ok(!("status" in r.find("PURGE", "/x")));
    assert.ok(!("status" in r.find("OPTIONS", "/x")));
    assert.throws(() => app.bind("/y", { methods: ["BAD METHOD"] }, () => [200]), BindError);
  });

  it("B2: a leading / is added and a trailing / removed", () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("api/endpoint/", () => [200]);
    assert.ok(!("status" in app.router.find("GET", "/api/endpoint")));
    assert.throws(() => app.bind("/api/endpoint", () => [200]), EndpointAlreadyDefined);
  });

  it("B2: a leading run of slashes is one at bind time too, as on a request (bind('//x') serves /x)", async () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("//x//", () => [200, "x"]);
    app.group("///g", (g) => g.bind("//y", () => [200, "y"]));
    assert.equal((await app.request("/x")).status, 200);
    assert.equal((await app.request("//x")).status, 200);
    assert.deepEqual(await (await app.request("/g/y")).json(), "y");
    assert.throws(() => app.bind("/x", () => [200]), EndpointAlreadyDefined);
  });

  it("B3: binding a pattern twice for a method throws EndpointAlreadyDefined", () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/<int:a>", () => [200]);
    assert.throws(() => app.bind("/<int:b>", () => [200]), /already bound \(as \/<int:a>\)/);
    app.bind("/<int:a>", { methods: ["POST"] }, () => [200]); // another method is fine
  });

  it("B3: the duplicate's message names a fix that exists (there is no unbind)", () => {
    const app = createApp({ logLevel: "silent" });
    app.bind("/x", () => [200]);
    assert.throws(
      () => app.bind("/x", () => [200]),
      (e: Error) => !/unbind/.test(e.message) && /choose another path or method/.test(e.message),
    );
  });

  it("B4: an unknown converter or a malformed markup fails loudly at bind", () => {
    const app = createApp({ logLevel: "silent" });
    assert.throws(
      () => app.bind("/<itn:b>", () => [200]),
      /unknown converter "itn" in "\/<itn:b>" \(known: str, path, int/,
    );
    assert.throws(() => app.bind("/a<b>", () => [200]), /invalid markup/);
    assert.throws(() => app.bind("/<a>/<a>", () => [200]), /appears twice/);
    assert.throws(() => app.bind("/<data>", () => [200]), /reserved/);
  });

  it("B4: <path:rest> is the last segment only, and no converter may take its name", () => {
    const app = createApp({ logLevel: "silent" });
    assert.throws(() => app.bind("/<path:rest>/edit", () => [200]), /must be the last segment/);
    assert.throws(() => app.bind("/a/<path:p>/<b>", () => [200]), /must be the last segment/);
    assert.throws(() => registerConverter("path", (s) => s), /invalid converter name "path"/);
    app.bind("/files/<path:rest>", () => [200]);
    assert.throws(() => app.bind("/files/<path:other>", () => [200]), /already/);
  });
});

matrix(
  "B4: the catch-all markup <path:rest> over HTTP",
  (app) => {
    app.bind("/files/<path:rest>", { methods: ["GET", "PUT"] }, ({ rest }) => [200, "files", rest]);
    app.bind("/files/<int:id>/meta", ({ id }) => [200, "meta", id]);
    app.bind("/files/readme", () => [200, "static"]);
    app.bind("/<path:all>", ({ all }) => [200, "root", all]);
  },
  (send) => {
    it("B4: <path:rest> takes the rest of the path, slashes included, each segment decoded", async () => {
      assert.deepEqual(await json(await send()("/files/a/b/c.txt"), 200), ["files", "a/b/c.txt"]);
      assert.deepEqual(await json(await send()("/files/a%20b/%C3%A9"), 200), ["files", "a b/é"]);
      assert.deepEqual(await json(await send()("/files/a/"), 200), ["files", "a"]);
    });
    it("B5: <path:rest> is tried last: static, typed and untyped markups first, backtracking to it", async () => {
      assert.deepEqual(await json(await send()("/files/readme"), 200), "static");
      assert.deepEqual(await json(await send()("/files/7/meta"), 200), ["meta", 7]);
      assert.deepEqual(await json(await send()("/files/7/other"), 200), ["files", "7/other"]);
      assert.deepEqual(await json(await send()("/other/x"), 200), ["root", "other/x"]);
    });
    it("B4: <path:rest> never matches nothing: /files alone goes elsewhere", async () => {
      assert.deepEqual(await json(await send()("/files"), 200), ["root", "files"]);
      assert.equal((await send()("/")).status, 404);
    });
    it("B6: a catch-all route's methods are in the 405's Allow", async () => {
      const res = await send()("/files/a/b", { method: "DELETE" });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "GET, HEAD, PUT");
    });
  },
);

matrix(
  "B5-B6 over HTTP",
  (app) => {
    app.bind("/<int:b>/<a>", ({ a, b }) => [200, a, b]);
    app.bind("/api/endpoint", { methods: ["GET", "POST"] }, () => [200, "endpoint"]);
    app.bind("/test", ({ a }, ctx) => [200, a, ctx.path]);
  },
  (send) => {
    it("B2: a leading run of slashes is one, as both reference servers read it (//test serves /test)", async () => {
      assert.deepEqual(await json(await send()("//test?a=1"), 200), ["1", "//test"]);
      assert.deepEqual(await json(await send()("///test/"), 200), [null, "///test/"]);
      const res = await send()("//api/endpoint", { method: "DELETE" });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "GET, HEAD, POST");
    });
    it("B2: ctx.path is the path as sent, still percent-encoded; path values are decoded", async () => {
      assert.deepEqual(await json(await send()("/%74est?a=1"), 200), ["1", "/%74est"]);
      assert.deepEqual(await json(await send()("/5/caf%C3%A9"), 200), ["café", 5]);
    });
    it("B2: trailing slashes are ignored (/test/ serves /test; the reference answers 404)", async () => {
      assert.deepEqual(await json(await send()("/test/?a=2"), 200), ["2", "/test/"]);
      assert.deepEqual(await json(await send()("/test//"), 200), [null, "/test//"]);
    });
    it("B2: an empty segment inside a path is not dropped: 404, as in the reference", async () => {
      for (const path of ["/api//endpoint", "/5//test", "//5//test"]) {
        assert.equal(((await json(await send()(path), 404)) as { code: string }).code, "USRV_ERR_NOT_FOUND");
      }
    });
    it("B5: static beats markups even when registered later (reference answers 500 here)", async () => {
      assert.equal(await json(await send()("/api/endpoint"), 200), "endpoint");
    });
    it("B5: a converter failure never 500s: 404", async () => {
      const body = (await json(await send()("/x/test"), 404)) as { code: string };
      assert.equal(body.code, "USRV_ERR_NOT_FOUND");
    });
    it("B6: another method answers 405 with Allow", async () => {
      const res = await send()("/api/endpoint", { method: "DELETE" });
      assert.equal(res.headers.get("allow"), "GET, HEAD, POST");
      const body = (await json(res, 405)) as { code: string };
      assert.equal(body.code, "USRV_ERR_METHOD_NOT_ALLOWED");
    });
    it("B6: HEAD is answered for every GET route, without a body", async () => {
      const res = await send()("/5/test", { method: "HEAD" });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "");
      assert.equal(res.headers.get("content-length"), String('["test",5]'.length));
    });
  },
);
