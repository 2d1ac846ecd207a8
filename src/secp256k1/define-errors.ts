/**
 * A copy of `src/common/define-errors.ts` (the error factory), so that the
 * crypto depends on nothing of ours; test/errors.test.ts holds the two the
 * same below this comment.
 */

/** An error with one of a table's codes, and the details its class declares. */
export type CodedError<Code extends string, Details extends object = object> = Error & {
  readonly code: Code;
} & Readonly<Details>;

/** What a class made by {@link defineErrors} takes besides its code and message. */
export type ErrorDetails<Details extends object> = Partial<Details> & { cause?: unknown };

/** A class made by {@link defineErrors}. */
export interface CodedErrorClass<Code extends string, Details extends object> {
  new (code: Code, message: string, details?: ErrorDetails<Details>): CodedError<Code, Details>;
  readonly prototype: CodedError<Code, Details>;
  /** The table: each code and what it means. */
  readonly codes: Readonly<Record<Code, string>>;
}

/** How a class made by {@link defineErrors} writes its messages. */
export interface DefineErrorsOptions {
  /** Put before every message; default `"[usrv] "`. */
  prefix?: string;
}

/**
 * The class of the errors of one table: `new MyError(code, message, details)`
 * refuses a code the table does not hold (a TypeError naming the known ones),
 * prefixes the message, keeps `cause`, and sets each detail given as a
 * read-only own property. `Details` types them: pass it with the table's type.
 *
 * @example
 * const SHOP_ERRORS = {
 *   SHOP_OUT_OF_STOCK: "the item is sold out",
 *   SHOP_BAD_SKU: "no item has this SKU",
 * } as const;
 * const ShopError = defineErrors<typeof SHOP_ERRORS, { sku: string }>("ShopError", SHOP_ERRORS);
 * const err = new ShopError("SHOP_OUT_OF_STOCK", "sku 42 is sold out", { sku: "42" });
 * err.code; // "SHOP_OUT_OF_STOCK"
 * err.sku; // "42"
 * err.message; // "[usrv] sku 42 is sold out"
 * err instanceof ShopError; // true
 */
export function defineErrors<Table extends Record<string, string>, Details extends object = object>(
  name: string,
  table: Table,
  options: DefineErrorsOptions = {},
): CodedErrorClass<keyof Table & string, Details> {
  const prefix = options.prefix ?? "[usrv] ";
  const codes = Object.freeze({ ...table });
  const known = Object.keys(codes).join(", ");
  class Coded extends Error {
    static readonly codes = codes;
    declare readonly code: string;

    constructor(code: string, message: string, details: ErrorDetails<Details> = {}) {
      if (typeof code !== "string" || !Object.hasOwn(codes, code)) {
        throw new TypeError(
          `[usrv] new ${name}(${JSON.stringify(code) ?? String(code)}, ...): known codes: ${known}`,
        );
      }
      const { cause, ...rest } = details as { cause?: unknown } & Record<string, unknown>;
      super(`${prefix}${message}`, cause === undefined ? undefined : { cause });
      const own = (key: string, value: unknown) =>
        Object.defineProperty(this, key, { value, enumerable: true, configurable: false, writable: false });
      own("code", code);
      // defineProperty, not assignment: a "__proto__" key stays a plain property
      for (const key of Object.keys(rest)) if (key !== "code") own(key, rest[key]);
    }
  }
  Object.defineProperty(Coded, "name", { value: name });
  Object.defineProperty(Coded.prototype, "name", { value: name, writable: true, configurable: true });
  return Coded as unknown as CodedErrorClass<keyof Table & string, Details>;
}
