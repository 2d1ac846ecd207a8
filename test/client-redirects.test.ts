/**
 * C9: redirects, against two real local servers: two ports are two origins.
 * "here" redirects; "there" records whatever reaches it, which by default
 * must be nothing: no header meant for "here" (an API key), no sealed body.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { ClientError, createClient, type FullAnswer } from "usrv/client";
import { generateKeypair } from "usrv/secp256k1";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A server on a port of its own that records every request and answers with `route`. */
async function server(route: (req: Seen, res: ServerResponse) => void): Promise<{
  url: string;
  seen: Seen[];
  close: () => Promise<void>;
}> {
  const seen: Seen[] = [];
  const s: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("latin1");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      const one = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(one);
      route(one, res);
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () => new Promise<void>((r) => s.close(() => r())),
  };
}

const KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const serverKey = generateKeypair("the peer").publicKey;

describe("C9: redirects stay within the peer's origin unless asked", () => {
  let here: Awaited<ReturnType<typeof server>>;
  let there: Awaited<ReturnType<typeof server>>;
  before(async () => {
    there = await server((_, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end('"there"'),
    );
    here = await server((req, res) => {
      const path = req.url.split("?")[0]!;
      const to = (status: number, location: string) => res.writeHead(status, { location }).end();
      if (path === "/away") return to(307, `${there.url}/steal`);
      if (path === "/away-303") return to(303, `${there.url}/steal`);
      if (path === "/same") return to(307, "/target?x=1");
      if (path === "/see-other") return to(303, "/target");
      if (path === "/loop") return to(302, "/loop");
      if (path === "/nowhere") return to(302, "http://[bad");
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          key: req.headers["x-mbx-apikey"] ?? null,
          type: req.headers["content-type"] ?? null,
          body: req.body,
        }),
      );
    });
  });
  after(async () => {
    await here.close();
    await there.close();
  });
  const client = (options: Parameters<typeof createClient>[0] = {}) =>
    createClient({ peer: here.url, headers: { "x-mbx-apikey": KEY }, ...options });
  const refused = { name: "ClientError", code: "USRV_ERR_CLIENT_REDIRECT" };

  it("C9: a redirect within the origin is followed: a 307 keeps the method, body and headers", async () => {
    const got = await client().POST.same({ a: 1 });
    assert.deepEqual(got, {
      method: "POST",
      url: "/target?x=1",
      key: KEY,
      type: "application/json",
      body: '{"a": 1}',
    });
  });

  it("C9: a 303 within the origin becomes a GET without body or Content-Type, as fetch does", async () => {
    const got = await client().POST["see-other"]({ a: 1 });
    assert.deepEqual(got, { method: "GET", url: "/target", key: KEY, type: null, body: "" });
  });

  it("C9: a redirect to another origin is refused: X-MBX-APIKEY and a sealed body never reach it", async () => {
    const before = there.seen.length;
    await assert.rejects(client().GET.away(), {
      ...refused,
      message: new RegExp(`to ${there.url.replace(/\./g, "\\.")}, another origin than`),
    });
    await assert.rejects(client().POST.away({ secret: "s3cret" }), refused);
    await assert.rejects(client().POST["away-303"]({ secret: "s3cret" }), refused);
    // a v1-sealed request: its ciphertext, signature and our key stay here
    await assert.rejects(
      client({ encryption: "v1" }).POST.away({ secret: "s3cret" }, { puk: serverKey }),
      refused,
    );
    // a v2-sealed request follows no redirect at all: the unsealed 307 is refused as such
    await assert.rejects(client({ encryption: "v2" }).POST.away({ secret: "s3cret" }, { puk: serverKey }), {
      code: "USRV_ERR_CLIENT_NOT_ENCRYPTED",
    });
    assert.equal(there.seen.length, before, JSON.stringify(there.seen.slice(before)));
    const sealed = here.seen.filter((r) => r.url === "/away" && r.headers["ephemeral-public-key"]);
    assert.ok(
      sealed.length >= 1 && sealed[0]!.headers["x-mbx-apikey"] === KEY,
      "the sealed request reached here",
    );
  });

  it('C9: { redirect: "follow" } follows anywhere, as fetch does: the key reaches the other origin (why it is not the default)', async () => {
    const before = there.seen.length;
    assert.equal(await client().GET.away({}, { redirect: "follow" }), "there");
    assert.equal(await client({ redirect: "follow" }).GET.away(), "there");
    const reached = there.seen.slice(before);
    assert.equal(reached.length, 2);
    assert.equal(reached[0]!.headers["x-mbx-apikey"], KEY);
  });

  it('C9: { redirect: "manual" } hands the 3xx back as the answer', async () => {
    const got = await client().GET.away({}, { redirect: "manual", full: true });
    assert.equal((got as FullAnswer).status, 307);
    assert.equal((got as FullAnswer).headers.get("location"), `${there.url}/steal`);
  });

  it("C9: a chain past 20 hops, or a Location that is not a URL, is refused", async () => {
    const before = here.seen.filter((r) => r.url === "/loop").length;
    await assert.rejects(client().GET.loop(), { ...refused, message: /past 20 hops/ });
    assert.equal(here.seen.filter((r) => r.url === "/loop").length - before, 21);
    await assert.rejects(client().GET.nowhere(), { ...refused, message: /not a URL/ });
  });

  it("C9: a redirect whose target the runtime hides (a browser's opaque redirect) is refused, not followed", async () => {
    const sent: RequestInit[] = [];
    const opaque = async (_: string, init?: RequestInit) => {
      sent.push(init!);
      const res = new Response(null);
      Object.defineProperty(res, "type", { value: "opaqueredirect" });
      return res;
    };
    const c = createClient({ peer: "http://x", fetch: opaque });
    await assert.rejects(c.GET.a(), (e) => e instanceof ClientError && e.code === "USRV_ERR_CLIENT_REDIRECT");
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.redirect, "manual");
    await assert.rejects(c.GET.a({}, { redirect: "sideways" as never }), {
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
      message: /"same-origin", "follow" or "manual"|same-origin/,
    });
  });
});
