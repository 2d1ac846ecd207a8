/**
 * V5/V6: which style a function takes, and its parameter names, read once at
 * bind time with a real JavaScript parser (acorn), so defaults holding commas
 * or parentheses, comments, destructuring, async, arrows and method shorthand
 * all read right.
 */
import { type Node, parseExpressionAt } from "acorn";
import { BindError } from "./errors.js";

/** How a handler takes its values. */
export type Shape =
  | { style: "object" /** parameters declared: the context is built only for a second one */; arity: number }
  | { style: "positional"; names: (string | null)[]; rest: boolean };

interface Param extends Node {
  name?: string;
  left?: Param;
  argument?: Param;
}

/** A function's node as acorn reads it. */
interface FunctionNode extends Node {
  params: Param[];
  body: Node;
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
  const node = parseFunction(fn);
  const params = node.params;
  const first = params[0];
  const firstTarget = first?.type === "AssignmentPattern" ? first.left : first;
  if (firstTarget?.type === "ObjectPattern") return { style: "object", arity: params.length };
  const names: (string | null)[] = [];
  let rest = false;
  for (const p of params) {
    if (p.type === "RestElement") {
      rest = true;
      break;
    }
    const target = p.type === "AssignmentPattern" ? p.left! : p;
    names.push(target.type === "Identifier" ? target.name! : null);
  }
  if (!options.positional) refuseObjectUse(fn, node, names);
  return { style: "positional", names, rest };
}

/**
 * The types accept `(req) => [200, req.method]` (the object style's
 * signature), but a plain first parameter is read as a value name, so `req`
 * would be undefined and every call a 500. Refuse it at bind time, showing
 * both styles, when the body reads a request member from a parameter.
 * Shadowing is not tracked: `{ style: "positional" }` settles a false alarm.
 */
function refuseObjectUse(fn: Function, node: FunctionNode, names: (string | null)[]): void {
  const params = new Set(names.filter((n): n is string => n !== null));
  if (params.size === 0) return;
  let found: [string, string] | undefined;
  const dataRead = new Set<string>(); // parameters whose .data is read as is
  const files = new Set<string>(); // parameters used as uploaded files
  const keyOf = (m: any): string =>
    m.computed ? (typeof m.property.value === "string" ? m.property.value : "") : m.property.name;
  visit(node.body, (n: any) => {
    if (n.type === "MemberExpression" && n.object.type === "MemberExpression") {
      // x.data.length, x.data[0]: x.data is bytes, x a file
      const inner = n.object;
      if (inner.object.type === "Identifier" && keyOf(inner) === "data") files.add(inner.object.name);
    }
    if (n.type === "MemberExpression" && n.object.type === "Identifier" && params.has(n.object.name)) {
      const key = keyOf(n);
      if (REQUEST_MEMBERS.has(key)) found ??= [n.object.name, key];
      else if (key === "filename" || key === "type") files.add(n.object.name);
      else if (key === "data") dataRead.add(n.object.name);
    } else if (
      n.type === "VariableDeclarator" &&
      n.id.type === "ObjectPattern" &&
      n.init?.type === "Identifier" &&
      params.has(n.init.name)
    ) {
      for (const p of n.id.properties)
        if (p.type === "Property" && !p.computed && REQUEST_MEMBERS.has(p.key.name ?? p.key.value))
          found ??= [n.init.name, p.key.name ?? p.key.value];
    }
  });
  if (!found) for (const p of dataRead) if (!files.has(p)) found ??= [p, "data"];
  if (!found) return;
  const [param, key] = found;
  const label = fn.name ? `"${fn.name}"` : "the handler";
  throw new BindError(
    `${label} reads ${param}.${key}, but a plain parameter is read as a value name (positional style): ` +
      `${param} would be the value named "${param}", undefined here. Object style: destructure the values and take ` +
      `the request second, ({ a, b, method }, ctx) => ... (ctx.path, ctx.query, ctx.headers), or pass ` +
      `{ style: "object" } to receive the values object as ${param}. If "${param}" is a value, pass { style: "positional" }`,
  );
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

function parseFunction(fn: Function): FunctionNode {
  const src = Function.prototype.toString.call(fn);
  const label = fn.name ? `"${fn.name}"` : "an anonymous function";
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) {
    throw new BindError(
      `cannot read the parameters of ${label} (a native or bound function): pass { params: [...] } or use the object style`,
    );
  }
  // A function or arrow parses as an expression; method shorthand (`get(a) {}`,
  // `async *m() {}`) only inside an object literal, so try that second.
  for (const [prefix, pick] of [
    ["(", (n: any) => n],
    ["({", (n: any) => n.properties?.[0]?.value],
  ] as const) {
    try {
      const node = pick(
        parseExpressionAt(`${prefix}${src}${prefix === "(" ? ")" : "})"}`, 0, { ecmaVersion: "latest" }),
      );
      if (node?.params) return node as FunctionNode;
    } catch {
      // try the next wrapping
    }
  }
  throw new BindError(
    `cannot read the parameters of ${label}: pass { params: [...] } or use the object style ({ a, b }) => ...`,
  );
}
