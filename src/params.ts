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

/**
 * Reads a function's shape. A first parameter that is an object pattern
 * means the object style; otherwise each parameter is named (array patterns
 * get `null`: nothing binds to them) and a rest parameter collects the rest.
 *
 * @example
 * readShape(function (a, b = f(1, 2), ...args) {}); // positional, ["a", "b"], rest
 * readShape(({ a, b }) => [200, a, b]);             // object
 */
export function readShape(fn: Function): Shape {
  const params = parseParams(fn);
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
  return { style: "positional", names, rest };
}

function parseParams(fn: Function): Param[] {
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
      if (node?.params) return node.params as Param[];
    } catch {
      // try the next wrapping
    }
  }
  throw new BindError(
    `cannot read the parameters of ${label}: pass { params: [...] } or use the object style ({ a, b }) => ...`,
  );
}
