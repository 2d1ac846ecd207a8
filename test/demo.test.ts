/**
 * S3: the demo routes are the reference's (usrv/route.py and wsgi_srv.py:
 * test1 on /vargs, test2 on /kwargs, test3 on /error_406, test4 on
 * /error_500), and `npm start` adds the seed README's own examples.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { App } from "usrv";
import { json, matrix } from "./_setup.js";
import { freePort } from "./fixtures/serve-helpers.js";

// demo.ts is not a package export: load it from the build the tests run against
const DEMO = new URL("../../dist/demo.js", import.meta.url);
const demo = (await import(DEMO.href)) as {
  bindDemo(app: App): App;
  bindSeedExamples(app: App): App;
};

type Headers = Record<string, string>;

matrix(
  "S3: the demo routes of the reference, and the seed README's examples",
  (app) => {
    demo.bindDemo(app);
    demo.bindSeedExamples(app);
  },
  (send) => {
    it("S3: /vargs is test1(a, b=1, c=0, *args): defaults, then unexpected values, method, headers, data", async () => {
      const [a, b, c, args] = (await json(
        await send()("/vargs?a=1", { headers: { "x-demo": "1" } }),
        200,
      )) as [string, number, number, [string, Headers, null]];
      assert.deepEqual([a, b, c], ["1", 1, 0]);
      assert.equal(args.length, 3);
      assert.equal(args[0], "GET");
      assert.equal(args[1]["x-demo"], "1");
      assert.equal(args[2], null);
      // the example: a blank b keeps its default; an unexpected d comes first in args
      const [, b2, c2, args2] = (await json(await send()("/vargs?a=1&b=&c=3&d=4"), 200)) as unknown[][];
      assert.deepEqual([b2, c2, (args2 as unknown[])[0], (args2 as unknown[])[1]], [1, "3", "4", "GET"]);
    });
    it("S3: /kwargs is test2(name, a, b=2, **kwargs), on GET and POST", async () => {
      const got = (await json(await send()("/kwargs?a=1&name=n&c=3"), 200)) as [
        string,
        string,
        number,
        Record<string, unknown>,
      ];
      assert.deepEqual(got.slice(0, 3), ["n", "1", 2]);
      assert.deepEqual(Object.keys(got[3]), ["c", "method", "headers", "data"]);
      assert.deepEqual([got[3].c, got[3].method, got[3].data], ["3", "GET", null]);
      const body = '{"name": "x", "b": 5}';
      const posted = (await json(
        await send()("/kwargs?a=q", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        }),
        200,
      )) as [string, string, number, Record<string, unknown>];
      assert.deepEqual(posted.slice(0, 3), ["x", "q", 5]);
      assert.deepEqual([posted[3].method, posted[3].data], ["POST", body]);
    });
    it("S3: HEAD / answers 200; /error_406 returns values without a status; /error_500 throws", async () => {
      assert.equal((await send()("/", { method: "HEAD" })).status, 200);
      for (const path of ["/error_406", "/error_406?a=200"]) {
        assert.equal(((await json(await send()(path), 406)) as { code: string }).code, "USRV_ERR_BAD_RESULT");
      }
      assert.equal(
        ((await json(await send()("/error_500"), 500)) as { code: string }).code,
        "USRV_ERR_INTERNAL",
      );
    });
    it("seed README: /test and /<int:b>/<a>", async () => {
      assert.deepEqual(await json(await send()("/test?b=12&a=Paris"), 200), ["Paris", "12"]);
      assert.deepEqual(await json(await send()("/5/test"), 200), ["test", 5]);
      assert.deepEqual(await json(await send()("/5/test?a=2&b=6"), 200), ["2", "6"]);
    });
  },
);

describe("npm start", () => {
  it("serves the demo and the seed examples on --port N", async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(
      process.execPath,
      [fileURLToPath(DEMO), "--port", String(port), "-l", "40"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner in 20 s:\n${out}`)), 20_000);
        const poll = setInterval(() => {
          if (out.includes("CTRL+C")) {
            clearTimeout(timer);
            clearInterval(poll);
            resolve();
          }
        }, 20);
        void exit.then((code) => {
          clearTimeout(timer);
          clearInterval(poll);
          reject(new Error(`exited with ${code}:\n${out}`));
        });
      });
      assert.match(out, new RegExp(`on http://127\\.0\\.0\\.1:${port} `));
      for (const route of ["/vargs", "/kwargs", "/test", "/<int:b>/<a>"]) assert.ok(out.includes(route), out);
      const res = await fetch(`http://127.0.0.1:${port}/5/test`);
      assert.deepEqual(await res.json(), ["test", 5]);
    } finally {
      child.kill("SIGTERM");
      await exit;
    }
  });

  it("a wrong option is one line and exit 2; --help prints the options", () => {
    for (const [args, why] of [
      [["--port", "abc"], /^usrv demo: --port is an integer from 0 to 65535, not "abc"\n$/],
      [["--port", "70000"], /^usrv demo: --port is an integer from 0 to 65535, not "70000"\n$/],
      [["--bogus"], /^usrv demo: Unknown option '--bogus' \(see --help\)\n$/],
    ] as const) {
      const r = spawnSync(process.execPath, [fileURLToPath(DEMO), ...args], { encoding: "utf8" });
      assert.equal(r.status, 2, args.join(" "));
      assert.match(r.stderr, why);
    }
    const help = spawnSync(process.execPath, [fileURLToPath(DEMO), "--help"], { encoding: "utf8" });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: node dist\/demo\.js/);
    assert.match(help.stdout, /USRV_SECRET/);
  });
});
