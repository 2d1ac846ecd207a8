/**
 * P2: the Binance plugin: the signature vector of issue 6, then the plugin
 * against a local fake of Binance's REST API (fixtures/fake-binance.ts),
 * over real sockets.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inspect } from "node:util";
import { ClientError, createClient, type Endpoint, type FullAnswer } from "usrv/client";
import * as plugin from "usrv/plugins/binance";
import { BINANCE_ERRORS, type Binance, BinanceError, createBinance, sign } from "usrv/plugins/binance";
import { dumpSecret } from "usrv/secp256k1";
import { type FakeBinance, startFakeBinance } from "./fixtures/fake-binance.js";

// Binance's documentation example: key, secret, and the signature of issue 6
const KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const PAYLOAD =
  "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
const SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
const OTHER_KEY = "Z".repeat(64);
const WRONG_SECRET = "not-the-secret-0123456789abcdef";

/** Asserts that `promise` rejects with a BinanceError of `code`, and returns it. */
async function rejectsWith(
  promise: Promise<unknown>,
  code: keyof typeof BINANCE_ERRORS,
): Promise<BinanceError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof BinanceError, `expected a BinanceError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, the call resolved`);
}

const pluginLogs: string[] = [];
const errors: string[] = [];
const logger = { debug: (obj: object, msg?: string) => pluginLogs.push(`${msg} ${JSON.stringify(obj)}`) };
const fakes: FakeBinance[] = [];

async function keep(p: Promise<unknown>, code: keyof typeof BINANCE_ERRORS): Promise<BinanceError> {
  const err = await rejectsWith(p, code);
  errors.push(err.message, JSON.stringify(err.body ?? null));
  return err;
}

async function linked(
  fake: FakeBinance,
  options: Parameters<typeof createBinance>[0] = {},
): Promise<Binance> {
  const b = createBinance({ baseUrl: fake.url, logger, ...options });
  await b.link(KEY, SECRET);
  return b;
}

/** A fake of its own, for tests that leave it rate limited or banned. */
async function ownFake(): Promise<FakeBinance> {
  const fake = await startFakeBinance({ apiKey: KEY, secret: SECRET });
  fakes.push(fake);
  return fake;
}

after(() => Promise.all(fakes.map((f) => f.close())));

describe("P2: Binance signature", () => {
  it("P2: the test vector of issue 6: hex HMAC-SHA256 of the query string", () => {
    assert.equal(sign(SECRET, PAYLOAD), SIGNATURE);
  });

  it("P2: query string followed by the body (Binance's mixed example)", () => {
    const query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
    const body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    assert.equal(
      sign(SECRET, query + body),
      "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77",
    );
  });

  it("P2: exports of usrv/plugins/binance", () => {
    assert.deepEqual(Object.keys(plugin).sort(), [
      "BINANCE_ERRORS",
      "BINANCE_URL",
      "Binance",
      "BinanceError",
      "GET",
      "SDELETE",
      "SGET",
      "SPOST",
      "createBinance",
      "defaultBinance",
      "link",
      "serverTime",
      "sign",
    ]);
  });
});

describe("P2: Binance plugin", () => {
  let fake: FakeBinance;
  let binance: Binance;
  const clock = () => Date.now();

  before(async () => {
    fake = await ownFake();
    binance = await linked(fake);
  });

  it("P2: the vector on the wire: SPOST sends Binance's example as a form body, signature last", async () => {
    fake.now = () => 1499827319559;
    try {
      const b = await linked(fake, { now: () => 1499827319559 });
      const order = await b.SPOST.api.v3.order({
        symbol: "LTCBTC",
        side: "BUY",
        type: "LIMIT",
        timeInForce: "GTC",
        quantity: 1,
        price: 0.1,
        recvWindow: 5000,
      });
      assert.equal(order.status, "NEW");
      assert.deepEqual(fake.last, {
        method: "POST",
        path: "/api/v3/order",
        query: "",
        body: `${PAYLOAD}&signature=${SIGNATURE}`,
        type: "application/x-www-form-urlencoded",
        key: true,
      });
    } finally {
      fake.now = clock;
    }
  });

  it("P2: SGET and SDELETE: parameters, timestamp and signature in the query string", async () => {
    const b = await linked(fake, { now: () => Date.now() });
    const order = await b.SPOST.api.v3.order({
      symbol: "BNBBTC",
      side: "SELL",
      type: "MARKET",
      quantity: "2",
    });
    const open = await b.SGET.api.v3.openOrders({ symbol: "BNBBTC" });
    assert.deepEqual(
      open.map((o: { orderId: number }) => o.orderId),
      [order.orderId],
    );
    const get = fake.last!;
    assert.equal(get.method, "GET");
    assert.equal(get.body, "");
    const [, stamp, signature] = /^symbol=BNBBTC&timestamp=(\d+)&signature=([0-9a-f]{64})$/.exec(get.query)!;
    assert.equal(signature, sign(SECRET, `symbol=BNBBTC&timestamp=${stamp}`));
    const cancel = await b.SDELETE.api.v3.order({ symbol: "BNBBTC", orderId: order.orderId });
    assert.equal(cancel.status, "CANCELED");
    assert.equal(fake.last!.method, "DELETE");
    assert.equal(fake.last!.body, "");
    assert.match(
      fake.last!.query,
      new RegExp(`^symbol=BNBBTC&orderId=${order.orderId}&timestamp=\\d+&signature=[0-9a-f]{64}$`),
    );
    const unknown = await keep(
      b.SDELETE.api.v3.order({ symbol: "BNBBTC", orderId: order.orderId }),
      "USRV_ERR_BINANCE_API",
    );
    assert.equal(unknown.apiCode, -2011);
  });

  it("P2: public GET: no key, no signature; serverTime is GET /api/v3/time", async () => {
    const price = await binance.GET.api.v3.ticker.price({ symbol: "LTCBTC" });
    assert.deepEqual(price, { symbol: "LTCBTC", price: "0.10000000" });
    assert.deepEqual(fake.last, {
      method: "GET",
      path: "/api/v3/ticker/price",
      query: "symbol=LTCBTC",
      body: "",
      type: null,
      key: false,
    });
    fake.now = () => 1234567890123;
    try {
      assert.equal(await binance.serverTime(), 1234567890123);
    } finally {
      fake.now = clock;
    }
  });

  it("P2: recvWindow: the instance's default goes before timestamp; a call's own wins", async () => {
    const b = await linked(fake, { recvWindow: 7000 });
    await b.SGET.api.v3.account();
    assert.match(fake.last!.query, /^recvWindow=7000&timestamp=\d+&signature=[0-9a-f]{64}$/);
    await b.SGET.api.v3.openOrders({ symbol: "X", recvWindow: 3000 });
    assert.match(fake.last!.query, /^symbol=X&recvWindow=3000&timestamp=\d+&signature=/);
    assert.throws(() => createBinance({ recvWindow: 60_001 }), BinanceError);
  });

  it("P2: -1021: the clock offset is measured on the error, cached, and not fetched before every call", async () => {
    const b = await linked(fake);
    fake.now = () => Date.now() + 3_600_000; // Binance's clock an hour ahead of ours
    try {
      const times = fake.hits("/api/v3/time");
      await b.SGET.api.v3.account();
      assert.equal(fake.hits("/api/v3/time"), times + 1, "one measure after the -1021");
      assert.ok(Math.abs(b.clockOffset - 3_600_000) < 5_000, `offset ${b.clockOffset}`);
      await b.SGET.api.v3.account();
      await b.SPOST.api.v3.order({ symbol: "A", side: "BUY", type: "MARKET", quantity: "1" });
      assert.equal(fake.hits("/api/v3/time"), times + 1, "then the cached offset");
    } finally {
      fake.now = clock;
    }
  });

  it("P2: the fake's window: timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow", async () => {
    try {
      fake.now = () => Date.now() + 3000; // Binance 3 s ahead: within a 5000 ms window
      let times = fake.hits("/api/v3/time");
      await (await linked(fake, { recvWindow: 5000 })).SGET.api.v3.account();
      assert.equal(fake.hits("/api/v3/time"), times, "accepted as is");
      await (await linked(fake, { recvWindow: 2000 })).SGET.api.v3.account();
      assert.equal(
        fake.hits("/api/v3/time"),
        times + 1,
        "outside a 2000 ms window: -1021, measured, accepted",
      );
      fake.now = () => Date.now() - 2000; // Binance 2 s behind: our timestamp is in its future
      times = fake.hits("/api/v3/time");
      await (await linked(fake)).SGET.api.v3.account();
      assert.equal(fake.hits("/api/v3/time"), times + 1);
    } finally {
      fake.now = clock;
    }
  });

  it("P2: -1021 again after a measure: the error, no loop", async () => {
    const b = await linked(fake);
    let jumps = 0;
    fake.now = () => Date.now() + 36_000_000 * ++jumps; // a clock that jumps 10 hours at each read
    try {
      const times = fake.hits("/api/v3/time");
      const err = await keep(b.SGET.api.v3.account(), "USRV_ERR_BINANCE_API");
      assert.equal(err.apiCode, -1021);
      assert.equal(err.status, 400);
      assert.equal(fake.hits("/api/v3/time"), times + 1);
    } finally {
      fake.now = clock;
    }
  });

  it("P2: -1022 bad signature, -2014 bad key format, -2015 unknown key", async () => {
    const cases: [string, string, number, number][] = [
      [KEY, WRONG_SECRET, 400, -1022],
      ["short-key", SECRET, 401, -2014],
      [OTHER_KEY, SECRET, 401, -2015],
    ];
    for (const [key, secret, status, apiCode] of cases) {
      const b = createBinance({ baseUrl: fake.url, logger });
      await b.link(key, secret);
      const err = await keep(b.SGET.api.v3.account(), "USRV_ERR_BINANCE_API");
      assert.equal(err.status, status);
      assert.equal(err.apiCode, apiCode);
    }
  });

  it("P2: missing key or secret: typed errors before anything is sent", async () => {
    const hits = fake.hits("/api/v3/account");
    const b = createBinance({ baseUrl: fake.url, logger });
    assert.equal(b.linked, false);
    await keep(b.SGET.api.v3.account(), "USRV_ERR_BINANCE_NO_KEY");
    await keep(b.SPOST.api.v3.order({ symbol: "A" }), "USRV_ERR_BINANCE_NO_KEY");
    for (const key of ["", " ", "a\nb", undefined as unknown as string])
      await keep(b.link(key, SECRET), "USRV_ERR_BINANCE_NO_KEY");
    await keep(b.link(KEY, ""), "USRV_ERR_BINANCE_NO_SECRET");
    assert.equal(b.linked, false);
    assert.equal(fake.hits("/api/v3/account"), hits);
  });

  it("P2: link(apiKey) alone: the secret from usrv's secret store, PIN from an option or USRV_PIN", async () => {
    const home = mkdtempSync(join(tmpdir(), "usrv-binance-"));
    const saved = { home: process.env.USRV_HOME, pin: process.env.USRV_PIN };
    try {
      await dumpSecret(SECRET, "482913", { home, kdf: { N: 2 ** 14 } });
      const byOption = createBinance({ baseUrl: fake.url, logger });
      await byOption.link(KEY, undefined, { pin: "482913", home });
      assert.equal((await byOption.SGET.api.v3.account()).canTrade, true);

      process.env.USRV_HOME = home;
      process.env.USRV_PIN = "482913";
      const byEnv = createBinance({ baseUrl: fake.url, logger });
      await byEnv.link(KEY);
      assert.equal((await byEnv.SGET.api.v3.account()).canTrade, true);

      const wrong = await keep(
        createBinance().link(KEY, undefined, { pin: "000000" }),
        "USRV_ERR_BINANCE_NO_SECRET",
      );
      assert.equal((wrong.cause as { code?: string }).code, "USRV_ERR_BAD_SECRET_PIN");
      delete process.env.USRV_PIN;
      const none = await keep(createBinance().link(KEY), "USRV_ERR_BINANCE_NO_SECRET");
      assert.match(none.message, /USRV_PIN/);
      const empty = mkdtempSync(join(tmpdir(), "usrv-binance-"));
      await keep(
        createBinance().link(KEY, undefined, { pin: "482913", home: empty }),
        "USRV_ERR_BINANCE_NO_SECRET",
      );
      rmSync(empty, { recursive: true, force: true });
    } finally {
      for (const [name, value] of [
        ["USRV_HOME", saved.home],
        ["USRV_PIN", saved.pin],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("P2: X-MBX-USED-WEIGHT-1M is read, and { full: true } gives the headers", async () => {
    await binance.SGET.api.v3.account();
    assert.equal(binance.usedWeight, fake.lastWeight);
    const full: FullAnswer = await binance.GET.api.v3.ping({}, { full: true });
    assert.equal(full.status, 200);
    assert.deepEqual(full.data, {});
    assert.equal(full.headers.get("x-mbx-used-weight-1m"), String(fake.lastWeight));
    assert.equal(binance.usedWeight, fake.lastWeight);
  });

  it("P2: parameters travel as text, never JSON; the plugin's own are refused", async () => {
    await binance.GET.api.v3.ticker.price({ symbol: "A", symbols: ["A", "B"], flag: true, skip: undefined });
    assert.equal(fake.last!.query, "symbol=A&symbols=%5B%22A%22%2C%22B%22%5D&flag=true");
    const hits = fake.hits("/api/v3/order");
    const bad: unknown[] = [
      { nested: { a: 1 } },
      { quantity: 0.0000001 },
      { price: Number.NaN },
      { timestamp: 1 },
      { signature: "x" },
      ["a"],
      new Map(),
    ];
    for (const values of bad)
      await keep(binance.SPOST.api.v3.order(values as object), "USRV_ERR_BINANCE_BAD_ARGUMENT");
    // the shape of a call is the client's builder's to check, and its error
    await assert.rejects(binance.SGET.api.v3.account({}, {}, {}), {
      name: "ClientError",
      code: "USRV_ERR_CLIENT_BAD_ARGUMENT",
    });
    assert.equal(fake.hits("/api/v3/order"), hits);
  });

  it("P2: malformed answers are USRV_ERR_BINANCE_BAD_ANSWER", async () => {
    fake.malformNext("/api/v3/time", "<html><body>502 Bad Gateway</body></html>");
    await keep(binance.serverTime(), "USRV_ERR_BINANCE_BAD_ANSWER");
    fake.malformNext("/api/v3/time", '{"serverTime": "soon"}', "application/json");
    await keep(binance.serverTime(), "USRV_ERR_BINANCE_BAD_ANSWER");
    fake.malformNext("/api/v3/account", '{"balances": [', "application/json");
    await keep(binance.SGET.api.v3.account(), "USRV_ERR_BINANCE_BAD_ANSWER");
    fake.malformNext("/api/v3/account", "", "application/json");
    await keep(binance.SGET.api.v3.account(), "USRV_ERR_BINANCE_BAD_ANSWER");
  });

  it("P2: network failures stay the client's ClientError", async () => {
    const b = createBinance({ baseUrl: "http://127.0.0.1:1" });
    await assert.rejects(b.serverTime(), (e: ClientError) => e.code === "USRV_ERR_CLIENT_UNREACHABLE");
  });

  it("P2: the module-level names (the seed's) use the default account at api.binance.com", async () => {
    const main = plugin.defaultBinance();
    assert.equal(main, plugin.defaultBinance());
    assert.equal(main.baseUrl, "https://api.binance.com");
    assert.equal(plugin.BINANCE_URL, "https://api.binance.com");
    assert.equal(String(plugin.SGET.api.v3.account), "SGET /api/v3/account");
    assert.equal(plugin.SGET.api.then, undefined, "not thenable: awaiting an endpoint sends nothing");
    // nothing goes to the real Binance: the signed calls stop at the missing key
    await rejectsWith(plugin.SGET.api.v3.account(), "USRV_ERR_BINANCE_NO_KEY");
    await rejectsWith(plugin.SPOST.api.v3.order({}), "USRV_ERR_BINANCE_NO_KEY");
    await rejectsWith(plugin.SDELETE.api.v3.order({}), "USRV_ERR_BINANCE_NO_KEY");
    await rejectsWith(plugin.link(""), "USRV_ERR_BINANCE_NO_KEY");
    const pin = process.env.USRV_PIN;
    delete process.env.USRV_PIN;
    try {
      await rejectsWith(plugin.link(KEY), "USRV_ERR_BINANCE_NO_SECRET");
    } finally {
      if (pin !== undefined) process.env.USRV_PIN = pin;
    }
    await plugin.link(KEY, SECRET);
    assert.equal(main.linked, true);
    assert.equal(typeof plugin.serverTime, "function");
    assert.equal(typeof plugin.GET.api.v3.time, "function");
  });
});

describe("P2: the Binance endpoints are the client's builder (they had drifted from it)", () => {
  /** A client's GET and a Binance account's GET, both on a recording fetch. */
  const pair = () => {
    const sent: string[] = [];
    const fetch = async (input: string) => {
      sent.push(new URL(input).pathname);
      return Response.json({});
    };
    const client = createClient({ peer: "http://binance.test", fetch });
    const b = createBinance({ baseUrl: "http://binance.test", fetch });
    return { client: client.GET, binance: b.GET, sent };
  };
  const probes: Array<[string, (ep: Endpoint) => unknown]> = [
    ["String()", (ep) => String(ep.api.v3)],
    ["JSON.stringify", (ep) => JSON.stringify({ ep: ep.api.v3 })],
    ["Object.prototype.toString", (ep) => Object.prototype.toString.call(ep.api)],
    ["inspect", (ep) => inspect(ep.api.v3)],
    [
      "a child is kept (GET.api is the same object each time)",
      (ep) => {
        const first = ep.api;
        return first === ep.api;
      },
    ],
    ['"in" says no segment exists', (ep) => "x" in ep],
    [
      "assigning a property throws",
      (ep) => {
        try {
          (ep as { x?: number }).x = 1;
          return "assigned";
        } catch (e) {
          return (e as Error).name;
        }
      },
    ],
  ];
  for (const [name, probe] of probes) {
    it(`P2: ${name} as the client's`, () => {
      const { client, binance } = pair();
      assert.deepEqual(probe(binance), probe(client));
    });
  }

  it("P2: the seed's _1 spelling is the segment 1; a NaN segment is refused before sending", async () => {
    const { client, binance, sent } = pair();
    await client.v._1.x();
    await binance.v._1.x();
    assert.deepEqual(sent, ["/v/1/x", "/v/1/x"]);
    await assert.rejects(client.api(Number.NaN), { code: "USRV_ERR_CLIENT_BAD_SEGMENT" });
    await assert.rejects(binance.api(Number.NaN), { code: "USRV_ERR_CLIENT_BAD_SEGMENT" });
    assert.equal(sent.length, 2);
  });

  it("P2: a parameter spelt like the seed's options (_peer, _headers) is a parameter, never a peer or a header", async () => {
    const seen: string[] = [];
    const b = createBinance({
      baseUrl: "http://binance.test",
      fetch: async (input, init) => {
        seen.push(input, new Headers(init?.headers).get("x-evil") ?? "");
        return Response.json({});
      },
    });
    await b.GET.api.v3.x({ _peer: "http://evil.test", _headers: "x" });
    assert.deepEqual(seen, ["http://binance.test/api/v3/x?_peer=http%3A%2F%2Fevil.test&_headers=x", ""]);
  });

  it("P2: a Binance host that redirects to another origin gets the call refused: the key and signature stay home", async () => {
    const reached: string[] = [];
    const elsewhere = createServer((req, res) => {
      reached.push(`${req.url} ${req.headers["x-mbx-apikey"] ?? ""}`);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    const mirror = createServer((req, res) => {
      const port = (elsewhere.address() as AddressInfo).port;
      res.writeHead(307, { location: `http://127.0.0.1:${port}${req.url}` }).end();
    });
    for (const s of [elsewhere, mirror]) await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    try {
      const b = createBinance({ baseUrl: `http://127.0.0.1:${(mirror.address() as AddressInfo).port}` });
      await b.link(KEY, SECRET);
      for (const call of [
        () => b.SGET.api.v3.account(),
        () => b.SPOST.api.v3.order({ symbol: "A" }),
        () => b.GET.api.v3.time(),
      ])
        await assert.rejects(call(), { name: "ClientError", code: "USRV_ERR_CLIENT_REDIRECT" });
      assert.deepEqual(reached, []);
    } finally {
      for (const s of [elsewhere, mirror]) await new Promise((r) => s.close(r));
    }
  });

  it("P2: an option typo is refused, as the client refuses its own, never sent without it", async () => {
    const { binance, sent } = pair();
    await assert.rejects(binance.api.v3.time({}, { timeot: 10 }), (e: Error) => {
      assert.ok(e instanceof BinanceError);
      assert.equal(e.code, "USRV_ERR_BINANCE_BAD_ARGUMENT");
      assert.match(e.message, /did you mean "timeout"/);
      return true;
    });
    assert.deepEqual(sent, []);
  });
});

describe("P2: Binance rate limits (429 Retry-After, 418), each on a fake of its own", () => {
  it("P2: 429: the plugin waits Retry-After, then signs and sends again (the fake bans early comers)", async () => {
    const fake = await ownFake();
    const b = await linked(fake);
    fake.refuseNext(429, 1);
    const account = await b.SGET.api.v3.account();
    assert.equal(account.canTrade, true, "not banned: the second attempt came after Retry-After");
    assert.equal(fake.hits("/api/v3/account"), 2);
    // the same for a POST: a 429 means Binance did not act on it
    fake.refuseNext(429, 1);
    const order = await b.SPOST.api.v3.order({ symbol: "A", side: "BUY", type: "MARKET", quantity: "1" });
    assert.equal(order.status, "NEW");
  });

  it("P2: 429 beyond the retry policy: RATE_LIMITED with retryAfter, and nothing is sent until it has passed", async () => {
    const fake = await ownFake();
    const b = await linked(fake, { retry: { retries: 1, maxDelay: 500 } });
    fake.refuseNext(429, 2);
    const err = await keep(b.SGET.api.v3.account(), "USRV_ERR_BINANCE_RATE_LIMITED");
    assert.equal(err.status, 429);
    assert.equal(err.retryAfter, 2000);
    assert.equal(err.apiCode, -1003);
    const hits = fake.hits("/api/v3/account");
    const held = await keep(b.GET.api.v3.ping(), "USRV_ERR_BINANCE_RATE_LIMITED");
    assert.ok(held.retryAfter! > 1000 && held.retryAfter! <= 2000);
    assert.equal(fake.hits("/api/v3/account") + fake.hits("/api/v3/ping"), hits, "not sent");
  });

  it("P2: 418: BANNED with retryAfter, no retry, and nothing is sent until the ban ends", async () => {
    const fake = await ownFake();
    const b = await linked(fake);
    fake.refuseNext(418, 2);
    const err = await keep(b.SGET.api.v3.account(), "USRV_ERR_BINANCE_BANNED");
    assert.equal(err.status, 418);
    assert.equal(err.retryAfter, 2000);
    assert.equal(fake.hits("/api/v3/account"), 1);
    await keep(b.SPOST.api.v3.order({ symbol: "A" }), "USRV_ERR_BINANCE_BANNED");
    await keep(b.GET.api.v3.time(), "USRV_ERR_BINANCE_BANNED");
    assert.equal(fake.hits("/api/v3/order") + fake.hits("/api/v3/time"), 0);
  });

  it("P2: a retries: 0 policy: the 429 is the caller's at once", async () => {
    const fake = await ownFake();
    const b = await linked(fake, { retry: { retries: 0 } });
    fake.refuseNext(429, 1);
    const err = await keep(b.GET.api.v3.ping(), "USRV_ERR_BINANCE_RATE_LIMITED");
    assert.equal(err.retryAfter, 1000);
    assert.equal(fake.hits("/api/v3/ping"), 1);
  });

  it("P2: the caller's signal ends a back-off wait", async () => {
    const fake = await ownFake();
    const b = await linked(fake);
    fake.refuseNext(429, 1);
    const signal = AbortSignal.timeout(100);
    await assert.rejects(
      b.SGET.api.v3.account({}, { signal }),
      (e: ClientError) => e instanceof ClientError && e.code === "USRV_ERR_CLIENT_ABORTED",
    );
    assert.equal(fake.hits("/api/v3/account"), 1);
  });
});

describe("P2: logs and docs", () => {
  it("P2: no key or secret in any log line (the fakes', the plugin's) nor in any error", () => {
    const fakeLogs = fakes.flatMap((f) => f.logs);
    assert.ok(pluginLogs.length > 20 && fakeLogs.length > 20);
    assert.ok(pluginLogs.some((l) => l.includes('"x-mbx-apikey":"[redacted]"')));
    assert.ok(fakeLogs.some((l) => l.includes('"x-mbx-apikey":"[redacted]"')));
    for (const line of [...pluginLogs, ...fakeLogs, ...errors]) {
      for (const secret of [KEY, SECRET, OTHER_KEY, WRONG_SECRET])
        assert.ok(!line.includes(secret), `a secret in: ${line}`);
    }
  });

  it("P2: the README's Plugins section lists exactly BINANCE_ERRORS", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.split(/^## /m).find((s) => s.startsWith("Plugins\n")) ?? "";
    const rows = [...section.matchAll(/^\| `(USRV_ERR_BINANCE_\w+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, Object.entries(BINANCE_ERRORS));
  });
});
