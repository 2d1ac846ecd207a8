/**
 * Limits on a body's shape, checked on its text before it is parsed and bound
 * (issue 16, item 5): a form of 100,000 keys cost ~110 ms of CPU to parse and
 * bind, a JSON object of 100,000 keys ~170 ms (copied into the values), where
 * a 0.4 MB JSON list of 10,000 records costs 5 ms. So the keys that are bound
 * by name are counted (a form's pairs, a JSON object's top-level keys), and
 * JSON's nesting is bounded; nested keys cost what JSON.parse costs, bounded
 * by the body limit.
 */
import { HttpError } from "../common/errors.js";

import type { BodyShape } from "./body.js";

function tooMany(what: string, max: number): HttpError {
  return new HttpError(
    "USRV_ERR_TOO_MANY_KEYS",
    `the ${what} has more than ${max} keys (the route's maxKeys)`,
  );
}

/**
 * A form body's pairs, counted by their separators before any is decoded:
 * a 413 `USRV_ERR_TOO_MANY_KEYS` past `maxKeys`.
 *
 * @example
 * checkForm("a=1&b=2", { maxKeys: 1, maxDepth: 64 }); // throws USRV_ERR_TOO_MANY_KEYS
 */
export function checkForm(text: string, shape: BodyShape): void {
  let pairs = 1;
  for (let i = text.indexOf("&"); i >= 0; i = text.indexOf("&", i + 1)) {
    if (++pairs > shape.maxKeys) throw tooMany("form body", shape.maxKeys);
  }
}

/** The index of the quote that closes the string opened at `open`, or -1. */
function closing(text: string, open: number): number {
  for (let q = text.indexOf('"', open + 1); q >= 0; q = text.indexOf('"', q + 1)) {
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === 92) slashes++; // "\\"
    if (slashes % 2 === 0) return q;
  }
  return -1;
}

/**
 * One pass over a JSON text, strings skipped: a 400 `USRV_ERR_TOO_DEEP` past
 * `maxDepth` nested arrays and objects, a 413 `USRV_ERR_TOO_MANY_KEYS` past
 * `maxKeys` keys of a top-level object. Malformed text is left to JSON.parse.
 *
 * @example
 * checkJson('{"a":{"b":[1]}}', { maxKeys: 10, maxDepth: 2 }); // throws USRV_ERR_TOO_DEEP
 */
export function checkJson(text: string, shape: BodyShape): void {
  let depth = 0;
  let keys = 0;
  let object = false; // the top level is an object
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const end = closing(text, i);
      if (end < 0) return;
      i = end;
    } else if (c === 123 || c === 91) {
      // { [
      if (depth === 0) object = c === 123;
      if (++depth > shape.maxDepth) {
        throw new HttpError(
          "USRV_ERR_TOO_DEEP",
          `the JSON body nests deeper than ${shape.maxDepth} levels (the route's maxDepth)`,
        );
      }
    } else if (c === 125 || c === 93) depth--;
    else if (c === 58 && depth === 1 && object && ++keys > shape.maxKeys)
      throw tooMany("JSON body", shape.maxKeys);
  }
}
