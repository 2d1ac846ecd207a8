/**
 * V5/V6: which style a function takes, and its parameter names, read once at
 * bind time from its source. param-scanner.ts reads it without a parser, so
 * `import "usrv"` loads no acorn; where the scanner cannot tell for certain,
 * a full parser registered with `setParamParser` reads it, else `bind`
 * throws a BindError that names the function and the options that settle it.
 */
import type { Node } from "acorn";
import { BindError } from "../common/errors.js";
import { type Param, type ParamList, type Read, scanParams, type Unknown } from "./param-scanner.js";

/** How a handler takes its values. */
export type Shape =
  | { style: "object" /** parameters declared: the context is built only for a second one */; arity: number }
  | {
      style: "positional";
      names: (string | null)[];
      rest: boolean;
      /** An arrow function: the context, passed as `this`, cannot reach it, so none is built. */
      arrow: boolean;
    };

/** acorn's `parseExpressionAt`, the one function of a full parser that params.ts calls. */
export type ParseExpressionAt = (input: string, pos: number, options: { ecmaVersion: "latest" }) => unknown;

let fullParser: ParseExpressionAt | undefined;

/**
 * Registers a full JavaScript parser for the handlers the scanner cannot read
 * with certainty (a `/` after `}`, a name spelled with a Unicode escape, a
 * parenthesized parameter after `}`...); undefined removes it. Without one,
 * `bind` throws a BindError for such a handler instead, naming it and the
 * options that settle it (`{ params: [...] }`, `{ style: ... }`). Nothing in
 * usrv registers one, so that no entry point loads acorn before it is needed.
 *
 * @example
 * import { parseExpressionAt } from "acorn";
 * setParamParser(parseExpressionAt);
 */
export function setParamParser(parse: ParseExpressionAt | undefined): void {
  fullParser = parse;
}

/**
 * What the object style offers and a value never has: the request's own
 * values and the context's members. A plain parameter read for one of these
 * (`req.method`, `ctx.query`, `const { headers } = req`) was written for the
 * object style. `data` counts only where the parameter is not used as an
 * uploaded file (`{ filename, type, data }`): read for its file name or type,
 * or its `.data` read further (`file.data.length`).
 */
const REQUEST_MEMBERS = new Set([
  "method",
  "headers",
  "path",
  "rawQuery",
  "query",
  "params",
  "body",
  "senderPublicKey",
  "remoteAddress",
  "signal",
  "cookies",
  "cookie",
  "header",
  "setCookie",
  "deleteCookie",
  "requestId",
]);

/**
 * Reads a function's shape. A first parameter that is an object pattern
 * means the object style; otherwise each parameter is named (array patterns
 * get `null`: nothing binds to them) and a rest parameter collects the rest.
 *
 * @example
 * readShape(function (a, b = f(1, 2), ...args) {}); // positional, ["a", "b"], rest
 * readShape(({ a, b }) => [200, a, b]);             // object
 */
export function readShape(fn: Function, options: { positional?: boolean } = {}): Shape {
  const { params, reads, arrow } = readParams(fn, !options.positional);
  const first = params[0];
  if (first !== undefined && "pattern" in first && first.pattern === "object") {
    return { style: "object", arity: params.length };
  }
  const names: (string | null)[] = [];
  let rest = false;
  for (const p of params) {
    if ("rest" in p) {
      rest = true;
      break;
    }
    names.push("name" in p ? p.name : null);
  }
  const use = objectUse(reads);
  if (use) refuseObjectUse(fn, ...use);
  return { style: "positional", names, rest, arrow };
}

/**
 * The first request member the body reads from a plain parameter (see
 * REQUEST_MEMBERS), or undefined. Shadowing is not tracked:
 * `{ style: "positional" }` settles a false alarm.
 */
function objectUse(reads: Read[]): [param: string, key: string] | undefined {
  const files = new Set<string>(); // parameters used as uploaded files
  const dataRead = new Set<string>(); // parameters whose .data is read as is
  for (const { via, param, key } of reads) {
    if (via === "file") files.add(param);
    else if (REQUEST_MEMBERS.has(key)) return [param, key];
    else if (via === "member" && (key === "filename" || key === "type")) files.add(param);
    else if (via === "member" && key === "data") dataRead.add(param);
  }
  for (const p of dataRead) if (!files.has(p)) return [p, "data"];
  return undefined;
}

/**
 * The types accept `(req) => [200, req.method]` (the object style's
 * signature), but a plain first parameter is read as a value name, so `req`
 * would be undefined and every call a 500. Refuse it at bind time, showing
 * both styles.
 */
function refuseObjectUse(fn: Function, param: string, key: string): never {
  const label = fn.name ? `"${fn.name}"` : "the handler";
  throw new BindError(
    `${label} reads ${param}.${key}, but a plain parameter is read as a value name (positional style): ` +
      `${param} would be the value named "${param}", undefined here. Object style: destructure the values and take ` +
      `the request second, ({ a, b, method }, ctx) => ... (ctx.path, ctx.query, ctx.headers), or pass ` +
      `{ style: "object" } to receive the values object as ${param}. If "${param}" is a value, pass { style: "positional" }`,
  );
}

/**
 * A function's parameters, and with `readBody` the reads of the named ones:
 * from the scanner, else from the registered parser, else a BindError.
 */
function readParams(fn: Function, readBody: boolean): ParamList {
  const src = Function.prototype.toString.call(fn);
  const label = fn.name ? `"${fn.name}"` : "an anonymous function";
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) {
    throw new BindError(
      `cannot read the parameters of ${label} (a native or bound function): pass { params: [...] } or use the object style`,
    );
  }
  const scanned = scanParams(src, readBody);
  if (!("unknown" in scanned)) return scanned;
  if (fullParser === undefined) throw unreadable(label, src, scanned);
  const parsed = parseParams(fullParser, src, readBody);
  if (parsed === undefined) {
    throw new BindError(
      `cannot read the parameters of ${label}: pass { params: [...] } or use the object style ({ a, b }) => ...`,
    );
  }
  return parsed;
}

/** The scanner's "cannot tell", as a BindError that says where and what settles it. */
function unreadable(label: string, src: string, { unknown, at, inBody }: Unknown): BindError {
  const before = src.slice(0, at);
  const line = before.split("\n").length;
  const near = JSON.stringify(src.slice(Math.max(0, at - 25), at + 25));
  const where = `${unknown}, at ${line}:${at - before.lastIndexOf("\n")} of its source (near ${near})`;
  return new BindError(
    inBody
      ? `cannot tell for certain whether ${label} reads a parameter as the request: ${where}. Pass ` +
          `{ style: "positional" } if its parameters are values, or { style: "object" } to take the values object first`
      : `cannot read the parameters of ${label} for certain: ${where}. Pass { params: [...] } naming the values ` +
          `it takes, or { style: "object" }, or use the object style ({ a, b }) => ...`,
  );
}

interface AcornParam extends Node {
  name?: string;
  left?: AcornParam;
}

/**
 * The same ParamList from a full parser's tree (acorn's ESTree), or
 * undefined when it does not parse: the fallback, and the reference the
 * scanner is tested against.
 *
 * @example
 * import { parseExpressionAt } from "acorn";
 * parseParams(parseExpressionAt, "(a, ...b) => a.method", true);
 * // { params: [{ name: "a" }, { rest: true }], reads: [{ via: "member", param: "a", key: "method" }] }
 */
export function parseParams(parse: ParseExpressionAt, src: string, readBody: boolean): ParamList | undefined {
  const node = parseFunction(parse, src);
  if (node === undefined) return undefined;
  const params = node.params.map((p): Param => {
    if (p.type === "RestElement") return { rest: true };
    const target = p.type === "AssignmentPattern" ? p.left! : p;
    if (target.type === "ObjectPattern") return { pattern: "object" };
    if (target.type === "ArrayPattern") return { pattern: "array" };
    return { name: target.name! };
  });
  const first = params[0];
  const names = new Set<string>();
  if (readBody && !(first !== undefined && "pattern" in first && first.pattern === "object")) {
    for (const p of params) {
      if ("rest" in p) break;
      if ("name" in p) names.add(p.name);
    }
  }
  const arrow = node.type === "ArrowFunctionExpression";
  return { params, reads: names.size === 0 ? [] : treeReads(node.body, names), arrow };
}

/** The reads of `names` in a tree, in the walk's order (see Read). */
function treeReads(body: Node, names: Set<string>): Read[] {
  const reads: Read[] = [];
  const keyOf = (m: any): string =>
    m.computed ? (typeof m.property.value === "string" ? m.property.value : "") : m.property.name;
  visit(body, (n: any) => {
    if (n.type === "MemberExpression" && n.object.type === "MemberExpression") {
      // x.data.length, x.data[0]: x.data is bytes, x a file
      const inner = n.object;
      if (inner.object.type === "Identifier" && names.has(inner.object.name) && keyOf(inner) === "data") {
        reads.push({ via: "file", param: inner.object.name, key: "data" });
      }
    }
    if (n.type === "MemberExpression" && n.object.type === "Identifier" && names.has(n.object.name)) {
      reads.push({ via: "member", param: n.object.name, key: keyOf(n) });
    } else if (
      n.type === "VariableDeclarator" &&
      n.id.type === "ObjectPattern" &&
      n.init?.type === "Identifier" &&
      names.has(n.init.name)
    ) {
      for (const p of n.id.properties) {
        const key = p.key?.name ?? p.key?.value;
        if (p.type === "Property" && !p.computed && typeof key === "string") {
          reads.push({ via: "destructure", param: n.init.name, key });
        }
      }
    }
  });
  return reads;
}

/** Calls `f` on every node under `node` (acorn nodes are plain objects). */
function visit(node: unknown, f: (n: Node) => void): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const child of node) visit(child, f);
    return;
  }
  if (typeof (node as Node).type !== "string") return;
  f(node as Node);
  for (const key in node) if (key !== "type") visit((node as Record<string, unknown>)[key], f);
}

function parseFunction(
  parse: ParseExpressionAt,
  src: string,
): { type: string; params: AcornParam[]; body: Node } | undefined {
  // A function or arrow parses as an expression; method shorthand (`get(a) {}`,
  // `async *m() {}`) only inside an object literal, so try that second.
  for (const [prefix, pick] of [
    ["(", (n: any) => n],
    ["({", (n: any) => n.properties?.[0]?.value],
  ] as const) {
    try {
      const node = pick(parse(`${prefix}${src}${prefix === "(" ? ")" : "})"}`, 0, { ecmaVersion: "latest" }));
      if (node?.params) return node;
    } catch {
      // try the next wrapping
    }
  }
  return undefined;
}
