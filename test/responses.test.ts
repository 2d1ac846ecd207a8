/**
 * R1-R8: what a handler returns and what the client gets.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { HttpError } from "usrv";
import { json, matrix, withoutId } from "./_setup.js";

const JSON_UTF8 = "application/json; charset=utf-8";

/**
 * A body read as the reference's client reads it (usrv/req.py manage_response):
 * in the Content-Type's charset, Latin-1 when it names none.
 */
async function asPythonReads(res: Response): Promise<string> {
  const charset = /;\s*charset="?([^";\s]+)/i.exec(res.headers.get("content-type") ?? "")?.[1] ?? "latin1";
  return new TextDecoder(charset).decode(await res.arrayBuffer());
}

/** R3: what a handler may wrongly return, and how the 406 names it: its kind, never its content. */
const returned: Record<string, unknown> = {
  string: "secret text",
  object: { a: 1 },
  null: null,
  undefined: undefined,
  integer: 42,
  fraction: 1.5,
  "array-status": [[200]],
  "status-150": [150],
  "status-600": [600],
  "status-599": [599],
  "status-400": [400, "why"],
};

const circular: Record<string, unknown> = {};
circular.self = circular;

matrix(
  "R1-R8",
  (app) => {
    app.bind("/none", () => [200]);
    app.bind("/ete", { methods: ["GET", "POST"] }, () => [200, "été", { clé: "😀" }]);
    app.bind("/ete-error", () => [409, "déjà"]);
    app.bind("/one", () => [200, { a: 1 }]);
    app.bind("/undef", () => [200, undefined]);
    app.bind("/many", () => [201, 1, "two", null]);
    app.bind("/async", async () => [200, "later"]);
    app.bind("/status-float", () => [200.5] as unknown as [number]);
    app.bind("/status-string", () => ["200", 1] as unknown as [number]);
    app.bind("/not-tuple", () => ({ status: 200 }) as unknown as [number]);
    app.bind("/throws", () => {
      throw new Error("db password is hunter2");
    });
    app.bind("/rejects", async () => {
      throw new TypeError("internal detail");
    });
    app.bind("/circular", () => [200, circular]);
    app.bind("/conflict", () => {
      throw new HttpError(409, "this name is taken", {
        detail: { name: "bob" },
        headers: { "x-why": "dup" },
      });
    });
    app.bind("/plain-404", async () => {
      throw new HttpError(404);
    });
    app.bind("/bad-code", () => {
      throw new (HttpError as any)("USRV_ERR_NOPE", "x");
    });
    app.bind("/bad-status", () => {
      throw new HttpError(200, "not an error");
    });
    app.bind("/teapot", () => [418, "short", "stout"]);
    app.bind("/gone", () => [410]);
    app.bind("/empty", () => [204, "ignored"]);
    app.bind("/not-modified", () => [304]);
    app.bind("/returns/<kind>", ({ kind }) => returned[kind as string] as [number]);
    app.bind("/throws-undefined", () => {
      throw undefined;
    });
    app.bind("/problem", () => {
      throw new HttpError(409, "taken", { headers: { "Content-Type": "application/problem+json" } });
    });
    app.bind("/bigint-detail", () => {
      throw new HttpError(409, "taken", { detail: { n: 1n } });
    });
    app.bind("/never", { timeout: 50 }, () => new Promise<[number]>(() => {}));
    app.bind(
      "/response",
      () =>
        new Response("<h1>hi</h1>", { status: 203, headers: { "content-type": "text/html", "x-own": "1" } }),
    );
  },
  (send, logs) => {
    it("R1/R2: no value gives null", async () => {
      const res = await send()("/none");
      assert.equal(res.headers.get("content-type"), JSON_UTF8);
      assert.equal(await json(res, 200), null);
    });
    it("R2: every JSON answer says charset=utf-8, so a reader that defaults to Latin-1 (the reference's req) reads non-ASCII right", async () => {
      const ok = await send()("/ete");
      assert.equal(ok.headers.get("content-type"), JSON_UTF8);
      assert.deepEqual(JSON.parse(await asPythonReads(ok)), ["été", { clé: "😀" }]);
      const error = await send()("/ete-error");
      assert.equal(error.headers.get("content-type"), JSON_UTF8);
      assert.equal(JSON.parse(await asPythonReads(error)).detail, "déjà");
      // the framework's own errors, whose messages quote the request
      for (const [path, init, status] of [
        ["/d%C3%A9j%C3%A0", {}, 404],
        ["/ete", { method: "PUT" }, 405],
        ["/status-string", {}, 406],
        ["/throws", {}, 500],
        ["/ete", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }, 400],
      ] as const) {
        const res = await send()(path, init);
        assert.equal(res.status, status, path);
        assert.equal(res.headers.get("content-type"), JSON_UTF8, `${status} ${path}`);
        await res.arrayBuffer();
      }
      const head = await send()("/ete", { method: "HEAD" });
      assert.equal(head.headers.get("content-type"), JSON_UTF8);
    });
    it("R2: one value gives that value; undefined gives null", async () => {
      assert.deepEqual(await json(await send()("/one"), 200), { a: 1 });
      assert.equal(await json(await send()("/undef"), 200), null);
    });
    it("R2: several values give an array", async () => {
      assert.deepEqual(await json(await send()("/many"), 201), [1, "two", null]);
    });
    it("R1: a promise of the tuple", async () => {
      assert.equal(await json(await send()("/async"), 200), "later");
    });
    it("R3: a non-integer status answers 406 naming the route", async () => {
      for (const path of ["/status-float", "/status-string", "/not-tuple"]) {
        const body = (await json(await send()(path), 406)) as { code: string; message: string };
        assert.equal(body.code, "USRV_ERR_BAD_RESULT");
        assert.match(body.message, new RegExp(`GET ${path}`));
      }
    });
    it("R3: a result that is not [status, ...values] is a 406 that names its kind, never its content", async () => {
      for (const [kind, said] of [
        ["string", "a string, not"],
        ["object", "an object, not"],
        ["null", "null, not"],
        ["undefined", "undefined, not"],
        ["integer", "42, not"],
        ["fraction", "a number, not"],
        ["array-status", "an array as the status"],
        ["status-150", "150 as the status"],
        ["status-600", "600 as the status"],
      ]) {
        const body = (await json(await send()(`/returns/${kind}`), 406)) as { code: string; message: string };
        assert.equal(body.code, "USRV_ERR_BAD_RESULT", kind);
        assert.ok(body.message.includes(`GET /returns/<kind> returned ${said}`), `${kind}: ${body.message}`);
        assert.doesNotMatch(body.message, /secret/);
      }
    });
    it("R5: 400 and 599 are error statuses like any from 400 to 599", async () => {
      const bad = (await json(await send()("/returns/status-400"), 400)) as Record<string, unknown>;
      assert.deepEqual([bad.code, bad.detail], ["USRV_ERR_STATUS", "why"]);
      const last = (await json(await send()("/returns/status-599"), 599)) as Record<string, unknown>;
      assert.equal(last.code, "USRV_ERR_STATUS");
    });
    it("R4: throw undefined is a 500 that still leaves a log line", async () => {
      const body = (await json(await send()("/throws-undefined"), 500)) as { code: string; message: string };
      assert.equal(body.code, "USRV_ERR_INTERNAL");
      assert.equal(body.message, "the handler for GET /throws-undefined failed; see the server log");
      assert.ok(logs().some((l) => l.includes("threw undefined")));
    });
    it("R5: an HttpError whose detail cannot be JSON still answers, with the detail replaced", async () => {
      assert.deepEqual(withoutId(await json(await send()("/bigint-detail"), 409)), {
        status: 409,
        error: "Conflict",
        code: "USRV_ERR_STATUS",
        message: "taken",
        detail: "[unserializable detail]",
      });
    });
    it("R7: HEAD says the length of the GET body, errors included; 204 and 304 say none", async () => {
      const head = async (path: string) => {
        const res = await send()(path, { method: "HEAD" });
        assert.equal(await res.text(), "");
        return res.headers.get("content-length");
      };
      assert.equal(await head("/one"), String('{"a":1}'.length));
      const gone = await (await send()("/gone")).arrayBuffer(); // its request id: the same length each time
      assert.equal(await head("/gone"), String(gone.byteLength));
      assert.equal(await head("/empty"), null);
      assert.equal(await head("/not-modified"), null);
    });
    it("R4: a throw or a rejection answers 500 with no internals, logged with the stack", async () => {
      for (const path of ["/throws", "/rejects"]) {
        const res = await send()(path);
        const text = await res.text();
        assert.equal(res.status, 500);
        assert.doesNotMatch(text, /hunter2|internal detail|TypeError|\sat /);
        assert.equal(JSON.parse(text).code, "USRV_ERR_INTERNAL");
      }
      assert.ok(
        logs().some((l) => l.startsWith("error:") && l.includes("hunter2") && l.includes("responses.test")),
      );
    });
    it("R4: a value that cannot be JSON answers 500 USRV_ERR_UNSERIALIZABLE", async () => {
      const body = (await json(await send()("/circular"), 500)) as { code: string; message: string };
      assert.equal(body.code, "USRV_ERR_UNSERIALIZABLE");
      assert.equal(body.message, "the values returned for GET /circular cannot be written as JSON");
    });
    it("R5: status >= 400 gives {status, error} and the values under detail", async () => {
      assert.deepEqual(withoutId(await json(await send()("/teapot"), 418)), {
        status: 418,
        error: "I'm a Teapot",
        code: "USRV_ERR_STATUS",
        message: "I'm a Teapot",
        detail: ["short", "stout"],
      });
      const gone = (await json(await send()("/gone"), 410)) as Record<string, unknown>;
      assert.equal("detail" in gone, false);
    });
    it("R6: no route: 404 with a JSON body", async () => {
      const body = (await json(await send()("/nowhere"), 404)) as { code: string; message: string };
      assert.equal(body.code, "USRV_ERR_NOT_FOUND");
      assert.match(body.message, /Endpoint not defined/);
    });
    it("R7: 204 and 304 carry no body", async () => {
      const res = await send()("/empty");
      assert.equal(res.status, 204);
      assert.equal(await res.text(), "");
      const res2 = await send()("/not-modified");
      assert.equal(res2.status, 304);
      assert.equal(await res2.text(), "");
      // nor say the length of one
      assert.deepEqual([res.headers.get("content-length"), res2.headers.get("content-length")], [null, null]);
      assert.equal(res.headers.get("content-type"), null, "a 204 has no content to give a type");
    });
    it("R5: an HttpError's own Content-Type replaces ours, whatever its spelling", async () => {
      const res = await send()("/problem");
      assert.equal(res.status, 409);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      await res.body?.cancel();
    });
    it("a handler that never resolves: 503 USRV_ERR_TIMEOUT after the route's timeout, logged", async () => {
      const res = await send()("/never");
      assert.equal(res.headers.get("retry-after"), "1");
      const body = (await json(res, 503)) as { code: string; message: string };
      assert.equal(body.code, "USRV_ERR_TIMEOUT");
      assert.match(body.message, /GET \/never did not answer within 50 ms/);
      const line = logs().find((l) => l.startsWith("error:") && l.includes("still running after 50 ms"));
      assert.ok(line, "the timeout is logged");
      assert.doesNotMatch(line, /\n\s+at /, "a fact, not a fault: no stack of usrv's own timer");
    });
    it("an overlong request target: 414 USRV_ERR_URI_TOO_LONG", async () => {
      const body = (await json(await send()(`/none?x=${"a".repeat(9000)}`), 414)) as { code: string };
      assert.equal(body.code, "USRV_ERR_URI_TOO_LONG");
    });
    it("R8: a Response passes through with its headers", async () => {
      const res = await send()("/response");
      assert.equal(res.status, 203);
      assert.equal(res.headers.get("content-type"), "text/html");
      assert.equal(res.headers.get("x-own"), "1");
      assert.equal(await res.text(), "<h1>hi</h1>");
    });
    it("R5: a handler throws new HttpError(status, message, { detail, headers })", async () => {
      const res = await send()("/conflict");
      assert.equal(res.headers.get("x-why"), "dup");
      assert.deepEqual(withoutId(await json(res, 409)), {
        status: 409,
        error: "Conflict",
        code: "USRV_ERR_STATUS",
        message: "this name is taken",
        detail: { name: "bob" },
      });
      assert.deepEqual(withoutId(await json(await send()("/plain-404"), 404)), {
        status: 404,
        error: "Not Found",
        code: "USRV_ERR_STATUS",
        message: "Not Found",
      });
    });
    it("R4: an HttpError built wrong (unknown code, status under 400) is a logged 500 that says why", async () => {
      for (const [path, why] of [
        ["/bad-code", /new HttpError\("USRV_ERR_NOPE", \.\.\.\): pass a status/],
        ["/bad-status", /an HttpError's status is an integer from 400 to 599, not 200/],
      ] as const) {
        const body = (await json(await send()(path), 500)) as { code: string };
        assert.equal(body.code, "USRV_ERR_INTERNAL");
        assert.ok(
          logs().some((l) => why.test(l)),
          `log says why for ${path}`,
        );
      }
    });
  },
);
