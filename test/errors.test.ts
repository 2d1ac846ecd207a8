/**
 * The error factory (issue 14, item 5): every error class with a table of
 * codes is made by `defineErrors`; the crypto keeps its own copy, held the
 * same as the core's here.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createApp, defineErrors, ERRORS, HttpError } from "usrv";
import { CRYPTO_ERRORS, CryptoError } from "usrv/secp256k1";

const TABLE = { SHOP_OUT_OF_STOCK: "the item is sold out", SHOP_BAD_SKU: "no item has this SKU" } as const;
class ShopError extends defineErrors<typeof TABLE, { sku: string }>("ShopError", TABLE) {}

describe("defineErrors", () => {
  it("an error carries its code, a prefixed message, its details and its cause", () => {
    const cause = new Error("db down");
    const err = new ShopError("SHOP_OUT_OF_STOCK", "sku 42 is sold out", { sku: "42", cause });
    assert.ok(err instanceof ShopError && err instanceof Error);
    assert.equal(err.code, "SHOP_OUT_OF_STOCK");
    assert.equal(err.message, "[usrv] sku 42 is sold out");
    assert.equal(err.sku, "42");
    assert.equal(err.cause, cause);
    assert.equal(err.name, "ShopError");
    assert.match(String(err.stack), /^ShopError: \[usrv\] sku 42 is sold out/);
    assert.deepEqual(Object.keys(err), ["code", "sku"]);
    assert.deepEqual(ShopError.codes, TABLE);
    assert.ok(Object.isFrozen(ShopError.codes));
  });

  it("a code the table does not hold is a TypeError naming the known ones", () => {
    const Shop = ShopError as unknown as new (code: string, message: string) => Error;
    assert.throws(() => new Shop("SHOP_NOPE", "x"), {
      name: "TypeError",
      message: '[usrv] new ShopError("SHOP_NOPE", ...): known codes: SHOP_OUT_OF_STOCK, SHOP_BAD_SKU',
    });
    // inherited names are not codes
    assert.throws(() => new Shop("toString", "x"), TypeError);
    assert.throws(() => new Shop("__proto__", "x"), TypeError);
  });

  it("details are read-only own properties, and __proto__ among them pollutes nothing", () => {
    const details = JSON.parse('{"sku":"1","__proto__":{"polluted":true},"code":"SHOP_BAD_SKU"}');
    const err = new ShopError("SHOP_OUT_OF_STOCK", "x", details);
    assert.equal(err.code, "SHOP_OUT_OF_STOCK"); // a detail cannot replace the code
    assert.equal(Object.getPrototypeOf(err), ShopError.prototype);
    assert.equal((err as unknown as { polluted?: boolean }).polluted, undefined);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    assert.throws(() => {
      (err as { sku: string }).sku = "2";
    }, TypeError);
  });

  it("a class made by it can be extended", () => {
    class SoldOut extends ShopError {
      constructor(sku: string) {
        super("SHOP_OUT_OF_STOCK", `sku ${sku} is sold out`, { sku });
        this.name = "SoldOut";
      }
    }
    const err = new SoldOut("7");
    assert.ok(err instanceof SoldOut && err instanceof ShopError);
    assert.equal(err.sku, "7");
    assert.equal(err.name, "SoldOut");
  });

  it("HttpError and CryptoError are made by it: unprefixed (sent to clients) and prefixed", () => {
    const http = new HttpError("USRV_ERR_BAD_JSON", "the body is not valid JSON");
    assert.equal(http.message, "the body is not valid JSON");
    assert.equal(http.name, "HttpError");
    assert.equal(http.status, 400);
    assert.deepEqual(
      (HttpError as unknown as { codes: object }).codes,
      Object.fromEntries(Object.entries(ERRORS).map(([code, [, meaning]]) => [code, meaning])),
    );
    const crypto = new CryptoError("USRV_ERR_DECRYPT", "no");
    assert.equal(crypto.message, "[usrv] no");
    assert.equal(crypto.name, "CryptoError");
    assert.deepEqual((CryptoError as unknown as { codes: object }).codes, CRYPTO_ERRORS);
  });

  it("USRV_ERR_STATUS has no status of its own: the handler's, else 500", () => {
    assert.equal(ERRORS.USRV_ERR_STATUS[0], null);
    assert.equal(new HttpError(409).status, 409);
    assert.equal(new HttpError("USRV_ERR_STATUS", "x").status, 500);
    assert.equal(new HttpError("USRV_ERR_STATUS", "x", { status: 418 }).status, 418);
  });

  it("the README's example: an own error class turned into an answer by onError", async () => {
    const SHOP = { SHOP_SOLD_OUT: "the item is sold out" } as const;
    class Sold extends defineErrors<typeof SHOP, { sku: string }>("Sold", SHOP, { prefix: "" }) {}
    const app = createApp({ logLevel: 50 });
    app.bind("/buy/<sku>", { methods: ["POST"] }, ({ sku }) => {
      throw new Sold("SHOP_SOLD_OUT", `${sku} is sold out`, { sku });
    });
    app.onError((error) =>
      error instanceof Sold ? [409, { code: error.code, message: error.message, sku: error.sku }] : undefined,
    );
    const res = await app.request("/buy/42", { method: "POST" });
    assert.equal(res.status, 409);
    assert.deepEqual(await res.json(), { code: "SHOP_SOLD_OUT", message: "42 is sold out", sku: "42" });
  });

  it("the crypto's copy of the factory is the core's, below its header comment", () => {
    const body = (file: string) => {
      const text = readFileSync(new URL(`../../src/${file}`, import.meta.url), "utf8");
      return text.slice(text.indexOf("*/") + 2);
    };
    assert.equal(body("secp256k1/define-errors.ts"), body("common/define-errors.ts"));
  });
});
