/**
 * C10: a client typed from the server (issue 15.3). The `Expect<Equal<...>>`
 * lines and the `@ts-expect-error` calls are checked by tsc in the test
 * command: inference that breaks fails the build. Their table,
 * fixtures/typed-routes.ts, is what `usrv types` writes from
 * fixtures/bind-typed.ts (checked below), and the same calls run against
 * that app on both faces.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ServerHandle } from "usrv";
import {
  attempt,
  type Client,
  ClientError,
  createClient,
  type FullAnswer,
  type RouteHttpError,
  type TypedClient,
} from "usrv/client";
import app from "./fixtures/bind-typed.js";
import { CLI } from "./fixtures/serve-helpers.js";
import type { Routes } from "./fixtures/typed-routes.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
type Data<P> = P extends Promise<infer T> ? T : never;
type ErrorsOf<P> = P extends { readonly "~errors"?: infer E } ? E : never;
type Code<E> = E extends { serverCode: infer C } ? C : never;

declare const c: TypedClient<Routes>;
const calls = {
  getUser: () => c.GET.user(42, { x: "foo" }),
  listUsers: () => c.GET.user(),
  me: () => c.GET.user.me(),
  posts: () => c.GET.user(1, "posts"),
  createUser: () => c.POST.user({ name: "Bo" }),
  removeUser: () => c.DELETE.user(1),
  raw: () => c.GET.raw(),
  status: () => c.GET.status({ code: "418" }),
  hidden: () => c.GET.hidden(),
  full: () => c.GET.user.me({}, { full: true }),
};
type C = typeof calls;
type Handler404 = Extract<ErrorsOf<ReturnType<C["getUser"]>>, { serverCode: "USRV_ERR_STATUS" }>;
type Handler409 = Extract<ErrorsOf<ReturnType<C["createUser"]>>, { serverCode: "USRV_ERR_STATUS" }>;

export type Cases = [
  // the answer: the handler's 1xx-3xx values, as the client decodes them
  Expect<
    Equal<Data<ReturnType<C["getUser"]>>, { readonly x: string; readonly id: number; readonly name: string }>
  >,
  Expect<Equal<Data<ReturnType<C["listUsers"]>>, readonly { id: number; name: string }[]>>,
  Expect<Equal<Data<ReturnType<C["me"]>>, { readonly id: 0; readonly name: "me" }>>,
  Expect<Equal<Data<ReturnType<C["posts"]>>, [number, readonly ["first"]]>>,
  Expect<Equal<Data<ReturnType<C["createUser"]>>, { readonly id: 2; readonly name: string }>>,
  Expect<Equal<Data<ReturnType<C["removeUser"]>>, null>>,
  Expect<Equal<Data<ReturnType<C["raw"]>>, unknown>>,
  Expect<Equal<Data<ReturnType<C["status"]>>, "as asked">>,
  Expect<Equal<Data<ReturnType<C["hidden"]>>, unknown>>,
  Expect<Equal<Data<ReturnType<C["full"]>>, FullAnswer<{ readonly id: 0; readonly name: "me" }>>>,
  // the errors: the handler's own statuses with their detail, the schemas' 400, usrv's codes
  Expect<Equal<Handler404, RouteHttpError<404, "USRV_ERR_STATUS", "no such user">>>,
  Expect<
    // narrowed as the handler narrowed it: name === "taken"
    Equal<
      Handler409,
      RouteHttpError<409, "USRV_ERR_STATUS", { readonly name: "taken"; readonly reason: "taken" }>
    >
  >,
  Expect<
    Equal<Extract<Code<ErrorsOf<ReturnType<C["getUser"]>>>, "USRV_ERR_VALIDATION">, "USRV_ERR_VALIDATION">
  >,
  Expect<Equal<Extract<Code<ErrorsOf<ReturnType<C["listUsers"]>>>, "USRV_ERR_VALIDATION">, never>>,
  Expect<Equal<Extract<ErrorsOf<ReturnType<C["listUsers"]>>, { serverCode: "USRV_ERR_STATUS" }>, never>>,
  Expect<Equal<Extract<Code<ErrorsOf<ReturnType<C["me"]>>>, "USRV_ERR_TIMEOUT">, "USRV_ERR_TIMEOUT">>,
  Expect<
    Equal<
      Extract<ErrorsOf<ReturnType<C["status"]>>, { serverCode: "USRV_ERR_STATUS" }>,
      RouteHttpError<number, "USRV_ERR_STATUS", unknown>
    >
  >,
  // without a table, the client is the untyped one
  Expect<Equal<ReturnType<typeof createClient>, Client>>,
];

// Calls that do not fit their route do not compile.
export function wrongCalls(): void {
  // @ts-expect-error the id of /user/<int:id> is a number
  void c.GET.user("42", { x: "foo" });
  // @ts-expect-error the query schema requires x
  void c.GET.user(42);
  // @ts-expect-error x is a string
  void c.GET.user(42, { x: 1 });
  // @ts-expect-error the body schema's name is a string
  void c.POST.user({ name: 5 });
  // @ts-expect-error the body schema requires name
  void c.POST.user({});
  // @ts-expect-error no such route
  void c.GET.nowhere();
  // @ts-expect-error no route answers PUT
  void c.PUT;
  // @ts-expect-error <bool:on> reads true, false, 1 or 0
  void c.GET.flag("yes");
  // @ts-expect-error an unknown option
  void c.GET.user.me({}, { fulll: true });
}

for (const face of ["fetch", "node"] as const) {
  describe(`C10: a typed client calls the app it was typed from [${face}]`, () => {
    let server: ServerHandle | undefined;
    let client: TypedClient<Routes>;
    before(async () => {
      if (face === "node") server = await app.run({ port: 0 });
      client =
        face === "fetch"
          ? createClient<Routes>({ peer: "http://app", fetch: (input, init) => app.request(input, init) })
          : createClient<Routes>({ peer: server!.url });
    });
    after(() => server?.close());

    it("C10: path values go positionally, the query's values in the object, the answer comes back", async () => {
      assert.deepEqual(await client.GET.user(1, { x: "foo" }), { id: 1, name: "Ada", x: "foo" });
      assert.deepEqual(await client.GET.user(), [{ id: 1, name: "Ada" }]);
      assert.deepEqual(await client.GET.user.me(), { id: 0, name: "me" });
      assert.deepEqual(await client.GET.user(1, "posts"), [1, ["first"]]);
      assert.equal(await client.GET.files("a.txt"), "a.txt");
      assert.equal(await client.GET.flag("true"), true);
      assert.equal(await client.GET("then", "x"), "then");
      assert.equal(await client.GET.raw(), "raw text");
      assert.equal(await client.GET.hidden(), "not exported");
    });

    it("C10: a body method sends the values as the body; 204 gives null; full gives the status", async () => {
      assert.deepEqual(await client.POST.user({ name: "Bo" }), { id: 2, name: "Bo" });
      assert.equal(await client.DELETE.user(1), null);
      const full = await client.GET.user.me({}, { full: true });
      assert.equal(full.status, 200);
      assert.deepEqual(full.data, { id: 0, name: "me" });
    });

    it("C10: attempt gives the handler's error statuses as typed values", async () => {
      const r = await attempt(client.GET.user(42, { x: "foo" }));
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.serverCode, "USRV_ERR_STATUS");
      if (r.error.serverCode !== "USRV_ERR_STATUS") return;
      const detail: "no such user" = r.error.body.detail;
      assert.equal(r.error.status, 404);
      assert.equal(detail, "no such user");

      const taken = await attempt(client.POST.user({ name: "taken" }));
      assert.ok(!taken.ok && taken.error.serverCode === "USRV_ERR_STATUS");
      assert.equal(taken.error.status, 409);
      assert.deepEqual(taken.error.body.detail, { name: "taken", reason: "taken" });

      const ok = await attempt(client.GET.user(1, { x: "y" }));
      assert.ok(ok.ok);
      assert.equal(ok.data.name, "Ada");
    });

    it("C10: attempt gives usrv's own errors too (a schema's 400)", async () => {
      // @ts-expect-error the body schema's name is a string: sent anyway, the server refuses it
      const r = await attempt(client.POST.user({ name: 5 }));
      assert.ok(!r.ok && r.error.serverCode === "USRV_ERR_VALIDATION");
      assert.equal(r.error.status, 400);
      assert.deepEqual(
        r.error.body.detail.issues.map((i) => [i.in, i.path]),
        [["body", ["name"]]],
      );
    });
  });
}

describe("C10: attempt rejects what is not an error answer", () => {
  it("C10: a network failure still rejects, as a ClientError", async () => {
    const client = createClient<Routes>({
      peer: "http://app",
      fetch: () => Promise.reject(new TypeError("fetch failed")),
    });
    await assert.rejects(
      attempt(client.GET.user.me()),
      (e: unknown) => e instanceof ClientError && e.code === "USRV_ERR_CLIENT_UNREACHABLE",
    );
  });
});

describe("C10: usrv types BINDINGS", () => {
  const module = fileURLToPath(new URL("../../test/fixtures/bind-typed.ts", import.meta.url));
  const table = fileURLToPath(new URL("../../test/fixtures/typed-routes.ts", import.meta.url));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, "types", ...args], {
      encoding: "utf8",
      timeout: 120_000,
      cwd: fileURLToPath(new URL("../../test/fixtures/", import.meta.url)),
    });
  // the committed table is formatted by the linter: compare it without its spacing
  const bare = (text: string) => text.replace(/\s+/g, "");

  it("C10: writes the table the type tests above compile against", () => {
    const r = run("bind-typed.ts");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(bare(r.stdout), bare(readFileSync(table, "utf8")));
    assert.match(r.stderr, /1 of 12 routes have a handler no TypeScript module exports/);
  });

  it("C10: a route's module is imported relative to the output file, .ts as .js", () => {
    const dir = mkdtempSync(join(tmpdir(), "usrv-types-"));
    try {
      const out = join(dir, "api.ts");
      const r = run(module, "-o", out);
      assert.equal(r.status, 0, r.stderr);
      const spec = relative(dir, module).split(sep).join("/").replace(/\.ts$/, ".js");
      assert.ok(readFileSync(out, "utf8").includes(`typeof import("${spec}")["getUser"]`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("C10: a JavaScript module's handlers are typed only with --allow-js; a method the client lacks is left out", () => {
    // inside the package, so that the module's `import "usrv"` finds it
    const dir = mkdtempSync(fileURLToPath(new URL("../types-js-", import.meta.url)));
    try {
      const js = join(dir, "routes.mjs");
      writeFileSync(
        js,
        'import { createApp } from "usrv";\nconst app = createApp();\nexport default app;\nexport const hi = app.bind("/hi", () => [200, "hi"]);\n' +
          'app.bind("/cache", { methods: ["PURGE"] }, () => [204]);\n',
      );
      const plain = run(js);
      const allowed = run(js, "--allow-js");
      assert.equal(plain.status, 0, plain.stderr);
      assert.equal(allowed.status, 0, allowed.stderr);
      assert.match(plain.stdout, /readonly hi: TypedCall<"GET", \[\], unknown>/);
      assert.doesNotMatch(plain.stdout, /PURGE/);
      assert.match(plain.stderr, /left out, the client has no property for their method .*: PURGE \/cache/);
      assert.match(
        allowed.stdout,
        /readonly hi: TypedCall<"GET", \[\], typeof import\("[^"]*routes\.mjs"\)\["hi"\]>/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("C10: a line break in a module's name does not end the header comment", () => {
    const dir = mkdtempSync(fileURLToPath(new URL("../types-nl-", import.meta.url)));
    try {
      const odd = join(dir, "a\nexport const injected = 1;\n.ts");
      writeFileSync(odd, readFileSync(module, "utf8"));
      const r = run(odd);
      assert.equal(r.status, 0, r.stderr);
      const [header, next] = r.stdout.split("\n");
      assert.match(header!, /^\/\/ Written by `usrv types .*a export const injected = 1; \.ts`/);
      assert.equal(next, 'import type { TypedCall } from "usrv/client";');
      assert.ok(
        r.stdout.includes('a\\nexport const injected = 1;\\n.js")'),
        "the specifier keeps its escapes",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("C10: usage errors exit 2 with the usage", () => {
    const none = run();
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no binding module given/);
    const help = run("--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /usage: usrv types/);
  });
});
