/**
 * Conditional requests (issue 16, item 3; RFC 9110 section 13) with
 * `usrv/conditional`, on both faces: weak ETags from the body, 304 for
 * If-None-Match and If-Modified-Since, 412 for If-Match and
 * If-Unmodified-Since, and `preconditions()` guarding an unsafe method.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { conditional, etagOf, preconditions } from "usrv/conditional";
import { json, matrix, withoutId } from "./_setup.js";

const CHANGED = new Date("2026-11-20T10:00:00Z");
let doc = { title: "first", version: 1 };

matrix(
  "issue 16 item 3: conditional requests",
  (app) => {
    app.use(conditional());
    app.bind("/doc", { methods: ["GET", "PUT"] }, ({ method, data }, ctx) => {
      ctx.header("last-modified", CHANGED.toUTCString());
      if (method === "PUT") {
        preconditions(ctx, { etag: `"v${doc.version}"`, lastModified: CHANGED });
        doc = { title: JSON.parse(data ?? "{}").title, version: doc.version + 1 };
        return [204];
      }
      return [200, doc];
    });
    app.bind("/tagged", { style: "object" }, (_, ctx) => {
      ctx.header("etag", '"strong-1"');
      return [200, "tagged"];
    });
    app.bind("/made", { methods: ["POST"] }, () => [200, "posted"]);
  },
  (send) => {
    it("a GET's 200 gets a weak ETag from its body, the same while the body is", async () => {
      const a = await send()("/doc");
      const b = await send()("/doc");
      const tag = a.headers.get("etag");
      assert.match(tag ?? "", /^W\/"[A-Za-z0-9_-]{22}"$/);
      assert.equal(b.headers.get("etag"), tag);
      assert.equal(tag, await etagOf(await a.text()));
      await b.body?.cancel();
      const post = await send()("/made", { method: "POST" });
      assert.equal(post.headers.get("etag"), null, "an unsafe method's answer is left alone");
      await post.body?.cancel();
    });

    it("HEAD gets the ETag its GET gets, and a 304 for If-None-Match naming it", async () => {
      const tag = (await send()("/doc")).headers.get("etag")!;
      const head = await send()("/doc", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("etag"), tag);
      assert.equal(await head.text(), "");
      const fresh = await send()("/doc", { method: "HEAD", headers: { "if-none-match": tag } });
      assert.equal(fresh.status, 304);
      assert.equal(fresh.headers.get("etag"), tag);
      const stale = await send()("/doc", { method: "HEAD", headers: { "if-none-match": '"other"' } });
      assert.equal(stale.status, 200);
    });

    it("If-None-Match naming it (weakly, or *) is a 304 with no body and the validators", async () => {
      const tag = (await send()("/doc")).headers.get("etag")!;
      for (const inm of [tag, tag.slice(2), `"other", ${tag}`, "*"]) {
        const res = await send()("/doc", { headers: { "if-none-match": inm } });
        assert.equal(res.status, 304, inm);
        assert.equal(res.headers.get("etag"), tag);
        assert.equal(res.headers.get("last-modified"), CHANGED.toUTCString());
        assert.equal(await res.text(), "");
      }
      const other = await send()("/doc", { headers: { "if-none-match": '"other"' } });
      assert.equal(other.status, 200);
      await other.body?.cancel();
    });

    it("If-Modified-Since: a 304 when not modified since, a 200 when modified; If-None-Match wins", async () => {
      const later = new Date(CHANGED.getTime() + 60_000).toUTCString();
      const earlier = new Date(CHANGED.getTime() - 60_000).toUTCString();
      assert.equal((await send()("/doc", { headers: { "if-modified-since": later } })).status, 304);
      const modified = await send()("/doc", { headers: { "if-modified-since": earlier } });
      assert.equal(modified.status, 200);
      await modified.body?.cancel();
      const both = await send()("/doc", {
        headers: { "if-modified-since": later, "if-none-match": '"other"' },
      });
      assert.equal(both.status, 200, "If-None-Match is evaluated instead of If-Modified-Since");
      await both.body?.cancel();
    });

    it("If-Match on a GET: strong comparison; a weak ETag never matches (412)", async () => {
      const tagged = await send()("/tagged", { headers: { "if-match": '"strong-1"' } });
      assert.equal(await json(tagged, 200), "tagged");
      const weak = (await send()("/doc")).headers.get("etag")!;
      for (const im of [weak, '"nope"']) {
        const body = withoutId(await json(await send()("/doc", { headers: { "if-match": im } }), 412));
        assert.equal(body.code, "USRV_ERR_PRECONDITION_FAILED");
      }
    });

    it("PUT with preconditions(): If-Match the current version writes; a stale one is a 412 (no lost update)", async () => {
      const current = `"v${doc.version}"`;
      const put = (headers: Record<string, string>, title: string) =>
        send()("/doc", { method: "PUT", headers, body: JSON.stringify({ title }) });
      assert.equal((await put({ "if-match": current }, "second")).status, 204);
      const stale = await put({ "if-match": current }, "lost");
      assert.equal(withoutId(await json(stale, 412)).code, "USRV_ERR_PRECONDITION_FAILED");
      assert.equal(doc.title, "second");
      const old = new Date(CHANGED.getTime() - 3_600_000).toUTCString();
      assert.equal((await put({ "if-unmodified-since": old }, "lost")).status, 412);
      assert.equal((await put({ "if-unmodified-since": CHANGED.toUTCString() }, "third")).status, 204);
      assert.equal(doc.title, "third");
    });

    it("a 404 is left alone", async () => {
      const res = await send()("/nowhere", { headers: { "if-none-match": "*" } });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get("etag"), null);
      await res.body?.cancel();
    });
  },
);

it("etagOf: the same bytes, the same tag; other bytes, another", async () => {
  assert.equal(await etagOf("abc"), await etagOf(new TextEncoder().encode("abc")));
  assert.notEqual(await etagOf("abc"), await etagOf("abd"));
});
