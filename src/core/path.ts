/**
 * B2 and B4: path normalisation and markup parsing, done once at bind time.
 */

import { BindError } from "../common/errors.js";
import { converter, converterNames } from "./converters.js";

/** One compiled segment of a route pattern; `rest` is `<path:name>`, the rest of the path. */
export type Segment =
  | { kind: "static"; text: string }
  | { kind: "param"; name: string; type: string } // type "str" = untyped
  | { kind: "rest"; name: string };

/** Names the handler receives from the request itself; markups cannot use them. */
export const RESERVED = new Set(["method", "headers", "data"]);

/**
 * B2 at bind time: a leading `/` is added, a leading run of them is one and
 * trailing ones are removed (except for `/`), as on a request: a pattern
 * `//x` kept as written could never match, since a request for `//x` is
 * read as `/x`.
 *
 * @example
 * normalisePath("api/endpoint/"); // "/api/endpoint"
 * normalisePath("//x"); // "/x"
 */
export function normalisePath(path: string): string {
  return normaliseRequestPath(path.startsWith("/") ? path : `/${path}`);
}

/**
 * B2 on the request side: a leading run of slashes is one, as both reference
 * servers read it (http.server since gh-87389, waitress in
 * `task.get_environment`), and trailing slashes are dropped. Empty segments
 * inside the path stay.
 *
 * @example
 * normaliseRequestPath("//api/endpoint/"); // "/api/endpoint"
 */
export function normaliseRequestPath(path: string): string {
  let start = 0;
  while (start + 1 < path.length && path.charCodeAt(start + 1) === 47) start++;
  let end = path.length;
  while (end - start > 1 && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(start, end);
}

const MARKUP = /^<(?:([A-Za-z_]\w*):)?([A-Za-z_$][\w$]*)>$/;

/** B4: splits a normalised pattern into static and markup segments, failing loudly. */
export function parsePattern(pattern: string): Segment[] {
  if (pattern === "/") return [];
  const seen = new Set<string>();
  const parts = pattern.slice(1).split("/");
  return parts.map((part, i): Segment => {
    if (!part.includes("<") && !part.includes(">")) return { kind: "static", text: part };
    const m = MARKUP.exec(part);
    if (!m) {
      throw new BindError(
        `invalid markup "${part}" in "${pattern}": a markup is a whole segment, <name> or <type:name>`,
      );
    }
    const type = m[1] ?? "str";
    const name = m[2]!;
    if (type === "path" && i !== parts.length - 1) {
      throw new BindError(
        `<path:${name}> in "${pattern}" takes the rest of the path: it must be the last segment`,
      );
    }
    if (type !== "path" && converter(type) === undefined) {
      throw new BindError(
        `unknown converter "${type}" in "${pattern}" (known: ${converterNames().join(", ")}); see registerConverter()`,
      );
    }
    if (RESERVED.has(name)) {
      throw new BindError(
        `markup name "${name}" in "${pattern}" is reserved (method, headers and data come from the request)`,
      );
    }
    if (seen.has(name)) throw new BindError(`markup name "${name}" appears twice in "${pattern}"`);
    seen.add(name);
    return type === "path" ? { kind: "rest", name } : { kind: "param", name, type };
  });
}
