/**
 * The option-key check of the middleware and the stream helpers: a typo is
 * an error, as in `bind` (options.ts); out of the core, which never needs it.
 */
import { checkOptions } from "./options.js";

/**
 * Throws for an unknown key of `options` (a typo), naming the nearest known
 * one, as checkOptions does; the values are checked by the caller.
 *
 * @example
 * knownKeys("cors", { credential: true }, ["origins", "credentials"]);
 * // TypeError: [usrv] cors: unknown option "credential" (did you mean "credentials"?); known: origins, credentials
 */
export function knownKeys(where: string, options: object, keys: readonly string[]): void {
  for (const key in options) {
    if (!keys.includes(key)) {
      checkOptions(
        where,
        options,
        Object.fromEntries(keys.map((k) => [k, () => undefined])),
        (m) => new TypeError(`[usrv] ${m}`),
      );
    }
  }
}
