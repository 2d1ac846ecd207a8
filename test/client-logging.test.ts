/**
 * loggingFetch: the client's fetch with one debug line per request, the one
 * place that says which headers are secret (the plugins use it). What a log
 * line may never hold: a secret header's value, the query string, the
 * user:password of a URL.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createClient, loggingFetch } from "usrv/client";
import { recorder } from "./fixtures/client-helpers.js";

describe("loggingFetch", () => {
  const logged = () => {
    const lines: Array<[Record<string, unknown>, string | undefined]> = [];
    return { lines, logger: { debug: (obj: object, msg?: string) => lines.push([obj as never, msg]) } };
  };

  it("one line per request: method, URL without query, status, ms, the headers with secrets redacted", async () => {
    const { lines, logger } = logged();
    const r = recorder(() => new Response("{}", { status: 201, headers: { "x-used": "7" } }));
    const fetch = loggingFetch(logger, {
      name: "svc",
      fetch: r.fetch,
      fields: (res) => ({ used: res.headers.get("x-used") }),
      secretHeaders: ["X-Session"],
    });
    const c = createClient({ peer: "http://api.test", fetch });
    await c.POST.orders(
      { symbol: "A" },
      {
        headers: {
          authorization: "Bearer t0ken",
          "x-mbx-apikey": "k3y",
          "x-api-key": "k3y2",
          cookie: "s=c00kie",
          "proxy-authorization": "Basic cr3d",
          "x-session": "s3ssion",
          "x-plain": "shown",
        },
      },
    );
    await c.GET.orders({ signature: "s1gnature" });
    assert.equal(r.requests.length, 2, "the requests went through");
    assert.equal(lines.length, 2);
    const [obj, msg] = lines[0]!;
    assert.match(msg!, /^svc: POST http:\/\/api\.test\/orders 201 \d+\.\dms$/);
    assert.equal(obj.url, "http://api.test/orders");
    assert.equal(obj.used, "7");
    assert.equal(obj.status, 201);
    const headers = obj.headers as Record<string, string>;
    for (const h of [
      "authorization",
      "x-mbx-apikey",
      "x-api-key",
      "cookie",
      "proxy-authorization",
      "x-session",
    ])
      assert.equal(headers[h], "[redacted]", h);
    assert.equal(headers["x-plain"], "shown");
    const all = JSON.stringify(lines);
    for (const secret of ["t0ken", "k3y", "c00kie", "cr3d", "s3ssion", "s1gnature"])
      assert.ok(!all.includes(secret), `${secret} in ${all}`);
  });

  it("a failed request is logged, then rethrown; a URL's user:password and fragment are never written; without a logger it is the fetch itself", async () => {
    const { lines, logger } = logged();
    const down = async () => {
      throw new TypeError("fetch failed");
    };
    await assert.rejects(loggingFetch(logger, { fetch: down })("http://user:pw@x/a?k=v#f"), TypeError);
    assert.equal(lines[0]![1], "usrv: GET http://x/a failed");
    assert.equal(lines[0]![0].error, "fetch failed");
    assert.equal(lines[0]![0].url, "http://x/a");
    assert.equal(loggingFetch(undefined, { fetch: down }), down);
  });
});
