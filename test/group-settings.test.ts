/**
 * src/app/group.ts: what the mutation run of the `pipeline` group
 * (docs/mutation.md) found unpinned. Who may reach a route first (encrypted,
 * allow, through a group and a mount), then the checks at bind time.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { createApp } from "usrv";
import { generateKeypair } from "usrv/secp256k1";
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
    [() => app.group("/a", { timeout: 0 }), /whole number of milliseconds from 1 to 2147483647/],
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
  const open2 = createApp({ logLevel: "silent" });
  open2.bind("/in", { methods: ["POST"] }, () => [200, "welcome"]);
  open2.bind("/v2only", { methods: ["POST"], encrypted: "v2" }, () => [200, "leaked"]);
  app.group("/outer-only", { allow: [client.publicKey] }, (g) => g.mount("/o", open2));
  app.mount("/inner-only", other);
  app.mount("/plain", open2);
  for (const path of ["/both/o/in", "/outer-only/o/in", "/inner-only/in"]) {
    assert.equal(await open(await app.request(path, sealed("{}"))), "welcome", path);
  }
  const v1 = withoutId(await json(await app.request("/plain/v2only", sealed("{}")), 403));
  assert.equal(v1.code, "USRV_ERR_ENCRYPTION_REQUIRED", "a v2-only route mounted in clear still refuses v1");
  assert.match(String(v1.message), /accepts only v2-encrypted requests/);
  for (const path of ["/outer-no/o/in", "/fn-no/o/in"]) {
    const body = withoutId(await json(await app.request(path, sealed("{}")), 403));
    assert.equal(body.code, "USRV_ERR_FORBIDDEN_SENDER", path);
  }
});

it("G1: allow compares a key by its X coordinate: the (X, p - Y) spelling of a listed key is admitted", async () => {
  const P = 2n ** 256n - 2n ** 32n - 977n;
  const raw = Buffer.from(client.publicKey, "base64");
  const y = BigInt(`0x${raw.subarray(32).toString("hex")}`);
  const flipped = Buffer.concat([
    raw.subarray(0, 32),
    Buffer.from((P - y).toString(16).padStart(64, "0"), "hex"),
  ]);
  const app = createApp({ logLevel: "silent" });
  await app.identify("server-secret");
  app.bind("/in", { methods: ["POST"], allow: [flipped.toString("base64")] }, () => [200, "welcome"]);
  assert.equal(await open(await app.request("/in", sealed("{}"))), "welcome");
  const stranger = generateKeypair();
  assert.equal((await app.request("/in", sealed("{}", { key: stranger }))).status, 403);
});

it("G1: a refused allow key is quoted in the message up to 40 characters", () => {
  const app = createApp({ logLevel: "silent" });
  const long = "x".repeat(200);
  assert.throws(
    () => app.bind("/a", { allow: [long] }, () => [200]),
    (e: Error) => e.message.endsWith(`not ${JSON.stringify(long).slice(0, 40)}`),
  );
});

it("W1, G1: a WebSocket route in a group that demands encryption or an allow list is refused; a mount copies WebSocket routes", () => {
  for (const options of [{ encrypted: true }, { encrypted: "v2" as const }, { allow: [KEY] }]) {
    const app = createApp({ logLevel: "silent" });
    assert.throws(
      () => app.group("/g", options, (g) => g.ws("/chat", { message: () => {} })),
      /its group demands encrypted, signed requests/,
    );
  }
  const other = createApp({ logLevel: "silent" });
  other.ws("/chat", { message: () => {} });
  other.bind("/s", { methods: ["POST"], body: "stream" }, () => [200]);
  const app = createApp({ logLevel: "silent" });
  app.mount("/o", other); // a stream route and a socket, in clear: fine
  assert.throws(() => app.ws("/o/chat", { message: () => {} }), /already/i);
});

it("G1: a response option is one schema or one per status (three digits, 100-599)", () => {
  const app = createApp({ logLevel: "silent" });
  const ok = { "~standard": { version: 1, vendor: "t", validate: (value: unknown) => ({ value }) } };
  app.bind("/ok", { response: { 200: ok, 404: ok } as never }, () => [200]);
  for (const bad of [5, { 200: ok, 999: ok }, { 2000: ok }, { x200: ok }, { 200: ok, 404: {} }]) {
    assert.throws(
      () =>
        app.bind(`/r${JSON.stringify(Object.keys(Object(bad)))}`, { response: bad as never }, () => [200]),
      /a Standard Schema, or one per status/,
      JSON.stringify(Object.keys(Object(bad))),
    );
  }
  assert.throws(
    () => app.bind("/f", { uploads: { maxFiles: 0 } }, () => [200]),
    /whole number of files >= 1/,
  );
});

it("V13: uploads' defaults: a file of any size up to 10 MiB, and a total of maxFileSize x maxFiles", async () => {
  const app = createApp({ logLevel: "silent" });
  app.bind("/default", { methods: ["POST"], uploads: {} }, () => [200, "stored"]);
  app.bind("/sized", { methods: ["POST"], uploads: { maxFileSize: 1000, maxFiles: 10 } }, () => [
    200,
    "stored",
  ]);
  for (const path of ["/default", "/sized"]) {
    const body = new FormData();
    body.append("file", new File(["z".repeat(500)], "z.txt"));
    assert.equal(await json(await app.request(path, { method: "POST", body }), 200), "stored", path);
  }
});

it("G1: a timeout, pingInterval or drainTimeout over 2,147,483,647 ms is refused where it is given: a timer set longer fires at once", async () => {
  const max = 2_147_483_647;
  const over =
    /whole number of milliseconds from \d to 2147483647 \(about 24\.8 days: a timer set longer fires at once\), not 2147483648/;
  const app = createApp({ logLevel: "silent" });
  const cases: [() => unknown, RegExp][] = [
    [() => createApp({ timeout: max + 1 }), over],
    [() => app.group("/g", { timeout: max + 1 }), over],
    [() => app.bind("/b", { timeout: max + 1 }, () => [200]), over],
    [() => app.ws("/w", {}, { timeout: max + 1 }), over],
    [() => app.ws("/w", {}, { pingInterval: max + 1 }), over],
  ];
  for (const [make, message] of cases) assert.throws(make, message, String(message));
  await assert.rejects(app.run({ port: 0, drainTimeout: max + 1 }), over);
  // the longest accepted waits: an async hook and handler that take a moment answer
  const patient = createApp({ logLevel: "silent", timeout: max });
  patient.onRequest(async () => {
    await new Promise((r) => setTimeout(r, 20));
  });
  patient.group("/g", { timeout: max }, (g) =>
    g.bind("/slow", async () => {
      await new Promise((r) => setTimeout(r, 20));
      return [200, "waited"];
    }),
  );
  assert.equal(await json(await patient.request("/g/slow"), 200), "waited");
});
