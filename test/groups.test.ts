/**
 * Groups and mounting (issue 13, item 2; rows G1, G2), on both faces.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { BindError, createApp, EndpointAlreadyDefined } from "usrv";
import { json, matrix, withoutId } from "./_setup.js";

/** An app of its own, to be mounted. */
function adminApp() {
  const admin = createApp({ logLevel: "silent" });
  admin.onRequest((ctx) => {
    if (ctx.headers["x-admin"] !== "yes") return [403, "admins only"];
    return undefined;
  });
  admin.bind("/stats", { style: "object" }, (_, ctx) => [200, "stats", ctx.route]);
  admin.group("/deep", (d) => {
    d.onResponse((a) => {
      a.headers["x-deep"] = "1";
    });
    d.bind("/x", () => [200, "deep"]);
  });
  return admin;
}

matrix(
  "G1, G2: groups and mounting",
  (app) => {
    app.group("/v1/<int:org>", { bodyLimit: 16, timeout: 50 }, (v1) => {
      v1.bind("/users/<int:id>", ({ org, id }) => {
        const sum: number = org + id; // typed from the full path
        return [200, org, id, sum];
      });
      v1.bind("/echo", { methods: ["POST"] }, ({ data }) => [200, data]);
      v1.bind("/echo-big", { methods: ["POST"], bodyLimit: 1024 }, ({ data }) => [200, data]);
      v1.bind("/slow", () => new Promise(() => {}));
      v1.bind("/", { style: "object" }, (_, ctx) => [200, ctx.route]);
      v1.group("/inner", { timeout: 5_000 }, (inner) => {
        inner.bind("/wait", async ({ org }) => {
          await new Promise((r) => setTimeout(r, 80));
          return [200, org];
        });
        inner.bind("/echo", { methods: ["POST"] }, ({ data }) => [200, data]);
      });
    });
    app.group("/sealed", { encrypted: true }, (g) => {
      g.bind("/in", () => [200, "never in clear"]);
      g.bind("/open", { encrypted: false }, () => [200, "open"]);
    });
    const admin = adminApp();
    app.mount("/admin", admin);
    admin.bind("/later", () => [200, "not seen: mounted before"]);
  },
  (send) => {
    it("G1: routes under the prefix, path values typed and converted from the full path", async () => {
      assert.deepEqual(await json(await send()("/v1/3/users/4"), 200), [3, 4, 7]);
      assert.equal(await json(await send()("/v1/3"), 200), "/v1/<int:org>");
      assert.equal((await send()("/v1/x/users/4")).status, 404);
    });
    it("G1: the group's body limit and timeout apply; bind and a group inside override them", async () => {
      const big = "x".repeat(100);
      assert.equal(
        withoutId(await json(await send()("/v1/1/echo", { method: "POST", body: big }), 413)).code,
        "USRV_ERR_BODY_TOO_LARGE",
      );
      assert.equal(await json(await send()("/v1/1/echo-big", { method: "POST", body: big }), 200), big);
      assert.equal(
        withoutId(await json(await send()("/v1/1/inner/echo", { method: "POST", body: big }), 413)).code,
        "USRV_ERR_BODY_TOO_LARGE",
        "the inner group inherits the body limit",
      );
      const slow = withoutId(await json(await send()("/v1/1/slow"), 503));
      assert.match(String(slow.message), /GET \/v1\/<int:org>\/slow did not answer within 50 ms/);
      assert.equal(await json(await send()("/v1/9/inner/wait"), 200), 9);
    });
    it("G1: encrypted on a group refuses plain requests on its routes; a route may opt out", async () => {
      const res = await send()("/sealed/in");
      assert.equal(withoutId(await json(res, 403)).code, "USRV_ERR_ENCRYPTION_REQUIRED");
      assert.equal(await json(await send()("/sealed/open"), 200), "open");
    });
    it("G2: a mounted app's routes and hooks under the prefix, as they were when mounted", async () => {
      assert.equal((await send()("/admin/stats")).status, 403);
      assert.deepEqual(await json(await send()("/admin/stats", { headers: { "x-admin": "yes" } }), 200), [
        "stats",
        "/admin/stats",
      ]);
      const deep = await send()("/admin/deep/x", { headers: { "x-admin": "yes" } });
      assert.equal(deep.headers.get("x-deep"), "1");
      assert.equal((await send()("/admin/later", { headers: { "x-admin": "yes" } })).status, 404);
      assert.equal(
        (await send()("/admin/nowhere")).status,
        403,
        "the mounted app's onRequest sees its 404s too",
      );
      assert.equal((await send()("/stats")).status, 404);
    });
  },
);

it("G1: a group's prefix is checked at once: <path:...> refused, markups parsed", () => {
  const app = createApp();
  assert.throws(() => app.group("/files/<path:rest>", () => {}), BindError);
  assert.throws(() => app.group("/x/<nope:y>", () => {}), /unknown converter "nope"/);
  assert.throws(() => app.group("/x", { timeout: -1 }), BindError);
  assert.throws(() => app.group(5 as never), /prefix as a string/);
});

it("G1, G2: the same route through a group, or a mount, is EndpointAlreadyDefined; an app cannot mount itself", () => {
  const app = createApp();
  app.bind("/v1/a", () => [200]);
  assert.throws(() => app.group("/v1", (g) => g.bind("/a", () => [200])), EndpointAlreadyDefined);
  const other = createApp();
  other.bind("/a", () => [200]);
  assert.throws(() => app.mount("/v1", other), /GET \/v1\/a is already bound/);
  assert.throws(() => app.mount("/me", app), /cannot mount itself/);
  assert.throws(() => app.mount("/x", {} as never), /an app made by createApp/);
});

it("G1: a group's hooks run only for its routes and the paths under its prefix", async () => {
  const app = createApp({ logLevel: "silent" });
  const seen: string[] = [];
  app.group("/api", { hooks: { onRequest: (ctx) => void seen.push(ctx.path) } }, (g) =>
    g.bind("/a", () => [200]),
  );
  app.bind("/apix", () => [200]);
  await app.request("/api/a");
  await app.request("/api/none");
  await app.request("/apix");
  await app.request("/other");
  assert.deepEqual(seen, ["/api/a", "/api/none"]);
});

it("G2: a group's encrypted and allow hold for the routes it mounts; mounted routes sign cookies with the mounting app's keys", async () => {
  const app = createApp({ logLevel: "silent", cookieKeys: ["k".repeat(32)] });
  const admin = createApp({ logLevel: "silent" });
  admin.bind("/secret", () => [200, "secret data"]);
  admin.bind("/cookie", { style: "object" }, (_, ctx) => {
    ctx.setCookie("s", "v", { signed: true });
    return [200];
  });
  app.group("/admin", { encrypted: "v2" }, (g) => g.mount("/sub", admin));
  app.mount("/open", admin);
  assert.equal((await app.request("/admin/sub/secret")).status, 403);
  const cookie = await app.request("/open/cookie");
  assert.equal(cookie.status, 200);
  assert.match(cookie.headers.get("set-cookie") ?? "", /^s=v\./);
});

it("G2: mounting an app with cookieKeys the mounting app lacks is a BindError naming the fix; the same keys mount", async () => {
  const key = "k".repeat(32);
  const other = () => {
    const sub = createApp({ logLevel: "silent", cookieKeys: [key] });
    sub.bind("/c", { style: "object" }, (_, ctx) => [200, ctx.cookie("s", { signed: true }) ?? null]);
    return sub;
  };
  const message =
    /mount\("\/sub", app\): the mounted app has cookieKeys the mounting app lacks, and its routes sign and verify cookies with the mounting app's; list them in the mounting app's createApp\(\{ cookieKeys \}\)/;
  assert.throws(() => createApp({ logLevel: "silent" }).mount("/sub", other()), message);
  assert.throws(
    () => createApp({ logLevel: "silent", cookieKeys: ["n".repeat(32)] }).mount("/sub", other()),
    message,
  );
  const app = createApp({ logLevel: "silent", cookieKeys: [new TextEncoder().encode("n".repeat(32)), key] });
  app.mount("/sub", other());
  const signed = createApp({ logLevel: "silent", cookieKeys: [key] });
  signed.bind("/set", { style: "object" }, (_, ctx) => {
    ctx.setCookie("s", "v", { signed: true });
    return [200];
  });
  const line = (await signed.request("/set")).headers.get("set-cookie")!.split(";")[0]!;
  assert.equal(await (await app.request("/sub/c", { headers: { cookie: line } })).json(), "v");
});

it("G1: a group's hooks see its 404s and 405s as the router reads the path: encoded, doubled slashes; a group at / sees them all", async () => {
  const app = createApp({ logLevel: "silent" });
  const seen: string[] = [];
  app.group("/v1", { hooks: { onRequest: (ctx) => void seen.push(`v1 ${ctx.path}`) } }, (g) =>
    g.bind("/users", () => [200]),
  );
  app.group("/", { hooks: { notFound: () => [404, "root group"] } });
  await app.request("/%76%31/users", { method: "POST" });
  await app.request("//v1/nothing");
  assert.deepEqual(seen, ["v1 /%76%31/users", "v1 //v1/nothing"]);
  assert.equal(await (await app.request("/elsewhere")).json(), "root group");
});
