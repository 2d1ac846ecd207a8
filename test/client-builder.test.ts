/**
 * C1-C3: the endpoint builder, connect, and the options of a call, against
 * a recording fetch (what is sent) and against an app (what comes back).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import ts from "typescript";
import type { ServerHandle } from "usrv";
import * as clientModule from "usrv/client";
import {
  ClientError,
  connect,
  createClient,
  defaultClient,
  endpoint,
  FormData,
  GET,
  POST,
} from "usrv/client";
import { quietApp } from "./_setup.js";
import { clientApp, inProcess, recorder } from "./fixtures/client-helpers.js";

const PEER = "http://usrv.test:5000";

/** The issue's example, compiled under strict + noUncheckedIndexedAccess (never run). */
export async function issueExample(): Promise<unknown[]> {
  await connect("http://127.0.0.1:5000"); // HEAD /, remembers the peer; 200, or false
  const puk: string = await GET.puk();
  const a = await GET.api.endpoint({ a: 12, b: "test" }); // -> ["12", "test"]
  const b = await POST.api.endpoint({ value1: 1, value2: 2 }, { puk }); // body encrypted, answer decrypted
  const c = await POST.upload({ file: FormData.file("./a.png"), note: "hi" }, { encoder: "multipart" });
  const d = await POST.api.endpoint({ value1: 1, _puk: puk, _headers: { "x-a": "1" } });
  return [a, b, c, d];
}

describe("C1: endpoint builder", () => {
  const sent = async (call: (c: ReturnType<typeof createClient>) => Promise<unknown>) => {
    const r = recorder();
    await call(createClient({ peer: PEER, fetch: r.fetch }));
    assert.equal(r.requests.length, 1);
    return r.requests[0]!;
  };

  const urls: Array<[string, (c: ReturnType<typeof createClient>) => Promise<unknown>, string]> = [
    [
      "properties are segments, values the query",
      (c) => c.GET.api.endpoint({ a: 12, b: "test" }),
      "/api/endpoint?a=12&b=test",
    ],
    [
      "positional strings append segments",
      (c) => c.GET.user("42", "files", { sort: "name" }),
      "/user/42/files?sort=name",
    ],
    ["numbers are segments too", (c) => c.GET(5, "test"), "/5/test"],
    ["the root endpoint is /", (c) => c.GET(), "/"],
    [
      "segments are percent-encoded one by one",
      (c) => c.GET.files("caf\u00e9 au lait", "a?b#c%"),
      "/files/caf%C3%A9%20au%20lait/a%3Fb%23c%25",
    ],
    ["the seed's _1 spelling is the segment 1", (c) => c.GET.v._1.x(), "/v/1/x"],
    [
      "arrays repeat their key, objects go as JSON, undefined is skipped",
      (c) => c.GET.q({ t: ["x", "y"], o: { k: 1 }, u: undefined, n: null }),
      "/q?t=x&t=y&o=%7B%22k%22%3A1%7D&n=null",
    ],
    [
      "DELETE sends its values in the query",
      (c) => c.DELETE.items("7", { force: true }),
      "/items/7?force=true",
    ],
    [
      "a peer's base path is kept",
      (c) => c.GET.x({}, { peer: "http://other.test/v1/" }),
      "http://other.test/v1/x",
    ],
  ];
  for (const [name, call, want] of urls) {
    it(`C1: ${name}`, async () => {
      const req = await sent(call);
      assert.equal(want.startsWith("http") ? req.url : req.url.slice(PEER.length), want);
    });
  }

  for (const bad of ["..", ".", "", "a/b", "../admin"]) {
    it(`C1: ${JSON.stringify(bad)} is not a valid path segment: a typed error, nothing sent`, async () => {
      const r = recorder();
      const c = createClient({ peer: PEER, fetch: r.fetch });
      await assert.rejects(c.GET.api(bad), { name: "ClientError", code: "USRV_ERR_CLIENT_BAD_SEGMENT" });
      await assert.rejects(c.GET.api[bad](), { code: "USRV_ERR_CLIENT_BAD_SEGMENT" });
      assert.equal(r.requests.length, 0);
    });
  }

  it("C1: awaiting, logging or printing an endpoint never sends anything", async () => {
    const r = recorder();
    const c = createClient({ peer: PEER, fetch: r.fetch });
    const ep = c.GET.api.endpoint;
    assert.equal(ep.then, undefined);
    assert.equal(await ep, ep); // not thenable: await gives it back
    const post = c.POST.x;
    assert.equal(await Promise.resolve(post), post);
    assert.equal(inspect(ep), "[Endpoint GET /api/endpoint]");
    assert.equal(`${ep}`, "GET /api/endpoint");
    assert.equal(String(c.POST.a.b), "POST /a/b");
    assert.equal(JSON.stringify({ ep }), '{"ep":"GET /api/endpoint"}');
    assert.equal(Object.prototype.toString.call(ep), "[object Endpoint]");
    assert.equal(ep.constructor, undefined);
    assert.equal("x" in ep, false);
    assert.throws(() => {
      (ep as { x?: number }).x = 1;
    }, TypeError);
    console.log("%s %o", ep, ep); // what a user would do
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(r.requests.length, 0);
  });

  it("C1: names probed by await and libraries are reachable positionally", async () => {
    const req = await sent((c) => c.GET.api("then", "toJSON"));
    assert.equal(new URL(req.url).pathname, "/api/then/toJSON");
  });

  it("C1: a call is a promise of the decoded answer, through an app without a socket", async () => {
    const app = await clientApp();
    const c = createClient({ peer: "http://app", fetch: inProcess(app) });
    assert.deepEqual(await c.GET.api.endpoint({ a: 12, b: "test" }), ["12", "test"]);
    assert.deepEqual(await c.GET("5", "test"), ["test", 5]);
    assert.deepEqual(await c.POST.api.endpoint({ value1: 1, value2: 2 }), [
      '{"value1": 1, "value2": 2}',
      null,
    ]);
  });

  it("C1: endpoint(kind, send): a sender of one's own gets the client's paths, splitting and checks", async () => {
    const calls: unknown[][] = [];
    const SGET = endpoint("SGET", async (...args) => calls.push(args));
    assert.equal(String(SGET.api.v3.account), "SGET /api/v3/account");
    assert.equal(inspect(SGET.api), "[Endpoint SGET /api]");
    assert.equal(SGET.api, SGET.api);
    assert.equal(SGET.then, undefined);
    await SGET.api.v3.account();
    await SGET.v._1("x", 2, { symbol: "A" }, { timeout: 5 });
    assert.deepEqual(calls, [
      ["SGET", ["api", "v3", "account"], undefined, {}],
      ["SGET", ["v", "1", "x", "2"], { symbol: "A" }, { timeout: 5 }],
    ]);
    await assert.rejects(SGET.x(Number.POSITIVE_INFINITY), { code: "USRV_ERR_CLIENT_BAD_SEGMENT" });
    await assert.rejects(SGET.x({}, {}, {}), { code: "USRV_ERR_CLIENT_BAD_ARGUMENT" });
    await assert.rejects(SGET.x({}, new Map()), { code: "USRV_ERR_CLIENT_BAD_ARGUMENT" });
    assert.equal(calls.length, 2, "nothing sent for a bad shape");
  });

  it("C1: wrong argument shapes are typed errors", async () => {
    const c = createClient({ peer: PEER, fetch: recorder().fetch });
    await assert.rejects(c.GET.x({}, {}, {}), { code: "USRV_ERR_CLIENT_BAD_ARGUMENT" });
    await assert.rejects(c.GET.x({}, "nope"), { code: "USRV_ERR_CLIENT_BAD_ARGUMENT" });
    await assert.rejects(c.GET.x({}, new Map()), { code: "USRV_ERR_CLIENT_BAD_ARGUMENT" });
    await assert.rejects(c.GET.x([1, 2]), { code: "USRV_ERR_CLIENT_BAD_ARGUMENT" });
    await assert.rejects(c.GET.x({ toolong: true }, { timeout: -1 }), {
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
    });
  });
});

describe("C2: connect", () => {
  let server: ServerHandle;
  before(async () => {
    server = await (await clientApp()).run({ port: 0 });
  });
  after(() => server.close());

  it("C2: HEAD / answers 200: the status, and the peer is remembered (module level too)", async () => {
    assert.equal(await connect(`${server.url}/`), 200);
    assert.equal(defaultClient().peer, server.url);
    assert.deepEqual(await GET.api.endpoint({ a: 12, b: "test" }), ["12", "test"]);
    assert.deepEqual(await POST.api.endpoint({ value1: 1 }), ['{"value1": 1}', null]);
  });

  it("C2: an unreachable peer or an error status gives false, and the peer before it is forgotten", async () => {
    const c = createClient({ fetch: inProcess(await clientApp()) });
    assert.equal(await c.connect("http://127.0.0.1:9"), 200); // in process: any host answers
    const r = recorder((req) => new Response(null, { status: req.method === "HEAD" ? 404 : 200 }));
    const d = createClient({ peer: "http://kept.test", fetch: r.fetch });
    assert.equal(await d.connect("http://other.test"), false);
    assert.equal(r.requests[0]!.method, "HEAD");
    // no call goes on, silently, to the server before: it is forgotten
    assert.equal(d.peer, undefined);
    await assert.rejects(d.GET.x(), { code: "USRV_ERR_CLIENT_NO_PEER" });
    assert.equal(r.requests.length, 1, "nothing sent to kept.test");
    const closed = await (await clientApp()).run({ port: 0 });
    await closed.close();
    assert.equal(await createClient().connect(closed.url, { timeout: 2000 }), false);
  });

  it("C2: a failed connect says why (status or error), and so does the next call", async () => {
    const { app } = quietApp(); // over a real socket, no HEAD /
    app.bind("/x", () => [200, "x"]);
    const up = await app.run({ port: 0 });
    try {
      const c = createClient();
      assert.equal(await c.connect(up.url), false);
      assert.equal(c.connectError?.code, "USRV_ERR_CLIENT_HTTP");
      assert.match(c.connectError!.message, /HEAD http:\/\/127\.0\.0\.1:\d+\/ answered 404/);
      const later = await c.GET.x().then(
        () => assert.fail("no peer"),
        (e: ClientError) => e,
      );
      assert.equal(later.code, "USRV_ERR_CLIENT_NO_PEER");
      assert.match(later.message, /GET \/x: no peer to reach: connect failed \(HEAD \S+ answered 404\)/);
      assert.doesNotMatch(later.message, /connect\(peer\) first/);
      assert.equal(later.cause, c.connectError);
      c.peer = up.url; // given another way: the call goes through
      assert.equal(await c.GET.x(), "x");
    } finally {
      await up.close();
    }
    const closed = await (await clientApp()).run({ port: 0 });
    await closed.close();
    const c = createClient();
    assert.equal(await c.connect(closed.url, { timeout: 2000 }), false);
    assert.equal(c.connectError?.code, "USRV_ERR_CLIENT_UNREACHABLE");
    await assert.rejects(c.GET.x(), (e: ClientError) =>
      /connect failed \(.*cannot be reached/.test(e.message),
    );
    const again = await (await clientApp()).run({ port: 0 });
    assert.equal(await c.connect(again.url), 200); // a success forgets the failure
    assert.equal(c.connectError, undefined);
    await again.close();
  });

  it("C2: a malformed peer is a typed error", async () => {
    await assert.rejects(createClient().connect("127.0.0.1:5000"), { code: "USRV_ERR_CLIENT_BAD_PEER" });
    await assert.rejects(createClient().connect("ftp://host"), { code: "USRV_ERR_CLIENT_BAD_PEER" });
    assert.throws(() => createClient({ peer: "nope" }), { code: "USRV_ERR_CLIENT_BAD_PEER" });
  });

  it("no peer at all is a typed error", async () => {
    await assert.rejects(createClient({ fetch: recorder().fetch }).GET.x(), {
      code: "USRV_ERR_CLIENT_NO_PEER",
    });
  });
});

describe("C3: options", () => {
  it("C3: peer, headers, encoder; the seed's underscore spellings too, taken out of the values", async () => {
    for (const [values, options] of [
      [{ a: 1 }, { peer: "http://x.test", headers: { "x-k": "v" }, encoder: "form" }],
      [{ a: 1, _peer: "http://x.test", _headers: { "x-k": "v" }, _encoder: "form" }, undefined],
      [{ a: 1 }, { _peer: "http://x.test", _headers: { "x-k": "v" }, _encoder: "form" }],
    ] as const) {
      const r = recorder();
      const before = JSON.stringify(values);
      await createClient({ fetch: r.fetch }).POST.form(values, options);
      const req = r.requests[0]!;
      assert.equal(req.url, "http://x.test/form");
      assert.equal(req.headers.get("x-k"), "v");
      assert.equal(req.headers.get("content-type"), "application/x-www-form-urlencoded");
      assert.equal(await req.text(), "a=1");
      assert.equal(JSON.stringify(values), before, "the caller's object is not changed");
    }
  });

  it("C3: json is the default encoder, written as Python's json.dumps writes it (ASCII, ', ' and ': ')", async () => {
    const r = recorder();
    await createClient({ peer: PEER, fetch: r.fetch }).POST.x({
      value1: 1,
      value2: "\u00e9",
      nested: { a: [1, "\u2713"] },
    });
    assert.equal(r.requests[0]!.headers.get("content-type"), "application/json");
    assert.equal(
      await r.requests[0]!.text(),
      '{"value1": 1, "value2": "\\u00e9", "nested": {"a": [1, "\\u2713"]}}',
    );
  });

  // [what JSON.stringify writes, what Python 3.11 writes: json.dumps(json.loads(it))], recorded with
  // python3. Without a fraction or an exponent Python reads an int; otherwise a float, which
  // repr() writes in the exponent form below 1e-4 and from 1e16, with two exponent digits at least.
  const PY_NUMBERS: Array<[string, string]> = [
    ["5e-324", "5e-324"],
    ["2.2250738585072014e-308", "2.2250738585072014e-308"],
    ["1e-300", "1e-300"],
    ["1.2345678901234567e-100", "1.2345678901234567e-100"],
    ["1e-10", "1e-10"],
    ["1e-9", "1e-09"],
    ["1.5e-7", "1.5e-07"],
    ["1e-7", "1e-07"],
    ["-1e-7", "-1e-07"],
    ["0.000001", "1e-06"],
    ["-0.000001", "-1e-06"],
    ["0.000015", "1.5e-05"],
    ["0.00001", "1e-05"],
    ["-0.00001234", "-1.234e-05"],
    ["0.00009999999999999999", "9.999999999999999e-05"],
    ["0.0001", "0.0001"],
    ["0.00015", "0.00015"],
    ["0.1", "0.1"],
    ["0.30000000000000004", "0.30000000000000004"],
    ["0.3333333333333333", "0.3333333333333333"],
    ["100.25", "100.25"],
    ["1000000000000000.5", "1000000000000000.5"],
    ["4503599627370495.5", "4503599627370495.5"],
    ["9007199254740991", "9007199254740991"],
    ["9007199254740994", "9007199254740994"],
    ["10000000000000000", "10000000000000000"],
    ["100000000000000000000", "100000000000000000000"],
    ["1e+21", "1e+21"],
    ["1.5e+21", "1.5e+21"],
    ["-1.5e+300", "-1.5e+300"],
    ["1.7976931348623157e+308", "1.7976931348623157e+308"],
    ["2.220446049250313e-16", "2.220446049250313e-16"],
    ["0", "0"],
    ["-12", "-12"],
  ];
  it("C3: json writes numbers as Python's json.dumps does (repr(float): 1e-07, 1e-05, 1e+21)", async () => {
    const r = recorder();
    const c = createClient({ peer: PEER, fetch: r.fetch });
    for (const [js, py] of PY_NUMBERS) {
      const n = Number(js);
      assert.equal(JSON.stringify(n), js, "the table row is what JSON.stringify writes");
      await c.POST.x({ n, list: [n, -n], deep: { n } });
      const neg = py.startsWith("-") ? py.slice(1) : py === "0" ? "0" : `-${py}`;
      assert.equal(
        await r.requests.at(-1)!.text(),
        `{"n": ${py}, "list": [${py}, ${neg}], "deep": {"n": ${py}}}`,
        js,
      );
    }
    // numbers inside strings are text, never rewritten
    await c.POST.x({ s: "1e-7", "0.00001": "0.00001" });
    assert.equal(await r.requests.at(-1)!.text(), '{"s": "1e-7", "0.00001": "0.00001"}');
  });

  it("C3: encoders json, form, multipart reach the server's fields alike", async () => {
    const app = await clientApp();
    const c = createClient({ peer: "http://app", fetch: inProcess(app) });
    for (const encoder of ["json", "form", "multipart"] as const) {
      assert.deepEqual(
        await c.POST.fields({ value1: "1", value2: "two words" }, { encoder }),
        { value1: "1", value2: "two words" },
        encoder,
      );
    }
    assert.deepEqual(
      await c.POST.echo(
        { a: 1 },
        { encoder: (v: unknown) => ({ body: `custom:${JSON.stringify(v)}`, contentType: "text/x-custom" }) },
      ),
      {
        method: "POST",
        path: "/echo",
        query: "",
        type: "text/x-custom",
        data: 'custom:{"a":1}',
      },
    );
    await assert.rejects(c.POST.echo({ a: 1 }, { encoder: "xml" as "json" }), {
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
    });
    await assert.rejects(c.POST.echo({ f: FormData.file("/etc/hostname") }, { encoder: "json" }), {
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
    });
  });

  it("C3: a value holding a file selects multipart; a FormData is sent as it is", async () => {
    const r = recorder();
    const c = createClient({ peer: PEER, fetch: r.fetch });
    await c.POST.up({ f: new Blob(["x"]), note: "hi" });
    await c.POST.up(new FormData().appendValue("a", "1"));
    for (const req of r.requests)
      assert.match(req.headers.get("content-type")!, /^multipart\/form-data; boundary=[0-9a-f]{32}$/);
  });

  it("C3: an option typo or a wrong type is an error naming the fix, in a call, createClient and connect", async () => {
    const r = recorder();
    const c = createClient({ peer: PEER, fetch: r.fetch });
    const refused: [string, () => Promise<unknown>, RegExp][] = [
      [
        "pukk",
        () => c.GET.puk({}, { pukk: "key" } as never),
        /call: unknown option "pukk" \(did you mean "puk"\?\)/,
      ],
      [
        "encoding",
        () => c.POST.x({ a: 1 }, { encoding: "multipart" } as never),
        /unknown option "encoding" \(did you mean "encoder"\?\)/,
      ],
      [
        "timeout as text",
        () => c.GET.x({}, { timeout: "5s" } as never),
        /option "timeout" must be a number of milliseconds >= 0, not "5s"/,
      ],
      ["full as text", () => c.GET.x({}, { full: "yes" } as never), /option "full" must be a boolean/],
      [
        "connect timout",
        () => c.connect(PEER, { timout: 1 } as never),
        /connect: unknown option "timout" \(did you mean "timeout"\?\)/,
      ],
    ];
    for (const [what, call, why] of refused) {
      await assert.rejects(
        call(),
        (e: ClientError) => e.code === "USRV_ERR_CLIENT_BAD_ARGUMENT" && why.test(e.message),
        what,
      );
    }
    assert.equal(r.requests.length, 0, "nothing was sent");
    assert.throws(() => createClient({ peerr: PEER } as never), {
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
      message: /createClient: unknown option "peerr" \(did you mean "peer"\?\)/,
    });
    assert.throws(() => createClient({ fetch: "fetch" } as never), {
      message: /option "fetch" must be a function/,
    });
  });

  it("C3: a standard FormData travels as multipart, a URLSearchParams as the query or a form; a Map is refused", async () => {
    const app = await clientApp();
    const c = createClient({ peer: "http://app", fetch: inProcess(app) });
    const std = new globalThis.FormData();
    std.append("note", "h\u00e9");
    std.append("f", new Blob([new Uint8Array([1, 2, 3])], { type: "application/x-bin" }), "a.bin");
    const sent = (await c.POST.echo(std)) as { type: string; data: string };
    assert.match(sent.type, /^multipart\/form-data; boundary=/);
    assert.match(sent.data, /name="note"\r\n\r\nh\u00e9\r\n/);
    assert.ok(
      sent.data.includes(
        'name="f"; filename="a.bin"\r\nContent-Type: application/x-bin\r\n\r\n\u0001\u0002\u0003\r\n',
      ),
      sent.data,
    );
    const query = new URLSearchParams([
      ["a", "1"],
      ["a", "2"],
      ["b", "x y"],
    ]);
    assert.deepEqual(await c.GET.echo(query), {
      method: "GET",
      path: "/echo",
      query: "a=1&a=2&b=x+y",
      type: null,
      data: null,
    });
    const form = (await c.POST.echo(query)) as { type: string; data: string };
    assert.deepEqual([form.type, form.data], ["application/x-www-form-urlencoded", "a=1&a=2&b=x+y"]);
    for (const opaque of [new Map([["a", 1]]), new Set([1]), new Headers({ a: "1" })]) {
      for (const call of [() => c.POST.echo(opaque), () => c.GET.echo(opaque as never)]) {
        await assert.rejects(
          call(),
          (e: ClientError) =>
            e.code === "USRV_ERR_CLIENT_BAD_ARGUMENT" &&
            /its entries would be lost; pass a plain object/.test(e.message),
        );
      }
    }
    await assert.rejects(c.GET.echo(std as never), { code: "USRV_ERR_CLIENT_BAD_ARGUMENT" });
  });

  it("C3: app.fetch stands in for fetch too (it takes a URL as app.request does)", async () => {
    const app = await clientApp();
    const c = createClient({ peer: "http://app", fetch: app.fetch });
    assert.deepEqual(await c.GET["5"].test(), ["test", 5]);
    assert.equal(await c.connect("http://app"), 200);
  });

  it("C3: createClient gives isolated clients; headers of the client and of the call merge", async () => {
    const r1 = recorder();
    const r2 = recorder();
    const a = createClient({
      peer: "http://a.test",
      fetch: r1.fetch,
      headers: { "x-client": "a", "x-both": "client" },
    });
    const b = createClient({ peer: "http://b.test", fetch: r2.fetch });
    await a.GET.x({}, { headers: { "x-both": "call" } });
    await b.GET.y();
    assert.equal(r1.requests[0]!.headers.get("x-client"), "a");
    assert.equal(r1.requests[0]!.headers.get("x-both"), "call");
    assert.equal(r2.requests[0]!.url, "http://b.test/y");
    assert.equal(r2.requests[0]!.headers.get("x-client"), null);
  });

  it("exports of usrv/client", () => {
    assert.deepEqual(Object.keys(clientModule).sort(), [
      "CLIENT_ERRORS",
      "Client",
      "ClientError",
      "ClientHttpError",
      "DEFAULT_MAX_BODY_SIZE",
      "DELETE",
      "FormData",
      "GET",
      "HEAD",
      "OPTIONS",
      "PATCH",
      "POST",
      "PUT",
      "attempt",
      "connect",
      "createClient",
      "defaultClient",
      "endpoint",
      "identify",
      "loggingFetch",
    ]);
    assert.ok(new ClientError("USRV_ERR_CLIENT_TIMEOUT", "x") instanceof Error);
  });

  it("exports of usrv/client: the types, as its declarations give them (no plumbing: Platform, Exchange, Runtime)", () => {
    const dts = fileURLToPath(new URL("../../dist/client/index.d.ts", import.meta.url));
    const program = ts.createProgram([dts], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
    });
    const checker = program.getTypeChecker();
    const module = checker.getSymbolAtLocation(program.getSourceFile(dts)!)!;
    const values = new Set(Object.keys(clientModule));
    const types = checker
      .getExportsOfModule(module)
      .map((s) => s.name)
      .filter((name) => !values.has(name))
      .sort();
    assert.deepEqual(types, [
      "Attempt",
      "CallOptions",
      "ClientErrorCode",
      "ClientOptions",
      "DataOf",
      "DebugLogger",
      "DumpOptions",
      "DumpedPart",
      "EncodedBody",
      "EncodedForm",
      "Encoder",
      "Endpoint",
      "EndpointSend",
      "ErrorOf",
      "FetchLike",
      "FileOptions",
      "FileRef",
      "FormPart",
      "FullAnswer",
      "LoggingFetchOptions",
      "RetryOptions",
      "RouteHttpError",
      "RoutePromise",
      "StreamedAnswer",
      "TypedCall",
      "TypedClient",
      "UsrvHttpError",
      "ValidationIssue",
    ]);
  });
});
