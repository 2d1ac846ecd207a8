/**
 * src/app/group.ts: what the mutation run of the `pipeline` group
 * (docs/mutation.md) found unpinned. Who may reach a route first (encrypted,
 * allow, through a group and a mount), then the checks at bind time.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { createApp } from "usrv";
import { json, matrix, withoutId } from "./_setup.js";
import { client, open, sealed } from "./fixtures/v1-requests.js";

/** A public key as usrv reads it: 64 bytes of canonical base64 (88 characters, "AQ==" at the end). */
const KEY = Buffer.alloc(64, 1).toString("base64");

matrix(
  "G1, G2: encrypted and allow, inherited",
  (app) => {
    app.bind("/v2", { encrypted: "v2" }, () => [200, "leaked"]);
    app.bind("/allow", { allow: [KEY] }, () => [200, "leaked"]);
    app.group("/g-allow", { allow: [KEY] }, (g) => g.bind("/x", () => [200, "leaked"]));
    app.group("/g-v2", { encrypted: "v2" }, (g) => g.bind("/x", () => [200, "leaked"]));
    const other = createApp({ logLevel: "silent" });
    other.bind("/x", () => [200, "leaked"]);
    other.bind("/own", { encrypted: true }, () => [200, "leaked"]);
    app.group("/m-allow", { allow: [KEY] }, (g) => g.mount("/sub", other));
    app.group("/m-v2", { encrypted: "v2" }, (g) => g.mount("/sub", other));
    app.group("/m-true", { encrypted: true }, (g) => g.mount("/sub", other));
    app.mount("/m-plain", other);
  },
  (send) => {
    it('G1: a route or a group with encrypted: "v2" or an allow list refuses a plain request', async () => {
      for (const path of ["/v2", "/allow", "/g-allow/x", "/g-v2/x"]) {
        const res = await send()(path);
        const body = withoutId(await json(res, 403));
        assert.equal(body.code, "USRV_ERR_ENCRYPTION_REQUIRED", path);
      }
    });
    it("G2: a mounting group's allow or encrypted holds for what it mounts; a mounted route keeps its own", async () => {
      for (const path of ["/m-allow/sub/x", "/m-v2/sub/x", "/m-true/sub/x", "/m-plain/own"]) {
        const body = withoutId(await json(await send()(path), 403));
        assert.equal(body.code, "USRV_ERR_ENCRYPTION_REQUIRED", path);
      }
      assert.equal(await json(await send()("/m-plain/x"), 200), "leaked", "a plain mount stays plain");
    });
  },
);

it("G1: allow lists keys as 88 characters of canonical base64, checked at bind time", () => {
  const app = createApp({ logLevel: "silent" });
  app.bind("/ok", { allow: [KEY] }, () => [200]);
  for (const bad of [`A${KEY}`, `${KEY}A`, KEY.slice(1), `${KEY.slice(0, 85)}B==`, `${"!".repeat(85)}A==`]) {
    assert.throws(
      () => app.bind(`/bad${bad.length}${bad[85]}${bad[0]}`, { allow: [bad] }, () => [200]),
      /allow lists public keys as base64 of X\|\|Y \(88 characters\), not "/,
      bad,
    );
  }
});

it('V13: body: "stream" or uploads cannot go with encrypted, "v2" or allow, on a route, a group or a mount', () => {
  const app = createApp({ logLevel: "silent" });
  const message = /body: "stream" or uploads cannot go with encrypted or allow/;
  for (const options of [{ encrypted: true }, { encrypted: "v2" as const }, { allow: [KEY] }]) {
    assert.throws(() => app.bind("/s", { ...options, body: "stream" }, () => [200]), message);
    assert.throws(
      () => app.group("/g", options, (g) => g.bind("/s", { body: "stream" }, () => [200])),
      message,
    );
    const other = createApp({ logLevel: "silent" });
    other.bind("/s", { methods: ["POST"], body: "stream" }, () => [200]);
    assert.throws(() => app.group("/m", options, (g) => g.mount("/o", other)), message);
  }
  app.bind("/plain-stream", { body: "stream" }, () => [200]); // in clear: fine
});

it("W1, G2: a mount that would put a WebSocket route where requests must be encrypted is refused", () => {
  const other = createApp({ logLevel: "silent" });
  other.ws("/chat", { message: () => {} });
  for (const options of [{ encrypted: true }, { encrypted: "v2" as const }, { allow: [KEY] }]) {
    const app = createApp({ logLevel: "silent" });
    assert.throws(
      () => app.group("/g", options, (g) => g.mount("/o", other)),
      /mount\("\/g\/o", app\): WS \/chat would be served where requests must be encrypted and signed/,
    );
  }
  const app = createApp({ logLevel: "silent" });
  app.mount("/o", other); // in clear: fine
  assert.throws(() => app.ws(1 as never, {}), /ws\(path, \.\.\.\) needs the path as a string, not/);
});

it("G1: use() takes an object of hooks, which run; bind needs a path and a function", async () => {
  const app = createApp({ logLevel: "silent" });
  for (const bad of [null, 1, "hooks"]) {
    assert.throws(
      () => app.use(bad as never),
      /use\(hooks\) takes an object of hooks \(\{ onRequest, onResponse, \.\.\. \}\), not/,
    );
  }
  app.group("/g", (g) => {
    g.use({ onRequest: () => [202, "from use"] });
    g.bind("/x", () => [200, "handler"]);
  });
  assert.equal(await json(await app.request("/g/x"), 202), "from use");
  assert.throws(
    () => app.bind(1 as never, () => [200]),
    /bind\(path, \.\.\.\) needs the path as a string, not/,
  );
  assert.throws(
    () => (app.bind as unknown as (p: string) => void)("/nofn"),
    /bind\("\/nofn", \.\.\.\) needs a function to call/,
  );
  assert.throws(() => app.bind("/m", { methods: ["G T"] }, () => [200]), /invalid method "G T" for "\/m"/);
  assert.throws(
    () => app.group("/d", {}, 5 as never),
    /group\("\/d", options, define\): define is a function that binds on the group/,
  );
  assert.throws(
    () => app.mount("/x", {} as never),
    /mount\("\/x", app\) takes an app made by createApp, not/,
  );
  const g = app.group("/sub");
  assert.throws(() => app.mount("/y", g as never), /mount\("\/y", app\) takes an app made by createApp/);
});

it("G1: option refusals name the option and its unit, on bind, group and createApp", () => {
  const app = createApp({ logLevel: "silent" });
  const cases: [() => unknown, RegExp][] = [
    [() => app.bind("/a", { allow: 5 as never }, () => [200]), /\{ allow: \[publicKey1, publicKey2\] \}/],
    [() => app.bind("/a", { params: 5 as never }, () => [200]), /\{ params: \["a", "b"\] \}/],
    [() => app.bind("/a", { maxKeys: 0 }, () => [200]), /whole number of keys >= 1/],
    [() => app.bind("/a", { maxDepth: 0 }, () => [200]), /whole number of levels >= 1/],
    [() => app.bind("/a", { body: 5 as never }, () => [200]), /"stream"/],
    [() => app.bind("/a", { uploads: 5 as never }, () => [200]), /option "uploads" must be/],
    [
      () => app.bind("/a", { query: {} as never }, () => [200]),
      /a Standard Schema \(zod, valibot, ArkType\.\.\.\)/,
    ],
    [
      () => app.bind("/a", { response: { 999: {} } as never }, () => [200]),
      /a Standard Schema, or one per status/,
    ],
    [() => app.bind("/a", { uploads: { dir: 5 as never } }, () => [200]), /bind\("\/a"\) uploads/],
    [() => app.bind("/a", { uploads: { maxFileSize: 0 } }, () => [200]), /whole number of bytes >= 1/],
    [() => app.bind("/a", { uploads: { maxTotal: 0 } }, () => [200]), /whole number of bytes >= 1/],
    [() => app.bind("/a", { uploads: { nope: 1 } as never }, () => [200]), /nope/],
    [() => app.group("/a", { bodyLimit: -1 }), /group\("\/a"\).*whole number of bytes/],
    [() => app.group("/a", { maxKeys: 0 }), /whole number of keys >= 1/],
    [() => app.group("/a", { maxDepth: 0 }), /whole number of levels >= 1/],
    [() => app.group("/a", { timeout: 0 }), /whole number of milliseconds >= 1/],
    [
      () => app.group("/a/<path:p>"),
      /group\("\/a\/<path:p>"\): <path:\.\.\.> takes the rest of a path, so it cannot be in a prefix/,
    ],
    [() => app.mount("/a/<path:p>", createApp()), /mount\("\/a\/<path:p>"\)/],
    [() => createApp({ hooks: { onRequest: 5 as never } }), /createApp hooks/],
    [() => app.group("/h", { hooks: { onRequest: 5 as never } }), /group\("\/h"\) hooks/],
    [() => app.onRequest(5 as never), /app\.onRequest/],
    [() => app.group("/i").onResponse(5 as never), /group\("\/i"\)\.onResponse/],
    [() => app.group("/j").use({ onError: 5 as never }), /group\("\/j"\)\.use/],
    [() => app.use({ onError: 5 as never }), /app\.use/],
  ];
  for (const [make, message] of cases) assert.throws(make, message, String(message));
});

it('B1: a list of params binds positionally with the context as `this`; style: "positional" settles a false alarm', async () => {
  const app = createApp({ logLevel: "silent" });
  app.bind("/p/<a>", { params: ["a", "b"] }, function (this: { path: string }, a: string, b: string) {
    return [200, [a, b, this.path]];
  });
  app.bind("/r", { style: "positional" }, (req: { method?: string } | null) => [200, req?.method ?? null]);
  assert.deepEqual(await json(await app.request("/p/x?b=y"), 200), ["x", "y", "/p/x"]);
  assert.equal(await json(await app.request("/r?req=1"), 200), null);
  assert.throws(
    () => app.bind("/o", { style: "positional" }, ({ a }: { a: string }) => [200, a]),
    /style: "positional" given for a function whose first parameter is an object pattern/,
  );
});

it("G2: a mounted route with its own allow list under a group with one admits only senders both admit", async () => {
  const app = createApp({ logLevel: "silent" });
  await app.identify("server-secret");
  const other = createApp({ logLevel: "silent" });
  other.bind("/in", { methods: ["POST"], allow: [client.publicKey] }, () => [200, "welcome"]);
  app.group("/both", { allow: [client.publicKey] }, (g) => g.mount("/o", other));
  app.group("/outer-no", { allow: [KEY] }, (g) => g.mount("/o", other));
  app.group("/fn-no", { allow: () => false }, (g) => g.mount("/o", other));
  assert.equal(await open(await app.request("/both/o/in", sealed("{}"))), "welcome");
  for (const path of ["/outer-no/o/in", "/fn-no/o/in"]) {
    const body = withoutId(await json(await app.request(path, sealed("{}")), 403));
    assert.equal(body.code, "USRV_ERR_FORBIDDEN_SENDER", path);
  }
});
