/**
 * C4: answers decoded by Content-Type, error statuses as typed errors; and
 * the bad inputs of the issue, each a typed error and never a hang:
 * unreachable peer, timeout, non-JSON under a JSON type, truncated
 * multipart; retries with Retry-After for idempotent methods only.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { ClientHttpError, createClient, FormData } from "usrv/client";
import { clientApp, inProcess, recorder } from "./fixtures/client-helpers.js";

const PEER = "http://usrv.test";
const answering = (body: BodyInit | null, init: ResponseInit = {}) =>
  createClient({ peer: PEER, fetch: recorder(() => new Response(body, init)).fetch });

describe("C4: answers decoded by Content-Type", () => {
  const bytes = new Uint8Array([0, 1, 2, 255]);
  const cases: Array<[string, BodyInit | null, string | null, unknown]> = [
    ["JSON", '{"a": [1, "\u00e9"]}', "application/json", { a: [1, "\u00e9"] }],
    ["JSON with a charset and +json types", '"x"', "application/problem+json; charset=utf-8", "x"],
    [
      "JSON as a usrv server writes it: UTF-8, charset said",
      '{"a": "été"}',
      "application/json; charset=utf-8",
      { a: "été" },
    ],
    [
      "JSON as the reference writes it: ASCII, no charset",
      '{"a": "\\u00e9t\\u00e9"}',
      "application/json",
      { a: "été" },
    ],
    ["an empty body is null", "", "application/json", null],
    [
      "url-encoded: repeated keys give arrays",
      "a=1&b=two+words&a=3",
      "application/x-www-form-urlencoded",
      { a: ["1", "3"], b: "two words" },
    ],
    [
      "text, in its charset",
      new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
      "text/plain; charset=latin1",
      "caf\u00e9",
    ],
    ["HTML is text too", "<p>hi</p>", "text/html", "<p>hi</p>"],
    [
      "text without a charset that is not UTF-8: Latin-1, as the server reads it (no byte lost)",
      new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
      "text/plain",
      "caf\u00e9",
    ],
    ["anything else is bytes", bytes, "application/octet-stream", bytes],
    ["no Content-Type: bytes", bytes, null, bytes],
  ];
  for (const [name, body, type, want] of cases) {
    it(`C4: ${name}`, async () => {
      const headers: Record<string, string> = type === null ? {} : { "content-type": type };
      const got = await answering(body, { headers }).GET.x();
      if (want !== null && typeof want === "object" && !(want instanceof Uint8Array))
        assert.deepEqual({ ...(got as object) }, want);
      else assert.deepEqual(got, want);
    });
  }

  it("C4: multipart answers become a FormData", async () => {
    const { body, contentType } = await new FormData()
      .appendValue("note", "hi")
      .appendJson("meta", { a: 1 })
      .appendFile("f", new Blob(["data"]), { filename: "a.txt" })
      .encode();
    const form = await answering(body, { headers: { "content-type": contentType } }).GET.x();
    assert.ok(form instanceof FormData);
    assert.deepEqual(
      form.toObject(),
      Object.assign(Object.create(null), {
        note: "hi",
        meta: { a: 1 },
        f: { filename: "a.txt", type: "text/plain", data: new TextEncoder().encode("data") },
      }),
    );
  });

  it("C4: { full: true } gives status, headers, data and whether it was encrypted", async () => {
    const got = await answering('"x"', {
      status: 201,
      headers: { "content-type": "application/json", "x-y": "z" },
    }).GET.x({}, { full: true });
    assert.equal(got.status, 201);
    assert.equal(got.headers.get("x-y"), "z");
    assert.equal(got.data, "x");
    assert.equal(got.encrypted, false);
  });

  it("C4: an error status is a typed error with status, the server's code and the decoded body", async () => {
    const c = createClient({ peer: "http://app", fetch: inProcess(await clientApp()) });
    const err = await c.GET.nowhere().catch((e: unknown) => e);
    assert.ok(err instanceof ClientHttpError);
    assert.equal(err.code, "USRV_ERR_CLIENT_HTTP");
    assert.equal(err.status, 404);
    assert.equal(err.serverCode, "USRV_ERR_NOT_FOUND");
    assert.equal((err.body as { message: string }).message, "Endpoint not defined: GET /nowhere");
    assert.match(err.message, /GET http:\/\/app\/nowhere answered 404 USRV_ERR_NOT_FOUND/);
    const teapot = (await c.GET.teapot().catch((e: unknown) => e)) as ClientHttpError;
    assert.equal(teapot.status, 418);
    assert.equal(teapot.serverCode, "USRV_ERR_STATUS");
    assert.equal((teapot.body as { detail: string }).detail, "short and stout");
  });

  it("C4: an HTML error page from another server is the body text, not a crash", async () => {
    const err = (await answering("<h1>oops</h1>", {
      status: 502,
      headers: { "content-type": "application/json" },
    })
      .GET.x()
      .catch((e: unknown) => e)) as ClientHttpError;
    assert.equal(err.status, 502);
    assert.equal(err.serverCode, undefined);
    assert.equal(err.body, "<h1>oops</h1>");
  });
});

describe("bad input: typed errors, never a hang", () => {
  it("a non-JSON body under a JSON Content-Type", async () => {
    await assert.rejects(answering("{oops", { headers: { "content-type": "application/json" } }).GET.x(), {
      name: "ClientError",
      code: "USRV_ERR_CLIENT_BAD_BODY",
      message: /declared as JSON but is not .*starts with "\{oops"/,
    });
    await assert.rejects(
      answering(new Uint8Array([0x22, 0xff, 0x22]), {
        headers: { "content-type": "application/json" },
      }).GET.x(),
      {
        code: "USRV_ERR_CLIENT_BAD_BODY",
        message: /not valid UTF-8/,
      },
    );
  });

  it("a truncated multipart body", async () => {
    const { body, contentType } = await new FormData()
      .appendValue("note", "hi")
      .appendValue("more", "x".repeat(100))
      .encode();
    const whole = new Uint8Array(await body.arrayBuffer());
    await assert.rejects(
      answering(whole.subarray(0, whole.length - 30), { headers: { "content-type": contentType } }).GET.x(),
      {
        code: "USRV_ERR_CLIENT_BAD_BODY",
        message: /multipart/,
      },
    );
    await assert.rejects(answering(whole, { headers: { "content-type": "multipart/form-data" } }).GET.x(), {
      code: "USRV_ERR_CLIENT_BAD_BODY",
    });
  });

  it("an unreachable peer", async () => {
    const server = await (await clientApp()).run({ port: 0 });
    await server.close();
    await assert.rejects(createClient({ peer: server.url }).GET.x(), {
      code: "USRV_ERR_CLIENT_UNREACHABLE",
      message: /the peer cannot be reached \(ECONNREFUSED\)/,
    });
  });

  it("a timeout: a server that never answers, and one that stops in the middle of the body", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/half") {
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"a": ');
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const peer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = createClient({ peer, timeout: 150 });
    const t0 = Date.now();
    await assert.rejects(c.GET.silent(), { code: "USRV_ERR_CLIENT_TIMEOUT", message: /within 150 ms/ });
    await assert.rejects(c.GET.half(), { code: "USRV_ERR_CLIENT_TIMEOUT" });
    assert.ok(Date.now() - t0 < 2000);
    server.closeAllConnections();
    server.close();
  });

  it("a timed-out call releases its connection: at once mid-body, or when a late head comes", async () => {
    const closed: string[] = [];
    const server = createServer((req, res) => {
      req.socket.once("close", () => closed.push(req.url!));
      if (req.url === "/half") {
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"a": ');
      } else setTimeout(() => res.writeHead(200, { "content-length": "100" }).write("{"), 300); // a late head
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const c = createClient({
      peer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      timeout: 100,
    });
    try {
      await assert.rejects(c.GET.half(), { code: "USRV_ERR_CLIENT_TIMEOUT" });
      await assert.rejects(c.GET.late(), { code: "USRV_ERR_CLIENT_TIMEOUT" });
      for (let i = 0; i < 40 && closed.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual([...closed].sort(), ["/half", "/late"], "the client closed both connections");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("a timeout also bounds an injected fetch that never settles", async () => {
    const never = createClient({ peer: PEER, fetch: () => new Promise<Response>(() => {}), timeout: 50 });
    await assert.rejects(never.GET.x(), { code: "USRV_ERR_CLIENT_TIMEOUT" });
  });

  it("the caller's signal aborts, before and during a call", async () => {
    const never = createClient({ peer: PEER, fetch: () => new Promise<Response>(() => {}) });
    await assert.rejects(never.GET.x({}, { signal: AbortSignal.abort() }), {
      code: "USRV_ERR_CLIENT_ABORTED",
    });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 20);
    await assert.rejects(never.GET.x({}, { signal: ctl.signal }), { code: "USRV_ERR_CLIENT_ABORTED" });
  });
});

describe("retry: idempotent methods only, honouring Retry-After", () => {
  it("retries 503 after Retry-After seconds, then succeeds", async () => {
    let n = 0;
    const times: number[] = [];
    const r = recorder(() => {
      times.push(Date.now());
      return ++n < 3
        ? new Response(null, { status: 503, headers: { "retry-after": "0" } })
        : Response.json("ok");
    });
    assert.equal(await createClient({ peer: PEER, fetch: r.fetch }).GET.x({}, { retry: 3 }), "ok");
    assert.equal(r.requests.length, 3);
  });

  it("a Retry-After beyond maxDelay ends the retries: the error status stands", async () => {
    const r = recorder(() => new Response(null, { status: 429, headers: { "retry-after": "3600" } }));
    await assert.rejects(
      createClient({ peer: PEER, fetch: r.fetch }).GET.x({}, { retry: { retries: 5, maxDelay: 1000 } }),
      { status: 429 },
    );
    assert.equal(r.requests.length, 1);
  });

  it("network failures are retried with backoff; the last error is thrown", async () => {
    let n = 0;
    const c = createClient({
      peer: PEER,
      fetch: async () => {
        n++;
        throw new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
      },
    });
    await assert.rejects(c.PUT.x({ a: 1 }, { retry: { retries: 2, delay: 5 } }), {
      code: "USRV_ERR_CLIENT_UNREACHABLE",
      message: /ECONNRESET/,
    });
    assert.equal(n, 3);
  });

  it("a POST refuses retry, and a client-wide retry never applies to it", async () => {
    const r = recorder(() => new Response(null, { status: 503 }));
    const c = createClient({ peer: PEER, fetch: r.fetch, retry: { retries: 2, delay: 1 } });
    await assert.rejects(c.POST.x({}, { retry: 2 }), {
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
      message: /idempotent/,
    });
    await assert.rejects(c.POST.x({}), { status: 503 });
    assert.equal(r.requests.length, 1);
    await assert.rejects(c.GET.x(), { status: 503 });
    assert.equal(r.requests.length, 4);
  });
});
