/**
 * CORS (issue 16, item 1): the hooks on both faces, the options they refuse,
 * and real cross-origin fetch calls from a page in headless Chromium (the
 * page on one port, the API on another), with and without credentials.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { chromium } from "playwright-core";
import { createApp, type ServerHandle } from "usrv";
import { cors } from "usrv/cors";
import { json, matrix } from "./_setup.js";

const PAGE = "https://app.example.com";
const EVIL = "https://evil.example.net";
const CHROMIUM = "/usr/bin/chromium";

const preflight = (origin: string, method = "PUT", headers = "content-type") => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
});

matrix(
  "issue 16 item 1: CORS hooks",
  (app) => {
    app.use(cors({ origins: [PAGE, "http://localhost:5173"], credentials: true, maxAge: 60 }));
    app.bind("/data", { methods: ["GET", "PUT"] }, () => [200, { secret: 42 }]);
    app.group("/open", { hooks: cors({ origins: ["*"], methods: ["GET"] }) }, (g) =>
      g.bind("/x", () => [200, "x"]),
    );
  },
  (send) => {
    it("a preflight from an admitted origin: 204 with the CORS headers, before routing", async () => {
      for (const path of ["/data", "/nowhere"]) {
        const res = await send()(path, preflight(PAGE));
        assert.equal(res.status, 204);
        assert.equal(res.headers.get("access-control-allow-origin"), PAGE);
        assert.equal(res.headers.get("access-control-allow-methods"), "GET, HEAD, POST, PUT, PATCH, DELETE");
        assert.match(
          res.headers.get("access-control-allow-headers") ?? "",
          /^content-type, authorization, x-request-id/,
        );
        assert.equal(res.headers.get("access-control-allow-credentials"), "true");
        assert.equal(res.headers.get("access-control-max-age"), "60");
        assert.match(
          res.headers.get("vary") ?? "",
          /^Origin, Access-Control-Request-Method, Access-Control-Request-Headers/,
        );
        assert.equal(await res.text(), "");
      }
    });

    it("a preflight from another origin, or for a method not admitted: 204 with no CORS header (the browser refuses)", async () => {
      for (const init of [
        preflight(EVIL),
        preflight(PAGE, "TRACE"),
        preflight(`${PAGE}.evil.net`),
        preflight("null"),
      ]) {
        const res = await send()("/data", init);
        assert.equal(res.status, 204);
        assert.equal(res.headers.get("access-control-allow-origin"), null);
        assert.equal(res.headers.get("access-control-allow-credentials"), null);
      }
    });

    it("an admitted origin's answers carry its origin (never *), credentials, exposed headers and Vary: Origin", async () => {
      const res = await send()("/data", { headers: { origin: PAGE } });
      assert.deepEqual(await json(res, 200), { secret: 42 });
      assert.equal(res.headers.get("access-control-allow-origin"), PAGE);
      assert.equal(res.headers.get("access-control-allow-credentials"), "true");
      assert.match(res.headers.get("access-control-expose-headers") ?? "", /x-request-id/);
      assert.equal(res.headers.get("vary"), "Origin");
      // an error answer too, so that the page can read why
      const missing = await send()("/nowhere", { headers: { origin: PAGE } });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get("access-control-allow-origin"), PAGE);
    });

    it("any other Origin, or none, gets no CORS header, and Vary: Origin all the same (no cache mixes them)", async () => {
      for (const headers of [{ origin: EVIL }, { origin: "null" }, {}] as Record<string, string>[]) {
        const res = await send()("/data", { headers });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("access-control-allow-origin"), null);
        assert.equal(res.headers.get("vary"), "Origin");
        await res.body?.cancel();
      }
    });

    it('origins ["*"] answer "*" without credentials (a group of its own)', async () => {
      const res = await send()("/open/x", { headers: { origin: EVIL } });
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.equal(res.headers.get("access-control-allow-credentials"), null);
      assert.equal(await json(res, 200), "x");
    });
  },
);

describe("cors(): options it cannot honour are refused when the hooks are made", () => {
  it("credentials with the wildcard, a bad origin, null, an empty list, bad tokens", () => {
    assert.throws(
      () => cors({ origins: ["*"], credentials: true }),
      /credentials cannot go with origins \["\*"\]/,
    );
    for (const bad of [
      "https://a.example.com/",
      "a.example.com",
      "https://*.example.com",
      "null",
      "https://a.example.com/x",
    ]) {
      assert.throws(() => cors({ origins: [bad] }), /is not a serialized origin/, bad);
    }
    assert.throws(() => cors({ origins: [] }), /non-empty list/);
    assert.throws(() => cors({ origins: ["*", PAGE] }), /"\*" stands alone/);
    assert.throws(() => cors({ origins: [PAGE], methods: ["GET\r\n"] }), /methods must be a list of tokens/);
    assert.throws(() => cors({ origins: [PAGE], maxAge: -1 }), /maxAge/);
    assert.throws(() => createApp().use(null as never), /use\(hooks\) takes an object of hooks/);
  });
});

describe("CORS in headless Chromium: a page on one port calls the API on another", () => {
  const missing = !existsSync(CHROMIUM);
  const skip = missing && !process.env.CI ? `${CHROMIUM} is not installed` : false;

  it("admitted: reads answers, with and without credentials; refused: another page, another header, credentials the API does not allow", {
    skip,
    timeout: 90_000,
  }, async () => {
    assert.ok(!missing, `${CHROMIUM} is missing (CI installs it)`);
    const servers: ServerHandle[] = [];
    const page = createApp({ logLevel: "silent" });
    page.bind(
      "/",
      () => new Response("<!doctype html><title>page</title>", { headers: { "content-type": "text/html" } }),
    );
    const [pageA, pageB] = [await page.run({ port: 0 }), await page.run({ port: 0 })];
    servers.push(pageA, pageB);
    const api = createApp({ logLevel: "silent" });
    api.use(cors({ origins: [pageA.url], credentials: true }));
    api.bind("/data", { methods: ["GET", "POST"] }, ({ data }) => [200, { got: data ?? null }]);
    api.bind("/login", { style: "object" }, (_, ctx) => {
      ctx.setCookie("sid", "s3cr3t", { path: "/" });
      return [200, "in"];
    });
    api.bind("/me", { style: "object" }, (_, ctx) => [200, ctx.cookie("sid") ?? null]);
    const plain = createApp({ logLevel: "silent" });
    plain.use(cors({ origins: [pageA.url] })); // no credentials
    plain.bind("/me", { style: "object" }, (_, ctx) => [200, ctx.cookie("sid") ?? null]);
    const [apiServer, plainServer] = [await api.run({ port: 0 }), await plain.run({ port: 0 })];
    servers.push(apiServer, plainServer);
    const [apiUrl, plainUrl] = [apiServer.url, plainServer.url];
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
    try {
      const tab = await browser.newPage();
      const run = (origin: string) =>
        tab.goto(`${origin}/`).then(() =>
          tab.evaluate(
            async ([apiUrl, plainUrl]) => {
              const attempt = async (url: string, init?: RequestInit) => {
                try {
                  const res = await fetch(url, init);
                  return { status: res.status, body: await res.json() };
                } catch (e) {
                  return { error: (e as Error).name };
                }
              };
              return {
                simple: await attempt(`${apiUrl}/data`),
                preflighted: await attempt(`${apiUrl}/data`, {
                  method: "POST",
                  headers: { "content-type": "application/json", "x-request-id": "page-1" },
                  body: '{"a":1}',
                }),
                evilHeader: await attempt(`${apiUrl}/data`, { headers: { "x-evil": "1" } }),
                // what usrv's client sends to learn the versions and to ask for live records, and reads back
                versions: await fetch(`${apiUrl}/data`, {
                  headers: { "usrv-encryption": "1, 2", "usrv-records": "sized", "usrv-record": "AA==" },
                }).then(
                  (res) => res.headers.get("usrv-encryption"),
                  (e) => (e as Error).name,
                ),
                login: await attempt(`${apiUrl}/login`, { credentials: "include" }),
                me: await attempt(`${apiUrl}/me`, { credentials: "include" }),
                meWithout: await attempt(`${apiUrl}/me`),
                plainMe: await attempt(`${plainUrl}/me`, { credentials: "include" }),
              };
            },
            [apiUrl, plainUrl] as const,
          ),
        );
      const admitted = await run(pageA.url);
      assert.deepEqual(admitted.simple, { status: 200, body: { got: null } });
      assert.deepEqual(admitted.preflighted, { status: 200, body: { got: '{"a":1}' } });
      assert.deepEqual(admitted.evilHeader, { error: "TypeError" }, "a header the API does not admit");
      assert.equal(admitted.versions, "1, 2", "usrv's v2 headers admitted and exposed by default");
      assert.deepEqual(admitted.login, { status: 200, body: "in" });
      assert.deepEqual(admitted.me, { status: 200, body: "s3cr3t" }, "the cookie went with credentials");
      assert.deepEqual(admitted.meWithout, { status: 200, body: null }, "and not without");
      assert.deepEqual(
        admitted.plainMe,
        { error: "TypeError" },
        "credentials to an API that does not allow them",
      );
      const other = await run(pageB.url);
      const { versions, ...others } = other;
      assert.equal(versions, "TypeError");
      for (const [name, outcome] of Object.entries(others))
        assert.deepEqual(outcome, { error: "TypeError" }, name);
    } finally {
      await browser.close();
      for (const s of servers) await s.close();
    }
  });
});
